//! Scrolling a pane by screen rows: PgUp/PgDn move by a page of rows, so
//! every row of a message taller than the screen can be seen, and the top
//! of the scrollback shows a full page. The position is kept from the
//! bottom ([`Scroll`]), so new lines arriving below do not move the view.
//!
//! Each move walks only the entries it passes (plus one page), never the
//! whole scrollback.

use crate::layout::{block, Layout};
use crate::view::{RoomView, Scroll};

/// Rows of entry `i` as laid out.
fn len(room: &RoomView, i: usize, lay: &Layout) -> usize {
    block(room, i, lay).len()
}

/// `s` moved `n` rows up (towards older lines), kept so that a full page
/// of `page` rows stays above the bottom of the view when there is one.
pub fn up(room: &RoomView, s: Scroll, n: usize, page: usize, lay: &Layout) -> Scroll {
    let total = room.entries.len();
    if total == 0 {
        return Scroll::default();
    }
    let mut s = Scroll { entries: s.entries.min(total - 1), rows: s.rows + n };
    while s.entries + 1 < total && s.rows >= len(room, total - 1 - s.entries, lay) {
        s.rows -= len(room, total - 1 - s.entries, lay);
        s.entries += 1;
    }
    clamp_top(room, s, page, lay)
}

/// `s` moved `n` rows down (towards the newest line); the bottom is the default.
pub fn down(room: &RoomView, s: Scroll, n: usize, lay: &Layout) -> Scroll {
    let total = room.entries.len();
    let (mut s, mut n) = (s, n);
    loop {
        if s.rows >= n {
            s.rows -= n;
            return s;
        }
        n -= s.rows;
        if s.entries == 0 || total == 0 {
            return Scroll::default();
        }
        s.entries -= 1;
        s.rows = len(room, total - 1 - s.entries, lay);
    }
}

/// Rows visible above and at the bottom of the view for `s`, counted up to `page`.
fn rows_above(room: &RoomView, s: Scroll, page: usize, lay: &Layout) -> usize {
    let total = room.entries.len();
    let mut count = 0;
    for k in s.entries..total {
        let l = len(room, total - 1 - k, lay);
        count += if k == s.entries { l.saturating_sub(s.rows) } else { l };
        if count >= page {
            return count;
        }
    }
    count
}

/// When less than a page is left above `s`, the position whose page
/// starts at the first row of the scrollback (or the bottom if all fits).
fn clamp_top(room: &RoomView, s: Scroll, page: usize, lay: &Layout) -> Scroll {
    if rows_above(room, s, page, lay) >= page {
        return s;
    }
    let total = room.entries.len();
    let mut from_top = 0;
    for i in 0..total {
        let l = len(room, i, lay);
        if from_top + l >= page {
            let bottom_row = page - from_top - 1;
            return Scroll { entries: total - 1 - i, rows: l - 1 - bottom_row };
        }
        from_top += l;
    }
    Scroll::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{Kind, View};

    fn room(lines: &[usize]) -> View {
        let mut v = View::default();
        v.switch("r");
        for (i, n) in lines.iter().enumerate() {
            let text: Vec<String> = (0..*n).map(|j| format!("m{i} row{j}")).collect();
            let e = crate::view::Entry::new(Kind::Msg("bob".into()), 1, &text.join("\n"), None);
            v.push_entry("r", e);
        }
        v
    }

    const LAY: Layout = Layout { me: "ada", width: 60, hide_joins: false };

    #[test]
    fn paging_walks_rows_through_a_tall_entry_and_stops_at_a_full_top_page() {
        let v = room(&[1, 30, 2]);
        let r = v.room("r").unwrap();
        let s = up(r, Scroll::default(), 9, 10, &LAY);
        assert_eq!(s, Scroll { entries: 1, rows: 7 }, "2 rows of the last, 7 of the tall one");
        let s = up(r, s, 9, 10, &LAY);
        assert_eq!(s, Scroll { entries: 1, rows: 16 });
        let s = up(r, s, 100, 10, &LAY);
        assert_eq!(rows_above(r, s, 100, &LAY), 10, "the top page is full: {s:?}");
        let back = down(r, s, 1000, &LAY);
        assert!(back.at_bottom());
        assert_eq!(
            down(r, Scroll { entries: 1, rows: 16 }, 9, &LAY),
            Scroll { entries: 1, rows: 7 }
        );
        assert_eq!(
            down(r, Scroll { entries: 1, rows: 7 }, 9, &LAY),
            Scroll { entries: 0, rows: 0 }
        );
    }

    #[test]
    fn everything_fitting_on_one_page_does_not_scroll() {
        let v = room(&[1, 2]);
        assert!(up(v.room("r").unwrap(), Scroll::default(), 9, 10, &LAY).at_bottom());
    }
}
