//! Unit tests of drawing and painting.

use super::*;
use crate::view::{Entry, Kind, View};

fn frame<'a>(ed: &'a Editor, size: (u16, u16)) -> Frame<'a> {
    Frame {
        me: "ada",
        status: "connected | lobby",
        prompt: "[lobby] ",
        editor: ed,
        size,
        masked: false,
        pane: None,
    }
}

fn view_with(msgs: &[&str]) -> View {
    let mut v = View::default();
    v.switch("lobby");
    for (i, m) in msgs.iter().enumerate() {
        let e = Entry::new(Kind::Msg("bob".into()), 1_764_300_000_000, m, Some(i as u64 + 1));
        v.push_entry("lobby", e);
    }
    v
}

fn texts(s: &Screen) -> Vec<String> {
    s.rows.iter().map(|r| r.text()).collect()
}

#[test]
fn no_row_reaches_the_last_column() {
    let v = view_with(&["hello", "日本語のテキストがとても長い場合でも折り返します", "👩‍💻 emoji"]);
    let ed = Editor::default();
    let s = draw(&v, &frame(&ed, (20, 8)));
    assert_eq!(s.rows.len(), 8);
    for t in texts(&s) {
        assert!(str_width(&t) <= 19, "{t:?}");
    }
    assert!(texts(&s)[5].contains("emoji"), "newest at the bottom of the pane");
    assert_eq!(s.rows[6].segs[0].0, Style::Reverse);
}

#[test]
fn every_painted_row_is_placed_absolutely_and_cleared_to_its_end() {
    let v = view_with(&["one 👍🏽 ❤️", "two"]);
    let ed = Editor::default();
    let s = draw(&v, &frame(&ed, (30, 6)));
    let bytes = paint(None, &s, 29);
    for row in 1..=6 {
        let at = format!("\x1b[{row};1H");
        let i = bytes.find(&at).unwrap_or_else(|| panic!("row {row} positioned"));
        let next = bytes[i + at.len()..].find("\x1b[K").map(|k| i + at.len() + k);
        let goto = bytes[i + at.len()..].find(";1H").map(|k| i + at.len() + k);
        assert!(next.is_some() && (goto.is_none() || next < goto), "row {row} cleared");
    }
    assert!(!bytes.contains("  \x1b[K"), "rows are not padded with spaces");
}

#[test]
fn incoming_message_leaves_the_input_line_alone() {
    let mut v = view_with(&["one"]);
    let mut ed = Editor::default();
    ed.insert("half typed");
    let before = draw(&v, &frame(&ed, (40, 6)));
    v.push_entry("lobby", Entry::new(Kind::Msg("bob".into()), 1, "two", Some(2)));
    let after = draw(&v, &frame(&ed, (40, 6)));
    assert_eq!(before.rows.last(), after.rows.last());
    assert_eq!(before.cursor, after.cursor);
    let bytes = paint(Some(&before), &after, 39);
    assert!(!bytes.contains("half typed"), "the input row is not rewritten");
    assert!(bytes.contains("two"));
    let mut f = frame(&ed, (40, 6));
    f.pane = Some(&before.rows[..4]);
    let reused = draw(&v, &f);
    assert_eq!(reused.rows, before.rows, "a pane passed in is used as it is");
}

#[test]
fn hostile_text_reaches_rows_inert() {
    let v = view_with(&["\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}1m\u{202e}x"]);
    let ed = Editor::default();
    let s = draw(&v, &frame(&ed, (80, 5)));
    for t in texts(&s) {
        assert!(!t.chars().any(|c| c.is_control()), "{t:?}");
    }
    assert!(texts(&s).iter().any(|t| t.contains("\u{241b}[2J")));
}

#[test]
fn cursor_counts_wide_graphemes_and_long_input_scrolls() {
    let v = View::default();
    let mut ed = Editor::default();
    ed.insert("日本x");
    let s = draw(&v, &frame(&ed, (40, 4)));
    assert_eq!(s.cursor, (8 + 5, 3));
    ed.left();
    let s = draw(&v, &frame(&ed, (40, 4)));
    assert_eq!(s.cursor.0, 8 + 4);
    ed.set(&"abcdefghij".repeat(10));
    let s = draw(&v, &frame(&ed, (30, 4)));
    assert!(s.cursor.0 < 30);
    assert!(texts(&s)[3].contains("hij"), "the end of the line is visible");
    for secret in ["/register secret123", "/REGISTER secret123"] {
        ed.set(secret);
        let s = draw(&v, &frame(&ed, (40, 4)));
        assert!(!texts(&s)[3].contains("secret"), "passwords are masked: {secret}");
    }
    ed.set("hunter22");
    let mut f = frame(&ed, (40, 4));
    f.masked = true;
    let s = draw(&v, &f);
    assert!(texts(&s)[3].starts_with("[lobby] ********"), "{:?}", texts(&s)[3]);
}

#[test]
fn multi_line_messages_and_marker() {
    let mut v = view_with(&["first\nsecond line"]);
    v.switch("dev");
    v.push("dev", Kind::Info, "x");
    v.switch("lobby");
    v.push_entry("dev", Entry::new(Kind::Msg("eve".into()), 1, "unread", Some(1)));
    v.switch("dev");
    let ed = Editor::default();
    let s = draw(&v, &frame(&ed, (30, 6)));
    assert!(texts(&s).iter().any(|t| t.contains(" new ")), "{:?}", texts(&s));
    v.switch("lobby");
    let s = draw(&v, &frame(&ed, (30, 6)));
    let t = texts(&s);
    assert!(t.iter().any(|r| r.ends_with("<bob> first")), "{t:?}");
    assert!(t.iter().any(|r| r.trim_start() == "second line"), "{t:?}");
}

#[test]
fn scrolled_up_shows_what_is_new_below() {
    let msgs: Vec<String> = (1..=30).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    let mut v = view_with(&refs);
    v.room_mut("lobby").scroll = crate::view::Scroll { entries: 10, rows: 0 };
    v.push_entry("lobby", Entry::new(Kind::Msg("bob".into()), 1, "late", Some(31)));
    let ed = Editor::default();
    let t = texts(&draw(&v, &frame(&ed, (40, 8))));
    assert!(t[5].contains("1 new below"), "{t:?}");
    assert!(t[4].ends_with("<bob> m20"), "the view stayed put: {t:?}");
    v.jump_to_bottom();
    let t = texts(&draw(&v, &frame(&ed, (40, 8))));
    assert!(t[5].ends_with("late"), "{t:?}");
}

#[test]
fn tiny_screens_draw_without_panicking() {
    let long = "abcdefghijklmnopqrstuvwxyz012345";
    let mut v = view_with(&["日本語 👍🏽 ❤️ some text", "x"]);
    v.push_entry("lobby", Entry::new(Kind::Msg(long.into()), 1, "hello there", Some(9)));
    v.room_mut("lobby").scroll = crate::view::Scroll { entries: 1, rows: 0 };
    let mut ed = Editor::default();
    ed.insert("日本語 input");
    for w in 1..14 {
        for h in 1..6 {
            let s = draw(&v, &frame(&ed, (w, h)));
            assert_eq!(s.rows.len(), usize::from(h));
            let _ = paint(None, &s, usable(w));
        }
    }
}
