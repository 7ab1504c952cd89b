//! Sessions (spec §4 "Sessions" and "QUIT"): resume and takeover with
//! SUPERSEDED, memberships carried over without PRESENCE, the linger and its
//! PRESENCE lost, QUIT with its cleaned reason, and SAY de-duplication across
//! a resume.
//!
//! Typing state on disconnect is in `server_typing`; passwords on a resume
//! in `server_accounts`.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::{Duration, Instant};

/// Opens a connection resuming `name` with `token`; returns it and WELCOME.
fn resume(s: &Server, name: &str, token: u64) -> (Conn, ServerFrame) {
    let mut c = s.connect();
    c.hello(name, "", token);
    let w = c.expect_welcome();
    (c, w)
}

fn resumed_flag(w: &ServerFrame) -> u8 {
    match w {
        ServerFrame::Welcome { resumed, .. } => *resumed,
        other => panic!("expected WELCOME, got {other:?}"),
    }
}

#[test]
fn takeover_supersedes_the_open_connection_silently_for_others() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let (mut ada2, w) = resume(&s, "ADA", v[0].token);
    assert_eq!(resumed_flag(&w), 1);
    let ServerFrame::Welcome { name, token, .. } = &w else { unreachable!() };
    assert_eq!(name, "ada", "WELCOME carries the first spelling");
    assert_ne!(*token, 0);
    expect_fatal(&mut v[0], ErrorCode::Superseded, 0);
    // Memberships carried over: SAY without a new JOIN.
    let (id, ts) = say(&mut ada2, "lobby", 1, "still here");
    let m = ServerFrame::Msg {
        file: None,
        room: "lobby".into(),
        id,
        ts,
        from: "ada".into(),
        flags: 0,
        text: "still here".into(),
    };
    // bob got no PRESENCE of any kind: the MSG is the next thing he sees.
    assert_eq!(v[1].recv_app(), m);
    ada2.send(&ClientFrame::Who { room: "lobby".into() });
    assert_eq!(roster_names(&read_rosters(&mut ada2, "lobby")), ["ada", "bob"]);
}

#[test]
fn resume_within_the_linger_keeps_rooms_and_sends_no_presence() {
    let s = Server::start(&["--linger-ms", "3000"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let mut ada = v.remove(0);
    let token = ada.token;
    join(&mut ada, "second", "second", 0, 0);
    drop(ada); // connection ends without QUIT: the session lingers
    v[0].expect_silence(Duration::from_millis(300));
    // Still a member while lingering: counted and listed.
    let mut carol = s.login("carol");
    let a = join(&mut carol, "lobby", "lobby", 0, 0);
    assert_eq!(a.names(), ["ada", "bob", "carol"]);
    assert!(matches!(a.joined, ServerFrame::Joined { members: 3, .. }));
    assert_eq!(v[0].recv_app(), presence("lobby", "carol", JOINED_EV));
    // The name stays reserved: only the token takes it.
    for wrong in [0, token ^ 1] {
        let mut c = s.connect();
        c.hello("ADA", "", wrong);
        expect_fatal(&mut c, ErrorCode::NameTaken, types::HELLO);
    }
    let (mut ada, w) = resume(&s, "ada", token);
    assert_eq!(resumed_flag(&w), 1);
    say(&mut ada, "lobby", 1, "back");
    say(&mut ada, "second", 2, "also back");
    for c in [&mut v[0], &mut carol] {
        let f = c.recv_app();
        assert!(matches!(&f, ServerFrame::Msg { text, .. } if text == "back"), "{f:?}");
    }
}

#[test]
fn linger_end_sends_presence_lost_and_frees_the_name() {
    let s = Server::start(&["--linger-ms", "400"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    for c in v.iter_mut() {
        join(c, "two", "two", 0, 0);
    }
    assert_eq!(v[0].recv_app(), presence("two", "bob", JOINED_EV));
    let token = v[0].token;
    let t0 = Instant::now();
    drop(v.remove(0));
    // Lost in each of its rooms, in no particular order.
    let mut lost = [v[0].recv_app(), v[0].recv_app()];
    let took = t0.elapsed();
    lost.sort_by_key(|f| format!("{f:?}"));
    let want = [presence("lobby", "ada", LOST_EV), presence("two", "ada", LOST_EV)];
    assert_eq!(lost, want);
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_millis(3000),
        "PRESENCE lost after a 400 ms linger came after {took:?}"
    );
    // The session is gone: the old token opens a fresh session, in no room.
    let (mut ada, w) = resume(&s, "ada", token);
    assert_eq!(resumed_flag(&w), 0);
    ada.send(&say_f("lobby", 1, "hi"));
    expect_error(&mut ada, ErrorCode::NotInRoom, types::SAY, 1);
    let a = join(&mut v[0], "lobby", "lobby", 0, 0);
    assert_eq!(a.names(), ["bob"]);
}

/// PRESENCE quit from ada with `reason`.
fn quit_of_ada(room: &str, reason: &str) -> ServerFrame {
    ServerFrame::Presence {
        room: room.into(),
        name: "ada".into(),
        event: QUIT_EV,
        reason: reason.into(),
    }
}

#[test]
fn quit_sends_presence_quit_to_every_room_and_ends_the_session() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    for c in v.iter_mut() {
        join(c, "other", "other", 0, 0);
    }
    assert_eq!(v[0].recv_app(), presence("other", "bob", JOINED_EV));
    let token = v[0].token;
    v[0].send(&ClientFrame::Quit { reason: "gone fishing".into() });
    let rest = v[0].expect_closed();
    assert!(rest.iter().all(|f| matches!(f, ServerFrame::Notice { .. })), "{rest:?}");
    let mut two = [v[1].recv_app(), v[1].recv_app()];
    two.sort_by_key(|f| format!("{f:?}"));
    let want = [quit_of_ada("lobby", "gone fishing"), quit_of_ada("other", "gone fishing")];
    assert_eq!(two, want);
    // The session ended at once: the name is free, the token resumes nothing.
    let (_ada, w) = resume(&s, "ada", token);
    assert_eq!(resumed_flag(&w), 0);
    let a = join(&mut v[1], "lobby", "lobby", 0, 0);
    assert_eq!(a.names(), ["bob"]);
}

#[test]
fn quit_flushes_what_the_server_owes_the_sender() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    v[0].send_raw(&batch(&[
        say_f("lobby", 1, "bye all"),
        ClientFrame::Quit { reason: "gone".into() },
    ]));
    // The ACK owed before QUIT arrives, then the connection closes.
    let rest: Vec<ServerFrame> = v[0]
        .expect_closed()
        .into_iter()
        .filter(|f| !matches!(f, ServerFrame::Notice { .. } | ServerFrame::Ping { .. }))
        .collect();
    assert!(matches!(rest.as_slice(), [ServerFrame::Ack { seq: 1, id: 1, .. }]), "{rest:?}");
    let mut two = [v[1].recv_app(), v[1].recv_app()];
    two.sort_by_key(|f| f.frame_type());
    assert!(matches!(two[0], ServerFrame::Msg { id: 1, .. }), "{two:?}");
    assert_eq!(two[1], quit_of_ada("lobby", "gone"));
}

#[test]
fn quit_reason_is_cleaned_and_cut_to_256_bytes() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob", "cy"], "lobby");
    let reason = format!("x\n\t\u{1b}[0m\u{7f}\u{85}\r{}", "é".repeat(200));
    v[0].send(&ClientFrame::Quit { reason });
    // "x[0m" (4 bytes) + 126 × "é" = 256 bytes; one more "é" would be 258.
    let want = format!("x[0m{}", "é".repeat(126));
    assert_eq!(want.len(), 256);
    for c in &mut v[1..] {
        let f = c.recv_app();
        assert_eq!(
            f,
            ServerFrame::Presence {
                room: "lobby".into(),
                name: "ada".into(),
                event: QUIT_EV,
                reason: want.clone(),
            }
        );
    }
    // Odd cut: "y" + "é"s leaves 255 bytes on a character boundary.
    v[1].send(&ClientFrame::Quit { reason: format!("y{}", "é".repeat(200)) });
    let ServerFrame::Presence { reason, .. } = v[2].recv_app() else {
        panic!("expected PRESENCE quit");
    };
    assert_eq!(reason, format!("y{}", "é".repeat(127)));
}

#[test]
fn repeated_say_after_a_resume_is_acked_once_and_not_resent() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let token = v[0].token;
    let first = say(&mut v[0], "lobby", 1, "only once");
    let second = say(&mut v[0], "lobby", 2, "twice?");
    drop(v.remove(0));
    let (mut ada, _) = resume(&s, "ada", token);
    // The client resends both: room and text of a repeat are ignored.
    ada.send_raw(&batch(&[
        say_f("lobby", 1, "only once"),
        say_f("nowhere", 2, ""),
        say_f("lobby", 3, "new"),
    ]));
    let acks: Vec<ServerFrame> = (0..3).map(|_| ada.recv_app()).collect();
    let ack = |seq, (id, ts)| ServerFrame::Ack { seq, room: "lobby".into(), id, ts };
    assert_eq!(acks[0], ack(1, first));
    assert_eq!(acks[1], ack(2, second));
    assert!(matches!(acks[2], ServerFrame::Ack { seq: 3, id: 3, .. }), "{acks:?}");
    let got: Vec<u64> = (0..3).map(|_| ids(&[v[0].recv_app()])[0]).collect();
    assert_eq!(got, [1, 2, 3], "bob sees each message exactly once");
    v[0].expect_silence(Duration::from_millis(200));
}

#[test]
fn a_timed_out_connection_lingers_and_resumes() {
    let s = Server::start(&["--heartbeat-ms", "200", "--linger-ms", "5000"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    // ada never answers PINGs: dropped with TIMEOUT after 2 × 200 ms,
    // while bob answers his and sees no PRESENCE.
    let mut frames = Vec::new();
    let end = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < end, "ada not dropped: {frames:?}");
        match v[0].recv_within(Duration::from_millis(20)) {
            Some(f) => frames.push(f),
            None if v[0].is_closed() => break,
            None => {}
        }
        v[1].expect_silence(Duration::from_millis(20));
    }
    let last = frames.last().expect("ERROR TIMEOUT before the close");
    assert_error(last, ErrorCode::Timeout, 0, 0);
    v[1].expect_silence(Duration::from_millis(300));
    let (mut ada, w) = resume(&s, "ada", v[0].token);
    assert_eq!(resumed_flag(&w), 1);
    say(&mut ada, "lobby", 1, "back");
    assert!(matches!(next_app(&mut v[1]), ServerFrame::Msg { id: 1, .. }));
}

#[test]
fn a_lingering_session_is_sent_nothing_and_catches_up_with_join_since() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    say(&mut v[1], "lobby", 1, "before");
    assert!(matches!(v[0].recv_app(), ServerFrame::Msg { id: 1, .. }));
    let token = v[0].token;
    drop(v.remove(0));
    say(&mut v[0], "lobby", 2, "while away");
    let (mut ada, _) = resume(&s, "ada", token);
    // Nothing queued during the linger arrives by itself.
    ada.expect_silence(Duration::from_millis(300));
    let a = join(&mut ada, "lobby", "lobby", 1, 50);
    assert_eq!(ids(&a.history), [2]);
    assert!(matches!(&a.history[0], ServerFrame::Msg { text, .. } if text == "while away"));
    v[0].expect_silence(Duration::from_millis(100));
}

#[test]
fn a_token_resumes_only_its_own_name() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    // eve presents ada's token under her own name: a fresh session for
    // eve, in no room, and ada's connection is left alone.
    let (mut eve, w) = resume(&s, "eve", v[0].token);
    let ServerFrame::Welcome { name, resumed, .. } = &w else { unreachable!() };
    assert_eq!((name.as_str(), *resumed), ("eve", 0));
    eve.send(&say_f("lobby", 1, "as ada?"));
    expect_error(&mut eve, ErrorCode::NotInRoom, types::SAY, 1);
    assert_alive(&mut v[0]);
    v[1].expect_silence(Duration::from_millis(200));
}
