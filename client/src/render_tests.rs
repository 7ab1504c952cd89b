//! Unit tests of drawing.

use super::*;
use crate::view::View;

fn frame<'a>(ed: &'a Editor, size: (u16, u16)) -> Frame<'a> {
    Frame {
        me: "ada",
        status: "connected | lobby",
        prompt: "[lobby] ",
        editor: ed,
        size,
        masked: false,
    }
}

fn view_with(msgs: &[&str]) -> View {
    let mut v = View::default();
    v.switch("lobby");
    for (i, m) in msgs.iter().enumerate() {
        v.push("lobby", Kind::Msg("bob".into()), "12:00".into(), m, Some(i as u64 + 1));
    }
    v
}

#[test]
fn every_row_is_exactly_the_screen_width() {
    let v = view_with(&["hello", "日本語のテキストがとても長い場合でも折り返します", "👩‍💻 emoji"]);
    let ed = Editor::default();
    let s = draw(&v, &frame(&ed, (20, 8)));
    assert_eq!(s.rows.len(), 8);
    for r in &s.rows {
        assert_eq!(str_width(&r.text), 20, "{:?}", r.text);
    }
    assert!(s.rows[5].text.contains("emoji"), "newest at the bottom of the pane");
    assert_eq!(s.rows[6].style, Style::Reverse);
}

#[test]
fn incoming_message_leaves_the_input_line_alone() {
    let mut v = view_with(&["one"]);
    let mut ed = Editor::default();
    ed.insert("half typed");
    let before = draw(&v, &frame(&ed, (40, 6)));
    v.push("lobby", Kind::Msg("bob".into()), "12:01".into(), "two", Some(2));
    let after = draw(&v, &frame(&ed, (40, 6)));
    assert_eq!(before.rows.last(), after.rows.last());
    assert_eq!(before.cursor, after.cursor);
    let bytes = paint(Some(&before), &after);
    assert!(!bytes.contains("half typed"), "the input row is not rewritten");
    assert!(bytes.contains("two"));
}

#[test]
fn hostile_text_reaches_rows_inert() {
    let v = view_with(&["\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}1m\u{202e}x"]);
    let ed = Editor::default();
    let s = draw(&v, &frame(&ed, (80, 5)));
    for r in &s.rows {
        assert!(!r.text.chars().any(|c| c.is_control()), "{:?}", r.text);
    }
    assert!(s.rows.iter().any(|r| r.text.contains("\u{241b}[2J")));
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
    assert!(s.rows[3].text.contains("hij"), "the end of the line is visible");
    ed.set("/register secret123");
    let s = draw(&v, &frame(&ed, (40, 4)));
    assert!(!s.rows[3].text.contains("secret"), "passwords are masked");
    ed.set("hunter22");
    let mut f = frame(&ed, (40, 4));
    f.masked = true;
    let s = draw(&v, &f);
    assert!(s.rows[3].text.starts_with("[lobby] ********"), "{:?}", s.rows[3].text);
}

#[test]
fn multi_line_messages_and_marker() {
    let mut v = view_with(&["first\nsecond line"]);
    v.switch("dev");
    v.push("dev", Kind::Info, "12:00".into(), "x", None);
    v.switch("lobby");
    v.push("dev", Kind::Msg("eve".into()), "12:02".into(), "unread", Some(1));
    v.switch("dev");
    let ed = Editor::default();
    let s = draw(&v, &frame(&ed, (30, 6)));
    let texts: Vec<&str> = s.rows.iter().map(|r| r.text.trim_end()).collect();
    assert!(texts.iter().any(|t| t.contains(" new ")), "{texts:?}");
    v.switch("lobby");
    let s = draw(&v, &frame(&ed, (30, 6)));
    let texts: Vec<&str> = s.rows.iter().map(|r| r.text.trim_end()).collect();
    assert!(texts.contains(&"12:00 <bob> first"), "{texts:?}");
    assert!(texts.iter().any(|t| t.trim_start() == "second line"), "{texts:?}");
}
