//! The input line editor: a text buffer with a cursor on grapheme
//! boundaries, Emacs-style motions and kills, a one-slot kill buffer, input
//! history and Tab completion of names.
//!
//! It is pure state: no terminal I/O and no knowledge of keys (the caller
//! maps keys to these methods) or of what a submitted line means.

use unicode_segmentation::UnicodeSegmentation;

/// Lines kept in the input history.
const HISTORY_MAX: usize = 500;

/// An ongoing Tab completion, cycled by repeated Tabs.
#[derive(Debug, Clone)]
struct Completion {
    /// Byte offset where the completed word starts.
    start: usize,
    /// Byte offset where the inserted completion ends (the cursor).
    end: usize,
    /// The candidates matching the typed prefix, in preference order.
    matches: Vec<String>,
    /// Which candidate is inserted now.
    idx: usize,
    /// What follows the name (": " at the start of a line, else " ").
    suffix: &'static str,
}

/// The editor state.
#[derive(Debug, Default)]
pub struct Editor {
    /// The text being edited (may hold `\n` from a paste).
    buf: String,
    /// Cursor as a byte offset into `buf`, always on a grapheme boundary.
    cursor: usize,
    /// The last killed text, for Ctrl-Y.
    killed: String,
    /// Submitted lines, oldest first.
    history: Vec<String>,
    /// Index into `history` while browsing it with Up/Down.
    hist_pos: Option<usize>,
    /// The unsent line saved when history browsing began.
    draft: String,
    /// The completion in progress, reset by any other edit.
    completion: Option<Completion>,
}

fn is_word(g: &str) -> bool {
    g.chars().next().is_some_and(char::is_alphanumeric)
}

impl Editor {
    /// The text.
    pub fn text(&self) -> &str {
        &self.buf
    }

    /// The cursor's byte offset.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn touch(&mut self) {
        self.completion = None;
    }

    /// Inserts `s` at the cursor.
    pub fn insert(&mut self, s: &str) {
        self.touch();
        self.buf.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    fn prev_boundary(&self, at: usize) -> usize {
        self.buf[..at].grapheme_indices(true).next_back().map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, at: usize) -> usize {
        self.buf[at..].graphemes(true).next().map_or(at, |g| at + g.len())
    }

    /// One grapheme left.
    pub fn left(&mut self) {
        self.touch();
        self.cursor = self.prev_boundary(self.cursor);
    }

    /// One grapheme right.
    pub fn right(&mut self) {
        self.touch();
        self.cursor = self.next_boundary(self.cursor);
    }

    /// To the start (Home, Ctrl-A).
    pub fn home(&mut self) {
        self.touch();
        self.cursor = 0;
    }

    /// To the end (End, Ctrl-E).
    pub fn end(&mut self) {
        self.touch();
        self.cursor = self.buf.len();
    }

    /// To the start of this or the previous word (Alt-B).
    pub fn word_left(&mut self) {
        self.touch();
        let gs: Vec<(usize, &str)> = self.buf[..self.cursor].grapheme_indices(true).collect();
        let mut i = gs.len();
        while i > 0 && !is_word(gs[i - 1].1) {
            i -= 1;
        }
        while i > 0 && is_word(gs[i - 1].1) {
            i -= 1;
        }
        self.cursor = gs.get(i).map_or(0, |g| g.0);
    }

    /// To the end of this or the next word (Alt-F).
    pub fn word_right(&mut self) {
        self.touch();
        let base = self.cursor;
        let gs: Vec<(usize, &str)> = self.buf[base..].grapheme_indices(true).collect();
        let mut i = 0;
        while i < gs.len() && !is_word(gs[i].1) {
            i += 1;
        }
        while i < gs.len() && is_word(gs[i].1) {
            i += 1;
        }
        self.cursor = gs.get(i).map_or(self.buf.len(), |g| base + g.0);
    }

    /// Deletes the grapheme before the cursor.
    pub fn backspace(&mut self) {
        self.touch();
        let p = self.prev_boundary(self.cursor);
        self.buf.replace_range(p..self.cursor, "");
        self.cursor = p;
    }

    /// Deletes the grapheme under the cursor.
    pub fn delete(&mut self) {
        self.touch();
        let n = self.next_boundary(self.cursor);
        self.buf.replace_range(self.cursor..n, "");
    }

    fn kill(&mut self, from: usize, to: usize) {
        self.touch();
        if from < to {
            self.killed = self.buf[from..to].to_string();
            self.buf.replace_range(from..to, "");
            self.cursor = from;
        }
    }

    /// Kills the whitespace-delimited word before the cursor (Ctrl-W).
    pub fn kill_word_back(&mut self) {
        let head = &self.buf[..self.cursor];
        let trimmed = head.trim_end_matches(char::is_whitespace);
        let start = trimmed
            .rfind(char::is_whitespace)
            .map_or(0, |i| i + trimmed[i..].chars().next().map_or(1, char::len_utf8));
        self.kill(start, self.cursor);
    }

    /// Kills back to the start of this or the previous word, where words
    /// are letters and digits (Alt-Backspace, as in readline).
    pub fn kill_word_left(&mut self) {
        let end = self.cursor;
        self.word_left();
        let start = self.cursor;
        self.cursor = end;
        self.kill(start, end);
    }

    /// Kills forward to the end of this or the next word (Alt-D).
    pub fn kill_word_right(&mut self) {
        let start = self.cursor;
        self.word_right();
        let end = self.cursor;
        self.cursor = start;
        self.kill(start, end);
    }

    /// Kills from the start of the line to the cursor (Ctrl-U).
    pub fn kill_to_start(&mut self) {
        self.kill(0, self.cursor);
    }

    /// Kills from the cursor to the end (Ctrl-K).
    pub fn kill_to_end(&mut self) {
        self.kill(self.cursor, self.buf.len());
    }

    /// Inserts the last killed text (Ctrl-Y).
    pub fn yank(&mut self) {
        let k = self.killed.clone();
        self.insert(&k);
    }

    /// Replaces the whole text, cursor at the end.
    pub fn set(&mut self, s: &str) {
        self.touch();
        self.buf = s.to_string();
        self.cursor = self.buf.len();
    }

    /// Takes the line for sending: clears the buffer and records history.
    pub fn submit(&mut self) -> String {
        self.touch();
        let line = std::mem::take(&mut self.buf);
        self.cursor = 0;
        self.hist_pos = None;
        self.draft.clear();
        if !line.trim().is_empty() && self.history.last() != Some(&line) {
            self.history.push(line.clone());
            if self.history.len() > HISTORY_MAX {
                self.history.remove(0);
            }
        }
        line
    }

    /// Takes the line without recording it in the history (passwords).
    pub fn submit_secret(&mut self) -> String {
        let n = self.history.len();
        let line = self.submit();
        self.history.truncate(n);
        line
    }

    /// The previous history entry (Up).
    pub fn history_prev(&mut self) {
        let pos = match self.hist_pos {
            None if self.history.is_empty() => return,
            None => {
                self.draft = self.buf.clone();
                self.history.len() - 1
            }
            Some(p) => p.saturating_sub(1),
        };
        self.hist_pos = Some(pos);
        let line = self.history[pos].clone();
        self.set(&line);
    }

    /// The next history entry, then the saved draft (Down).
    pub fn history_next(&mut self) {
        let Some(p) = self.hist_pos else { return };
        if p + 1 < self.history.len() {
            self.hist_pos = Some(p + 1);
            let line = self.history[p + 1].clone();
            self.set(&line);
        } else {
            self.hist_pos = None;
            let d = std::mem::take(&mut self.draft);
            self.set(&d);
        }
    }

    /// Tab: completes the word before the cursor from `candidates` (in
    /// preference order, matched case-insensitively); repeated Tabs cycle.
    pub fn complete(&mut self, candidates: &[String]) {
        if let Some(mut c) = self.completion.take() {
            if c.end == self.cursor && c.matches.len() > 1 {
                c.idx = (c.idx + 1) % c.matches.len();
                self.apply_completion(c);
            } else {
                self.completion = Some(c);
            }
            return;
        }
        let head = &self.buf[..self.cursor];
        let start = head.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let prefix = head[start..].to_ascii_lowercase();
        if prefix.is_empty() {
            return;
        }
        let mut matches: Vec<String> = Vec::new();
        for c in candidates {
            let fits = c.to_ascii_lowercase().starts_with(&prefix);
            if fits && !matches.iter().any(|m| m.eq_ignore_ascii_case(c)) {
                matches.push(c.clone());
            }
        }
        if matches.is_empty() {
            return;
        }
        let suffix = if start == 0 && !prefix.starts_with('/') { ": " } else { " " };
        let c = Completion { start, end: self.cursor, matches, idx: 0, suffix };
        self.apply_completion(c);
    }

    fn apply_completion(&mut self, mut c: Completion) {
        let word = format!("{}{}", c.matches[c.idx], c.suffix);
        self.buf.replace_range(c.start..c.end, &word);
        c.end = c.start + word.len();
        self.cursor = c.end;
        self.completion = Some(c);
    }
}

#[cfg(test)]
mod tests;
