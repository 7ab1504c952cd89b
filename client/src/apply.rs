//! Applies session events to the [`View`] of the terminal UI: messages go
//! to their room (history above, catch-up and live below), our own lines
//! change mark, presence and typing update the room state.
//!
//! Sanitising happens in `View::push`; nothing here prints.

use crate::clock::{hhmm, now_hhmm};
use crate::session::Event;
use crate::view::{Kind, Mark, View};
use std::time::{Duration, Instant};

/// A typing indicator lasts this long after the last `active = 1` (spec §4).
pub const TYPING_TTL: Duration = Duration::from_secs(6);

impl View {
    /// Appends an information line to the pane shown.
    pub fn info(&mut self, text: &str) {
        let key = self.current_key();
        self.push(&key, Kind::Info, now_hhmm(), text, None);
    }

    /// Appends an error line to the pane shown.
    pub fn error(&mut self, text: &str) {
        let key = self.current_key();
        self.push(&key, Kind::Error, now_hhmm(), text, None);
    }

    /// Applies one event.
    pub fn apply(&mut self, e: Event, now: Instant) {
        match e {
            Event::Msg { room, id, ts, from, text, replay, catch_up } => {
                self.room_mut(&room).typing.remove(&from);
                if replay && !catch_up {
                    self.insert_older(&room, Kind::Msg(from), hhmm(ts), &text, id);
                } else {
                    self.spoke(&from);
                    self.push(&room, Kind::Msg(from), hhmm(ts), &text, Some(id));
                }
            }
            Event::Acked { seq, id, .. } => self.mark_own(seq, Mark::Acked, Some(id)),
            Event::SayFailed { seq, code, detail, .. } => {
                let why = format!("{code}: {detail}; /resend to try again");
                self.mark_own(seq, Mark::Failed(why), None);
            }
            Event::Joined { room, members } => self.joined(&room, members),
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

    /// Events about the connection and the server, shown as lines.
    fn apply_status(&mut self, e: Event) {
        match e {
            Event::HistoryEnd { room, more: true, .. } => {
                let text = format!("older messages exist: /history in {room}");
                self.push(&room, Kind::Info, now_hhmm(), &text, None);
            }
            Event::Notice(t) => self.info(&t),
            Event::Registered(n) => self.info(&format!("{n} is now registered")),
            Event::Error { code, detail } => self.error(&format!("{code}: {detail}")),
            Event::Welcome { name, resumed: true } => {
                self.info(&format!("session resumed as {name}"))
            }
            Event::Welcome { name, .. } => self.info(&format!("connected as {name}")),
            Event::Lost { reason } => self.error(&format!("connection lost: {reason}")),
            Event::Offline { reason } => self.error(&format!("offline: {reason} (Ctrl-R retries)")),
            Event::NameRefused { code, detail } => self.error(&format!("{code}: {detail}")),
            _ => {}
        }
    }

    fn joined(&mut self, room: &str, members: u32) {
        let fresh = self.room(room).is_none_or(|r| r.entries.is_empty());
        self.room_mut(room).members = members;
        if fresh {
            self.push(
                room,
                Kind::Info,
                now_hhmm(),
                &format!("joined {room} ({members} members)"),
                None,
            );
        }
    }

    fn roster(&mut self, room: &str, names: Vec<String>) {
        let asked = self.who_asked.iter().position(|r| r == room);
        let r = self.room_mut(room);
        r.members = names.len() as u32;
        r.names = names;
        if let Some(i) = asked {
            self.who_asked.remove(i);
            let list = self.room(room).map(|r| r.names.join(", ")).unwrap_or_default();
            self.push(room, Kind::Info, now_hhmm(), &format!("members of {room}: {list}"), None);
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
        self.push(room, Kind::Info, now_hhmm(), &text, None);
    }
}
