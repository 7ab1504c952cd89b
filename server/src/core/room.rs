//! Rooms: members in join order, per-room message ids, and a window of the
//! newest messages kept in memory for JOIN replay and HISTORY.
//!
//! Without a database the window *is* the history (at least the last
//! 10 000 messages, as the spec asks); with one it is a cache in front of
//! it. This module plans pages of ids; fetching what the window lacks and
//! sending frames is the server's job.

use std::collections::VecDeque;
use std::ops::RangeInclusive;

/// Messages a room keeps in memory.
pub const WINDOW: usize = 10_000;
/// Most messages one history answer carries.
pub const MAX_PAGE: usize = 1000;

/// One message in a room's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WinMsg {
    /// Per-room id.
    pub id: u64,
    /// Server time, ms since the epoch.
    pub ts: u64,
    /// Sender's name.
    pub from: Box<str>,
    /// The text.
    pub text: Box<str>,
}

impl From<crate::store::StoredMsg> for WinMsg {
    fn from(m: crate::store::StoredMsg) -> WinMsg {
        WinMsg { id: m.id, ts: m.ts, from: m.from.into(), text: m.text.into() }
    }
}

/// One room.
#[derive(Debug)]
pub struct Room {
    /// Lower-case name, as sent on the wire.
    pub name: Box<str>,
    /// Session keys of the members, in the order they joined.
    pub members: Vec<u32>,
    /// Newest committed id (0: none); what JOINED reports.
    pub last_id: u64,
    /// Next id to hand out; above `last_id + 1` while a batch awaits commit.
    pub next_id: u64,
    /// The newest committed messages, oldest first, ids contiguous.
    window: VecDeque<WinMsg>,
}

/// Which ids a history answer should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePlan {
    /// The ids to send, oldest first (empty when nothing matches).
    pub ids: RangeInclusive<u64>,
    /// Whether older matching messages exist that the page leaves out.
    pub more: bool,
}

impl Room {
    /// A room whose newest stored id is `last_id`.
    pub fn new(name: &str, last_id: u64) -> Room {
        Room {
            name: name.into(),
            members: Vec::new(),
            last_id,
            next_id: last_id + 1,
            window: VecDeque::new(),
        }
    }

    /// Adds a committed message (ids must follow on).
    pub fn push(&mut self, m: WinMsg) {
        debug_assert!(self.window.back().is_none_or(|b| b.id + 1 == m.id));
        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.last_id = self.last_id.max(m.id);
        self.window.push_back(m);
    }

    /// Oldest id held in memory (`last_id + 1` when none).
    pub fn window_first(&self) -> u64 {
        self.window.front().map_or(self.last_id + 1, |m| m.id)
    }

    /// Plans the newest `limit` (at most [`MAX_PAGE`]) messages with
    /// `after < id < before` (`before = 0`: no bound). `oldest` is the
    /// smallest id that still exists anywhere (1 with a database, the
    /// window's first without).
    pub fn plan(&self, after: u64, before: u64, limit: usize, oldest: u64) -> PagePlan {
        let hi = if before == 0 { self.last_id } else { (before - 1).min(self.last_id) };
        let floor = (after + 1).max(oldest);
        let limit = limit.min(MAX_PAGE) as u64;
        if hi < floor || limit == 0 {
            return PagePlan { ids: RangeInclusive::new(1, 0), more: hi >= floor };
        }
        let lo = floor.max((hi + 1).saturating_sub(limit));
        PagePlan { ids: lo..=hi, more: lo > floor }
    }

    /// The window's messages with ids in `ids`, if the window holds all of them.
    pub fn in_window(&self, ids: &RangeInclusive<u64>) -> Option<impl Iterator<Item = &WinMsg>> {
        let first = self.window.front()?.id;
        if ids.is_empty() {
            // An empty plan (1..=0: nothing after `since`) would underflow below.
            return Some(self.window.range(0..0));
        }
        if *ids.start() < first || *ids.end() > self.last_id {
            return None;
        }
        let start = (ids.start() - first) as usize;
        let end = (ids.end() - first) as usize;
        Some(self.window.range(start..=end))
    }

    /// Removes a member; true if it was one.
    pub fn remove_member(&mut self, session: u32) -> bool {
        match self.members.iter().position(|&s| s == session) {
            Some(i) => {
                self.members.remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room_with(n: u64) -> Room {
        let mut r = Room::new("r", 0);
        for id in 1..=n {
            r.push(WinMsg { id, ts: id, from: "a".into(), text: format!("m{id}").into() });
        }
        r
    }

    #[test]
    fn plans_newest_first_limit() {
        let r = room_with(50);
        assert_eq!(r.plan(0, 0, 20, 1), PagePlan { ids: 31..=50, more: true });
        assert_eq!(r.plan(45, 0, 20, 1), PagePlan { ids: 46..=50, more: false });
        assert_eq!(r.plan(0, 31, 20, 1), PagePlan { ids: 11..=30, more: true });
        assert_eq!(r.plan(0, 11, 20, 1), PagePlan { ids: 1..=10, more: false });
        assert_eq!(r.plan(50, 0, 20, 1).ids.count(), 0);
        assert_eq!(r.plan(0, 1, 20, 1).ids.count(), 0);
        assert_eq!(r.plan(0, 0, 5000, 1).ids, 1..=50);
        // limit 0: nothing, but say whether anything matches.
        assert_eq!(r.plan(0, 0, 0, 1), PagePlan { ids: RangeInclusive::new(1, 0), more: true });
        assert!(!r.plan(50, 0, 0, 1).more);
    }

    #[test]
    fn pages_are_capped() {
        let r = room_with(3000);
        assert_eq!(r.plan(0, 0, 65535, 1), PagePlan { ids: 2001..=3000, more: true });
    }

    #[test]
    fn window_keeps_the_newest() {
        let r = room_with(WINDOW as u64 + 10);
        assert_eq!(r.window_first(), 11);
        assert!(r.in_window(&(5..=20)).is_none());
        let ids: Vec<u64> = r.in_window(&(11..=15)).unwrap().map(|m| m.id).collect();
        assert_eq!(ids, vec![11, 12, 13, 14, 15]);
        // Without a database, what fell out of the window is gone.
        let oldest = r.window_first();
        assert_eq!(r.plan(0, 20, 100, oldest), PagePlan { ids: 11..=19, more: false });
    }

    #[test]
    fn members_keep_join_order() {
        let mut r = Room::new("r", 7);
        assert_eq!(r.next_id, 8);
        r.members.extend([4, 2, 9]);
        assert!(r.remove_member(2));
        assert!(!r.remove_member(2));
        assert_eq!(r.members, vec![4, 9]);
    }
}
