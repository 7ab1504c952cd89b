//! Read markers going out (MARK, §9): the UIs say which message of a
//! room has been seen; this keeps the newest id per room and lets one
//! MARK frame per room go out at most once a [`PACE`], with the latest id
//! (a marker only moves forward, so nothing is lost by waiting).
//!
//! It decides neither what counts as seen (the UIs do) nor when the
//! connection is up (the caller only asks for frames while it is).

use banter_proto::ClientFrame;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// At most one round of MARKs this often.
pub const PACE: Duration = Duration::from_secs(1);

/// Markers seen and sent.
#[derive(Debug, Default)]
pub struct Marks {
    /// The newest id seen per room, not sent yet.
    wanted: BTreeMap<String, u64>,
    /// The marker per room as the server has it (sent, or told by it).
    known: HashMap<String, u64>,
    /// When the last round of MARKs went out.
    last: Option<Instant>,
}

impl Marks {
    /// Message `id` of `room` has been seen.
    pub fn seen(&mut self, room: &str, id: u64) {
        if id <= self.known(room) {
            return;
        }
        let w = self.wanted.entry(room.to_string()).or_default();
        *w = (*w).max(id);
    }

    /// The server says our marker in `room` is `id` (JOINED, UNREAD).
    pub fn told(&mut self, room: &str, id: u64) {
        let k = self.known.entry(room.to_string()).or_default();
        *k = (*k).max(id);
        if self.wanted.get(room).is_some_and(|w| *w <= id) {
            self.wanted.remove(room);
        }
    }

    /// Our marker in `room` as the server has it (0: none).
    pub fn known(&self, room: &str) -> u64 {
        self.known.get(room).copied().unwrap_or(0)
    }

    /// The MARKs due at `now` (none before the pace allows).
    pub fn due(&mut self, now: Instant) -> Vec<ClientFrame> {
        if self.wanted.is_empty() || self.last.is_some_and(|t| now < t + PACE) {
            return Vec::new();
        }
        self.last = Some(now);
        self.take()
    }

    /// Every MARK not sent yet, whatever the pace (before quitting).
    pub fn take(&mut self) -> Vec<ClientFrame> {
        let wanted = std::mem::take(&mut self.wanted);
        wanted
            .into_iter()
            .map(|(room, id)| {
                self.known.insert(room.clone(), id);
                ClientFrame::Mark { room, id }
            })
            .collect()
    }

    /// When [`Marks::due`] has something to send, if ever (callers ask
    /// for what is due each time round their loop, so a first round is
    /// never waited for).
    pub fn deadline(&self) -> Option<Instant> {
        self.last.filter(|_| !self.wanted.is_empty()).map(|t| t + PACE)
    }

    /// A room left: nothing more to say about it.
    pub fn forget(&mut self, room: &str) {
        self.wanted.remove(room);
        self.known.remove(room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(room: &str, id: u64) -> ClientFrame {
        ClientFrame::Mark { room: room.into(), id }
    }

    #[test]
    fn one_round_a_second_with_the_latest_ids() {
        let t0 = Instant::now();
        let mut m = Marks::default();
        m.seen("lobby", 3);
        assert_eq!(m.due(t0), vec![mark("lobby", 3)], "the first goes at once");
        m.seen("lobby", 4);
        m.seen("lobby", 9);
        m.seen("@bob", 2);
        assert_eq!(m.due(t0 + Duration::from_millis(500)), vec![], "paced");
        assert_eq!(m.deadline(), Some(t0 + PACE));
        let due = m.due(t0 + PACE);
        assert_eq!(due, vec![mark("@bob", 2), mark("lobby", 9)]);
        assert_eq!(m.deadline(), None);
        m.seen("lobby", 9);
        m.seen("lobby", 5);
        assert_eq!(m.deadline(), None, "nothing newer than what was sent");
    }

    #[test]
    fn the_servers_marker_is_not_repeated_and_take_ignores_the_pace() {
        let t0 = Instant::now();
        let mut m = Marks::default();
        m.told("@ada", 7);
        m.seen("@ada", 6);
        assert_eq!(m.due(t0), vec![]);
        m.seen("lobby", 1);
        m.due(t0);
        m.seen("lobby", 2);
        m.seen("dev", 4);
        m.told("dev", 4);
        assert_eq!(m.take(), vec![mark("lobby", 2)]);
        m.forget("lobby");
        assert_eq!(m.known("lobby"), 0);
    }
}
