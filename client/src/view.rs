//! What the screen shows, kept as data: per-room scrollback (sanitised
//! entries, at most [`SCROLLBACK`] each), unread counts and the unread
//! marker, members, who is typing, recent speakers, and the state of our own
//! lines (pending, acknowledged, failed). `apply.rs` feeds it events.
//!
//! It neither draws (see `render`) nor talks to the server.

use crate::sanitize::sanitize_lines;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

/// Entries kept per room.
pub const SCROLLBACK: usize = 10_000;
/// The pane of server notices and errors when no room is joined.
pub const STATUS_PANE: &str = "*";

/// The delivery state of one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Sent (or queued), not acknowledged yet.
    Pending,
    /// Stored by the server.
    Acked,
    /// Refused; the text says why.
    Failed(String),
}

/// What kind of line an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A message from someone (sanitised name).
    Msg(String),
    /// One of ours.
    Own(Mark),
    /// Information (joins, notices, replies to commands).
    Info,
    /// An error or refusal.
    Error,
}

/// One scrollback entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Unique, increasing: finds our own lines again and places the marker.
    pub serial: u64,
    /// Message id, for placing older history.
    pub id: Option<u64>,
    /// "HH:MM" of the message (or of the event).
    pub time: String,
    /// Kind and sender.
    pub kind: Kind,
    /// The sanitised text, one string per line of the message.
    pub lines: Vec<String>,
}

/// One room's pane.
#[derive(Debug, Default)]
pub struct RoomView {
    /// Scrollback, oldest first.
    pub entries: VecDeque<Entry>,
    /// Messages arrived while the room was not shown.
    pub unread: usize,
    /// Serial of the first unread entry: the marker goes above it.
    pub marker: Option<u64>,
    /// Member count from JOINED/PRESENCE.
    pub members: u32,
    /// Member names from ROSTER.
    pub names: Vec<String>,
    /// Who is typing, until when.
    pub typing: BTreeMap<String, Instant>,
    /// Entries hidden below the view (0: following the newest).
    pub scroll: usize,
}

/// The whole view.
#[derive(Debug, Default)]
pub struct View {
    /// Panes in the order rooms were joined (Alt-1..9 follow it).
    pub rooms: Vec<(String, RoomView)>,
    /// The pane shown.
    pub current: Option<String>,
    /// The next entry serial.
    serial: u64,
    /// Our lines by seq: room and serial.
    pub own: HashMap<u32, (String, u64)>,
    /// Names of recent speakers, most recent first (Tab completion).
    pub speakers: Vec<String>,
    /// Entries that fit the pane at the last draw (page size for PgUp).
    pub page: usize,
    /// Rooms whose next ROSTER answers a /who (shown, not just stored).
    pub who_asked: Vec<String>,
}

impl View {
    /// The pane of `room`, created if new.
    pub fn room_mut(&mut self, room: &str) -> &mut RoomView {
        let i = match self.rooms.iter().position(|(r, _)| r == room) {
            Some(i) => i,
            None => {
                self.rooms.push((room.to_string(), RoomView::default()));
                self.rooms.len() - 1
            }
        };
        &mut self.rooms[i].1
    }

    /// The pane of `room`, if any.
    pub fn room(&self, room: &str) -> Option<&RoomView> {
        self.rooms.iter().find(|(r, _)| r == room).map(|(_, v)| v)
    }

    /// The pane shown (the status pane when no room is).
    pub fn current_key(&self) -> String {
        self.current.clone().unwrap_or_else(|| STATUS_PANE.to_string())
    }

    /// Appends an entry to `room`; returns its serial. A message in a
    /// room not shown counts as unread.
    pub fn push(
        &mut self,
        room: &str,
        kind: Kind,
        time: String,
        text: &str,
        id: Option<u64>,
    ) -> u64 {
        self.serial += 1;
        let serial = self.serial;
        let shown = self.current.as_deref() == Some(room);
        let unread = !shown && matches!(kind, Kind::Msg(_));
        let e = Entry { serial, id, time, kind, lines: sanitize_lines(text) };
        let r = self.room_mut(room);
        r.entries.push_back(e);
        if r.entries.len() > SCROLLBACK {
            r.entries.pop_front();
        }
        if r.scroll > 0 {
            r.scroll += 1;
        }
        if unread {
            r.unread += 1;
            r.marker.get_or_insert(serial);
        }
        serial
    }

    /// Inserts an older message (history) before the first newer one.
    pub fn insert_older(&mut self, room: &str, kind: Kind, time: String, text: &str, id: u64) {
        self.serial += 1;
        let e =
            Entry { serial: self.serial, id: Some(id), time, kind, lines: sanitize_lines(text) };
        let r = self.room_mut(room);
        let newer = |x: &Entry| {
            x.id.is_some_and(|i| i > id) || (x.id.is_none() && matches!(x.kind, Kind::Own(_)))
        };
        let at = r.entries.iter().position(newer).unwrap_or(r.entries.len());
        r.entries.insert(at, e);
        if r.entries.len() > SCROLLBACK {
            r.entries.pop_front();
        }
    }

    /// Changes the mark of our line `seq`.
    pub fn mark_own(&mut self, seq: u32, mark: Mark, id: Option<u64>) {
        let Some((room, serial)) = self.own.get(&seq).cloned() else {
            return;
        };
        let r = self.room_mut(&room);
        if let Some(e) = r.entries.iter_mut().rev().find(|e| e.serial == serial) {
            e.kind = Kind::Own(mark.clone());
            e.id = id.or(e.id);
        }
        if mark == Mark::Acked {
            self.own.remove(&seq);
        }
    }

    /// Shows `room`: its unread count resets; the marker of the room left goes.
    pub fn switch(&mut self, room: &str) {
        if let Some(old) = self.current.clone() {
            if old != room {
                self.room_mut(&old).marker = None;
            }
        }
        self.current = Some(room.to_string());
        self.room_mut(room).unread = 0;
    }

    /// Removes the pane of a room we left; shows another.
    pub fn remove(&mut self, room: &str) {
        self.rooms.retain(|(r, _)| r != room);
        if self.current.as_deref() == Some(room) {
            self.current = self.rooms.iter().map(|(r, _)| r.clone()).find(|r| r != STATUS_PANE);
        }
    }

    /// Notes a speaker for Tab completion.
    pub fn spoke(&mut self, name: &str) {
        self.speakers.retain(|n| !n.eq_ignore_ascii_case(name));
        self.speakers.insert(0, name.to_string());
        self.speakers.truncate(200);
    }

    /// Rooms with unread messages, in pane order.
    pub fn unread(&self) -> Vec<(String, usize)> {
        self.rooms
            .iter()
            .filter(|(_, v)| v.unread > 0)
            .map(|(r, v)| (r.clone(), v.unread))
            .collect()
    }

    /// Forgets typing states that ended before `now`; the next expiry.
    pub fn expire_typing(&mut self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for (_, r) in &mut self.rooms {
            r.typing.retain(|_, until| *until > now);
            for t in r.typing.values() {
                next = Some(next.map_or(*t, |n| n.min(*t)));
            }
        }
        next
    }

    /// Scrolls the current pane up (`true`) or down by a page.
    pub fn page(&mut self, up: bool) {
        let page = self.page.max(2) - 1;
        let key = self.current_key();
        let r = self.room_mut(&key);
        r.scroll = if up {
            (r.scroll + page).min(r.entries.len().saturating_sub(1))
        } else {
            r.scroll.saturating_sub(page)
        };
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
