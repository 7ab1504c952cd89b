//! What each key does in the full-screen UI: editing keys go to the
//! [`Editor`](crate::editor::Editor), Enter submits (a name, a message or a
//! command), PgUp/PgDn scroll, Alt-1..9 switch rooms, Ctrl-R reconnects now,
//! Ctrl-C quits. Typing notifications (TYPING) are sent from here, throttled.
//!
//! Drawing is not done here; the loop redraws after every batch of keys.

use crate::actions::{self, Outcome};
use crate::clock::now_hhmm;
use crate::commands::{self, Command, Input};
use crate::keys::Key;
use crate::session::Event;
use crate::tui::Tui;
use crate::view::{Kind, Mark, STATUS_PANE};
use banter_proto::ClientFrame;
use mio::Registry;
use std::time::{Duration, Instant};

/// `active = 1` is repeated at most this often while typing (spec §4).
const TYPING_REPEAT: Duration = Duration::from_secs(3);
/// Typing stops being announced after this long without a key.
const TYPING_IDLE: Duration = Duration::from_secs(4);

impl Tui {
    /// Handles one key.
    pub fn on_key(&mut self, key: Key, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let before = self.editor.text().len();
        let edited = self.edit(&key);
        if edited {
            if self.editor.text().len() != before || matches!(key, Key::Paste(_)) {
                self.typed(now);
            }
            return;
        }
        match key {
            Key::Enter => self.submit(reg, now, ev),
            Key::Ctrl('c') => self.quit = Some(String::new()),
            Key::Ctrl('d') if self.editor.is_empty() => self.quit = Some(String::new()),
            Key::Ctrl('d') => self.editor.delete(),
            Key::Ctrl('l') => self.prev = None,
            Key::Ctrl('r') => self.net.retry_now(reg, now, ev),
            Key::PageUp => self.view.page(true),
            Key::PageDown => self.view.page(false),
            Key::Alt(c @ '1'..='9') => self.switch_nth(c as usize - '1' as usize),
            Key::Tab => self.complete(),
            _ => {}
        }
    }

    /// Editing keys; false when `key` is not one.
    fn edit(&mut self, key: &Key) -> bool {
        let e = &mut self.editor;
        match key {
            Key::Char(c) => e.insert(c.encode_utf8(&mut [0; 4])),
            Key::Paste(s) => e.insert(s),
            Key::Backspace | Key::Ctrl('h') => e.backspace(),
            Key::Delete => e.delete(),
            Key::Left | Key::Ctrl('b') => e.left(),
            Key::Right | Key::Ctrl('f') => e.right(),
            Key::Home | Key::Ctrl('a') => e.home(),
            Key::End | Key::Ctrl('e') => e.end(),
            Key::WordLeft | Key::Alt('b') => e.word_left(),
            Key::WordRight | Key::Alt('f') => e.word_right(),
            Key::Ctrl('w') => e.kill_word_back(),
            Key::Ctrl('u') => e.kill_to_start(),
            Key::Ctrl('k') => e.kill_to_end(),
            Key::Ctrl('y') => e.yank(),
            Key::Up => e.history_prev(),
            Key::Down => e.history_next(),
            _ => return false,
        }
        true
    }

    fn switch_nth(&mut self, n: usize) {
        let rooms: Vec<String> =
            self.view.rooms.iter().map(|(r, _)| r.clone()).filter(|r| r != STATUS_PANE).collect();
        if let Some(r) = rooms.get(n) {
            self.view.switch(r);
        }
    }

    fn complete(&mut self) {
        let word_is_cmd = self.editor.text().starts_with('/') && !self.editor.text().contains(' ');
        let mut cands: Vec<String> = Vec::new();
        if word_is_cmd {
            cands.extend(commands::NAMES.iter().map(|s| s.to_string()));
        } else {
            let me = self.net.session.name.clone();
            cands.extend(self.view.speakers.iter().cloned());
            if let Some(r) = self.view.current.as_deref().and_then(|r| self.view.room(r)) {
                cands.extend(r.names.iter().cloned());
            }
            cands.retain(|n| !n.eq_ignore_ascii_case(&me));
        }
        self.editor.complete(&cands);
    }

    /// After an edit: announce typing (throttled), or stop when emptied.
    fn typed(&mut self, now: Instant) {
        let text = self.editor.text();
        let chat = !self.asking_name
            && !self.asking_password
            && !text.is_empty()
            && !text.starts_with('/');
        let Some(room) = self.view.current.clone().filter(|_| chat && self.net.online()) else {
            return self.stop_typing();
        };
        let due = self.typing.sent_at.is_none_or(|t| now >= t + TYPING_REPEAT);
        if due || self.typing.room.as_deref() != Some(&room) {
            self.net.send(&ClientFrame::Typing { room: room.clone(), active: 1 });
            self.typing.sent_at = Some(now);
            self.typing.room = Some(room);
        }
        self.typing.idle_at = Some(now + TYPING_IDLE);
    }

    /// Sends `active = 0` if we said we were typing.
    pub fn stop_typing(&mut self) {
        if let Some(room) = self.typing.room.take() {
            self.net.send(&ClientFrame::Typing { room, active: 0 });
        }
        self.typing.sent_at = None;
        self.typing.idle_at = None;
    }

    fn submit(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if self.asking_password {
            self.asking_password = false;
            self.net.session.password = self.editor.submit_secret();
            let name = self.net.session.name.clone();
            return self.net.start(&name, reg, now, ev);
        }
        if self.asking_name {
            return self.submit_name(reg, now, ev);
        }
        let secret = self.editor.text().starts_with("/register ");
        let line = if secret { self.editor.submit_secret() } else { self.editor.submit() };
        if line.trim().is_empty() {
            return;
        }
        let input = commands::parse(&line);
        let said = matches!(input, Ok(Input::Say(_)));
        if said {
            // The server ends our typing state when it gets the SAY.
            self.typing = Default::default();
        } else {
            self.stop_typing();
        }
        let who = matches!(input, Ok(Input::Cmd(Command::Who)));
        let text = match &input {
            Ok(Input::Say(t)) => t.clone(),
            _ => String::new(),
        };
        let mut room = self.view.current.clone();
        let result = input.and_then(|i| actions::run(i, &mut self.net, &mut room));
        if let Some(r) = room.filter(|r| Some(r) != self.view.current.as_ref()) {
            self.view.switch(&r);
        }
        match result {
            Ok(o) => self.outcome(o, &text, who),
            Err(e) => {
                self.view.error(&e);
                if said {
                    // Not sent: give the text back rather than lose it.
                    self.editor.set(&line);
                }
            }
        }
    }

    fn outcome(&mut self, o: Outcome, text: &str, who: bool) {
        match o {
            Outcome::Said { seq, room } => {
                let serial =
                    self.view.push(&room, Kind::Own(Mark::Pending), now_hhmm(), text, None);
                self.view.own.insert(seq, (room, serial));
            }
            Outcome::Sent if who => {
                let r = self.view.current_key();
                self.view.who_asked.push(r);
            }
            Outcome::Sent | Outcome::Switched(_) => {}
            Outcome::Resent(seqs) => {
                for s in &seqs {
                    self.view.mark_own(*s, Mark::Pending, None);
                }
                self.view.info(&format!("resending {} message(s)", seqs.len()));
            }
            Outcome::Quit(reason) => self.quit = Some(reason),
            Outcome::Help => commands::HELP.iter().for_each(|h| self.view.info(h)),
        }
    }

    fn submit_name(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let name = self.editor.submit_secret().trim().to_string();
        if !banter_proto::validate::is_valid_name(&name) {
            self.view
                .error("a name is 1-32 of A-Z a-z 0-9 _ . - and starts with a letter or digit");
            return;
        }
        self.asking_name = false;
        self.net.start(&name, reg, now, ev);
    }
}
