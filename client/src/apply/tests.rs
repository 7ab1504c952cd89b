//! Unit tests of applying events to the view.

use super::*;
use crate::view::STATUS_PANE;

fn lost(reason: &str) -> Event {
    Event::Lost { server: "127.0.0.1:3000".into(), reason: reason.into() }
}

fn msg(from: &str, text: &str, action: bool, replay: bool) -> Event {
    let (room, id, ts) = ("lobby".to_string(), 1, 1_764_300_000_000);
    let (from, text) = (from.to_string(), text.to_string());
    Event::Msg { room, id, ts, from, text, action, replay, catch_up: false }
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
