//! Draws the view into rows of text: the message pane of the shown room
//! (wrapped by display width, newest at the bottom, with the unread marker),
//! the status bar and the input line with its cursor. Then [`paint`] turns
//! the rows into terminal bytes, rewriting only rows that changed.
//!
//! Pure: no terminal I/O, so it is unit-tested on strings. All text in the
//! view is already sanitised; the input line is sanitised here.

use crate::editor::Editor;
use crate::sanitize::sanitize_line;
use crate::view::{Entry, Kind, Mark, View};
use crate::width::{fit, grapheme_width, str_width, wrap};
use termion::{clear, color, cursor, style};
use unicode_segmentation::UnicodeSegmentation;

/// How a row looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Dim,
    Red,
    Reverse,
    Marker,
}

/// One screen row: its style and its text, exactly as wide as the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Colour or emphasis of the whole row.
    pub style: Style,
    /// The row's sanitised text, padded to the screen width.
    pub text: String,
}

/// A drawn screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// Every row, top to bottom.
    pub rows: Vec<Row>,
    /// Cursor column and row (0-based).
    pub cursor: (u16, u16),
    /// Entries visible in the pane (the PgUp/PgDn step).
    pub page: usize,
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
}

/// Draws a screen.
pub fn draw(view: &View, f: &Frame) -> Screen {
    let (w, h) = (usize::from(f.size.0.max(1)), usize::from(f.size.1.max(1)));
    let pane_h = h.saturating_sub(2);
    let (mut rows, page) = pane(view, f.me, w, pane_h);
    if h >= 2 {
        rows.push(Row { style: Style::Reverse, text: fit(f.status, w) });
    }
    let (input, col) = input_row(f.prompt, f.editor, w, f.masked);
    rows.push(Row { style: Style::Plain, text: input });
    Screen { rows, cursor: (col as u16, (h - 1) as u16), page }
}

fn pane(view: &View, me: &str, w: usize, h: usize) -> (Vec<Row>, usize) {
    let mut rev: Vec<Row> = Vec::new();
    let mut shown = 0;
    if let Some(r) = view.room(&view.current_key()) {
        let end = r.entries.len() - r.scroll.min(r.entries.len());
        'outer: for e in r.entries.range(..end).rev() {
            let mut er = entry_rows(e, me, w);
            if r.marker == Some(e.serial) {
                er.insert(
                    0,
                    Row { style: Style::Marker, text: fit(&format!("{:-^w$}", " new "), w) },
                );
            }
            for row in er.into_iter().rev() {
                if rev.len() == h {
                    break 'outer;
                }
                rev.push(row);
            }
            shown += 1;
        }
    }
    while rev.len() < h {
        rev.push(Row { style: Style::Plain, text: " ".repeat(w) });
    }
    rev.reverse();
    (rev, shown)
}

fn entry_rows(e: &Entry, me: &str, w: usize) -> Vec<Row> {
    let (head, style) = match &e.kind {
        Kind::Msg(from) => (format!("{} <{}> ", e.time, sanitize_line(from)), Style::Plain),
        Kind::Own(Mark::Pending) => (format!("{} <{}> ", e.time, sanitize_line(me)), Style::Dim),
        Kind::Own(Mark::Acked) => (format!("{} <{}> ", e.time, sanitize_line(me)), Style::Plain),
        Kind::Own(Mark::Failed(_)) => (format!("{} <{}> ", e.time, sanitize_line(me)), Style::Red),
        Kind::Info => (format!("{} -- ", e.time), Style::Dim),
        Kind::Error => (format!("{} !! ", e.time), Style::Red),
    };
    let mut lines = e.lines.clone();
    match &e.kind {
        Kind::Own(Mark::Pending) => lines.push("(sending...)".into()),
        Kind::Own(Mark::Failed(why)) => lines.push(format!("(not sent: {})", sanitize_line(why))),
        _ => {}
    }
    let indent = str_width(&head).min(w / 2);
    let mut rows = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let prefix = if i == 0 { head.clone() } else { " ".repeat(indent) };
        let avail = w.saturating_sub(str_width(&prefix)).max(1);
        for (j, part) in wrap(line, avail).into_iter().enumerate() {
            let p = if j == 0 { prefix.as_str() } else { "" };
            let text =
                if j == 0 { format!("{p}{part}") } else { format!("{}{part}", " ".repeat(indent)) };
            rows.push(Row { style, text: fit(&text, w) });
        }
    }
    rows
}

/// The input row and the cursor column; long input scrolls sideways.
fn input_row(prompt: &str, ed: &Editor, w: usize, masked: bool) -> (String, usize) {
    let text = ed.text();
    let from = if masked { 0 } else { "/register ".len() };
    let secret = masked || text.starts_with("/register ");
    let mut cells: Vec<(String, usize)> = Vec::new();
    let mut cursor_idx = None;
    for (i, g) in text.grapheme_indices(true) {
        if i == ed.cursor() {
            cursor_idx = Some(cells.len());
        }
        let shown = match g {
            "\n" | "\r\n" => "\u{23ce}".to_string(),
            _ if secret && i >= from => "*".to_string(),
            _ => sanitize_line(g),
        };
        let gw = shown.graphemes(true).map(grapheme_width).sum();
        cells.push((shown, gw));
    }
    let cursor_idx = cursor_idx.unwrap_or(cells.len());
    let prompt = crate::width::truncate(prompt, w / 2).to_string();
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
    (fit(&out, w), col.min(w.saturating_sub(1)))
}

fn styled(row: &Row) -> String {
    match row.style {
        Style::Plain => row.text.clone(),
        Style::Dim => format!("{}{}{}", style::Faint, row.text, style::Reset),
        Style::Red => format!("{}{}{}", color::Fg(color::Red), row.text, style::Reset),
        Style::Reverse => format!("{}{}{}", style::Invert, row.text, style::Reset),
        Style::Marker => format!("{}{}{}", color::Fg(color::Yellow), row.text, style::Reset),
    }
}

/// Terminal bytes turning `prev` into `next` (all rows when `prev` is `None`
/// or of another size), ending with the cursor in place.
pub fn paint(prev: Option<&Screen>, next: &Screen) -> String {
    let mut out = format!("{}", cursor::Hide);
    let same_shape = prev.is_some_and(|p| p.rows.len() == next.rows.len());
    if !same_shape {
        out.push_str(&format!("{}", clear::All));
    }
    for (i, row) in next.rows.iter().enumerate() {
        if same_shape && prev.and_then(|p| p.rows.get(i)) == Some(row) {
            continue;
        }
        let last = i + 1 == next.rows.len();
        let text =
            if last { Row { style: row.style, text: trim_last(&row.text) } } else { row.clone() };
        out.push_str(&format!(
            "{}{}{}",
            cursor::Goto(1, i as u16 + 1),
            styled(&text),
            clear::UntilNewline
        ));
    }
    let (c, r) = next.cursor;
    out.push_str(&format!("{}{}", cursor::Goto(c + 1, r + 1), cursor::Show));
    out
}

/// The last row is written one cell short so the terminal never scrolls.
fn trim_last(s: &str) -> String {
    let w = str_width(s);
    crate::width::truncate(s, w.saturating_sub(1)).to_string()
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
