//! Unit tests of the view state.

use super::*;

fn msg(v: &mut View, room: &str, text: &str, id: u64) -> u64 {
    v.push_entry(room, Entry::new(Kind::Msg("bob".into()), 1, text, Some(id)))
}

#[test]
fn unread_counts_mentions_and_marker() {
    let mut v = View::default();
    v.switch("lobby");
    msg(&mut v, "lobby", "seen", 1);
    let first = msg(&mut v, "dev", "one", 1);
    let mut e = Entry::new(Kind::Msg("bob".into()), 1, "ada?", Some(2));
    e.mention = true;
    v.push_entry("dev", e);
    let dev = v.room("dev").unwrap();
    assert_eq!((dev.unread, dev.mentions, dev.marker), (2, 1, Some(first)));
    v.switch("dev");
    let dev = v.room("dev").unwrap();
    assert_eq!((dev.unread, dev.mentions), (0, 0));
    assert_eq!(dev.marker, Some(first), "marker stays while reading");
    v.switch("lobby");
    assert_eq!(v.room("dev").unwrap().marker, None);
    assert_eq!(v.windows(), vec!["lobby", "dev"]);
}

#[test]
fn mentions_are_whole_words_in_any_case() {
    for yes in ["ada: hi", "hi ADA", "@ada!", "thanks ada.", "(ada)"] {
        assert!(mentions(yes, "ada"), "{yes}");
    }
    for no in ["adam", "canada", "ada-bot", "ada_x", "", "hi"] {
        assert!(!mentions(no, "ada"), "{no}");
    }
    assert!(!mentions("anything", ""));
}

#[test]
fn scrollback_is_bounded_and_text_sanitised() {
    let mut v = View::default();
    v.switch("r");
    for i in 0..(SCROLLBACK as u64 + 5) {
        msg(&mut v, "r", "x", i + 1);
    }
    assert_eq!(v.room("r").unwrap().entries.len(), SCROLLBACK);
    msg(&mut v, "r", "a\u{1b}[2Jb\nline2", 99_999);
    let e = v.room("r").unwrap().entries.back().unwrap();
    assert_eq!(e.lines, vec!["a\u{241b}[2Jb".to_string(), "line2".to_string()]);
}

#[test]
fn own_lines_change_mark_and_history_goes_above_this_session() {
    let mut v = View::default();
    v.switch("r");
    v.push("r", Kind::Info, "connected as ada");
    msg(&mut v, "r", "ten", 10);
    let s = v.push("r", Kind::Own(Mark::Pending), "mine");
    v.own.insert(7, ("r".into(), s));
    v.mark_own(7, Mark::Acked, Some(11));
    let last = v.room("r").unwrap().entries.back().unwrap().clone();
    assert_eq!((last.kind, last.id), (Kind::Own(Mark::Acked), Some(11)));
    v.insert_older("r", Entry::new(Kind::Msg("eve".into()), 1, "old", Some(3)));
    v.insert_older("r", Entry::new(Kind::Msg("eve".into()), 1, "older", Some(2)));
    v.insert_older("r", Entry::new(Kind::Msg("eve".into()), 1, "between", Some(5)));
    let ids: Vec<Option<u64>> = v.room("r").unwrap().entries.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![Some(2), Some(3), Some(5), None, Some(10), Some(11)]);
}

#[test]
fn a_line_rewritten_in_place_and_typing_expiry() {
    let mut v = View::default();
    v.switch("r");
    let s = v.push("r", Kind::Error, "attempt 1");
    assert!(v.rewrite("r", s, Kind::Info, "attempt 2"));
    let r = v.room("r").unwrap();
    assert_eq!((r.entries.len(), r.entries[0].lines[0].as_str()), (1, "attempt 2"));
    assert!(!v.rewrite("r", 999, Kind::Info, "gone"));
    let t0 = Instant::now();
    v.room_mut("r").typing.insert("bob".into(), t0 + std::time::Duration::from_secs(6));
    assert_eq!(v.expire_typing(t0), Some(t0 + std::time::Duration::from_secs(6)));
    assert_eq!(v.expire_typing(t0 + std::time::Duration::from_secs(7)), None);
    assert!(v.room("r").unwrap().typing.is_empty());
}
