//! Lays scrollback entries out as screen rows: "HH:MM <nick> text" with a
//! capped, coloured nick column, continuation rows indented under the text
//! (or at the full width when an indent leaves no room), our own lines set
//! apart, mentions highlighted, `/me` actions as "* nick text", shared
//! files as "HH:MM <nick> [file N] name (size, type)", the
//! receipt mark after our messages in a direct conversation (✓ stored,
//! ✓✓ delivered, ✓✓ read), and the day-change and unread-marker rows that
//! go above an entry.
//!
//! Pure: rows of already-sanitised text; drawing them is `render`'s.

use crate::clock::day_words;
use crate::sanitize::sanitize_line;
use crate::view::{Entry, Kind, Mark, RoomView};
use crate::width::{str_width, truncate, wrap2};

/// Widest nick column, in cells (longer names are cut and end in "+").
pub const NICK_MAX: usize = 16;
/// Narrowest room for text beside an indent; below it, rows wrap at the
/// full width.
const MIN_TEXT: usize = 16;

/// How a piece of a row looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Dim,
    Red,
    Reverse,
    Marker,
    /// A nick, in one of the [`NICK_COLOURS`] (by index).
    Nick(u8),
    /// Our own nick.
    Own,
    /// The nick of a message that names us.
    Mention,
}

/// Colours nicks are drawn in (ANSI colour numbers; red is for errors).
pub const NICK_COLOURS: [u8; 10] = [2, 3, 4, 5, 6, 10, 11, 12, 13, 14];

/// One screen row: styled pieces of sanitised text, at most as wide as
/// the usable width.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    /// The pieces, left to right.
    pub segs: Vec<(Style, String)>,
}

impl Row {
    /// A row of one piece.
    pub fn one(style: Style, text: impl Into<String>) -> Row {
        Row { segs: vec![(style, text.into())] }
    }

    /// The row's text without styles.
    #[cfg(test)]
    pub fn text(&self) -> String {
        self.segs.iter().map(|(_, t)| t.as_str()).collect()
    }
}

/// What laying out depends on besides the entry.
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    /// Our name, shown on our own lines.
    pub me: &'a str,
    /// Usable width in cells (the last column is never written).
    pub width: usize,
    /// Presence lines are hidden (`/set joins off`).
    pub hide_joins: bool,
}

/// The colour of a nick: the same name (any case) always gets the same one.
pub fn nick_colour(name: &str) -> u8 {
    let h =
        name.bytes().fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b.to_ascii_lowercase()));
    (h % NICK_COLOURS.len() as u32) as u8
}

/// A nick cut to the nick column of a `width`-cell pane.
fn capped(name: &str, width: usize) -> String {
    let cap = NICK_MAX.min(width / 4).max(3);
    let name = sanitize_line(name);
    if str_width(&name) <= cap {
        return name;
    }
    format!("{}+", truncate(&name, cap - 1))
}

/// A centred "---- text ----" row.
fn banner(style: Style, text: &str, width: usize) -> Row {
    let t = format!("{:-^width$}", format!(" {text} "));
    Row::one(style, truncate(&t, width).to_string())
}

/// The rows entry `i` of `room` takes: a day-change row when its day
/// differs from the entry before, the unread marker, then the entry.
pub fn block(room: &RoomView, i: usize, lay: &Layout) -> Vec<Row> {
    let Some(e) = room.entries.get(i) else { return Vec::new() };
    let mut rows = Vec::new();
    let prev_day = i.checked_sub(1).and_then(|p| room.entries.get(p)).map(|p| p.day);
    if prev_day.is_some_and(|d| d != e.day) {
        rows.push(banner(Style::Dim, &day_words(e.ts), lay.width));
    }
    if lay.hide_joins && e.kind == Kind::Presence {
        return rows;
    }
    if room.marker == Some(e.serial) {
        rows.push(banner(Style::Marker, "new", lay.width));
    }
    let mut own = entry_rows(e, lay);
    if let Some(mark) = receipt(room, e) {
        add_tail(&mut own, mark, lay.width);
    }
    rows.extend(own);
    rows
}

/// The receipt of our message `e` in a direct conversation, as the
/// other party's DELIVERED and READ left it.
pub fn receipt(room: &RoomView, e: &Entry) -> Option<&'static str> {
    if !room.direct || e.kind != Kind::Own(Mark::Acked) {
        return None;
    }
    let id = e.id?;
    Some(match id {
        _ if id <= room.peer_read => "\u{2713}\u{2713} read",
        _ if id <= room.delivered => "\u{2713}\u{2713}",
        _ => "\u{2713}",
    })
}

/// Puts `tail` (dim) at the end of the last row, or on a row of its own
/// when it does not fit there.
fn add_tail(rows: &mut Vec<Row>, tail: &str, width: usize) {
    let Some(last) = rows.last_mut() else { return };
    let used: usize = last.segs.iter().map(|(_, t)| str_width(t)).sum();
    if used + 1 + str_width(tail) <= width {
        last.segs.push((Style::Dim, format!(" {tail}")));
    } else {
        rows.push(Row::one(Style::Dim, truncate(tail, width).to_string()));
    }
}

/// The head ("HH:MM <nick> ") as styled pieces, and the row style.
fn head(e: &Entry, lay: &Layout) -> (Vec<(Style, String)>, Style) {
    let time = (Style::Plain, format!("{} ", e.time));
    let nick = |name: &str, style: Style| {
        let n = capped(name, lay.width);
        match e.action {
            true => vec![(Style::Plain, "* ".to_string()), (style, n), (Style::Plain, " ".into())],
            false => vec![(style, format!("<{n}>")), (Style::Plain, " ".into())],
        }
    };
    let (mut segs, row) = match &e.kind {
        Kind::Msg(from) if e.mention => (nick(from, Style::Mention), Style::Plain),
        Kind::Msg(from) => (nick(from, Style::Nick(nick_colour(from))), Style::Plain),
        Kind::Own(Mark::Acked) => (nick(lay.me, Style::Own), Style::Plain),
        Kind::Own(Mark::Failed(_)) => (nick(lay.me, Style::Own), Style::Red),
        Kind::Own(_) => (nick(lay.me, Style::Own), Style::Dim),
        Kind::Info | Kind::Presence => (vec![(Style::Dim, "-- ".into())], Style::Dim),
        Kind::Error => (vec![(Style::Red, "!! ".into())], Style::Red),
    };
    segs.insert(0, time);
    if let Some(n) = e.file {
        // In colour, which no text can be: a message cannot pose as a file.
        segs.push((Style::Marker, format!("[file {n}]")));
        segs.push((Style::Plain, " ".into()));
    }
    if row != Style::Plain {
        segs.iter_mut().for_each(|s| s.0 = row);
    }
    (segs, row)
}

/// The rows of one entry, wrapped to the layout's width.
pub fn entry_rows(e: &Entry, lay: &Layout) -> Vec<Row> {
    let w = lay.width.max(1);
    let (head, style) = head(e, lay);
    let head_w: usize = head.iter().map(|(_, t)| str_width(t)).sum();
    let indent = if head_w <= w / 2 && w - head_w >= MIN_TEXT { head_w } else { 0 };
    let mut lines = e.lines.clone();
    match &e.kind {
        Kind::Own(Mark::Pending) => lines.push("(sending...)".into()),
        Kind::Own(Mark::Held) => lines.push("(rate limited by the server; sent shortly)".into()),
        Kind::Own(Mark::Failed(why)) => lines.push(format!("(not sent: {})", sanitize_line(why))),
        _ => {}
    }
    let mut rows = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let first = if i == 0 { w.saturating_sub(head_w) } else { w - indent };
        for (j, part) in wrap2(line, first, w - indent).into_iter().enumerate() {
            let mut row = Row::default();
            if i == 0 && j == 0 {
                row.segs = head.clone();
            } else if indent > 0 {
                row.segs.push((style, " ".repeat(indent)));
            }
            row.segs.push((style, part));
            rows.push(row);
        }
    }
    rows
}

#[cfg(test)]
mod tests;
