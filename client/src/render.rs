//! Draws the view into rows: the message pane of the shown room (laid out
//! by `layout`, newest at the bottom, scrolled by rows, with a "new below"
//! row while scrolled up), the status bar and the input line with its
//! cursor. Then [`paint`] turns rows into terminal bytes, rewriting only
//! rows that changed.
//!
//! Terminals disagree with each other (and with Unicode) on the width of
//! some emoji, so painting never trusts a width: every row is positioned
//! absolutely, never reaches the last column, and ends with "clear to end
//! of line" instead of padding. With autowrap off (see `term`), a
//! disagreement costs at most a few cells at the end of its own row.
//!
//! Pure: no terminal I/O, so it is unit-tested on strings. All text in the
//! view is already sanitised; the input line is sanitised here.

use crate::editor::Editor;
use crate::layout::{block, Layout, Row, Style, NICK_COLOURS};
use crate::sanitize::sanitize_line;
use crate::view::View;
use crate::width::{grapheme_width, str_width, truncate};
use std::fmt::Write;
use termion::{clear, color, cursor, style};
use unicode_segmentation::UnicodeSegmentation;

/// A drawn screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// Every row, top to bottom.
    pub rows: Vec<Row>,
    /// Cursor column and row (0-based).
    pub cursor: (u16, u16),
}

/// Everything but the view that a screen shows.
pub struct Frame<'a> {
    /// Our name, for our own lines.
    pub me: &'a str,
    /// The status bar text.
    pub status: &'a str,
    /// The prompt before the input ("[lobby] ", "name: ").
    pub prompt: &'a str,
    /// The input line.
    pub editor: &'a Editor,
    /// Screen size in cells (columns, rows).
    pub size: (u16, u16),
    /// Show the whole input as `*` (a password is typed).
    pub masked: bool,
    /// The pane's rows from the last draw, when nothing they show changed
    /// (a key that only edited the input): laying out again is skipped.
    pub pane: Option<&'a [Row]>,
}

/// The cells a row may use: all but the last column.
pub fn usable(cols: u16) -> usize {
    usize::from(cols).saturating_sub(1).max(1)
}

/// Draws a screen.
pub fn draw(view: &View, f: &Frame) -> Screen {
    let (w, h) = (usable(f.size.0), usize::from(f.size.1.max(1)));
    let lay = Layout { me: f.me, width: w, hide_joins: view.hide_joins };
    let mut rows = match f.pane.filter(|p| p.len() == h.saturating_sub(2)) {
        Some(p) => p.to_vec(),
        None => pane(view, &lay, h.saturating_sub(2)),
    };
    if h >= 2 {
        let text = format!("{:<w$}", truncate(f.status, w));
        rows.push(Row::one(Style::Reverse, text));
    }
    let (input, col) = input_row(f.prompt, f.editor, w, f.masked);
    rows.push(Row::one(Style::Plain, input));
    Screen { rows, cursor: (col as u16, (h - 1) as u16) }
}

/// The pane's rows for `h` screen rows: `Scroll` says which are at the bottom.
fn pane(view: &View, lay: &Layout, h: usize) -> Vec<Row> {
    let mut rev: Vec<Row> = Vec::new();
    let room = view.room(&view.current_key());
    let scrolled = room.is_some_and(|r| !r.scroll.at_bottom()) && h >= 2;
    let content = if scrolled { h - 1 } else { h };
    if let Some(r) = room {
        let n = r.entries.len();
        let skip = r.scroll.entries.min(n);
        'outer: for i in (0..n - skip).rev() {
            let mut b = block(r, i, lay);
            if i + 1 + skip == n {
                b.truncate(b.len().saturating_sub(r.scroll.rows));
            }
            for row in b.into_iter().rev() {
                if rev.len() == content {
                    break 'outer;
                }
                rev.push(row);
            }
        }
    }
    rev.resize(content, Row::default());
    rev.reverse();
    if let Some(r) = room.filter(|_| scrolled) {
        let text = match r.new_below {
            0 => "more below: PgDn, End jumps to the newest".to_string(),
            n => format!("{n} new below: PgDn, End jumps to the newest"),
        };
        let t = format!("{:-^w$}", format!(" {text} "), w = lay.width);
        rev.push(Row::one(Style::Marker, truncate(&t, lay.width).to_string()));
    }
    rev
}

/// The input row and the cursor column; long input scrolls sideways.
fn input_row(prompt: &str, ed: &Editor, w: usize, masked: bool) -> (String, usize) {
    let text = ed.text();
    let from = if masked { 0 } else { crate::commands::secret_from(text).unwrap_or(usize::MAX) };
    let mut cells: Vec<(String, usize)> = Vec::new();
    let mut cursor_idx = None;
    for (i, g) in text.grapheme_indices(true) {
        if i == ed.cursor() {
            cursor_idx = Some(cells.len());
        }
        let shown = match g {
            _ if i >= from => "*".to_string(),
            "\n" | "\r\n" => "\u{23ce}".to_string(),
            _ => sanitize_line(g),
        };
        let gw = shown.graphemes(true).map(grapheme_width).sum();
        cells.push((shown, gw));
    }
    let cursor_idx = cursor_idx.unwrap_or(cells.len());
    let prompt = truncate(prompt, w / 2).to_string();
    let avail = w.saturating_sub(str_width(&prompt) + 1).max(1);
    let mut start = 0;
    let width_to = |from: usize, to: usize| cells[from..to].iter().map(|c| c.1).sum::<usize>();
    while start < cursor_idx && width_to(start, cursor_idx) >= avail {
        start += 1;
    }
    let mut out = prompt.clone();
    let mut used = 0;
    for (s, cw) in &cells[start..] {
        if used + cw > avail {
            break;
        }
        out.push_str(s);
        used += cw;
    }
    let col = str_width(&prompt) + width_to(start, cursor_idx);
    (out, col.min(w))
}

fn paint_seg(out: &mut String, style: Style, text: &str) {
    let _ = match style {
        Style::Plain => write!(out, "{text}"),
        Style::Dim => write!(out, "{}{text}{}", style::Faint, style::Reset),
        Style::Red => write!(out, "{}{text}{}", color::Fg(color::Red), style::Reset),
        Style::Reverse => write!(out, "{}{text}{}", style::Invert, style::Reset),
        Style::Marker => write!(out, "{}{text}{}", color::Fg(color::Yellow), style::Reset),
        Style::Own => write!(out, "{}{text}{}", style::Bold, style::Reset),
        Style::Mention => {
            let (fg, bg) = (color::Fg(color::Black), color::Bg(color::Yellow));
            write!(out, "{}{fg}{bg}{text}{}", style::Bold, style::Reset)
        }
        Style::Nick(i) => {
            let c = NICK_COLOURS[usize::from(i) % NICK_COLOURS.len()];
            write!(out, "{}{text}{}", color::Fg(color::AnsiValue(c)), style::Reset)
        }
    };
}

/// Terminal bytes turning `prev` into `next` (all rows when `prev` is `None`
/// or of another shape), ending with the cursor in place. Each row is
/// written from its first column, cut to `width` cells, and cleared to
/// its end.
pub fn paint(prev: Option<&Screen>, next: &Screen, width: usize) -> String {
    let mut out = format!("{}", cursor::Hide);
    let same_shape = prev.is_some_and(|p| p.rows.len() == next.rows.len());
    if !same_shape {
        out.push_str(&format!("{}", clear::All));
    }
    for (i, row) in next.rows.iter().enumerate() {
        if same_shape && prev.and_then(|p| p.rows.get(i)) == Some(row) {
            continue;
        }
        let _ = write!(out, "{}", cursor::Goto(1, i as u16 + 1));
        let mut left = width;
        for (style, text) in &row.segs {
            let t = truncate(text, left);
            left -= str_width(t);
            paint_seg(&mut out, *style, t);
        }
        let _ = write!(out, "{}", clear::UntilNewline);
    }
    let (c, r) = next.cursor;
    let _ = write!(out, "{}{}", cursor::Goto(c + 1, r + 1), cursor::Show);
    out
}

#[cfg(test)]
mod tests;
