//! The session as the client keeps it across connections: name, token,
//! password, SAY numbering, the SAYs not yet acknowledged, and per room the
//! last message id seen and the ids shown (so nothing is shown twice).
//!
//! It builds the frames to send and turns received frames into [`Event`]s
//! (see `inbound.rs`), but does no I/O and keeps no clock: `net` owns the
//! socket and timers, the UI decides how events look.

use banter_proto::validate::check_text;
use banter_proto::ClientFrame;
use std::collections::{BTreeMap, VecDeque};

mod ids;
pub use ids::IdSet;

/// Messages asked for when first joining a room.
pub const JOIN_LIMIT: u16 = 50;
/// Messages asked for when catching up after a reconnect.
pub const CATCH_UP_LIMIT: u16 = 1000;

/// What happened, for the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake succeeded (`resumed`: the old session carried over).
    Welcome { name: String, resumed: bool },
    /// A chat message not shown before; `replay`: history or catch-up;
    /// `catch_up`: replayed after a reconnect (missed while away).
    /// `action`: a `/me` line. `file`: a shared file (`text` is its name).
    Msg {
        room: String,
        id: u64,
        ts: u64,
        from: String,
        text: String,
        action: bool,
        replay: bool,
        catch_up: bool,
        file: Option<Shared>,
    },
    /// A SAY of ours was stored (`action`: sent with `/me`).
    Acked { seq: u32, room: String, id: u64, ts: u64, text: String, action: bool },
    /// A SAY of ours was rate-limited; it is resent after a pause.
    Throttled { seq: u32 },
    /// A SAY of ours was refused.
    SayFailed { seq: u32, room: String, code: String, detail: String },
    /// We are in `room`; `read`: our read marker there (0: none).
    Joined { room: String, members: u32, read: u64 },
    /// A JOIN was refused; `forgotten`: the room is no longer ours.
    JoinFailed { room: String, code: String, detail: String, forgotten: bool },
    /// At sign-in: `count` messages of the conversation `room` past our
    /// marker `read` (the newest is `last_id`); a catch-up JOIN follows.
    Unread { room: String, count: u32, last_id: u64, read: u64 },
    /// Our messages of conversation `room` up to `id` reached the other party.
    Delivered { room: String, id: u64 },
    /// `name` (the other party) read conversation `room` up to `id`.
    Read { room: String, name: String, id: u64 },
    /// We left `room`.
    Left { room: String },
    /// The full member list of `room`.
    Roster { room: String, names: Vec<String> },
    /// Someone joined/left/quit/was lost; `what` is "joined", "left", "quit" or "lost".
    Presence { room: String, name: String, what: &'static str, reason: String },
    /// Someone started or stopped typing.
    Typing { room: String, name: String, active: bool },
    /// The end of a history answer.
    HistoryEnd { room: String, count: u16, more: bool },
    /// Text from the server.
    Notice(String),
    /// The name is now registered.
    Registered(String),
    /// A non-fatal error not about a SAY.
    Error { code: String, detail: String },
    /// Connecting (attempt 0 is the first connect).
    Connecting { attempt: u32 },
    /// The connection to `server` ended (or could not be made); a
    /// reconnect follows.
    Lost { server: String, reason: String },
    /// The server refused the name (taken, invalid, wrong password): ask
    /// again. `password_sent`: the HELLO carried a password (else an
    /// AUTH_* answer only means the name needs one).
    NameRefused { code: String, detail: String, password_sent: bool },
    /// Gave up reaching `server`.
    Offline { server: String, reason: String },
    /// Our upload `seq` is stored as message `id` of `room` (its file
    /// message comes as a `Msg` just before, unless a replay showed it).
    UploadDone { seq: u32, room: String, id: u64 },
    /// Our upload `seq` of `name` to `room` failed: `why` (an ERROR's
    /// code and detail, or a local reason).
    UploadFailed { seq: u32, room: String, name: String, why: String },
    /// File `n` was saved at `path`, `size` bytes.
    Saved { n: usize, path: String, size: u64 },
    /// File `n` (`name`) was not saved: `why`.
    SaveFailed { n: usize, name: String, why: String },
    /// After a reconnect, a transfer goes on from `done` of `size` bytes
    /// (`upload`: ours going up, else a download).
    Resuming { upload: bool, name: String, done: u64, size: u64 },
}

/// A file message's file: the number it is shown with (`/get N`) and
/// what the message said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    /// Its number this run.
    pub n: usize,
    /// Hash, size and type.
    pub file: banter_proto::FileRef,
}

/// Sync state of one room.
#[derive(Debug, Default)]
pub struct RoomSync {
    /// Newest message id seen (also from our ACKs).
    pub last_id: u64,
    /// Oldest message id seen, for /history (0: none).
    pub first_id: u64,
    /// The ids shown, so a replay never shows one twice (as ranges: a
    /// room that showed a million messages keeps a few of them).
    pub seen: IdSet,
    /// Catching up after a reconnect: the last id seen before it.
    pub catch_up_from: Option<u64>,
    /// The server restarted this room's ids: drop the stale replay until
    /// its HISTORY_END (a JOIN from 0 follows).
    pub reset: bool,
    /// Direct conversation: the newest of our messages the other party
    /// was handed (DELIVERED).
    pub delivered: u64,
    /// Direct conversation: how far the other party has read (READ).
    pub peer_read: u64,
}

/// A SAY not yet acknowledged.
#[derive(Debug, Clone)]
pub struct PendingSay {
    /// Its room.
    pub room: String,
    /// Its text.
    pub text: String,
    /// Refused by the server; resent only on /resend.
    pub failed: bool,
    /// Refused as RATE_LIMITED: resent by itself after a pause.
    pub held: bool,
    /// SAY flags (`FLAG_ACTION` for `/me`).
    pub flags: u8,
}

/// The session state.
#[derive(Debug, Default)]
pub struct Session {
    /// Our name (the server's spelling once welcomed).
    pub name: String,
    /// Password sent in HELLO (after /register, or empty).
    pub password: String,
    /// A /register in flight: the password to keep when it succeeds.
    pub(crate) registering: Option<String>,
    /// Resume token from the last WELCOME (0: none).
    pub token: u64,
    /// The seq of the next SAY.
    next_seq: u32,
    /// SAYs not acknowledged, by seq.
    pub pending: BTreeMap<u32, PendingSay>,
    /// Rooms we are in or joining, by name.
    pub rooms: BTreeMap<String, RoomSync>,
    /// JOINs sent and not answered, oldest first (an ERROR names no room).
    pub(crate) joins: VecDeque<String>,
    /// Member names collected from ROSTER frames with `more = 1`.
    pub(crate) roster: BTreeMap<String, Vec<String>>,
    /// Longest SAY text the server takes.
    pub max_text: usize,
    /// Whether a welcomed connection is up (SAYs go out at once).
    pub online: bool,
    /// The files shown this run, by number.
    pub files: crate::transfer::catalog::Catalog,
}

impl Session {
    /// A session for `name`.
    pub fn new(name: &str) -> Session {
        Session {
            name: name.to_string(),
            next_seq: 1,
            max_text: banter_proto::DEFAULT_MAX_TEXT as usize,
            ..Session::default()
        }
    }

    /// The HELLO for a new connection (resuming when we have a token).
    pub fn hello(&self) -> ClientFrame {
        ClientFrame::Hello {
            version: banter_proto::VERSION,
            name: self.name.clone(),
            password: self.password.clone(),
            resume: self.token,
        }
    }

    /// After WELCOME: re-JOIN every room (catching up from the last id seen)
    /// and resend the SAYs of rooms that need no catch-up.
    pub fn on_welcome(&mut self, out: &mut Vec<ClientFrame>) {
        self.online = true;
        self.joins.clear();
        self.roster.clear();
        let rooms: Vec<String> = self.rooms.keys().cloned().collect();
        for room in &rooms {
            if let Some(r) = self.rooms.get_mut(room) {
                r.catch_up_from = Some(r.last_id);
            }
            out.push(self.join_frame(room));
        }
        let orphans: Vec<u32> = self
            .pending
            .iter()
            .filter(|(_, p)| !p.failed && !self.rooms.contains_key(&p.room))
            .map(|(s, _)| *s)
            .collect();
        for seq in orphans {
            out.extend(self.say_frame(seq));
        }
    }

    /// The connection is gone.
    pub fn on_disconnect(&mut self) {
        self.online = false;
        self.joins.clear();
    }

    pub(crate) fn join_frame(&mut self, room: &str) -> ClientFrame {
        self.joins.push_back(room.to_string());
        let r = self.rooms.entry(room.to_string()).or_default();
        let limit =
            if r.last_id == 0 && r.catch_up_from.is_none() { JOIN_LIMIT } else { CATCH_UP_LIMIT };
        ClientFrame::Join { room: room.to_string(), since: r.last_id, limit }
    }

    /// JOIN `room` (a repeat JOIN is harmless: it catches up).
    pub fn join(&mut self, room: &str) -> ClientFrame {
        self.join_frame(room)
    }

    /// HISTORY of `room`: `limit` messages older than the oldest shown.
    pub fn history(&self, room: &str, limit: u16) -> ClientFrame {
        let before = self.rooms.get(room).map_or(0, |r| r.first_id);
        ClientFrame::History { room: room.to_string(), before, limit }
    }

    /// Numbers a new SAY and records it as pending. Returns its seq and the
    /// frame to send now (`None` while offline: it goes out on reconnect).
    pub fn say(
        &mut self,
        room: &str,
        text: &str,
        flags: u8,
    ) -> Result<(u32, Option<ClientFrame>), String> {
        check_text(text, self.max_text).map_err(|e| format!("not sent: {e}"))?;
        let seq = self.take_seq();
        let p = PendingSay {
            room: room.to_string(),
            text: text.to_string(),
            failed: false,
            held: false,
            flags,
        };
        self.pending.insert(seq, p);
        let frame = if self.online { self.say_frame(seq) } else { None };
        Ok((seq, frame))
    }

    /// The next seq (SAYs and UPLOADs share them: the server de-duplicates
    /// both by seq).
    pub fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        seq
    }

    /// The SAY frame of pending `seq` (with its original seq).
    pub fn say_frame(&mut self, seq: u32) -> Option<ClientFrame> {
        let p = self.pending.get_mut(&seq)?;
        p.held = false;
        Some(ClientFrame::Say { room: p.room.clone(), seq, text: p.text.clone(), flags: p.flags })
    }

    /// Un-fails every failed SAY; returns their seqs and frames (frames only when online).
    pub fn resend_failed(&mut self) -> (Vec<u32>, Vec<ClientFrame>) {
        let seqs: Vec<u32> =
            self.pending.iter().filter(|(_, p)| p.failed).map(|(s, _)| *s).collect();
        let mut frames = Vec::new();
        for s in &seqs {
            if let Some(p) = self.pending.get_mut(s) {
                p.failed = false;
            }
            if self.online {
                frames.extend(self.say_frame(*s));
            }
        }
        (seqs, frames)
    }

    /// Resends the rate-limited SAYs (when online).
    pub fn release_held(&mut self) -> Vec<ClientFrame> {
        let seqs: Vec<u32> = self.pending.iter().filter(|(_, p)| p.held).map(|(s, _)| *s).collect();
        if !self.online {
            return Vec::new();
        }
        seqs.into_iter().filter_map(|s| self.say_frame(s)).collect()
    }

    /// SAYs neither acknowledged nor refused.
    pub fn unacked(&self) -> usize {
        self.pending.values().filter(|p| !p.failed).count()
    }

    /// Whether we signed in with a password (or registered): only an
    /// account may send direct messages.
    pub fn is_account(&self) -> bool {
        !self.password.is_empty()
    }

    /// SAYs refused by the server.
    pub fn failed(&self) -> usize {
        self.pending.values().filter(|p| p.failed).count()
    }

    /// Records `id` of `room` as shown; false if it already was.
    /// Rooms we are not in are not tracked (their messages always show).
    pub(crate) fn mark_seen(&mut self, room: &str, id: u64) -> bool {
        let Some(r) = self.rooms.get_mut(room) else {
            return true;
        };
        if !r.seen.insert(id) {
            return false;
        }
        r.last_id = r.last_id.max(id);
        if r.first_id == 0 || id < r.first_id {
            r.first_id = id;
        }
        true
    }
}

#[cfg(test)]
mod tests;
