//! Unit tests of the view state.

use super::*;

fn msg(v: &mut View, room: &str, text: &str, id: u64) -> u64 {
    v.push(room, Kind::Msg("bob".into()), "12:00".into(), text, Some(id))
}

#[test]
fn unread_counts_and_marker() {
    let mut v = View::default();
    v.switch("lobby");
    msg(&mut v, "lobby", "seen", 1);
    let first = msg(&mut v, "dev", "one", 1);
    msg(&mut v, "dev", "two", 2);
    assert_eq!(v.unread(), vec![("dev".to_string(), 2)]);
    assert_eq!(v.room("dev").unwrap().marker, Some(first));
    v.switch("dev");
    assert!(v.unread().is_empty());
    assert_eq!(v.room("dev").unwrap().marker, Some(first), "marker stays while reading");
    v.switch("lobby");
    assert_eq!(v.room("dev").unwrap().marker, None);
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
fn own_lines_change_mark_and_history_goes_above() {
    let mut v = View::default();
    v.switch("r");
    msg(&mut v, "r", "ten", 10);
    let s = v.push("r", Kind::Own(Mark::Pending), "12:00".into(), "mine", None);
    v.own.insert(7, ("r".into(), s));
    v.mark_own(7, Mark::Acked, Some(11));
    let last = v.room("r").unwrap().entries.back().unwrap().clone();
    assert_eq!((last.kind, last.id), (Kind::Own(Mark::Acked), Some(11)));
    v.insert_older("r", Kind::Msg("eve".into()), "11:00".into(), "old", 3);
    let ids: Vec<Option<u64>> = v.room("r").unwrap().entries.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![Some(3), Some(10), Some(11)]);
}

#[test]
fn paging_and_typing_expiry() {
    let mut v = View::default();
    v.switch("r");
    for i in 0..50 {
        msg(&mut v, "r", "x", i + 1);
    }
    v.page = 10;
    v.page(true);
    assert_eq!(v.room("r").unwrap().scroll, 9);
    msg(&mut v, "r", "new", 51);
    assert_eq!(v.room("r").unwrap().scroll, 10, "the view stays put while scrolled");
    v.page(false);
    v.page(false);
    assert_eq!(v.room("r").unwrap().scroll, 0);
    let t0 = Instant::now();
    v.room_mut("r").typing.insert("bob".into(), t0 + std::time::Duration::from_secs(6));
    assert_eq!(v.expire_typing(t0), Some(t0 + std::time::Duration::from_secs(6)));
    assert_eq!(v.expire_typing(t0 + std::time::Duration::from_secs(7)), None);
    assert!(v.room("r").unwrap().typing.is_empty());
}
