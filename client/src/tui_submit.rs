//! What Enter does in the full-screen UI: at the name prompt it starts the
//! connection, at the password prompt it signs in (`/quit` still quits, an
//! empty line goes back to the name), otherwise it sends chat text or runs
//! a command and shows the outcome. A line holding a secret (`/register`,
//! in any case) is never kept in the input history.

use crate::actions::{self, Outcome};
use crate::commands::{self, Command, Input};
use crate::session::Event;
use crate::tui::Tui;
use crate::view::{Entry, Kind, Mark};
use mio::Registry;
use std::time::Instant;

/// Lines `/search` lists at most.
const SEARCH_MAX: usize = 50;

impl Tui {
    /// Enter.
    pub fn submit(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if self.asking_password {
            return self.submit_password(reg, now, ev);
        }
        if self.asking_name {
            return self.submit_name(reg, now, ev);
        }
        let secret = commands::secret_from(self.editor.text()).is_some();
        let line = if secret { self.editor.submit_secret() } else { self.editor.submit() };
        if !line.trim().is_empty() {
            self.run_line(line, reg, now, ev);
        }
    }

    /// Sends chat text or runs a command, and shows what came of it.
    fn run_line(&mut self, line: String, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let input = commands::parse(&line);
        let said = matches!(
            input,
            Ok(Input::Say(_) | Input::Cmd(Command::Me(_) | Command::Msg(_, Some(_))))
        );
        if said {
            // The server ends our typing state when it gets the SAY.
            self.typing = Default::default();
            self.view.jump_to_bottom();
        } else {
            self.stop_typing();
        }
        let text = match &input {
            Ok(Input::Say(t) | Input::Cmd(Command::Me(t) | Command::Msg(_, Some(t)))) => t.clone(),
            _ => String::new(),
        };
        let who = matches!(input, Ok(Input::Cmd(Command::Who)));
        let history = matches!(input, Ok(Input::Cmd(Command::History(_))));
        let mut room = self.view.current.clone();
        let result = input.and_then(|i| actions::run(i, &mut self.net, &mut room));
        if let Some(r) = room.filter(|r| Some(r) != self.view.current.as_ref()) {
            self.remember_room(&r);
            self.view.switch(&r);
        }
        match result {
            Ok(Outcome::Sent) if who => self.view.who_asked.push(self.view.current_key()),
            Ok(Outcome::Sent) if history => self.view.history_asked.push(self.view.current_key()),
            Ok(Outcome::Reconnect) if self.net.online() => self.view.info("already connected"),
            Ok(Outcome::Reconnect) => self.net.retry_now(reg, now, ev),
            Ok(o) => self.outcome(o, &text),
            Err(e) => {
                self.view.error(&e);
                if said {
                    // Not sent: give the text back rather than lose it.
                    self.editor.set(&line);
                }
            }
        }
    }

    fn outcome(&mut self, o: Outcome, text: &str) {
        match o {
            Outcome::Said { seq, room, action } => {
                let mut e =
                    Entry::new(Kind::Own(Mark::Pending), crate::clock::now_ms(), text, None);
                e.action = action;
                let serial = self.view.push_entry(&room, e);
                self.view.own.insert(seq, (room, serial));
            }
            Outcome::Sent | Outcome::Switched(_) => {}
            Outcome::GoNumber(n) => self.switch_nth(n - 1),
            Outcome::Set(s) => self.set(s),
            Outcome::Search(t) => self.search(&t),
            Outcome::Resent(seqs) => {
                for s in &seqs {
                    self.view.mark_own(*s, Mark::Pending, None);
                }
                self.view.info(&format!("resending {} message(s)", seqs.len()));
            }
            Outcome::Quit(reason) => self.quit = Some(reason),
            Outcome::Help => commands::HELP.iter().for_each(|h| self.view.info(h)),
            Outcome::Reconnect => {}
            Outcome::Sending(s) => {
                self.view.info(&format!("{} (progress in the status bar)", s.text()))
            }
            Outcome::Fetching(f) => {
                self.view.info(&format!("{} (progress in the status bar)", f.text()))
            }
        }
    }

    /// `/set`: shows the settings, or changes one.
    fn set(&mut self, s: Option<(String, String)>) {
        let on = |b: bool| if b { "on" } else { "off" };
        let Some((name, value)) = s else {
            let text = format!("joins {}, bell {}", on(!self.view.hide_joins), on(self.bell));
            return self.view.info(&format!("settings: {text} (/set NAME on|off)"));
        };
        let Some(v) = crate::config::switch(&value) else {
            return self.view.error(&format!("/set {name}: {value:?} is not on or off"));
        };
        match name.as_str() {
            "joins" => self.view.hide_joins = !v,
            "bell" => self.bell = v,
            _ => return self.view.error(&format!("/set: no setting {name:?} (joins, bell)")),
        }
        self.prev = None;
        self.view.info(&format!("{name} {}", on(v)));
    }

    /// `/search`: lists the lines of the shown room that contain `text`.
    fn search(&mut self, text: &str) {
        let key = self.view.current_key();
        let needle = text.to_lowercase();
        let found: Vec<String> = self.view.room(&key).map_or(Vec::new(), |r| {
            let hits = r.entries.iter().filter(|e| {
                matches!(e.kind, Kind::Msg(_) | Kind::Own(_))
                    && e.lines.iter().any(|l| l.to_lowercase().contains(&needle))
            });
            let me = &self.net.session.name;
            hits.map(|e| {
                let who = match &e.kind {
                    Kind::Msg(f) => f.as_str(),
                    _ => me.as_str(),
                };
                format!("  {} <{who}> {}", e.time, e.lines.join(" \u{23ce} "))
            })
            .collect()
        });
        let shown = found.len().min(SEARCH_MAX);
        let more =
            if found.len() > shown { format!(" (the newest {shown})") } else { String::new() };
        self.view.info(&format!("search {text:?}: {} line(s){more}", found.len()));
        for line in &found[found.len() - shown..] {
            self.view.info(line);
        }
        self.view.jump_to_bottom();
    }

    /// Enter at the password prompt.
    fn submit_password(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let line = self.editor.submit_secret();
        if line.is_empty() {
            self.asking_password = false;
            self.asking_name = true;
            return self.view.info("Type another name and press Enter.");
        }
        if line.starts_with('/') && !line.starts_with("//") {
            return match commands::parse(&line) {
                Ok(Input::Cmd(Command::Quit(r))) => self.quit = Some(r),
                _ => self.view.error("at the password prompt only /quit works (//x sends /x)"),
            };
        }
        let pw = line.strip_prefix('/').filter(|_| line.starts_with("//")).unwrap_or(&line);
        self.asking_password = false;
        self.net.session.password = pw.to_string();
        let name = self.net.session.name.clone();
        self.net.start(&name, reg, now, ev);
    }

    /// Enter at the name prompt.
    fn submit_name(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let line = self.editor.submit_secret();
        let name = line.trim();
        if let Ok(Input::Cmd(Command::Quit(r))) = commands::parse(name) {
            self.quit = Some(r);
            return;
        }
        if !banter_proto::validate::is_valid_name(name) {
            self.view
                .error("a name is 1-32 of A-Z a-z 0-9 _ . - and starts with a letter or digit");
            return;
        }
        self.asking_name = false;
        self.net.session.password = self.password_for(name);
        self.net.start(name, reg, now, ev);
    }

    /// Remembers a room for Tab completion after `/join`.
    pub fn remember_room(&mut self, room: &str) {
        if !self.known_rooms.iter().any(|r| r == room) {
            self.known_rooms.push(room.to_string());
        }
    }
}
