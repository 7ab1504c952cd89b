//! The receipts scenario's work in a worker (issue 12): in the windows
//! with MARK, every member marks every message it learns of (a receiver
//! each MSG, a sender each ACK of its own), and every member checks the
//! READs it receives: one per other member and second at most (the
//! server's pace: no two of a pair under half a second apart, and no
//! more in a window than one a second allows), markers that only move
//! forward, none of its own, none from another room, and none at all in
//! a room of over 100 members.
//!
//! It does not decide which windows mark (the worker follows the window
//! number) and does not format the figures (`receipts_report.rs` does).

use crate::plan::{ConnSpec, Scenario};
use crate::proto::banter_ext;
use crate::shared::Phase;
use crate::worker::Worker;
use std::collections::HashMap;

/// Rooms larger than this get no READ (§9).
pub const READ_MAX_MEMBERS: usize = 100;
/// Two READs of one pair closer than this (ns) break the pace of one a
/// second: the second would have had to wait half a second longer on its
/// way than the first, which no load here comes near.
const MIN_GAP_NS: u64 = 500_000_000;

/// One member's receipts state.
#[derive(Debug, Default)]
pub struct ReadLog {
    /// The highest id it marked, so it never sends a marker backwards.
    marked: u64,
    /// The READs of this window, by reader name.
    by_reader: HashMap<Box<str>, Pair>,
}

/// The READs one member received from one reader in the current window.
#[derive(Debug, Default, Clone, Copy)]
struct Pair {
    /// How many, over the whole window.
    seen: u64,
    /// How many while measuring.
    measured: u64,
    /// The last marker they carried.
    last_id: u64,
    /// When the last one arrived (ns).
    last_ns: u64,
}

/// The rule a READ {room, name} received by `member` breaks, if any.
fn read_rule(
    p: &crate::plan::Plan,
    member: &ConnSpec,
    room: &str,
    name: &str,
) -> Option<&'static str> {
    if p.scenario != Scenario::Receipts {
        Some("a READ outside the receipts scenario")
    } else if p.members() > READ_MAX_MEMBERS {
        Some("a READ in a room of over 100 members (§9: none there)")
    } else if room != member.room {
        Some("a READ of another room")
    } else if name.eq_ignore_ascii_case(&member.name) {
        Some("a READ of the member's own marker")
    } else if !name.starts_with(&p.prefix) {
        Some("a READ from a reader not in this run")
    } else {
        None
    }
}

/// Whether receipts window `n` (1, 2, …) is one with MARK: every second
/// one, so each pair of windows is the same load without, then with.
pub fn marks_in(n: u32) -> bool {
    n > 0 && n.is_multiple_of(2)
}

/// READs one pair may receive in a measured window of `secs` seconds: one
/// a second, plus one at each edge (a READ sent just before the window
/// may arrive inside it).
pub fn read_bound(secs: f64) -> u64 {
    (secs + 0.1).floor() as u64 + 2
}

impl Worker {
    /// Member `key` has learnt of message `id` of its room: MARK it, in a
    /// window with MARK (never a marker below one already sent).
    pub(crate) fn mark(&mut self, key: usize, id: u64) {
        if !self.marking {
            return;
        }
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        let log = c.receipts.get_or_insert_with(Box::default);
        if id <= log.marked {
            return;
        }
        log.marked = id;
        c.send(&mut self.masks, |out, spec| banter_ext::mark(out, &spec.room, id));
        self.extra.marks += u64::from(self.phase == Phase::Measure);
        self.mark_dirty(key);
    }

    /// Member `key` received READ {room, name, id}: checked and counted.
    pub(crate) fn on_read(&mut self, key: usize, room: &str, name: &str, id: u64) {
        let (now, measuring) = (self.now, self.phase == Phase::Measure);
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        let wrong = read_rule(&self.plan, &c.spec, room, name);
        let log = c.receipts.get_or_insert_with(Box::default);
        let pair = match log.by_reader.get_mut(name) {
            Some(p) => p,
            None => log.by_reader.entry(name.into()).or_default(),
        };
        let went_back = id < pair.last_id;
        let gap = (pair.last_ns > 0).then(|| now.saturating_sub(pair.last_ns));
        *pair = Pair {
            seen: pair.seen + 1,
            measured: pair.measured + u64::from(measuring),
            last_id: pair.last_id.max(id),
            last_ns: now,
        };
        self.extra.reads += u64::from(measuring);
        if let Some(ns) = gap {
            self.extra.read_gap(ns);
        }
        let fast = gap.is_some_and(|ns| ns < MIN_GAP_NS);
        let why = wrong
            .or(went_back.then_some("a READ whose marker went back"))
            .or(fast.then_some("two READs of one reader under half a second apart"));
        if let Some(why) = why {
            self.extra.read_violations += 1;
            self.shared.note_error(why);
        }
    }

    /// The window ends: every pair's count against the pace, the pairs
    /// that heard nothing in a window with MARK, then a fresh log.
    pub(crate) fn close_read_window(&mut self) {
        if self.plan.scenario != Scenario::Receipts {
            return;
        }
        let bound = read_bound(self.plan.duration.as_secs_f64());
        let members = self.plan.members() as u64;
        let expect = self.marking && members as usize <= READ_MAX_MEMBERS;
        let mut e = std::mem::take(&mut self.extra);
        for (_, c) in self.conns.iter_mut() {
            let heard = match c.receipts.as_mut() {
                Some(log) => {
                    let pairs = log.by_reader.drain().map(|(_, p)| p);
                    pairs.fold(0, |heard, p| {
                        e.read_pair_max = e.read_pair_max.max(p.measured);
                        e.read_violations += u64::from(p.measured > bound);
                        heard + u64::from(p.seen > 0)
                    })
                }
                None => 0,
            };
            e.read_pairs += heard;
            if expect && c.state == crate::conn::State::Ready {
                e.read_pairs_missing += members.saturating_sub(1).saturating_sub(heard);
            }
        }
        if e.read_pair_max > bound {
            self.shared.note_error("a member got READs of one reader faster than one a second");
        }
        if e.read_pairs_missing > 0 {
            self.shared.note_error("a member got no READ from another member that marked");
        }
        self.extra = e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_allows_one_a_second_and_the_edges() {
        assert_eq!(read_bound(1.0), 3);
        assert_eq!(read_bound(1.5), 3);
        assert_eq!(read_bound(0.95), 3, "a window a little short of a second");
        assert_eq!(read_bound(3.0), 5);
        assert_eq!([0, 1, 2, 3, 4].map(marks_in), [false, false, true, false, true]);
    }
}
