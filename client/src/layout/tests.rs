//! Unit tests of laying entries out as rows.

use super::*;
use crate::view::{Entry, View};

const DAY: u64 = 86_400_000;
const T0: u64 = 1_764_300_000_000;

fn lay(width: usize) -> Layout<'static> {
    Layout { me: "ada", width, hide_joins: false }
}

fn texts(rows: &[Row]) -> Vec<String> {
    rows.iter().map(Row::text).collect()
}

fn msg(from: &str, text: &str) -> Entry {
    Entry::new(Kind::Msg(from.into()), T0, text, Some(1))
}

#[test]
fn a_long_nick_is_capped_and_text_keeps_a_useful_width() {
    let long = "abcdefghijklmnopqrstuvwxyz012345";
    let words: Vec<String> = (1..=24).map(|i| format!("w{i:02}")).collect();
    let rows = entry_rows(&msg(long, &words.join(" ")), &lay(39));
    let t = texts(&rows);
    assert!(t[0].contains("<abcdefgh+>"), "{t:?}");
    for r in &t {
        assert!(str_width(r) <= 39, "{r:?}");
    }
    let all = t.join(" ");
    assert!(words.iter().all(|w| all.contains(w.as_str())), "{t:?}");
    assert!(t.len() <= 5, "{t:?}");
}

#[test]
fn no_room_for_an_indent_wraps_at_the_full_width() {
    let rows = entry_rows(&msg("bob", &"x".repeat(40)), &lay(20));
    let t = texts(&rows);
    assert!(t[1..].iter().all(|r| !r.starts_with(' ')), "{t:?}");
    assert!(t[1].len() >= 18, "{t:?}");
    let rows = entry_rows(&msg("bob", &"y ".repeat(40)), &lay(60));
    assert!(texts(&rows)[1].starts_with(&" ".repeat(12)), "indented under the text");
}

#[test]
fn nicks_are_coloured_own_lines_and_mentions_set_apart() {
    let e = msg("bob", "hi");
    let rows = entry_rows(&e, &lay(60));
    assert_eq!(rows[0].segs[1], (Style::Nick(nick_colour("bob")), "<bob>".to_string()));
    assert_eq!(nick_colour("BOB"), nick_colour("bob"));
    let mut m = msg("bob", "ada: look");
    m.mention = true;
    assert_eq!(entry_rows(&m, &lay(60))[0].segs[1].0, Style::Mention);
    let own = Entry::new(Kind::Own(Mark::Acked), T0, "mine", Some(2));
    assert_eq!(entry_rows(&own, &lay(60))[0].segs[1], (Style::Own, "<ada>".to_string()));
    let pending = Entry::new(Kind::Own(Mark::Pending), T0, "mine", None);
    let rows = entry_rows(&pending, &lay(60));
    assert!(rows.iter().all(|r| r.segs.iter().all(|s| s.0 == Style::Dim)));
    assert!(texts(&rows).iter().any(|t| t.contains("sending")));
}

#[test]
fn actions_read_as_sentences() {
    let mut e = msg("bob", "waves");
    e.action = true;
    let t = texts(&entry_rows(&e, &lay(60)));
    assert!(t[0].ends_with("* bob waves"), "{t:?}");
}

#[test]
fn a_day_line_goes_between_days_and_joins_can_hide() {
    let mut v = View::default();
    v.switch("r");
    v.push_entry("r", Entry::new(Kind::Msg("bob".into()), T0, "today", Some(1)));
    v.push_entry("r", Entry::new(Kind::Presence, T0 + DAY, "eve joined", None));
    v.push_entry("r", Entry::new(Kind::Msg("bob".into()), T0 + DAY, "tomorrow", Some(2)));
    let r = v.room("r").unwrap();
    assert_eq!(block(r, 0, &lay(60)).len(), 1, "no day line above the first entry");
    let b = texts(&block(r, 1, &lay(60)));
    assert_eq!(b.len(), 2);
    assert!(b[0].contains(&crate::clock::day_words(T0 + DAY)), "{b:?}");
    let hidden = Layout { hide_joins: true, ..lay(60) };
    assert_eq!(block(r, 1, &hidden).len(), 1, "only the day line stays");
    assert_eq!(block(r, 2, &lay(60)).len(), 1);
}

#[test]
fn our_direct_messages_carry_their_receipt() {
    let mut v = crate::view::View::default();
    v.switch("@bob");
    for id in 1..=3 {
        let e = Entry::new(Kind::Own(Mark::Acked), 1, &format!("m{id}"), Some(id));
        v.push_entry("@bob", e);
    }
    v.push_entry("@bob", Entry::new(Kind::Own(Mark::Pending), 1, "m4", None));
    let r = v.room_mut("@bob");
    (r.delivered, r.peer_read) = (2, 1);
    let r = v.room("@bob").unwrap();
    let rows: Vec<String> = (0..4).map(|i| texts(&block(r, i, &lay(60))).join("|")).collect();
    assert!(rows[0].ends_with("m1 \u{2713}\u{2713} read"), "{rows:?}");
    assert!(rows[1].ends_with("m2 \u{2713}\u{2713}"), "{rows:?}");
    assert!(rows[2].ends_with("m3 \u{2713}"), "{rows:?}");
    assert!(rows[3].contains("sending"), "{rows:?}");
    let narrow = texts(&block(r, 0, &lay(14)));
    assert!(narrow.iter().all(|t| crate::width::str_width(t) <= 14), "{narrow:?}");
    assert!(narrow.last().is_some_and(|t| t.ends_with("\u{2713}\u{2713} read")), "{narrow:?}");
    let tight = texts(&block(r, 0, &lay(16)));
    assert_eq!(
        tight.last().map(String::as_str),
        Some("\u{2713}\u{2713} read"),
        "own row: {tight:?}"
    );
}
