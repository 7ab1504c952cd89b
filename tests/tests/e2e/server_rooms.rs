//! Rooms (spec §4 "Rooms" and "WHO"): the exact JOIN answer order, re-JOIN,
//! JOIN `since` replay, ROSTER splitting under a small `--max-frame`,
//! TOO_MANY_ROOMS, LEAVE/LEFT/NOT_IN_ROOM, lower-cased room names and
//! ROOM_INVALID.
//!
//! History paging proper (HISTORY frames, caps) is in `server_history`.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::Duration;

/// A history MSG as the server must replay it.
fn replayed(room: &str, id: u64, ts: u64, from: &str, text: &str) -> ServerFrame {
    ServerFrame::Msg {
        file: None,
        room: room.into(),
        id,
        ts,
        from: from.into(),
        flags: 1,
        text: text.into(),
    }
}

/// The answer to bob's JOIN (since 0, limit 2) of a room where ada said
/// m1, m2, m3 (`sent` = their ids and ts).
fn check_first_answer(a: &JoinAnswer, sent: &[(u64, u64)]) {
    let joined = ServerFrame::Joined { read: 0, room: "lobby".into(), last_id: 3, members: 2 };
    assert_eq!(a.joined, joined);
    assert_eq!(
        a.rosters,
        [ServerFrame::Roster {
            room: "lobby".into(),
            more: 0,
            names: vec!["ada".into(), "bob".into()]
        }]
    );
    let want: Vec<ServerFrame> = [2usize, 3]
        .iter()
        .map(|&i| replayed("lobby", i as u64, sent[i - 1].1, "ada", &format!("m{i}")))
        .collect();
    assert_eq!(a.history, want, "newest 2, oldest first, flag 1");
    let end = ServerFrame::HistoryEnd { room: "lobby".into(), count: 2, more: 1 };
    assert_eq!(a.end, Some(end));
}

#[test]
fn join_answer_comes_in_the_spec_order_then_live_traffic() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada"], "lobby");
    let sent: Vec<(u64, u64)> =
        (1..=3).map(|i| say(&mut v[0], "lobby", i, &format!("m{i}"))).collect();
    let mut bob = s.login("bob");
    let a = join(&mut bob, "lobby", "lobby", 0, 2);
    check_first_answer(&a, &sent);
    assert_eq!(v[0].recv_app(), presence("lobby", "bob", JOINED_EV));
    let (id, ts) = say(&mut v[0], "lobby", 4, "live");
    let live = ServerFrame::Msg {
        file: None,
        room: "lobby".into(),
        id,
        ts,
        from: "ada".into(),
        flags: 0,
        text: "live".into(),
    };
    assert_eq!((id, bob.recv_app()), (4, live));
}

#[test]
fn join_with_limit_zero_sends_no_history_and_no_history_end() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada"], "lobby");
    say(&mut v[0], "lobby", 1, "old");
    let mut bob = s.login("bob");
    let a = join(&mut bob, "lobby", "lobby", 0, 0);
    assert!(matches!(a.joined, ServerFrame::Joined { last_id: 1, .. }));
    bob.expect_silence(Duration::from_millis(200));
}

#[test]
fn join_since_replays_only_newer_messages() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    for i in 1..=5 {
        say(&mut v[0], "lobby", i, &format!("m{i}"));
    }
    for _ in 1..=5 {
        v[1].recv_app();
    }
    // bob is a member: a re-JOIN with since = 3 catches up on 4 and 5.
    let a = join(&mut v[1], "lobby", "lobby", 3, 10);
    assert_eq!(ids(&a.history), [4, 5]);
    assert!(matches!(a.end, Some(ServerFrame::HistoryEnd { more: 0, .. })));
    let a = join(&mut v[1], "lobby", "lobby", 1, 3);
    assert_eq!(ids(&a.history), [3, 4, 5]);
    assert!(matches!(a.end, Some(ServerFrame::HistoryEnd { more: 1, .. })));
    for since in [5, 1000] {
        let a = join(&mut v[1], "lobby", "lobby", since, 10);
        assert_eq!(ids(&a.history), Vec::<u64>::new());
        assert!(matches!(a.end, Some(ServerFrame::HistoryEnd { more: 0, .. })));
    }
    let a = join(&mut v[1], "lobby", "lobby", 0, 10);
    assert_eq!(ids(&a.history), [1, 2, 3, 4, 5]);
    assert!(matches!(a.end, Some(ServerFrame::HistoryEnd { more: 0, .. })));
}

#[test]
fn rejoin_repeats_the_answer_and_sends_no_presence() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    say(&mut v[0], "lobby", 1, "hello");
    v[1].recv_app();
    let first = join(&mut v[1], "lobby", "lobby", 0, 5);
    let again = join(&mut v[1], "LOBBY", "lobby", 0, 5);
    assert_eq!(first.joined, again.joined);
    assert_eq!(first.rosters, again.rosters);
    assert_eq!(first.history, again.history);
    assert_eq!(first.end, again.end);
    assert_eq!(first.names(), ["ada", "bob"]);
    v[0].expect_silence(Duration::from_millis(200));
}

#[test]
fn room_names_are_case_insensitive_and_sent_lower_case() {
    let s = Server::start(&[]);
    let mut ada = s.login("ada");
    let a = join(&mut ada, "LoBBy.Main", "lobby.main", 0, 0);
    assert_eq!(a.names(), ["ada"]);
    let mut bob = s.login("bob");
    let a = join(&mut bob, "lobby.MAIN", "lobby.main", 0, 0);
    assert_eq!(a.names(), ["ada", "bob"]);
    assert_eq!(ada.recv_app(), presence("lobby.main", "bob", JOINED_EV));
    let (id, _) = say(&mut ada, "LOBBY.main", 1, "x");
    let ServerFrame::Msg { room, id: got, .. } = bob.recv_app() else {
        panic!("expected MSG");
    };
    assert_eq!((room.as_str(), got), ("lobby.main", id));
}

#[test]
fn invalid_room_names() {
    let s = Server::start(&["--query-rate", "0"]); // 14 WHO/HISTORY frames in a row
    let mut c = s.login("ada");
    let long = "r".repeat(33);
    for room in ["", "#chan", "_x", "a b", "é", &long] {
        // @x names a conversation (server_direct)
        c.send(&join_f(room, 0, 0));
        expect_error(&mut c, ErrorCode::RoomInvalid, types::JOIN, 0);
        let room = room.to_string();
        c.send(&ClientFrame::Leave { room: room.clone() });
        expect_error(&mut c, ErrorCode::NotInRoom, types::LEAVE, 0);
        c.send(&say_f(&room, 7, "hi"));
        expect_error(&mut c, ErrorCode::NotInRoom, types::SAY, 7);
        c.send(&ClientFrame::Who { room: room.clone() });
        expect_error(&mut c, ErrorCode::NotInRoom, types::WHO, 0);
        c.send(&ClientFrame::History { room: room.clone(), before: 0, limit: 5 });
        expect_error(&mut c, ErrorCode::NotInRoom, types::HISTORY, 0);
        c.send(&ClientFrame::Typing { room, active: 1 });
        expect_error(&mut c, ErrorCode::NotInRoom, types::TYPING, 0);
    }
    join(&mut c, &"R".repeat(32), &"r".repeat(32), 0, 0);
    assert_alive(&mut c);
}

#[test]
fn leave_answers_left_and_tells_the_others() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob", "cy"], "lobby");
    v[1].send(&ClientFrame::Leave { room: "Lobby".into() });
    assert_eq!(v[1].recv_app(), ServerFrame::Left { room: "lobby".into() });
    for i in [0, 2] {
        assert_eq!(v[i].recv_app(), presence("lobby", "bob", LEFT_EV));
    }
    v[1].send(&ClientFrame::Leave { room: "lobby".into() });
    expect_error(&mut v[1], ErrorCode::NotInRoom, types::LEAVE, 0);
    v[1].send(&say_f("lobby", 1, "hi"));
    expect_error(&mut v[1], ErrorCode::NotInRoom, types::SAY, 1);
    v[1].send(&ClientFrame::Who { room: "lobby".into() });
    expect_error(&mut v[1], ErrorCode::NotInRoom, types::WHO, 0);
    // A room never joined.
    v[1].send(&ClientFrame::Leave { room: "elsewhere".into() });
    expect_error(&mut v[1], ErrorCode::NotInRoom, types::LEAVE, 0);
    // The leaver gets no more traffic of the room.
    say(&mut v[0], "lobby", 1, "after");
    assert!(matches!(v[2].recv_app(), ServerFrame::Msg { id: 1, .. }));
    v[1].expect_silence(Duration::from_millis(200));
}

#[test]
fn who_answers_the_roster_in_join_order() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["Cy", "ada", "Bob"], "lobby");
    v[2].send(&ClientFrame::Who { room: "LOBBY".into() });
    assert_eq!(
        read_rosters(&mut v[2], "lobby"),
        [ServerFrame::Roster {
            room: "lobby".into(),
            more: 0,
            names: vec!["Cy".into(), "ada".into(), "Bob".into()],
        }]
    );
}

#[test]
fn the_101st_room_is_too_many() {
    let s = Server::start(&["--join-rate", "0"]); // 105 JOIN/LEAVE frames in a row
    let mut c = s.login("ada");
    let joins: Vec<ClientFrame> = (0..100).map(|i| join_f(&format!("r{i}"), 0, 0)).collect();
    c.send_raw(&batch(&joins));
    for i in 0..100 {
        read_join(&mut c, &format!("r{i}"), 0);
    }
    c.send(&join_f("r100", 0, 0));
    expect_error(&mut c, ErrorCode::TooManyRooms, types::JOIN, 0);
    // A re-JOIN of a room already joined is always allowed.
    join(&mut c, "r7", "r7", 0, 0);
    c.send(&ClientFrame::Leave { room: "r0".into() });
    assert_eq!(c.recv_app(), ServerFrame::Left { room: "r0".into() });
    join(&mut c, "r100", "r100", 0, 0);
    c.send(&join_f("r101", 0, 0));
    expect_error(&mut c, ErrorCode::TooManyRooms, types::JOIN, 0);
    assert_alive(&mut c);
}

#[test]
fn a_room_keeps_its_ids_and_history_after_everyone_left() {
    let s = Server::start(&[]);
    let mut ada = s.login("ada");
    join(&mut ada, "lobby", "lobby", 0, 0);
    for i in 1..=3 {
        say(&mut ada, "lobby", i, &format!("m{i}"));
    }
    ada.send(&ClientFrame::Leave { room: "lobby".into() });
    assert!(matches!(ada.recv_app(), ServerFrame::Left { .. }));
    let mut bob = s.login("bob");
    let a = join(&mut bob, "lobby", "lobby", 0, 10);
    assert!(matches!(a.joined, ServerFrame::Joined { last_id: 3, members: 1, .. }));
    assert_eq!(ids(&a.history), [1, 2, 3]);
    assert_eq!(say(&mut bob, "lobby", 1, "next").0, 4, "ids go on forever");
}
