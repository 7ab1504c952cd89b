//! Limits and framing errors (spec §1 and §4 "Limits and errors"): TOO_LARGE
//! from the header alone before and after WELCOME, `len = 0`, unknown types
//! and malformed bodies after WELCOME, SERVER_FULL (flag and env), and the
//! rate limit.
//!
//! The slow consumer is in `server_slow`; frames split across reads in
//! `server_framing`.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::{Duration, Instant};

/// A bare header announcing `len`, with no body.
fn header(len: u32) -> Vec<u8> {
    len.to_be_bytes().to_vec()
}

#[test]
fn before_welcome_1024_is_the_limit() {
    let s = Server::start(&[]);
    // Exactly 1 024: a HELLO padded with a (ignored) password.
    let pad = 1024 - (1 + 2 + 2 + 3 + 2 + 8);
    let hello = hello_f("ada", &"p".repeat(pad), 0).to_bytes();
    assert_eq!(hello.len(), 1028);
    let mut c = s.connect();
    c.send_raw(&hello);
    // The password goes through a (dummy) hash check: allow for a busy CPU.
    let f = next_app_within(&mut c, Duration::from_secs(20));
    assert!(matches!(f, ServerFrame::Welcome { .. }), "{f:?}");
    // 1 025 is refused from the header alone: no body is ever sent.
    let mut c = s.connect();
    c.send_raw(&header(1025));
    expect_fatal(&mut c, ErrorCode::TooLarge, 0);
    let mut c = s.connect();
    c.send_raw(&header(u32::MAX));
    expect_fatal(&mut c, ErrorCode::TooLarge, 0);
}

#[test]
fn after_welcome_max_frame_is_the_limit() {
    let s = Server::start(&["--max-frame", "2048", "--max-text", "1920"]);
    let mut c = s.login("ada");
    join(&mut c, "lobby", "lobby", 0, 0);
    // len 2 048 is accepted (its text is too long: a non-fatal refusal).
    let room = b"lobby";
    let text_len = 2048 - (1 + 2 + room.len() + 4 + 2);
    let bytes = say_f("lobby", 1, &"x".repeat(text_len)).to_bytes();
    assert_eq!(bytes.len(), 2052);
    c.send_raw(&bytes);
    expect_error(&mut c, ErrorCode::TextInvalid, types::SAY, 1);
    c.send_raw(&header(2049));
    expect_fatal(&mut c, ErrorCode::TooLarge, 0);
    // The default limit is 65 536.
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    c.send_raw(&header(65_537));
    expect_fatal(&mut c, ErrorCode::TooLarge, 0);
}

#[test]
fn len_zero_is_a_fatal_bad_frame_about_0() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    c.send_raw(&header(0));
    expect_fatal(&mut c, ErrorCode::BadFrame, 0);
    let mut c = s.connect();
    c.send_raw(&header(0));
    expect_fatal(&mut c, ErrorCode::BadFrame, 0);
}

#[test]
fn unknown_types_are_skipped_with_unknown_type() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    // Unknown types, and server-to-client types (proto/PROTOCOL.md).
    // Every answer is collected first, so a failure lists all of them.
    let types = [0x00u8, 0x10, 0x20, 0x2d, 0x31, 0x32, 0x50, 0xff, 0x21, 0x25, 0x2c];
    let mut got = Vec::new();
    for ty in types {
        c.send_raw(&raw_frame(ty, b"\x00\x05lobby and more"));
        match c.recv_app() {
            ServerFrame::Error { code, about, seq, .. } => {
                got.push((ty, ErrorCode::from_code(code), about, seq))
            }
            f => panic!("type {ty:#x}: expected ERROR, got {f:?}"),
        }
    }
    let want: Vec<_> = types.iter().map(|&ty| (ty, Some(ErrorCode::UnknownType), ty, 0)).collect();
    assert_eq!(got, want);
    // Skipped by its length: the next frame in the same write is handled.
    let mut bytes = raw_frame(0x77, &[0xff; 300]);
    bytes.extend(ServerFrame::Ping { nonce: 3 }.to_bytes());
    c.send_raw(&bytes);
    expect_error(&mut c, ErrorCode::UnknownType, 0x77, 0);
    assert_eq!(c.recv_app(), ServerFrame::Pong { nonce: 3 });
}

#[test]
fn malformed_bodies_after_welcome_are_non_fatal_bad_frames() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    join(&mut c, "lobby", "lobby", 0, 0);
    let mut bad_utf8 = Vec::new();
    put_str(&mut bad_utf8, b"lob\xc3");
    bad_utf8.extend_from_slice(&[0; 10]);
    let cases: Vec<(u8, Vec<u8>)> = vec![
        (types::JOIN, vec![0, 5, b'l']),      // str past the end
        (types::JOIN, bad_utf8),              // invalid UTF-8
        (types::SAY, vec![0, 5, b'l', b'o']), // cut before the seq
        (types::LEAVE, vec![]),               // empty body
        (types::TYPING, vec![0, 5, b'l', b'o', b'b', b'b', b'y']), // no active
        (types::PING, vec![0, 0, 0]),         // nonce cut
        (types::QUIT, vec![0, 9]),            // reason cut
        (types::REGISTER, vec![0]),           // password length cut
    ];
    for (ty, body) in cases {
        let mut bytes = raw_frame(ty, &body);
        bytes.extend(ServerFrame::Ping { nonce: 77 }.to_bytes());
        c.send_raw(&bytes);
        expect_error(&mut c, ErrorCode::BadFrame, ty, 0);
        assert_eq!(c.recv_app(), ServerFrame::Pong { nonce: 77 }, "after {ty:#x}");
    }
    // Bytes after the known fields are ignored.
    let mut body = Vec::new();
    put_str(&mut body, b"lobby");
    body.extend_from_slice(&[0, 0, 0, 9]);
    put_str(&mut body, b"hi");
    body.extend_from_slice(b"trailing");
    c.send_raw(&raw_frame(types::SAY, &body));
    assert!(matches!(c.recv_app(), ServerFrame::Ack { seq: 9, id: 1, .. }));
}

#[test]
fn server_full_refuses_the_extra_connection() {
    let s = Server::start(&["--max-clients", "2"]);
    let mut ada = s.login("ada");
    let _half = s.connect(); // an unfinished handshake counts as open
    let mut c = s.connect();
    c.hello("cy", "", 0);
    expect_fatal(&mut c, ErrorCode::ServerFull, 0);
    // A connection the server is closing no longer counts.
    ada.send(&ClientFrame::Quit { reason: "".into() });
    ada.expect_closed();
    s.login("cy");
}

#[test]
fn max_clients_comes_from_the_environment_too() {
    let s = Server::start_with_env(&[], &[("MAX_CLIENTS", "1")]);
    let _ada = s.login("ada");
    let mut c = s.connect();
    c.hello("bob", "", 0);
    expect_fatal(&mut c, ErrorCode::ServerFull, 0);
}

#[test]
fn rate_limit_refuses_beyond_the_burst_then_refills() {
    let s = Server::start(&["--rate", "2"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let mut frames: Vec<ClientFrame> = (1..=10).map(|i| say_f("lobby", i, "x")).collect();
    // Typing counts too (refused: about TYPING, seq 0).
    frames.push(ClientFrame::Typing { room: "lobby".into(), active: 1 });
    v[0].send_raw(&batch(&frames));
    // Eleven answers; ACKs may come after later frames' ERRORs.
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for _ in 0..11 {
        match v[0].recv_app() {
            ServerFrame::Ack { seq, id, .. } => acked.push((seq, id)),
            f => refused.push(f),
        }
    }
    let last = refused.pop().expect("the TYPING's refusal");
    assert_error(&last, ErrorCode::RateLimited, types::TYPING, 0);
    for (f, seq) in refused.iter().zip(acked.len() as u32 + 1..) {
        assert_error(f, ErrorCode::RateLimited, types::SAY, seq);
    }
    assert_eq!(acked.len() + refused.len(), 10);
    // A burst of twice the rate: 4, maybe 5 if a token came back meanwhile.
    let n = acked.len();
    assert!((4..=5).contains(&n), "{acked:?}");
    let want: Vec<(u32, u64)> = (1..=n as u32).map(|i| (i, u64::from(i))).collect();
    assert_eq!(acked, want);
    let seen: Vec<ServerFrame> = (0..n).map(|_| v[1].recv_app()).collect();
    assert_eq!(ids(&seen), (1..=n as u64).collect::<Vec<_>>());
    v[1].expect_silence(Duration::from_millis(100));
    // Two tokens a second: after 600 ms one SAY passes again.
    std::thread::sleep(Duration::from_millis(600));
    say(&mut v[0], "lobby", 11, "later");
}

#[test]
fn rate_zero_disables_the_limit() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada"], "lobby");
    let says: Vec<ClientFrame> = (1..=300).map(|i| say_f("lobby", i, "x")).collect();
    v[0].send_raw(&batch(&says));
    for seq in 1..=300u32 {
        assert!(matches!(v[0].recv_app(), ServerFrame::Ack { seq: s, .. } if s == seq));
    }
}

/// Sends SAYs `seqs` to lobby in one write and counts the ACKs among the
/// answers (the rest are RATE_LIMITED).
fn acked_of(c: &mut Conn, seqs: std::ops::RangeInclusive<u32>) -> usize {
    let n = seqs.clone().count();
    c.send_raw(&batch(&seqs.map(|i| say_f("lobby", i, "x")).collect::<Vec<_>>()));
    let answers: Vec<ServerFrame> = (0..n).map(|_| next_app(c)).collect();
    for f in &answers {
        if !matches!(f, ServerFrame::Ack { .. }) {
            assert_error(f, ErrorCode::RateLimited, types::SAY, seq_of(f));
        }
    }
    answers.iter().filter(|f| matches!(f, ServerFrame::Ack { .. })).count()
}

fn seq_of(f: &ServerFrame) -> u32 {
    match f {
        ServerFrame::Error { seq, .. } | ServerFrame::Ack { seq, .. } => *seq,
        _ => 0,
    }
}

/// Tokens of a `rate`/s bucket regained since `since` (plus one for rounding).
fn regained(rate: u32, since: Instant) -> usize {
    (since.elapsed().as_secs_f64() * f64::from(rate)) as usize + 1
}

#[test]
fn a_resumed_session_keeps_its_rate_bucket() {
    let s = Server::start(&["--rate", "5", "--linger-ms", "5000"]);
    let mut v = room_of(&s, &["ada"], "lobby");
    assert_eq!(acked_of(&mut v[0], 1..=10), 10, "a burst of twice the rate");
    let spent = Instant::now();
    let token = v[0].token;
    drop(v.remove(0));
    let mut ada = s.connect();
    ada.hello("ada", "", token);
    ada.expect_welcome();
    // A fresh bucket would take all ten again; the session's own has only
    // what it regained since.
    let allowed = regained(5, spent).min(10);
    let acked = acked_of(&mut ada, 11..=20);
    assert!(acked <= allowed, "{acked} accepted, {allowed} regained");
}

#[test]
fn reconnecting_under_new_names_does_not_refill_the_address() {
    let s = Server::start(&["--rate", "5", "--linger-ms", "100"]);
    let start = Instant::now();
    let mut acked = 0;
    for i in 0..12 {
        let mut v = room_of(&s, &[&format!("u{i}")], "lobby");
        acked += acked_of(&mut v[0], 1..=10);
        v[0].send(&ClientFrame::Quit { reason: String::new() });
    }
    // Each new session has a burst of 10; the address, 4 x 10, refilled at
    // 4 x 5 a second.
    let allowed = 40 + regained(20, start);
    assert!(acked <= allowed.min(120), "{acked} accepted, {allowed} allowed");
    assert!(acked >= 40);
}
