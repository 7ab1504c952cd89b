//! What the screen shows, kept as data: per-room scrollback (sanitised
//! entries, at most [`SCROLLBACK`] each), unread and mention counts and the
//! unread marker (placed by arrival, or by the read marker the server
//! keeps), members, who is typing, recent speakers, where the pane is
//! scrolled to, and the state of our own lines (pending, acknowledged,
//! failed; delivered and read in direct conversations). `apply.rs` feeds
//! it events.
//!
//! It neither draws (see `render`) nor talks to the server.

use crate::clock::{day, hhmm, now_ms};
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
    /// Rate-limited by the server; resent by itself shortly.
    Held,
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
    /// Someone joined, left, quit or was lost (hidden by `/set joins off`).
    Presence,
    /// Information (notices, replies to commands).
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
    /// When it was said (ms since the epoch): the day-change lines use it.
    pub ts: u64,
    /// The local day of `ts` (YYYYMMDD), compared between neighbours.
    pub day: u32,
    /// Kind and sender.
    pub kind: Kind,
    /// A `/me` action: drawn as "* name text".
    pub action: bool,
    /// The text names us: highlighted.
    pub mention: bool,
    /// A shared file: its number, drawn as "[file N]" before the text.
    pub file: Option<usize>,
    /// The sanitised text, one string per line of the message.
    pub lines: Vec<String>,
}

impl Entry {
    /// An entry of `kind` said at `ts`; the serial is set when it is stored.
    pub fn new(kind: Kind, ts: u64, text: &str, id: Option<u64>) -> Entry {
        Entry {
            serial: 0,
            id,
            time: hhmm(ts),
            ts,
            day: day(ts),
            kind,
            action: false,
            mention: false,
            file: None,
            lines: sanitize_lines(text),
        }
    }
}

/// Where a pane is scrolled to, counted from the newest row: `entries`
/// whole entries are below the view, and `rows` rows of the next one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    /// Entries entirely below the view.
    pub entries: usize,
    /// Rows of the lowest (partly) visible entry that are below the view.
    pub rows: usize,
}

impl Scroll {
    /// Whether the pane follows the newest line.
    pub fn at_bottom(&self) -> bool {
        *self == Scroll::default()
    }
}

/// One room's pane.
#[derive(Debug, Default)]
pub struct RoomView {
    /// Scrollback, oldest first.
    pub entries: VecDeque<Entry>,
    /// Messages arrived while the room was not shown.
    pub unread: usize,
    /// Of those, how many name us.
    pub mentions: usize,
    /// Serial of the first unread entry: the marker goes above it.
    pub marker: Option<u64>,
    /// Member count from JOINED/PRESENCE.
    pub members: u32,
    /// Member names from ROSTER.
    pub names: Vec<String>,
    /// Who is typing, until when.
    pub typing: BTreeMap<String, Instant>,
    /// Where the pane is scrolled to.
    pub scroll: Scroll,
    /// Messages that arrived below the view while scrolled up.
    pub new_below: usize,
    /// A direct conversation (`@name`): its messages count like mentions.
    pub direct: bool,
    /// Our read marker as the server has it (JOINED, UNREAD, our MARKs).
    pub read: u64,
    /// The marker the "new" line follows in replays (JOINED's `read`),
    /// until the room is left.
    pub new_after: Option<u64>,
    /// Newest message id in the pane (what a MARK would say).
    pub newest: u64,
    /// Highest id counted as unread (UNREAD counts ahead of its replay).
    pub counted: u64,
    /// Direct conversation: our messages up to here reached the other party.
    pub delivered: u64,
    /// Direct conversation: the other party read up to here.
    pub peer_read: u64,
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
    /// Rooms whose next ROSTER answers a /who (shown, not just stored).
    pub who_asked: Vec<String>,
    /// Rooms whose next HISTORY_END answers a /history (reported).
    pub history_asked: Vec<String>,
    /// Our name, to find mentions.
    pub me: String,
    /// A mention arrived live since the last draw: ring the bell.
    pub bell: bool,
    /// The one line that tells how reconnecting goes (room, serial):
    /// updated in place at each attempt instead of adding lines.
    pub conn_line: Option<(String, u64)>,
    /// Hide joins, parts and quits (`/set joins off`).
    pub hide_joins: bool,
}

impl View {
    /// An empty view; `joins`: presence lines are shown.
    pub fn with_joins(joins: bool) -> View {
        View { hide_joins: !joins, ..View::default() }
    }

    /// The pane of `room`, created if new.
    pub fn room_mut(&mut self, room: &str) -> &mut RoomView {
        let i = match self.rooms.iter().position(|(r, _)| r == room) {
            Some(i) => i,
            None => {
                let direct = banter_proto::validate::is_direct(room);
                self.rooms.push((room.to_string(), RoomView { direct, ..RoomView::default() }));
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

    /// Appends a line of `kind` stamped now; returns its serial.
    pub fn push(&mut self, room: &str, kind: Kind, text: &str) -> u64 {
        self.push_entry(room, Entry::new(kind, now_ms(), text, None))
    }

    /// Appends an entry to `room`; returns its serial. A message in a
    /// room not shown counts as unread (unless the read marker says it
    /// was read elsewhere); one below a scrolled view as new.
    pub fn push_entry(&mut self, room: &str, mut e: Entry) -> u64 {
        self.serial += 1;
        e.serial = self.serial;
        let shown = self.current.as_deref() == Some(room);
        let is_msg = matches!(e.kind, Kind::Msg(_));
        let serial = self.serial;
        let r = self.room_mut(room);
        r.newest = r.newest.max(e.id.unwrap_or(0));
        let unread = is_msg && e.id.is_none_or(|id| id > r.read && id > r.counted);
        if !shown && unread {
            r.count_unread(&e);
            r.marker.get_or_insert(serial);
        }
        r.entries.push_back(e);
        if r.entries.len() > SCROLLBACK {
            r.entries.pop_front();
        }
        if !r.scroll.at_bottom() {
            r.scroll.entries += 1;
            r.new_below += usize::from(is_msg);
        }
        serial
    }

    /// Inserts an older message (history) right after the newest entry
    /// that is older than it, or at the top: above the lines of this
    /// session (connected, joined), which are newer than any history.
    /// Past the read marker it counts as unread when the room is not shown.
    pub fn insert_older(&mut self, room: &str, mut e: Entry) -> u64 {
        self.serial += 1;
        e.serial = self.serial;
        let serial = self.serial;
        let shown = self.current.as_deref() == Some(room);
        let id = e.id.unwrap_or(0);
        let r = self.room_mut(room);
        r.newest = r.newest.max(id);
        let marked = r.direct || r.read > 0;
        if !shown && marked && matches!(e.kind, Kind::Msg(_)) && id > r.read && id > r.counted {
            r.count_unread(&e);
        }
        let at = r.entries.iter().rposition(|x| x.id.is_some_and(|i| i < id)).map_or(0, |i| i + 1);
        r.entries.insert(at, e);
        if r.entries.len() > SCROLLBACK {
            r.entries.pop_front();
        }
        serial
    }

    /// Puts the "new" line above entry `serial` (message `id` of
    /// `room`) if it is past the read marker of the last JOIN and older
    /// than the entry the line is above now.
    pub fn place_marker(&mut self, room: &str, serial: u64, id: u64) {
        let r = self.room_mut(room);
        if r.new_after.is_none_or(|read| id <= read) {
            return;
        }
        let above = r.marker.and_then(|m| r.entries.iter().find(|e| e.serial == m));
        if above.is_none_or(|e| e.id.is_some_and(|m| id < m)) {
            r.marker = Some(serial);
        }
    }

    /// Changes the mark of our line `seq`.
    pub fn mark_own(&mut self, seq: u32, mark: Mark, id: Option<u64>) {
        let Some((room, serial)) = self.own.get(&seq).cloned() else {
            return;
        };
        let r = self.room_mut(&room);
        r.newest = r.newest.max(id.unwrap_or(0));
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
                let r = self.room_mut(&old);
                r.marker = None;
                r.new_after = None;
            }
        }
        self.current = Some(room.to_string());
        let r = self.room_mut(room);
        r.unread = 0;
        r.mentions = 0;
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

    /// The room panes (not the status pane) in window order: window N is
    /// the (N-1)th.
    pub fn windows(&self) -> Vec<&str> {
        self.rooms.iter().map(|(r, _)| r.as_str()).filter(|r| *r != STATUS_PANE).collect()
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

    /// Replaces the text (and kind) of entry `serial` of `room`; false if
    /// it is gone.
    pub fn rewrite(&mut self, room: &str, serial: u64, kind: Kind, text: &str) -> bool {
        let r = self.room_mut(room);
        match r.entries.iter_mut().rev().find(|e| e.serial == serial) {
            Some(e) => {
                e.kind = kind;
                e.lines = sanitize_lines(text);
                true
            }
            None => false,
        }
    }

    /// Follows the newest line of the shown pane again.
    pub fn jump_to_bottom(&mut self) {
        let key = self.current_key();
        let r = self.room_mut(&key);
        r.scroll = Scroll::default();
        r.new_below = 0;
    }
}

impl RoomView {
    /// Counts message `e` as unread (a mention if it names us or is a
    /// direct message).
    fn count_unread(&mut self, e: &Entry) {
        self.unread += 1;
        self.mentions += usize::from(e.mention || self.direct);
        self.counted = self.counted.max(e.id.unwrap_or(0));
    }
}

/// Whether `text` names `me` as a word (any case), as chat users expect a
/// highlight: "ada:", "@ada", "hi ada!" do; "adam" does not.
pub fn mentions(text: &str, me: &str) -> bool {
    if me.is_empty() {
        return false;
    }
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-');
    let lower = text.to_lowercase();
    let me = me.to_lowercase();
    lower.match_indices(&me).any(|(i, _)| {
        let before = lower[..i].chars().next_back().is_none_or(|c| !word(c));
        let rest = &lower[i + me.len()..];
        let after = rest.chars().next().is_none_or(|c| !word(c) || (c == '.' && rest.len() == 1));
        before && after
    })
}

#[cfg(test)]
mod tests;
