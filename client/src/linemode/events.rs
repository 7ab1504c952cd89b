//! How line mode shows events: one line each on stdout (a day line before
//! the first message of each day, presence lines unless hidden, a line per
//! receipt of our direct messages), what the line being run waits for, and
//! the few events line mode reacts to (the first WELCOME joins the rooms; a
//! name needing its password reads one line, once: a script's chat text is
//! never tried as a password; messages printed are marked read).
//!
//! It formats nothing itself (see `linefmt`) and reads no input.

use super::LineApp;
use crate::linefmt::{format_event, receipt};
use crate::session::Event;
use banter_proto::validate::{is_direct, same_name};
use std::collections::BTreeMap;
use std::io::Write;

/// Our direct messages of this run not yet read: by room, by id, the text
/// and whether "delivered" was printed.
pub(super) type Receipts = BTreeMap<String, BTreeMap<u64, (String, bool)>>;

/// The answer a line waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Await {
    /// The ACK (or refusal) of this SAY.
    Ack(u32),
    /// The end of the JOIN answer of this room.
    Join(String),
    /// LEFT of this room.
    Left(String),
    /// The whole ROSTER of this room.
    Roster(String),
    /// HISTORY_END of this room.
    History(String),
    /// REGISTERED.
    Register,
    /// The end of our upload with this seq (stored or refused).
    Upload(u32),
    /// The end of the download of file N (saved or not).
    Fetch(usize),
}

impl Await {
    /// Whether `e` ends the wait.
    pub(super) fn done_by(&self, e: &Event) -> bool {
        match (self, e) {
            (Await::Ack(s), Event::Acked { seq, .. } | Event::SayFailed { seq, .. }) => s == seq,
            (Await::Join(r) | Await::History(r), Event::HistoryEnd { room, .. }) => r == room,
            (Await::Join(r), Event::JoinFailed { room, .. }) => r == room,
            (Await::Left(r), Event::Left { room })
            | (Await::Roster(r), Event::Roster { room, .. }) => r == room,
            (Await::Register, Event::Registered(_)) => true,
            (Await::Upload(s), Event::UploadDone { seq, .. } | Event::UploadFailed { seq, .. }) => {
                s == seq
            }
            (Await::Fetch(n), Event::Saved { n: m, .. } | Event::SaveFailed { n: m, .. }) => n == m,
            (Await::Ack(_) | Await::Join(_) | Await::Upload(_) | Await::Fetch(_), _) => {
                matches!(e, Event::Offline { .. })
            }
            (_, Event::Error { .. } | Event::Lost { .. } | Event::Offline { .. }) => true,
            _ => false,
        }
    }
}

impl LineApp {
    /// Prints events and reacts to the few that need it.
    pub(super) fn show(&mut self, ev: &mut Vec<Event>) {
        let mut out = std::io::stdout().lock();
        for e in ev.drain(..) {
            if self.awaiting.as_ref().is_some_and(|a| a.done_by(&e)) {
                self.awaiting = None;
            }
            self.react(&e);
            if let Some(log) = self.log.as_mut() {
                if let Err(err) = log.event(&e, &self.net.session.name) {
                    let _ = writeln!(out, "! logging stopped: {err}");
                    self.log = None;
                }
            }
            if self.hide_joins && matches!(e, Event::Presence { .. }) {
                continue;
            }
            if let Event::Msg { ts, .. } | Event::Acked { ts, .. } = &e {
                let day = crate::clock::day(*ts);
                if day != self.last_day {
                    self.last_day = day;
                    let _ = writeln!(out, "= day {}", crate::clock::iso_day(*ts));
                }
            }
            if let Some(line) = format_event(&e, &self.net) {
                let _ = writeln!(out, "{line}");
            }
            for line in self.receipt_lines(&e) {
                let _ = writeln!(out, "{line}");
            }
        }
        let _ = out.flush();
    }

    /// The receipt lines `e` brings: one per message of ours it moves on.
    fn receipt_lines(&mut self, e: &Event) -> Vec<String> {
        let room = match e {
            Event::Acked { room, id, text, .. } if is_direct(room) => {
                let mine = self.receipts.entry(room.clone()).or_default();
                mine.insert(*id, (text.clone(), false));
                room
            }
            Event::Delivered { room, .. } | Event::Read { room, .. } => room,
            _ => return Vec::new(),
        };
        let Some(sync) = self.net.session.rooms.get(room) else { return Vec::new() };
        let (delivered, read) = (sync.delivered, sync.peer_read);
        let Some(mine) = self.receipts.get_mut(room) else { return Vec::new() };
        let mut lines = Vec::new();
        // Each message gets both lines, in order, even when one READ
        // says both at once (read implies delivered).
        for (id, (text, told)) in mine.range_mut(..=delivered) {
            if !std::mem::replace(told, true) {
                lines.push(receipt("delivered", room, *id, text));
            }
            if *id <= read {
                lines.push(receipt("read", room, *id, text));
            }
        }
        mine.retain(|id, _| *id > read);
        lines
    }

    fn react(&mut self, e: &Event) {
        match e {
            Event::Welcome { .. } if self.room.is_none() => {
                self.room = self.first_rooms.first().cloned();
                for room in self.first_rooms.clone() {
                    self.awaiting = Some(Await::Join(room.clone()));
                    let f = self.net.session.join(&room);
                    self.net.send(&f);
                }
            }
            // One password try: a script's next line is chat, never a password.
            Event::NameRefused { code, password_sent: false, .. } if code.starts_with("AUTH_") => {
                self.need_password = self.password_command.is_none();
                if !self.need_password {
                    self.exit = Some(1);
                }
            }
            Event::NameRefused { code, .. } if code.starts_with("AUTH_") => self.exit = Some(1),
            Event::NameRefused { .. } if self.name_from_stdin => self.need_name = true,
            Event::NameRefused { .. } => self.exit = Some(1),
            Event::Left { room } => {
                self.marks.forget(room);
                if self.room.as_ref() == Some(room) {
                    self.room = self.net.session.rooms.keys().next().cloned();
                }
            }
            Event::Joined { room, read, .. } | Event::Unread { room, read, .. } => {
                self.marks.told(room, *read)
            }
            Event::JoinFailed { room, forgotten: true, .. } if self.room.as_ref() == Some(room) => {
                self.room = self.first_rooms.first().cloned();
            }
            Event::Msg { room, id, from, .. } if !same_name(from, &self.net.session.name) => {
                self.marks.seen(room, *id)
            }
            Event::UploadFailed { .. } | Event::SaveFailed { .. } => self.files_failed = true,
            _ => {}
        }
    }
}
