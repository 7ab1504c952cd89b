//! Rooms: members in join order, per-room message ids, and a window of the
//! newest messages kept in memory for JOIN replay and HISTORY.
//!
//! Without a database the window *is* the history (the last 10 000
//! messages at most, fewer when the server's `--history-memory` budget
//! takes the oldest); with one it is a cache in front of it. This module
//! plans pages of ids and counts the window's bytes; fetching what the
//! window lacks, the global budget and sending frames are the server's job.

use banter_proto::FileRef;
use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::rc::Rc;

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
    /// MSG flags kept with the message (bit 2: an action).
    pub flags: u8,
    /// For a file message: the file (`text` is its name).
    pub file: Option<Box<FileRef>>,
}

impl WinMsg {
    /// Heap and inline bytes this message holds in a window.
    pub fn size(&self) -> usize {
        std::mem::size_of::<WinMsg>() + self.from.len() + self.text.len()
    }
}

impl From<crate::store::StoredMsg> for WinMsg {
    fn from(m: crate::store::StoredMsg) -> WinMsg {
        let file = m.file.map(Box::new);
        WinMsg {
            id: m.id,
            ts: m.ts,
            from: m.from.into(),
            text: m.text.into(),
            flags: m.flags,
            file,
        }
    }
}

/// What makes a room a direct conversation (§8): its two parties, always
/// its members, and what each has read and been handed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direct {
    /// The parties' account keys (lower case), in order.
    pub keys: [Box<str>; 2],
    /// Each party's read marker.
    pub read: [u64; 2],
    /// The highest id handed to each party's connection.
    pub delivered: [u64; 2],
}

impl Direct {
    /// The parties of an internal conversation name (`@a|b`), if it is one.
    pub fn from_name(name: &str) -> Option<Direct> {
        let (a, b) = name.strip_prefix('@')?.split_once('|')?;
        Some(Direct { keys: [a.into(), b.into()], read: [0; 2], delivered: [0; 2] })
    }

    /// Which party `key` is.
    pub fn party(&self, key: &str) -> Option<usize> {
        self.keys.iter().position(|k| &**k == key)
    }
}

/// The internal name of the conversation between accounts `a` and `b`
/// (lower-case keys): `@` and the two keys in order, joined by `|`, a name
/// no room or user can have, so it never meets a room's.
pub fn direct_name(a: &str, b: &str) -> String {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    format!("@{x}|{y}")
}

/// One room.
#[derive(Debug)]
pub struct Room {
    /// Lower-case name, as sent on the wire (shared with the ACKs that name
    /// it).
    pub name: Rc<str>,
    /// Unique for the life of the process: tells this room from a later
    /// one in the same slot.
    pub uid: u64,
    /// Loop time (ms) of the last JOIN or message: the least recently
    /// active empty room is the first to go when rooms run out.
    pub active_at: u64,
    /// Session keys of the members, in the order they joined.
    pub members: Vec<u32>,
    /// Newest committed id (0: none); what JOINED reports.
    pub last_id: u64,
    /// Next id to hand out; above `last_id + 1` while a batch awaits commit.
    pub next_id: u64,
    /// The newest committed messages, oldest first, ids contiguous.
    window: VecDeque<WinMsg>,
    /// Set for a direct conversation: its parties and their markers.
    pub direct: Option<Box<Direct>>,
    /// What `window` holds, in [`WinMsg::size`] bytes.
    window_bytes: usize,
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
    pub fn new(name: &str, last_id: u64, uid: u64) -> Room {
        Room {
            name: name.into(),
            uid,
            active_at: 0,
            members: Vec::new(),
            last_id,
            next_id: last_id.saturating_add(1),
            window: VecDeque::new(),
            direct: Direct::from_name(name).map(Box::new),
            window_bytes: 0,
        }
    }

    /// Adds a committed message (ids must follow on); returns the bytes of
    /// the oldest one if the window was full and let it go.
    pub fn push(&mut self, m: WinMsg) -> usize {
        debug_assert!(self.window.back().is_none_or(|b| b.id + 1 == m.id));
        let dropped = if self.window.len() == WINDOW { self.pop_front() } else { 0 };
        self.last_id = self.last_id.max(m.id);
        self.window_bytes += m.size();
        self.window.push_back(m);
        dropped
    }

    /// Lets the oldest message of the window go if its id is `id`; returns
    /// its bytes (0 if the window starts elsewhere).
    pub fn forget(&mut self, id: u64) -> usize {
        match self.window.front() {
            Some(m) if m.id == id => self.pop_front(),
            _ => 0,
        }
    }

    fn pop_front(&mut self) -> usize {
        let size = self.window.pop_front().map_or(0, |m| m.size());
        self.window_bytes -= size;
        size
    }

    /// Bytes and messages the window holds.
    pub fn window_size(&self) -> (usize, usize) {
        (self.window_bytes, self.window.len())
    }

    /// Oldest id held in memory (`last_id + 1` when none).
    pub fn window_first(&self) -> u64 {
        self.window.front().map_or(self.last_id.saturating_add(1), |m| m.id)
    }

    /// Plans the newest `limit` (at most [`MAX_PAGE`]) messages with
    /// `after < id < before` (`before = 0`: no bound). `oldest` is the
    /// smallest id that still exists anywhere (1 with a database, the
    /// window's first without).
    pub fn plan(&self, after: u64, before: u64, limit: usize, oldest: u64) -> PagePlan {
        let hi = if before == 0 { self.last_id } else { (before - 1).min(self.last_id) };
        // `after` comes from the peer: `since = 2^64 - 1` must not wrap.
        let floor = after.saturating_add(1).max(oldest);
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

    /// The window's messages after `after`, if the window holds all of them.
    pub fn window_after(&self, after: u64) -> Option<impl Iterator<Item = &WinMsg>> {
        let first = self.window.front().map_or(self.last_id + 1, |m| m.id);
        if after.saturating_add(1) < first {
            return None;
        }
        let skip = after.saturating_add(1).saturating_sub(first) as usize;
        Some(self.window.iter().skip(skip))
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
        let mut r = Room::new("r", 0, 1);
        for id in 1..=n {
            r.push(WinMsg {
                id,
                ts: id,
                from: "a".into(),
                text: format!("m{id}").into(),
                flags: 0,
                file: None,
            });
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
    fn the_largest_since_and_before_do_not_wrap() {
        let r = room_with(50);
        let none = PagePlan { ids: RangeInclusive::new(1, 0), more: false };
        assert_eq!(r.plan(u64::MAX, 0, 20, 1), none);
        assert_eq!(r.plan(u64::MAX, u64::MAX, 20, 1), none);
        assert_eq!(r.plan(u64::MAX - 1, 0, 0, 1), none);
        assert_eq!(r.plan(0, u64::MAX, 20, 1), PagePlan { ids: 31..=50, more: true });
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
    fn the_window_counts_its_bytes_and_forgets_from_the_front() {
        let mut r = room_with(3);
        let one = r.window_size().0 / 3;
        assert_eq!(r.window_size(), (3 * one, 3));
        assert_eq!(r.forget(2), 0, "only the oldest goes");
        assert_eq!(r.forget(1), one);
        assert_eq!((r.window_size(), r.window_first()), ((2 * one, 2), 2));
        let mut full = room_with(WINDOW as u64);
        let m = WinMsg {
            id: WINDOW as u64 + 1,
            ts: 0,
            from: "a".into(),
            text: "m1".into(),
            flags: 0,
            file: None,
        };
        assert_eq!(full.push(m), one, "a full window lets its oldest go");
    }

    #[test]
    fn direct_names_sort_their_parties() {
        assert_eq!(direct_name("bob", "ada"), "@ada|bob");
        assert_eq!(direct_name("ada", "bob"), "@ada|bob");
        let r = Room::new("@ada|bob", 0, 1);
        let d = r.direct.as_ref().expect("a conversation");
        assert_eq!((d.party("bob"), d.party("eve")), (Some(1), None));
        assert!(Room::new("lobby", 0, 2).direct.is_none());
        let r = room_with(30);
        assert_eq!(
            r.window_after(25).unwrap().map(|m| m.id).collect::<Vec<_>>(),
            [26, 27, 28, 29, 30]
        );
        assert_eq!(r.window_after(u64::MAX).unwrap().count(), 0);
    }

    #[test]
    fn members_keep_join_order() {
        let mut r = Room::new("r", 7, 1);
        assert_eq!(r.next_id, 8);
        r.members.extend([4, 2, 9]);
        assert!(r.remove_member(2));
        assert!(!r.remove_member(2));
        assert_eq!(r.members, vec![4, 9]);
    }
}
