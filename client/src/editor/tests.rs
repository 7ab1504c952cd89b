//! Unit tests of the line editor.

use super::*;

fn ed(text: &str) -> Editor {
    let mut e = Editor::default();
    e.insert(text);
    e
}

#[test]
fn insert_and_move_by_grapheme() {
    let mut e = ed("ae\u{301}日👩‍💻");
    e.left();
    assert_eq!(&e.text()[e.cursor()..], "👩‍💻");
    e.left();
    e.left();
    assert_eq!(&e.text()[e.cursor()..], "e\u{301}日👩‍💻");
    e.backspace();
    assert_eq!(e.text(), "e\u{301}日👩‍💻");
    e.delete();
    assert_eq!(e.text(), "日👩‍💻");
    e.end();
    e.backspace();
    assert_eq!(e.text(), "日");
    e.home();
    e.insert("x");
    assert_eq!((e.text(), e.cursor()), ("x日", 1));
}

#[test]
fn word_motions() {
    let mut e = ed("hello big  world");
    e.word_left();
    assert_eq!(&e.text()[e.cursor()..], "world");
    e.word_left();
    assert_eq!(&e.text()[e.cursor()..], "big  world");
    e.word_right();
    assert_eq!(&e.text()[e.cursor()..], "  world");
    e.word_right();
    assert_eq!(e.cursor(), e.text().len());
    e.home();
    e.word_left();
    assert_eq!(e.cursor(), 0);
}

#[test]
fn kills_and_yank() {
    let mut e = ed("one two three");
    e.kill_word_back();
    assert_eq!(e.text(), "one two ");
    e.yank();
    assert_eq!(e.text(), "one two three");
    e.home();
    e.word_right();
    e.kill_to_end();
    assert_eq!(e.text(), "one");
    e.kill_to_start();
    assert_eq!(e.text(), "");
    e.yank();
    assert_eq!(e.text(), "one");
    let mut w = ed("a b   ");
    w.kill_word_back();
    assert_eq!(w.text(), "a ");
}

#[test]
fn alt_word_kills_stop_at_punctuation() {
    let mut e = ed("see http://x.org/path now");
    e.word_left();
    e.kill_word_left();
    assert_eq!(e.text(), "see http://x.org/now");
    e.kill_word_right();
    assert_eq!(e.text(), "see http://x.org/");
    e.yank();
    assert_eq!(e.text(), "see http://x.org/now");
    e.home();
    e.kill_word_right();
    assert_eq!(e.text(), " http://x.org/now");
}

#[test]
fn history_browsing_keeps_the_draft() {
    let mut e = ed("first");
    assert_eq!(e.submit(), "first");
    e.insert("second");
    e.submit();
    e.insert("draft");
    e.history_prev();
    assert_eq!(e.text(), "second");
    e.history_prev();
    e.history_prev();
    assert_eq!(e.text(), "first");
    e.history_next();
    assert_eq!(e.text(), "second");
    e.history_next();
    assert_eq!(e.text(), "draft");
    e.history_next();
    assert_eq!(e.text(), "draft");
    e.set("secret");
    e.submit_secret();
    e.history_prev();
    assert_eq!(e.text(), "second", "secrets are not kept");
}

#[test]
fn tab_completes_and_cycles_in_order() {
    let names: Vec<String> = ["Bob", "bea", "alice", "BOB"].iter().map(|s| s.to_string()).collect();
    let mut e = ed("b");
    e.complete(&names);
    assert_eq!(e.text(), "Bob: ");
    e.complete(&names);
    assert_eq!(e.text(), "bea: ");
    e.complete(&names);
    assert_eq!(e.text(), "Bob: ", "cycles; BOB is a duplicate of Bob");
    let mut mid = ed("hi al");
    mid.complete(&names);
    assert_eq!(mid.text(), "hi alice ");
    mid.insert("x");
    mid.complete(&names);
    assert_eq!(mid.text(), "hi alice x", "no match: unchanged");
    let mut none = ed("");
    none.complete(&names);
    assert_eq!(none.text(), "");
}
