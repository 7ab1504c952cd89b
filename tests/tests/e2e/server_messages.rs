//! Messages (spec §4 "Messages"): SAY gives MSG to the others and ACK to the
//! sender with no echo, per-room ids 1, 2, 3, duplicates answered with the
//! original ACK, the refusal order RATE_LIMITED / NOT_IN_ROOM / TEXT_INVALID
//! with the seq, and in-order, gap-free delivery under concurrent senders.
//!
//! De-duplication across a resume is in `server_sessions`; the rate limit's
//! own arithmetic in `server_limits`.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::Duration;

/// The spec's SAY test vector: room "lobby", seq 7, text "hi é".
const SAY_VECTOR: [u8; 23] = [
    0x00, 0x00, 0x00, 0x13, 0x04, 0x00, 0x05, 0x6c, 0x6f, 0x62, 0x62, 0x79, 0x00, 0x00, 0x00, 0x07,
    0x00, 0x05, 0x68, 0x69, 0x20, 0xc3, 0xa9,
];

#[test]
fn say_gives_msg_to_others_and_ack_to_the_sender_only() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["Ada", "bob", "cy"], "lobby");
    let before = now_ms();
    v[0].send_raw(&SAY_VECTOR);
    let ServerFrame::Ack { seq, room, id, ts } = v[0].recv_app() else {
        panic!("expected ACK");
    };
    assert_eq!((seq, room.as_str(), id), (7, "lobby", 1));
    assert!(ts + 1000 >= before && ts <= now_ms() + 1000, "ts {ts}");
    let msg = ServerFrame::Msg {
        file: None,
        room: "lobby".into(),
        id: 1,
        ts,
        from: "Ada".into(),
        flags: 0,
        text: "hi é".into(),
    };
    for c in &mut v[1..] {
        assert_eq!(c.recv_app(), msg);
    }
    v[0].expect_silence(Duration::from_millis(200));
}

#[test]
fn ids_count_per_room_from_one() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "a");
    for c in v.iter_mut() {
        join(c, "b", "b", 0, 0);
    }
    v[0].recv_app(); // PRESENCE bob joined b
    assert_eq!(say(&mut v[0], "a", 1, "x").0, 1);
    assert_eq!(say(&mut v[0], "b", 2, "x").0, 1);
    assert_eq!(say(&mut v[0], "a", 3, "x").0, 2);
    let got: Vec<(String, u64)> = (0..3)
        .map(|_| match v[1].recv_app() {
            ServerFrame::Msg { room, id, .. } => (room, id),
            f => panic!("expected MSG, got {f:?}"),
        })
        .collect();
    let want = [("a", 1), ("b", 1), ("a", 2)].map(|(r, i)| (r.to_string(), i));
    assert_eq!(got, want);
    // Another sender continues each room's sequence.
    assert_eq!(say(&mut v[1], "b", 1, "x").0, 2);
    assert_eq!(say(&mut v[1], "a", 2, "x").0, 3);
}

#[test]
fn repeated_seq_gets_the_original_ack_before_any_check() {
    let s = Server::start(&["--rate", "1"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let (id, ts) = say(&mut v[0], "lobby", 1, "one");
    say(&mut v[0], "lobby", 2, "two"); // the burst of 2 is spent
    let original = ServerFrame::Ack { seq: 1, room: "lobby".into(), id, ts };
    v[0].send(&ClientFrame::Leave { room: "lobby".into() });
    assert!(matches!(v[0].recv_app(), ServerFrame::Left { .. }));
    // Not in the room any more, other room and bad text, no rate token
    // left: still the original ACK, and it costs no token.
    for (room, text) in [("lobby", "one"), ("nowhere", ""), ("#bad", "\u{1b}")] {
        v[0].send(&say_f(room, 1, text));
        assert_eq!(v[0].recv_app(), original);
    }
    for _ in 0..2 {
        assert!(matches!(v[1].recv_app(), ServerFrame::Msg { .. }));
    }
    assert_eq!(v[1].recv_app(), presence("lobby", "ada", LEFT_EV));
    v[1].expect_silence(Duration::from_millis(200));
}

#[test]
fn a_seq_repeated_in_the_same_write_is_stored_once_and_acked_twice() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    v[0].send_raw(&batch(&[say_f("lobby", 1, "once"), say_f("lobby", 1, "once")]));
    let first = v[0].recv_app();
    assert!(matches!(first, ServerFrame::Ack { seq: 1, id: 1, .. }), "{first:?}");
    assert_eq!(v[0].recv_app(), first, "the repeat gets the same ACK");
    assert!(matches!(v[1].recv_app(), ServerFrame::Msg { id: 1, .. }));
    v[1].expect_silence(Duration::from_millis(200));
    // The next SAY gets the next id: the repeat took none.
    assert_eq!(say(&mut v[0], "lobby", 2, "next").0, 2);
}

#[test]
fn seq_zero_is_an_ordinary_seq() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada"], "lobby");
    let first = say(&mut v[0], "lobby", 0, "zero");
    assert_eq!(say(&mut v[0], "lobby", 0, "again"), first);
}

#[test]
fn rate_limited_is_checked_before_not_in_room() {
    let s = Server::start(&["--rate", "1"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    v[0].send_raw(&batch(&[
        say_f("lobby", 1, "a"),
        say_f("lobby", 2, "b"),
        say_f("nowhere", 3, ""),
    ]));
    // Three answers, told apart by seq (ERRORs may overtake ACKs).
    let mut got: Vec<ServerFrame> = (0..3).map(|_| v[0].recv_app()).collect();
    got.sort_by_key(|f| std::cmp::Reverse(f.frame_type()));
    assert!(matches!(got[0], ServerFrame::Ack { seq: 1, id: 1, .. }), "{got:?}");
    assert!(matches!(got[1], ServerFrame::Ack { seq: 2, id: 2, .. }), "{got:?}");
    assert_error(&got[2], ErrorCode::RateLimited, types::SAY, 3);
    assert_alive(&mut v[0]);
}

#[test]
fn not_in_room_is_checked_before_text_invalid() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    v[0].send(&say_f("nowhere", 5, ""));
    expect_error(&mut v[0], ErrorCode::NotInRoom, types::SAY, 5);
    v[0].send(&say_f("lobby", 6, ""));
    expect_error(&mut v[0], ErrorCode::TextInvalid, types::SAY, 6);
    // Nothing was stored: the next message still gets id 1.
    assert_eq!(say(&mut v[0], "lobby", 7, "ok").0, 1);
    assert!(matches!(v[1].recv_app(), ServerFrame::Msg { id: 1, .. }));
}

#[test]
fn text_rules_are_enforced_with_the_seq() {
    let s = Server::start(&["--rate", "0", "--max-text", "100"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let long = "a".repeat(101);
    let long_multibyte = format!("{}é", "a".repeat(99)); // 101 bytes
    let refused = [
        "",
        &long,
        &long_multibyte,
        "a\u{0}",
        "\u{8}",
        "x\u{b}",
        "\u{1b}[31m",
        "\u{1f}",
        "\u{7f}",
        "\u{80}",
        "a\u{9f}b",
        "\r\n",
    ];
    for (i, text) in refused.iter().enumerate() {
        let seq = 100 + i as u32;
        v[0].send(&say_f("lobby", seq, text));
        expect_error(&mut v[0], ErrorCode::TextInvalid, types::SAY, seq);
    }
    // Nothing was stored or sent.
    assert_eq!(say(&mut v[0], "lobby", 1, "ok").0, 1);
    assert!(matches!(v[1].recv_app(), ServerFrame::Msg { id: 1, .. }));
}

#[test]
fn text_at_the_limit_and_allowed_characters_pass_unchanged() {
    let s = Server::start(&["--rate", "0", "--max-text", "100"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let accepted = ["a".repeat(100), "line\n\tindented".into(), "\u{a0}é€😀".into()];
    for (i, text) in accepted.iter().enumerate() {
        let seq = i as u32 + 1;
        let (id, ts) = say(&mut v[0], "lobby", seq, text);
        let f = v[1].recv_app();
        let want = ServerFrame::Msg {
            file: None,
            room: "lobby".into(),
            id,
            ts,
            from: "ada".into(),
            flags: 0,
            text: text.clone(),
        };
        assert_eq!((id, f), (seq as u64, want));
    }
}

#[test]
fn concurrent_senders_are_delivered_in_order_without_gaps() {
    const EACH: u32 = 200;
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["s1", "s2", "s3", "watcher"], "lobby");
    for c in &mut v[..3] {
        let says: Vec<ClientFrame> =
            (1..=EACH).map(|i| say_f("lobby", i, &format!("message {i}"))).collect();
        c.send_raw(&batch(&says));
    }
    let total = 3 * u64::from(EACH);
    let mut watched = Vec::new();
    while watched.len() < total as usize {
        watched.push(v[3].recv_app());
    }
    assert_eq!(ids(&watched), (1..=total).collect::<Vec<_>>());
    for (k, c) in v[..3].iter_mut().enumerate() {
        let (mut acked, mut seen) = (Vec::new(), Vec::new());
        while acked.len() + seen.len() < total as usize {
            match c.recv_app() {
                ServerFrame::Ack { seq, id, .. } => acked.push((seq, id)),
                ServerFrame::Msg { id, .. } => seen.push(id),
                f => panic!("sender {k}: unexpected {f:?}"),
            }
        }
        let seqs: Vec<u32> = acked.iter().map(|a| a.0).collect();
        assert_eq!(seqs, (1..=EACH).collect::<Vec<_>>(), "ACKs in SAY order");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "MSGs in id order");
        let mut all: Vec<u64> = acked.iter().map(|a| a.1).chain(seen).collect();
        all.sort_unstable();
        assert_eq!(all, (1..=total).collect::<Vec<_>>(), "no gap, no echo");
    }
}

#[test]
fn the_last_1024_acked_seqs_are_remembered() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let says: Vec<ClientFrame> = (1..=1100).map(|i| say_f("lobby", i, "m")).collect();
    v[0].send_raw(&batch(&says));
    let mut acks = Vec::new();
    for seq in 1..=1100u32 {
        match v[0].recv_app() {
            f @ ServerFrame::Ack { seq: s, .. } if s == seq => acks.push(f),
            f => panic!("expected ACK {seq}, got {f:?}"),
        }
    }
    for _ in 0..1100 {
        v[1].recv_app();
    }
    // The oldest of the last 1 024 (seq 77) and the newest are answered
    // from memory, with no new message.
    for seq in [77u32, 500, 1100] {
        v[0].send(&say_f("lobby", seq, "again"));
        assert_eq!(v[0].recv_app(), acks[seq as usize - 1]);
    }
    v[1].expect_silence(Duration::from_millis(200));
}

#[test]
fn seq_memory_belongs_to_the_session_not_the_name() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    say(&mut v[0], "lobby", 1, "first session");
    assert!(matches!(v[1].recv_app(), ServerFrame::Msg { id: 1, .. }));
    v[0].send(&ClientFrame::Quit { reason: "".into() });
    v[0].expect_closed();
    assert!(matches!(v[1].recv_app(), ServerFrame::Presence { .. }));
    let mut ada = s.login("ada");
    join(&mut ada, "lobby", "lobby", 0, 0);
    assert_eq!(v[1].recv_app(), presence("lobby", "ada", JOINED_EV));
    // A new session starts its seqs again: seq 1 is a new message.
    assert_eq!(say(&mut ada, "lobby", 1, "second session").0, 2);
    let ServerFrame::Msg { id, text, .. } = v[1].recv_app() else {
        panic!("expected MSG");
    };
    assert_eq!((id, text.as_str()), (2, "second session"));
}
