//! Direct messages, read markers and delivery receipts end to end (§8–§9):
//! privacy of a conversation, the guest and stranger refusals with their
//! codes, offline messages counted in UNREAD after a restart with `--db`,
//! DELIVERED on replay, READ and its coalescing, markers that never move
//! back, no READ in a room of 101, and `/me` actions kept across a restart.

use crate::server_util::*;
use crate::store::{start_db, stop};
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame, FLAG_ACTION};
use banter_tests::*;
use std::time::Duration;

const PW: &str = "correct horse";
/// Answers that wait on password hashing.
const HASH_WAIT: Duration = Duration::from_secs(20);

/// Signs in as `name` with the password, registering it first if new.
fn account(s: &Server, name: &str, register: bool) -> Conn {
    let mut c = s.connect();
    c.hello(name, if register { "" } else { PW }, 0);
    let f = next_app_within(&mut c, HASH_WAIT);
    assert!(matches!(f, ServerFrame::Welcome { .. }), "{name}: {f:?}");
    if register {
        c.send(&ClientFrame::Register { password: PW.into() });
        assert!(matches!(next_app_within(&mut c, HASH_WAIT), ServerFrame::Registered { .. }));
    }
    c
}

/// The next frame that is not a receipt (DELIVERED and READ arrive on
/// their own schedule).
fn next_not_receipt(c: &mut Conn) -> ServerFrame {
    loop {
        match next_app(c) {
            ServerFrame::Delivered { .. } | ServerFrame::Read { .. } => {}
            f => return f,
        }
    }
}

fn dm(c: &mut Conn, to: &str, seq: u32, text: &str) -> u64 {
    c.send(&say_f(to, seq, text));
    match next_not_receipt(c) {
        ServerFrame::Ack { seq: s, room, id, .. }
            if s == seq && room == to.to_ascii_lowercase() =>
        {
            id
        }
        f => panic!("expected the ACK of {seq} in {to}, got {f:?}"),
    }
}

fn quit(mut c: Conn) {
    c.send(&ClientFrame::Quit { reason: String::new() });
    c.expect_closed();
}

#[test]
fn two_accounts_talk_privately_and_others_are_refused() {
    let s = Server::start(&["--rate", "0"]);
    let mut ada = account(&s, "Ada", true);
    let mut bob = account(&s, "bob", true);
    let mut eve = account(&s, "eve", true);
    let mut guest = s.login("guest");
    assert_eq!(dm(&mut ada, "@Bob", 1, "just us"), 1);
    match next_app(&mut bob) {
        ServerFrame::Msg { room, from, text, .. } => {
            assert_eq!((&*room, &*from, &*text), ("@ada", "Ada", "just us"))
        }
        f => panic!("{f:?}"),
    }
    eve.expect_silence(Duration::from_millis(300));
    // eve naming @bob reaches her own conversation with bob: empty.
    let j = join(&mut eve, "@bob", "@bob", 0, 100);
    assert!(j.history.is_empty(), "{:?}", j.history);
    assert_eq!(j.names(), ["bob", "eve"]);
    guest.send(&say_f("@ada", 1, "hi"));
    expect_error(&mut guest, ErrorCode::AuthRequired, types::SAY, 1);
    assert_alive(&mut guest);
    let refused = [
        (say_f("@guest", 2, "x"), ErrorCode::NoSuchUser, types::SAY, 2),
        (say_f("@ada", 3, "x"), ErrorCode::RoomInvalid, types::SAY, 3),
        (join_f("@nobody", 0, 0), ErrorCode::NoSuchUser, types::JOIN, 0),
    ];
    for (f, code, about, seq) in refused {
        ada.send(&f);
        assert_error(&next_not_receipt(&mut ada), code, about, seq);
    }
    ada.send(&ClientFrame::Leave { room: "@bob".into() });
    assert_eq!(next_not_receipt(&mut ada), ServerFrame::Left { room: "@bob".into() });
    assert_eq!(dm(&mut ada, "@bob", 4, "still a member"), 2, "LEAVE changes nothing");
}

#[test]
fn offline_messages_survive_a_restart_as_unread_then_deliver_and_read() {
    let dir = TempDir::new("dm-restart");
    let mut s = start_db(&dir, &[]);
    let mut ada = account(&s, "ada", true);
    quit(account(&s, "bob", true));
    dm(&mut ada, "@bob", 1, "one");
    dm(&mut ada, "@bob", 2, "two");
    ada.send(&ClientFrame::Say {
        room: "@bob".into(),
        seq: 3,
        text: "waves".into(),
        flags: FLAG_ACTION,
    });
    assert!(matches!(next_app(&mut ada), ServerFrame::Ack { seq: 3, .. }));
    drop(ada);
    stop(&mut s);
    let s = start_db(&dir, &[]);
    let mut bob = s.connect();
    bob.hello("bob", PW, 0);
    assert!(matches!(next_app_within(&mut bob, HASH_WAIT), ServerFrame::Welcome { .. }));
    assert_eq!(
        next_app(&mut bob),
        ServerFrame::Unread { room: "@ada".into(), count: 3, last_id: 3, read: 0 }
    );
    let mut ada = account(&s, "ada", false);
    let j = join(&mut bob, "@ada", "@ada", 0, 100);
    assert_eq!(ids(&j.history), [1, 2, 3]);
    assert!(
        matches!(&j.history[2], ServerFrame::Msg { flags, .. } if flags & FLAG_ACTION != 0),
        "/me kept"
    );
    assert_eq!(
        next_app(&mut ada),
        ServerFrame::Delivered { room: "@bob".into(), id: 3 },
        "on replay"
    );
    bob.send(&ClientFrame::Mark { room: "@ada".into(), id: 2 });
    assert_eq!(
        next_app(&mut ada),
        ServerFrame::Read { room: "@bob".into(), name: "bob".into(), id: 2 }
    );
    bob.send(&ClientFrame::Mark { room: "@ada".into(), id: 1 }); // never backwards
    let j = join(&mut bob, "@ada", "@ada", 0, 0);
    assert_eq!(j.read(), 2, "the marker stayed at 2");
    bob.expect_silence(Duration::from_millis(100));
    quit(bob);
    let mut again = s.connect();
    again.hello("bob", PW, 0);
    assert!(matches!(next_app_within(&mut again, HASH_WAIT), ServerFrame::Welcome { .. }));
    assert_eq!(
        next_app(&mut again),
        ServerFrame::Unread { room: "@ada".into(), count: 1, last_id: 3, read: 2 }
    );
}

#[test]
fn reads_are_coalesced_to_one_a_second() {
    let s = Server::start(&["--rate", "0"]);
    let mut ada = account(&s, "ada", true);
    let mut bob = account(&s, "bob", true);
    for seq in 1..=3 {
        dm(&mut ada, "@bob", seq, "m");
    }
    for _ in 0..3 {
        next_app(&mut bob);
    }
    for id in 1..=3 {
        bob.send(&ClientFrame::Mark { room: "@ada".into(), id });
    }
    let mut reads = Vec::new();
    let end = std::time::Instant::now() + Duration::from_millis(2500);
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        if let Some(ServerFrame::Read { id, .. }) = ada.recv_within(left) {
            reads.push((id, std::time::Instant::now()));
        }
    }
    assert_eq!(
        reads.iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 3],
        "the first at once, the latest after a second"
    );
    assert!(reads[1].1 - reads[0].1 >= Duration::from_millis(900));
}

#[test]
fn no_read_in_a_room_of_101() {
    // 103 connections from one host: no per-address limits.
    let args = ["--max-clients", "300", "--rate", "0", "--max-per-ip", "0", "--conn-rate", "0"];
    let s = Server::start(&args);
    let mut v = room_of(&s, &["a", "b"], "small");
    let names: Vec<String> = (0..101).map(|i| format!("m{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut big = room_of(&s, &names, "big");
    say(&mut v[0], "small", 1, "hi");
    next_app(&mut v[1]);
    v[1].send(&ClientFrame::Mark { room: "small".into(), id: 1 });
    assert_eq!(
        next_app(&mut v[0]),
        ServerFrame::Read { room: "small".into(), name: "b".into(), id: 1 }
    );
    say(&mut big[0], "big", 1, "hi all");
    next_app(&mut big[1]);
    big[1].send(&ClientFrame::Mark { room: "big".into(), id: 1 });
    big[0].send(&ClientFrame::Ping { nonce: 7 });
    let mut seen = Vec::new();
    loop {
        match next_app(&mut big[0]) {
            ServerFrame::Pong { nonce: 7 } => break,
            f => seen.push(f),
        }
    }
    assert!(seen.iter().all(|f| !matches!(f, ServerFrame::Read { .. })), "{seen:?}");
}
