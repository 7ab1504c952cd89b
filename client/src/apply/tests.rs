//! Unit tests of applying events to the view.

use super::*;
use crate::view::STATUS_PANE;

fn lost(reason: &str) -> Event {
    Event::Lost { server: "127.0.0.1:3000".into(), reason: reason.into() }
}

fn msg(from: &str, text: &str, action: bool, replay: bool) -> Event {
    let (room, id, ts) = ("lobby".to_string(), 1, 1_764_300_000_000);
    let (from, text) = (from.to_string(), text.to_string());
    Event::Msg { room, id, ts, from, text, action, replay, catch_up: false, file: None }
}

#[test]
fn reconnecting_is_one_line_updated_in_place() {
    let mut v = View::default();
    let now = Instant::now();
    v.apply(lost("connection refused"), now);
    v.apply(lost("connection reset"), now);
    v.apply(Event::Offline { server: "127.0.0.1:3000".into(), reason: "refused".into() }, now);
    let pane = v.room(STATUS_PANE).unwrap();
    assert_eq!(pane.entries.len(), 1);
    assert!(pane.entries[0].lines[0].starts_with("offline: no connection to 127.0.0.1:3000"));
    v.apply(Event::Welcome { name: "ada".into(), resumed: false }, now);
    let pane = v.room(STATUS_PANE).unwrap();
    assert_eq!((pane.entries.len(), pane.entries[0].kind.clone()), (1, Kind::Info));
    v.apply(lost("reset"), now);
    assert_eq!(v.room(STATUS_PANE).unwrap().entries.len(), 2, "a new outage, a new line");
}

#[test]
fn mentions_actions_and_the_bell() {
    let mut v = View::default();
    v.me = "ada".into();
    v.switch("lobby");
    let now = Instant::now();
    v.apply(msg("bob", "ada: hi", false, true), now);
    assert!(!v.bell, "history does not ring");
    v.apply(msg("ADA", "I am ada", false, false), now);
    assert!(!v.bell, "our own words are no mention");
    v.apply(msg("bob", "waves at ada", true, false), now);
    assert!(v.bell);
    let e = v.room("lobby").unwrap().entries.back().unwrap();
    assert!(e.action && e.mention);
}

#[test]
fn held_lines_and_history_reports() {
    let mut v = View::default();
    v.switch("lobby");
    let s = v.push("lobby", Kind::Own(Mark::Pending), "x");
    v.own.insert(3, ("lobby".into(), s));
    v.apply(Event::Throttled { seq: 3 }, Instant::now());
    assert_eq!(v.room("lobby").unwrap().entries[0].kind, Kind::Own(Mark::Held));
    v.history_asked.push("lobby".into());
    v.apply(Event::HistoryEnd { room: "lobby".into(), count: 0, more: false }, Instant::now());
    v.apply(Event::HistoryEnd { room: "lobby".into(), count: 5, more: false }, Instant::now());
    let lines: Vec<String> =
        v.room("lobby").unwrap().entries.iter().map(|e| e.lines[0].clone()).collect();
    assert_eq!(lines, vec!["x".to_string(), "no older messages in lobby".to_string()]);
    assert_eq!(members(1), "1 member");
    assert_eq!(members(2), "2 members");
}

fn dm(id: u64, from: &str, text: &str, replay: bool, catch_up: bool) -> Event {
    let (room, ts) = ("@bob".to_string(), 1_764_300_000_000);
    let (from, text) = (from.to_string(), text.to_string());
    Event::Msg { room, id, ts, from, text, action: false, replay, catch_up, file: None }
}

#[test]
fn a_direct_message_counts_like_a_mention_and_ours_replayed_are_our_own_lines() {
    let mut v = View::default();
    v.me = "ada".into();
    v.switch("lobby");
    let now = Instant::now();
    v.apply(dm(1, "bob", "psst", false, false), now);
    assert!(v.bell, "a direct message rings");
    let r = v.room("@bob").unwrap();
    assert_eq!((r.unread, r.mentions, r.direct), (1, 1, true));
    v.apply(dm(2, "Ada", "mine from elsewhere", true, true), now);
    let r = v.room("@bob").unwrap();
    assert_eq!(r.entries[1].kind, Kind::Own(Mark::Acked));
    assert_eq!((r.unread, r.newest), (1, 2));
}

#[test]
fn unread_at_sign_in_counts_once_and_the_new_line_follows_the_read_marker() {
    let mut v = View::default();
    v.me = "ada".into();
    v.switch("lobby");
    let now = Instant::now();
    let unread = Event::Unread { room: "@bob".into(), count: 2, last_id: 12, read: 10 };
    v.apply(unread, now);
    assert_eq!(v.room("@bob").map(|r| (r.unread, r.mentions)), Some((2, 2)));
    v.apply(Event::Joined { room: "@bob".into(), members: 2, read: 10 }, now);
    v.apply(dm(11, "bob", "one", true, true), now);
    v.apply(dm(12, "bob", "two", true, true), now);
    let r = v.room("@bob").unwrap();
    assert_eq!(r.unread, 2, "the catch-up is not counted again");
    let first = r.entries.iter().find(|e| e.id == Some(11)).unwrap().serial;
    assert_eq!(r.marker, Some(first));
    // A room shown, joined again with a marker: history past it gets the line.
    v.apply(Event::Joined { room: "lobby".into(), members: 3, read: 4 }, now);
    let m = |id| Event::Msg {
        room: "lobby".into(),
        id,
        ts: 1,
        from: "eve".into(),
        text: "x".into(),
        action: false,
        replay: true,
        catch_up: false,
        file: None,
    };
    for id in [6, 5, 4] {
        v.apply(m(id), now);
    }
    let r = v.room("lobby").unwrap();
    let five = r.entries.iter().find(|e| e.id == Some(5)).unwrap().serial;
    assert_eq!(
        (r.marker, r.unread),
        (Some(five), 0),
        "the oldest past the marker; shown: no count"
    );
}

#[test]
fn receipts_and_refused_joins() {
    let mut v = View::default();
    v.switch("@bob");
    let now = Instant::now();
    v.apply(Event::Delivered { room: "@bob".into(), id: 3 }, now);
    v.apply(Event::Read { room: "@bob".into(), name: "bob".into(), id: 4 }, now);
    v.apply(Event::Delivered { room: "@bob".into(), id: 2 }, now);
    let r = v.room("@bob").unwrap();
    assert_eq!((r.delivered, r.peer_read), (4, 4));
    let failed = Event::JoinFailed {
        room: "@bob".into(),
        code: "NO_SUCH_USER".into(),
        detail: "no account named bob".into(),
        forgotten: true,
    };
    v.apply(failed, now);
    assert!(v.room("@bob").is_none(), "the window of a refused conversation closes");
}
