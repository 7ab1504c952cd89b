//! How line mode shows events: one line each on stdout (a day line before
//! the first message of each day, presence lines unless hidden), what the
//! line being run waits for, and the few events line mode reacts to (the
//! first WELCOME joins the rooms; a name needing its password reads one
//! line, once: a script's chat text is never tried as a password).
//!
//! It formats nothing itself (see `linefmt`) and reads no input.

use super::LineApp;
use crate::linefmt::format_event;
use crate::session::Event;
use std::io::Write;

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
}

impl Await {
    /// Whether `e` ends the wait.
    pub(super) fn done_by(&self, e: &Event) -> bool {
        match (self, e) {
            (Await::Ack(s), Event::Acked { seq, .. } | Event::SayFailed { seq, .. }) => s == seq,
            (Await::Join(r) | Await::History(r), Event::HistoryEnd { room, .. }) => r == room,
            (Await::Left(r), Event::Left { room })
            | (Await::Roster(r), Event::Roster { room, .. }) => r == room,
            (Await::Register, Event::Registered(_)) => true,
            (Await::Ack(_) | Await::Join(_), _) => matches!(e, Event::Offline { .. }),
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
        }
        let _ = out.flush();
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
            Event::Left { room } if self.room.as_ref() == Some(room) => {
                self.room = self.net.session.rooms.keys().next().cloned();
            }
            _ => {}
        }
    }
}
