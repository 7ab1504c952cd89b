//! Typing (spec §4 "Typing"): TYPING forwarded to the other members with the
//! sender's name (non-zero sent as 1), and `active = 0` sent on the typer's
//! behalf when it SAYs, LEAVEs, QUITs or its connection ends
//! (proto/PROTOCOL.md: whatever the reason, even when the session lingers).
//!
//! Typing's share of the rate limit is in `server_limits`.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::Duration;

/// Reads two application frames and asserts they are `a` and `b` in either
/// order (the spec does not order the automatic TYPING against the rest).
fn expect_pair(c: &mut Conn, a: &ServerFrame, b: &ServerFrame) {
    let got = [c.recv_app(), c.recv_app()];
    let ok = (&got[0] == a && &got[1] == b) || (&got[0] == b && &got[1] == a);
    assert!(ok, "expected {a:?} and {b:?}, got {got:?}");
}

fn typing_f(room: &str, active: u8) -> ClientFrame {
    ClientFrame::Typing { room: room.into(), active }
}

#[test]
fn typing_is_forwarded_to_the_others_only() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["Ada", "bob", "cy"], "lobby");
    v[0].send(&typing_f("LOBBY", 7));
    for c in &mut v[1..] {
        assert_eq!(c.recv_app(), typing("lobby", "Ada", 1));
    }
    v[0].send(&typing_f("lobby", 0));
    for c in &mut v[1..] {
        assert_eq!(c.recv_app(), typing("lobby", "Ada", 0));
    }
    v[0].expect_silence(Duration::from_millis(200));
}

#[test]
fn typing_outside_a_room_is_not_in_room() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    c.send(&typing_f("lobby", 1));
    expect_error(&mut c, ErrorCode::NotInRoom, types::TYPING, 0);
    assert_alive(&mut c);
}

#[test]
fn saying_stops_typing() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    v[0].send(&typing_f("lobby", 1));
    assert_eq!(v[1].recv_app(), typing("lobby", "ada", 1));
    let (id, ts) = say(&mut v[0], "lobby", 1, "done");
    let msg = ServerFrame::Msg {
        file: None,
        room: "lobby".into(),
        id,
        ts,
        from: "ada".into(),
        flags: 0,
        text: "done".into(),
    };
    expect_pair(&mut v[1], &typing("lobby", "ada", 0), &msg);
    // Not typing any more: the next SAY brings the MSG alone.
    let (id, _) = say(&mut v[0], "lobby", 2, "again");
    assert!(matches!(v[1].recv_app(), ServerFrame::Msg { id: i, .. } if i == id));
    v[1].expect_silence(Duration::from_millis(200));
}

#[test]
fn leaving_stops_typing() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    v[0].send(&typing_f("lobby", 1));
    assert_eq!(v[1].recv_app(), typing("lobby", "ada", 1));
    v[0].send(&ClientFrame::Leave { room: "lobby".into() });
    let left = presence("lobby", "ada", LEFT_EV);
    expect_pair(&mut v[1], &typing("lobby", "ada", 0), &left);
}

#[test]
fn quitting_stops_typing() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    v[0].send(&typing_f("lobby", 1));
    assert_eq!(v[1].recv_app(), typing("lobby", "ada", 1));
    v[0].send(&ClientFrame::Quit { reason: "".into() });
    let quit = presence("lobby", "ada", QUIT_EV);
    expect_pair(&mut v[1], &typing("lobby", "ada", 0), &quit);
}

#[test]
fn a_dropped_connection_stops_typing_while_the_session_lingers() {
    let s = Server::start(&["--linger-ms", "10000"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    join(&mut v[0], "two", "two", 0, 0);
    join(&mut v[1], "two", "two", 0, 0);
    assert_eq!(v[0].recv_app(), presence("two", "bob", JOINED_EV));
    v[0].send(&typing_f("lobby", 1));
    assert_eq!(v[1].recv_app(), typing("lobby", "ada", 1));
    drop(v.remove(0));
    // Only the room it typed in, and no PRESENCE: the session lingers.
    assert_eq!(v[0].recv_app(), typing("lobby", "ada", 0));
    v[0].expect_silence(Duration::from_millis(300));
}
