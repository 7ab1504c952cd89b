//! Sessions: a name, its secret token, its rooms and its recent ACKs. A
//! session outlives its connection (it lingers) so a client can resume it.
//!
//! This module holds the data and the pure rules (ACK memory, membership
//! lists); announcing anything to other users is the handlers' job.

use super::budget::Budgets;
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::rc::Rc;

/// ACKs a session remembers for de-duplication (spec: the last 1 024).
pub const ACK_MEMORY: usize = 1024;
/// Rooms a session may be in at once.
pub const MAX_ROOMS: usize = 100;
/// Marks "no peer" in [`Session::peer`].
pub const NO_PEER: u32 = u32::MAX;

/// One remembered ACK: enough to send it again byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The SAY's seq.
    pub seq: u32,
    /// The room's name (by name: the room may leave memory meanwhile).
    pub room: Rc<str>,
    /// The message's id.
    pub id: u64,
    /// The message's timestamp.
    pub ts: u64,
}

/// The last [`ACK_MEMORY`] ACKs of a session. Allocates only once the
/// session has said something; looks up by binary search while seqs only
/// grow (the normal case), by a scan otherwise.
#[derive(Debug, Default)]
pub struct AckMemory {
    /// Oldest first.
    acks: VecDeque<Ack>,
    /// Whether `acks` is in increasing seq order.
    unsorted: bool,
    /// ACKs remembered in all: the number the next one gets (saved with
    /// it, so a restored memory knows its oldest).
    pub pushed: u64,
}

impl AckMemory {
    /// Remembers an ACK, forgetting the oldest beyond the limit.
    pub fn push(&mut self, ack: Ack) {
        if self.acks.back().is_some_and(|last| last.seq >= ack.seq) {
            self.unsorted = true;
        }
        if self.acks.len() == ACK_MEMORY {
            self.acks.pop_front();
        }
        self.acks.push_back(ack);
        self.pushed += 1;
    }

    /// Brings back saved ACKs (oldest first); `next` is the number the
    /// next ACK gets.
    pub fn restore(&mut self, acks: impl IntoIterator<Item = Ack>, next: u64) {
        for a in acks {
            self.push(a);
        }
        self.pushed = next;
    }

    /// The remembered ACK of `seq`, if any.
    pub fn find(&self, seq: u32) -> Option<Ack> {
        if self.unsorted {
            return self.acks.iter().rev().find(|a| a.seq == seq).cloned();
        }
        let i = self.acks.binary_search_by_key(&seq, |a| a.seq).ok()?;
        Some(self.acks[i].clone())
    }
}

/// One session.
#[derive(Debug)]
pub struct Session {
    /// The name as its owner first spelled it.
    pub name: Box<str>,
    /// The secret that resumes this session; replaced at every resume.
    pub token: u64,
    /// Unique for the life of the process: tells this session from a later
    /// one in the same slab slot (work queued for it checks this).
    pub uid: u64,
    /// Slab key of the live peer, or [`NO_PEER`] while lingering.
    pub peer: u32,
    /// Bumped on every attach and detach, so a stale linger timer is ignored.
    pub gen: u32,
    /// Rooms this session is a member of (room table indices).
    pub rooms: SmallVec<[u32; 4]>,
    /// Rooms where this session is currently typing.
    pub typing: SmallVec<[u32; 1]>,
    /// Recent ACKs, for answering a repeated SAY.
    pub acks: AckMemory,
    /// Signed in with the password of a registered name (or registered
    /// since): may send and receive direct messages.
    pub account: bool,
    /// Read markers in rooms (not conversations, whose markers live with
    /// them): (room name, id), by name since a room may leave memory. An
    /// account's are loaded at sign-in and stored.
    pub marks: SmallVec<[(Rc<str>, u64); 2]>,
    /// Its frame budgets: they stay with the session across reconnects.
    pub budgets: Budgets,
    /// The address key of its latest connection (whose budgets and
    /// lingering count it shares).
    pub addr: IpAddr,
    /// Counted as lingering (in its address's and the server's queues).
    pub lingering: bool,
    /// Its id across a cluster's nodes (0 without `--cluster`).
    pub sid: u64,
    /// Its account's channel is subscribed (cluster).
    pub user_channel: bool,
    /// Queued to be saved with the next commit (`--db`).
    pub save_due: bool,
    /// Saved as a new session next time (its name's older ACKs go).
    pub save_fresh: bool,
}

impl Session {
    /// A new session attached to peer `peer`.
    pub fn new(name: &str, token: u64, uid: u64, peer: u32, addr: IpAddr) -> Session {
        Session {
            name: name.into(),
            token,
            uid,
            peer,
            gen: 0,
            rooms: SmallVec::new(),
            typing: SmallVec::new(),
            acks: AckMemory::default(),
            budgets: Budgets::default(),
            addr,
            lingering: false,
            account: false,
            marks: SmallVec::new(),
            save_due: false,
            save_fresh: false,
            sid: 0,
            user_channel: false,
        }
    }

    /// The read marker in room `room` (0: none).
    pub fn mark(&self, room: &str) -> u64 {
        self.marks.iter().find(|m| *m.0 == *room).map_or(0, |m| m.1)
    }

    /// Moves the read marker in `room` forward to `id`; true if it moved.
    pub fn set_mark(&mut self, room: &Rc<str>, id: u64) -> bool {
        match self.marks.iter_mut().find(|m| m.0 == *room) {
            Some(m) if m.1 >= id => false,
            Some(m) => {
                m.1 = id;
                true
            }
            None => {
                self.marks.push((room.clone(), id));
                true
            }
        }
    }

    /// Whether the session is in room `room`.
    pub fn in_room(&self, room: u32) -> bool {
        self.rooms.contains(&room)
    }

    /// Stops typing in `room`; true if it was typing there.
    pub fn stop_typing(&mut self, room: u32) -> bool {
        match self.typing.iter().position(|&r| r == room) {
            Some(i) => {
                self.typing.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Leaves `room`; true if it was a member.
    pub fn leave(&mut self, room: u32) -> bool {
        match self.rooms.iter().position(|&r| r == room) {
            Some(i) => {
                self.rooms.remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u32) -> Ack {
        Ack { seq, room: "r".into(), id: u64::from(seq) * 10, ts: 1 }
    }

    #[test]
    fn remembers_the_last_1024() {
        let mut m = AckMemory::default();
        for seq in 1..=2000 {
            m.push(ack(seq));
        }
        assert_eq!(m.find(2000), Some(ack(2000)));
        assert_eq!(m.find(977), Some(ack(977)));
        assert_eq!(m.find(976), None, "forgotten");
        assert_eq!(m.find(3000), None);
    }

    #[test]
    fn out_of_order_seqs_still_found() {
        let mut m = AckMemory::default();
        for seq in [5, 3, 9, 1] {
            m.push(ack(seq));
        }
        for seq in [5, 3, 9, 1] {
            assert_eq!(m.find(seq), Some(ack(seq)));
        }
        assert_eq!(m.find(2), None);
    }

    #[test]
    fn rooms_and_typing() {
        let mut s = Session::new("Ada", 7, 1, 0, [127, 0, 0, 1].into());
        s.rooms.push(3);
        s.rooms.push(5);
        s.typing.push(5);
        assert!(s.in_room(5));
        assert!(s.stop_typing(5));
        assert!(!s.stop_typing(5));
        assert!(s.leave(3));
        assert!(!s.leave(3));
        assert_eq!(&s.rooms[..], &[5]);
        let five: Rc<str> = "five".into();
        assert!(s.set_mark(&five, 10) && !s.set_mark(&five, 9) && s.set_mark(&five, 11));
        assert_eq!((s.mark("five"), s.mark("six")), (11, 0));
    }
}
