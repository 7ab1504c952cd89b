//! What each key does in the full-screen UI: editing keys go to the
//! [`Editor`](crate::editor::Editor), Enter submits (see `tui_submit.rs`),
//! PgUp/PgDn scroll by rows, End at the end of the input jumps to the
//! newest line, Alt-1..9/Alt-0 and Ctrl-N/Ctrl-P (Alt-Right/Alt-Left)
//! switch windows, Tab completes, Ctrl-R reconnects now, Ctrl-C quits
//! (asking first when text is typed). Typing notifications (TYPING) are
//! sent from here, throttled.
//!
//! Drawing is not done here; the loop redraws after every batch of keys.

use crate::commands;
use crate::keys::Key;
use crate::layout::Layout;
use crate::render::usable;
use crate::scroll;
use crate::session::Event;
use crate::tui::Tui;
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
        if key != Key::Ctrl('c') {
            self.quit_asked = false;
        }
        if key == Key::End && self.editor.cursor() == self.editor.text().len() {
            self.pane_valid = false;
            return self.view.jump_to_bottom();
        }
        let before = self.editor.text().len();
        // An edit changes the input line only: the pane stays as drawn.
        if self.edit(&key) {
            if self.editor.text().len() != before || matches!(key, Key::Paste(_)) {
                self.typed(now);
            }
            return;
        }
        self.pane_valid = false;
        match key {
            Key::Enter => self.submit(reg, now, ev),
            Key::Ctrl('c') => self.interrupt(),
            Key::Ctrl('d') if self.editor.is_empty() => self.quit = Some(String::new()),
            Key::Ctrl('d') => self.editor.delete(),
            Key::Ctrl('l') => self.prev = None,
            Key::Ctrl('r') => self.net.retry_now(reg, now, ev),
            Key::PageUp => self.page(true),
            Key::PageDown => self.page(false),
            Key::Alt(c @ '1'..='9') => self.switch_nth(c as usize - '1' as usize),
            Key::Alt('0') => self.switch_nth(9),
            Key::Ctrl('n') | Key::AltRight => self.switch_by(1),
            Key::Ctrl('p') | Key::AltLeft => self.switch_by(-1),
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
            Key::Alt('\u{7f}' | '\u{8}') => e.kill_word_left(),
            Key::Alt('d') => e.kill_word_right(),
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

    /// Ctrl-C: quits, but asks first when typed text or messages not yet
    /// acknowledged would be lost.
    fn interrupt(&mut self) {
        let typed = !self.editor.text().trim().is_empty();
        let unsent = self.net.session.unacked();
        if (!typed && unsent == 0) || self.quit_asked {
            self.quit = Some(String::new());
            return;
        }
        self.quit_asked = true;
        let lost = match (typed, unsent) {
            (true, 0) => "the typed text".to_string(),
            (false, n) => format!("{n} message(s) not yet sent"),
            (true, n) => format!("the typed text and {n} message(s) not yet sent"),
        };
        self.view.info(&format!("Ctrl-C again quits and loses {lost} (any other key keeps them)"));
    }

    /// PgUp/PgDn: a page of rows (one row less, so a row stays in view).
    fn page(&mut self, up: bool) {
        let (w, h) = (usable(self.size.0), usize::from(self.size.1));
        let lay = Layout { me: &self.net.session.name, width: w, hide_joins: self.view.hide_joins };
        let key = self.view.current_key();
        let Some(room) = self.view.room(&key) else { return };
        // While scrolled up the bottom pane row says what is below.
        let page = h.saturating_sub(3).max(1);
        let step = page.saturating_sub(1).max(1);
        let s = match up {
            true => scroll::up(room, room.scroll, step, page, &lay),
            false => scroll::down(room, room.scroll, step, &lay),
        };
        let r = self.view.room_mut(&key);
        r.scroll = s;
        if s.at_bottom() {
            r.new_below = 0;
        }
    }

    /// Shows window `n` (0-based).
    pub fn switch_nth(&mut self, n: usize) {
        let room = self.view.windows().get(n).map(|r| r.to_string());
        match room {
            Some(r) => self.view.switch(&r),
            None => self.view.error(&format!("there is no window {}", n + 1)),
        }
    }

    /// Shows the next (`1`) or previous (`-1`) window, wrapping around.
    fn switch_by(&mut self, by: isize) {
        let wins = self.view.windows();
        if wins.is_empty() {
            return;
        }
        let at = self.view.current.as_deref().and_then(|c| wins.iter().position(|w| *w == c));
        let n = wins.len() as isize;
        let next = at.map_or(0, |i| (i as isize + by).rem_euclid(n)) as usize;
        let room = wins[next].to_string();
        self.view.switch(&room);
    }

    fn complete(&mut self) {
        let text = self.editor.text();
        let head = &text[..self.editor.cursor()];
        let words: Vec<&str> = head.split(' ').collect();
        let cands: Vec<String> = match words.as_slice() {
            [cmd] if cmd.starts_with('/') => {
                commands::NAMES.iter().map(|s| s.to_string()).collect()
            }
            [cmd, _]
                if ["/join", "/j", "/go", "/g"].iter().any(|c| c.eq_ignore_ascii_case(cmd)) =>
            {
                let mut rooms: Vec<String> =
                    self.view.windows().iter().map(|r| r.to_string()).collect();
                rooms.extend(self.known_rooms.iter().cloned());
                rooms
            }
            _ => self.name_candidates(),
        };
        self.editor.complete(&cands);
    }

    /// Names for Tab: members of the shown room first (those who spoke
    /// recently before the others), then other recent speakers; never us.
    fn name_candidates(&self) -> Vec<String> {
        let me = self.net.session.name.clone();
        let members: Vec<String> = self
            .view
            .current
            .as_deref()
            .and_then(|r| self.view.room(r))
            .map_or(Vec::new(), |r| r.names.clone());
        let is_member = |n: &String| members.iter().any(|m| m.eq_ignore_ascii_case(n));
        let mut cands: Vec<String> =
            self.view.speakers.iter().filter(|n| is_member(n)).cloned().collect();
        cands.extend(members.iter().cloned());
        cands.extend(self.view.speakers.iter().filter(|n| !is_member(n)).cloned());
        cands.retain(|n| !n.eq_ignore_ascii_case(&me));
        cands
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
}
