//! Bounded state (issue 15): values a peer controls at their extremes (a
//! JOIN `since` or a HISTORY `before` of 2^64 - 1 must neither wrap nor
//! replay anything), rooms freed once empty with their ids going on,
//! `--max-rooms`, and `--history-memory` with older pages from SQLite.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;

/// HISTORY_END of `room` with `count` and `more`.
fn end(room: &str, count: u16, more: u8) -> ServerFrame {
    ServerFrame::HistoryEnd { room: room.into(), count, more }
}

#[test]
fn the_largest_since_replays_nothing() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    for seq in 1..=3 {
        say(&mut v[0], "lobby", seq, "m");
    }
    let live: Vec<ServerFrame> = (0..3).map(|_| next_app(&mut v[1])).collect();
    assert_eq!(ids(&live), [1, 2, 3]);
    let a = join(&mut v[1], "lobby", "lobby", u64::MAX, 10);
    assert!(a.history.is_empty(), "{:?}", a.history);
    assert_eq!(a.end, Some(end("lobby", 0, 0)));
    let a = join(&mut v[1], "lobby", "lobby", u64::MAX - 1, 10);
    assert_eq!(a.end, Some(end("lobby", 0, 0)));
    v[1].send(&ClientFrame::History { room: "lobby".into(), before: u64::MAX, limit: 2 });
    let (page, e) = read_history(&mut v[1], "lobby");
    assert_eq!((ids(&page), e), (vec![2, 3], end("lobby", 2, 1)));
    assert_alive(&mut v[1]);
}

/// JOIN then LEAVE of `room`, checking the answers.
fn join_leave(c: &mut Conn, room: &str) {
    join(c, room, room, 0, 0);
    c.send(&ClientFrame::Leave { room: room.into() });
    assert_eq!(next_app(c), ServerFrame::Left { room: room.into() });
}

#[test]
fn rooms_nobody_is_in_are_freed_and_max_rooms_holds() {
    let s = Server::start(&["--max-rooms", "3", "--join-rate", "0"]);
    let mut c = s.login("ada");
    // Far more rooms than the cap, one after the other: each is freed.
    for i in 0..300 {
        join_leave(&mut c, &format!("churn{i}"));
    }
    for room in ["a", "b", "c"] {
        join(&mut c, room, room, 0, 0);
    }
    c.send(&join_f("d", 0, 0));
    let detail = expect_error(&mut c, ErrorCode::RateLimited, types::JOIN, 0);
    assert!(detail.contains("rooms"), "{detail}");
    c.send(&ClientFrame::Leave { room: "a".into() });
    assert_eq!(next_app(&mut c), ServerFrame::Left { room: "a".into() });
    join(&mut c, "d", "d", 0, 0);
}

#[test]
fn a_freed_room_keeps_its_ids_with_and_without_a_database() {
    let dir = TempDir::new("bounds-ids");
    let db = dir.0.join("b.db").display().to_string();
    for args in [vec!["--max-rooms", "1"], vec!["--max-rooms", "1", "--db", &db]] {
        let s = Server::start(&args);
        let mut c = s.login("ada");
        join(&mut c, "first", "first", 0, 0);
        say(&mut c, "first", 1, "one");
        say(&mut c, "first", 2, "two");
        c.send(&ClientFrame::Leave { room: "first".into() });
        assert_eq!(next_app(&mut c), ServerFrame::Left { room: "first".into() });
        // The only place in memory goes to another room...
        join_leave(&mut c, "second");
        // ...and the first comes back where it was.
        let a = join(&mut c, "first", "first", 0, 10);
        assert!(matches!(a.joined, ServerFrame::Joined { last_id: 2, .. }), "{args:?}");
        assert_eq!(say(&mut c, "first", 3, "three").0, 3, "{args:?}");
    }
}

#[test]
fn history_memory_is_one_budget_with_older_pages_from_the_database() {
    let dir = TempDir::new("bounds-mem");
    let db = dir.0.join("m.db").display().to_string();
    let s = Server::start(&["--rate", "0", "--history-memory", "100000", "--db", &db]);
    let mut c = s.login("ada");
    join(&mut c, "big", "big", 0, 0);
    let says: Vec<ClientFrame> =
        (1..=300).map(|i| say_f("big", i, &format!("{i:04} {}", "b".repeat(1000)))).collect();
    c.send_raw(&batch(&says));
    for _ in 0..300 {
        assert!(matches!(next_app(&mut c), ServerFrame::Ack { .. }));
    }
    // 300 KB of text against a 100 KB budget: the oldest come from SQLite.
    c.send(&ClientFrame::History { room: "big".into(), before: 0, limit: 300 });
    let (page, e) = read_history(&mut c, "big");
    assert_eq!(ids(&page), (1..=300).collect::<Vec<_>>());
    assert_eq!(e, end("big", 300, 0));
}
