//! Applies session events to the [`View`] of the terminal UI: messages go
//! to their room (history above, catch-up and live below; ours, replayed,
//! as our own lines), our own lines change mark, receipts and read markers
//! update the room, presence and typing update the room state, file
//! messages show their number, and how the connection fares is one line
//! updated in place.
//!
//! Sanitising happens in `Entry::new`; nothing here prints.

use crate::session::Event;
use crate::transfer::names::{describe, human_size};
use crate::view::{mentions, Entry, Kind, Mark, View};
use banter_proto::validate::same_name;
use std::time::{Duration, Instant};

/// A typing indicator lasts this long after the last `active = 1` (spec §4).
pub const TYPING_TTL: Duration = Duration::from_secs(6);

/// "upload at 40% (12 MiB of 30 MiB)" (or download).
fn resumed_at(upload: bool, done: u64, size: u64) -> String {
    let what = if upload { "upload" } else { "download" };
    let pct = u128::from(done) * 100 / u128::from(size.max(1));
    format!("{what} at {pct}% ({} of {})", human_size(done), human_size(size))
}

/// "1 member", "2 members".
pub fn members(n: u32) -> String {
    format!("{n} member{}", if n == 1 { "" } else { "s" })
}

impl View {
    /// Appends an information line to the pane shown.
    pub fn info(&mut self, text: &str) {
        let key = self.current_key();
        self.push(&key, Kind::Info, text);
    }

    /// Appends an error line to the pane shown.
    pub fn error(&mut self, text: &str) {
        let key = self.current_key();
        self.push(&key, Kind::Error, text);
    }

    /// Applies one event.
    pub fn apply(&mut self, e: Event, now: Instant) {
        match e {
            Event::Msg { room, id, ts, from, text, action, replay, catch_up, file } => {
                let n = file.as_ref().map(|s| s.n);
                let text = match &file {
                    Some(s) => describe(&text, s.file.size, &s.file.mime),
                    None => text,
                };
                self.message(&room, (id, n), ts, &from, &text, action, (replay, catch_up))
            }
            Event::Acked { seq, id, .. } => self.mark_own(seq, Mark::Acked, Some(id)),
            Event::Throttled { seq } => self.mark_own(seq, Mark::Held, None),
            Event::SayFailed { seq, code, detail, .. } => {
                let why = format!("{code}: {detail}; /resend to try again");
                self.mark_own(seq, Mark::Failed(why), None);
            }
            Event::Joined { room, members, read } => self.joined(&room, members, read),
            Event::Left { room } => {
                self.remove(&room);
                self.info(&format!("left {room}"));
            }
            Event::Roster { room, names } => self.roster(&room, names),
            Event::Presence { room, name, what, reason } => {
                self.presence(&room, &name, what, &reason)
            }
            Event::Typing { room, name, active } => {
                let r = self.room_mut(&room);
                match active {
                    true => r.typing.insert(name, now + TYPING_TTL),
                    false => r.typing.remove(&name),
                };
            }
            other => self.apply_status(other),
        }
    }

    /// A message (`file`: the number of a shared file): history above,
    /// the rest below; ours as our own line.
    #[allow(clippy::too_many_arguments)]
    fn message(
        &mut self,
        room: &str,
        (id, file): (u64, Option<usize>),
        ts: u64,
        from: &str,
        text: &str,
        action: bool,
        (replay, catch_up): (bool, bool),
    ) {
        self.room_mut(room).typing.remove(from);
        let ours = same_name(from, &self.me);
        let kind = if ours { Kind::Own(Mark::Acked) } else { Kind::Msg(from.to_string()) };
        let mut e = Entry::new(kind, ts, text, Some(id));
        e.action = action;
        e.file = file;
        e.mention = !ours && file.is_none() && mentions(text, &self.me);
        let serial = if replay && !catch_up {
            self.insert_older(room, e)
        } else {
            let direct = self.room_mut(room).direct;
            self.bell |= (e.mention || direct) && !ours && !replay;
            if !ours {
                self.spoke(from);
            }
            self.push_entry(room, e)
        };
        if replay && !ours {
            self.place_marker(room, serial, id);
        }
    }

    /// Events about the connection and the server, shown as lines.
    fn apply_status(&mut self, e: Event) {
        match e {
            Event::Unread { room, count, last_id, read } => {
                self.unread(&room, count, last_id, read)
            }
            Event::Delivered { room, id } => {
                let r = self.room_mut(&room);
                r.delivered = r.delivered.max(id);
            }
            Event::Read { room, id, .. } => {
                let r = self.room_mut(&room);
                r.peer_read = r.peer_read.max(id);
                r.delivered = r.delivered.max(id);
            }
            Event::JoinFailed { room, code, detail, forgotten } => {
                if forgotten {
                    self.remove(&room);
                }
                self.error(&format!("{code}: {detail}"));
            }
            Event::HistoryEnd { room, count, more } => self.history_end(&room, count, more),
            Event::Notice(t) => self.info(&t),
            Event::Registered(n) => self.info(&format!("{n} is now registered")),
            Event::UploadFailed { room, name, why, .. } => {
                self.error(&format!("{name} was not sent to {room}: {why}"))
            }
            Event::Saved { n, path, size } => {
                self.info(&format!("[file {n}] saved as {path} ({})", human_size(size)))
            }
            Event::SaveFailed { n, name, why } => {
                self.error(&format!("[file {n}] {name} was not saved: {why}"))
            }
            Event::Resuming { upload, name, done, size } => {
                self.info(&format!("resuming the {name} {}", resumed_at(upload, done, size)))
            }
            Event::Error { code, detail } => self.error(&format!("{code}: {detail}")),
            Event::Welcome { name, resumed } => {
                self.me = name.clone();
                let text = match resumed {
                    true => format!("session resumed as {name}"),
                    false => format!("connected as {name}"),
                };
                self.conn_status(Kind::Info, &text);
                self.conn_line = None;
            }
            Event::Lost { server, reason } => {
                let text = format!("no connection to {server}: {reason}; retrying (Ctrl-R: now)");
                self.conn_status(Kind::Error, &text);
            }
            Event::Offline { server, reason } => {
                let text =
                    format!("offline: no connection to {server}: {reason}; Ctrl-R tries again");
                self.conn_status(Kind::Error, &text);
            }
            Event::NameRefused { code, detail, password_sent }
                if password_sent || !code.starts_with("AUTH_") =>
            {
                self.error(&format!("{code}: {detail}"))
            }
            _ => {}
        }
    }

    /// Shows how the connection fares on its one line, added if needed
    /// (or if that line is in a pane no longer shown).
    fn conn_status(&mut self, kind: Kind, text: &str) {
        if let Some((room, serial)) = self.conn_line.clone() {
            let shown = room == self.current_key();
            if shown && self.rewrite(&room, serial, kind.clone(), text) {
                return;
            }
        }
        let room = self.current_key();
        let serial = self.push(&room, kind, text);
        self.conn_line = Some((room, serial));
    }

    fn history_end(&mut self, room: &str, count: u16, more: bool) {
        let asked = self.history_asked.iter().position(|r| r == room);
        let text = match (asked, count, more) {
            (Some(_), 0, _) => format!("no older messages in {room}"),
            (Some(_), n, true) => {
                format!("{n} older messages of {room} added above; /history for more")
            }
            (Some(_), n, false) => {
                format!("{n} older messages of {room} added above (that is all)")
            }
            (None, _, true) => format!("older messages exist: /history in {room}"),
            (None, _, false) => return,
        };
        if let Some(i) = asked {
            self.history_asked.remove(i);
        }
        self.push(room, Kind::Info, &text);
    }

    fn joined(&mut self, room: &str, n: u32, read: u64) {
        let fresh = self.room(room).is_none_or(|r| r.entries.is_empty());
        let r = self.room_mut(room);
        r.members = n;
        r.read = r.read.max(read);
        if read > 0 || r.direct {
            r.new_after = Some(r.read);
        }
        if fresh {
            self.push(room, Kind::Info, &format!("joined {room} ({})", members(n)));
        }
    }

    /// UNREAD at sign-in: the conversation's window counts its messages
    /// at once (its catch-up follows and is not counted twice).
    fn unread(&mut self, room: &str, count: u32, last_id: u64, read: u64) {
        let shown = self.current.as_deref() == Some(room);
        let r = self.room_mut(room);
        r.read = r.read.max(read);
        r.new_after = Some(r.read);
        if !shown && last_id > r.counted {
            r.unread += count as usize;
            r.mentions += count as usize;
            r.counted = last_id;
            self.bell = true;
        }
        let n =
            if count == 1 { "1 unread message".into() } else { format!("{count} unread messages") };
        self.push(room, Kind::Info, &format!("{n} in {room}"));
    }

    fn roster(&mut self, room: &str, names: Vec<String>) {
        let asked = self.who_asked.iter().position(|r| r == room);
        let r = self.room_mut(room);
        r.members = names.len() as u32;
        r.names = names;
        if let Some(i) = asked {
            self.who_asked.remove(i);
            let list = self.room(room).map(|r| r.names.join(", ")).unwrap_or_default();
            self.push(room, Kind::Info, &format!("members of {room}: {list}"));
        }
    }

    fn presence(&mut self, room: &str, name: &str, what: &str, reason: &str) {
        let r = self.room_mut(room);
        r.typing.remove(name);
        if what == "joined" {
            r.members += 1;
            r.names.push(name.to_string());
        } else {
            r.members = r.members.saturating_sub(1);
            r.names.retain(|n| !n.eq_ignore_ascii_case(name));
        }
        let text = match (what, reason.is_empty()) {
            ("quit", false) => format!("{name} quit ({reason})"),
            _ => format!("{name} {what}"),
        };
        self.push(room, Kind::Presence, &text);
    }
}

#[cfg(test)]
mod tests;
