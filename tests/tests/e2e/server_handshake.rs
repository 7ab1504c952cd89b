//! The handshake (spec §4 "Handshake"): WELCOME's fields, the order of the
//! checks (version, name, name taken, password), HELLO_FIRST, a malformed
//! HELLO, a second HELLO, the handshake deadline, pipelined frames.
//!
//! Passwords and resumes are covered in `server_accounts` and
//! `server_sessions`; here only what decides whether a first HELLO opens a
//! session.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::{Duration, Instant};

/// The spec's HELLO test vector (name "ada", no password, no resume).
const HELLO_VECTOR: [u8; 22] = [
    0x00, 0x00, 0x00, 0x12, 0x01, 0x00, 0x01, 0x00, 0x03, 0x61, 0x64, 0x61, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

#[test]
fn welcome_carries_the_defaults_and_a_notice_follows() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.send_raw(&HELLO_VECTOR);
    let ServerFrame::Welcome {
        version,
        name,
        token,
        resumed,
        heartbeat_ms,
        max_frame,
        max_text,
        server,
        ..
    } = c.recv()
    else {
        panic!("WELCOME must be the first frame");
    };
    assert_eq!((version, name.as_str(), resumed), (1, "ada", 0));
    assert_ne!(token, 0, "token must be non-zero");
    assert_eq!((heartbeat_ms, max_frame, max_text), (5000, 65_536, 4096));
    // proto/PROTOCOL.md: WELCOME.server is `banterd <version>`, NOTICE follows.
    assert_eq!(server, format!("banterd {}", env!("CARGO_PKG_VERSION")));
    assert!(matches!(c.recv(), ServerFrame::Notice { .. }), "NOTICE greeting");
}

#[test]
fn welcome_announces_the_configured_limits() {
    let args = ["--heartbeat-ms", "700", "--max-frame", "2048", "--max-text", "1000"];
    let s = Server::start(&args);
    let mut c = s.connect();
    c.hello("Ada_1.x-y", "", 0);
    let ServerFrame::Welcome { name, heartbeat_ms, max_frame, max_text, .. } = c.expect_welcome()
    else {
        unreachable!()
    };
    assert_eq!(name, "Ada_1.x-y", "name shown with its owner's case");
    assert_eq!((heartbeat_ms, max_frame, max_text), (700, 2048, 1000));
}

#[test]
fn tokens_are_fresh_per_session() {
    let s = Server::start(&[]);
    let tokens: Vec<u64> = ["a1", "a2", "a3", "a4"].iter().map(|n| s.login(n).token).collect();
    for (i, t) in tokens.iter().enumerate() {
        assert_ne!(*t, 0);
        assert!(!tokens[i + 1..].contains(t), "token reused: {tokens:?}");
    }
}

#[test]
fn bad_version_is_checked_first_and_fatal() {
    let s = Server::start(&[]);
    for version in [0u16, 2, 0xffff] {
        let mut c = s.connect();
        // The name is invalid too: the version is checked first.
        c.send(&ClientFrame::Hello {
            version,
            name: "@bad name".into(),
            password: String::new(),
            resume: 0,
        });
        expect_fatal(&mut c, ErrorCode::BadVersion, types::HELLO);
    }
    // Only the version is read: a version-2 HELLO whose body is not a
    // version-1 body is still BAD_VERSION.
    let mut c = s.connect();
    c.send_raw(&raw_frame(types::HELLO, &[0, 2, 0xff]));
    expect_fatal(&mut c, ErrorCode::BadVersion, types::HELLO);
}

#[test]
fn invalid_names_are_refused_fatally() {
    let s = Server::start(&[]);
    let long = "a".repeat(33);
    for name in ["", "_ada", ".a", "-a", "@ada", "#ada", "a b", "é", "a/b", &long] {
        let mut c = s.connect();
        c.hello(name, "", 0);
        expect_fatal(&mut c, ErrorCode::NameInvalid, types::HELLO);
    }
    // The longest valid name is accepted.
    s.login(&"B".repeat(32));
}

#[test]
fn name_taken_case_insensitively_and_the_owner_is_unaffected() {
    let s = Server::start(&[]);
    let mut ada = s.login("Ada");
    for name in ["ada", "ADA", "aDa"] {
        let mut c = s.connect();
        c.hello(name, "", 0);
        expect_fatal(&mut c, ErrorCode::NameTaken, types::HELLO);
        // A resume token that is not the session's does not help.
        let mut c = s.connect();
        c.hello(name, "", ada.token ^ 1);
        expect_fatal(&mut c, ErrorCode::NameTaken, types::HELLO);
    }
    assert_alive(&mut ada);
}

#[test]
fn checks_run_in_the_spec_order() {
    let s = Server::start(&[]);
    let _ada = s.login("ada");
    // Invalid name beats "taken": "ada!" is invalid, not taken.
    let mut c = s.connect();
    c.hello("ada!", "", 0);
    expect_fatal(&mut c, ErrorCode::NameInvalid, types::HELLO);
    // BAD_VERSION beats NAME_TAKEN.
    let mut c = s.connect();
    c.send(&ClientFrame::Hello {
        version: 3,
        name: "ada".into(),
        password: String::new(),
        resume: 0,
    });
    expect_fatal(&mut c, ErrorCode::BadVersion, types::HELLO);
}

#[test]
fn any_first_frame_but_hello_is_hello_first() {
    let s = Server::start(&[]);
    let cases: Vec<(u8, Vec<u8>)> = vec![
        (types::JOIN, join_f("lobby", 0, 0).to_bytes()),
        (types::PING, ServerFrame::Ping { nonce: 1 }.to_bytes()),
        (types::SAY, say_f("lobby", 1, "hi").to_bytes()),
        (0x50, raw_frame(0x50, b"whatever")),
        (types::JOIN, raw_frame(types::JOIN, &[0])), // malformed JOIN
        (types::WELCOME, raw_frame(types::WELCOME, &[])),
    ];
    for (about, bytes) in cases {
        let mut c = s.connect();
        c.send_raw(&bytes);
        expect_fatal(&mut c, ErrorCode::HelloFirst, about);
    }
}

#[test]
fn malformed_hello_is_a_fatal_bad_frame() {
    let s = Server::start(&[]);
    let mut truncated = vec![0, 1];
    put_str(&mut truncated, b"ada");
    put_str(&mut truncated, b"");
    truncated.extend_from_slice(&[0, 0, 0]); // resume cut short
    let mut bad_utf8 = vec![0, 1];
    put_str(&mut bad_utf8, &[0x61, 0xff, 0x62]);
    put_str(&mut bad_utf8, b"");
    bad_utf8.extend_from_slice(&[0; 8]);
    let str_past_end = vec![0, 1, 0, 40, b'a'];
    for body in [truncated, bad_utf8, str_past_end, vec![0]] {
        let mut c = s.connect();
        c.send_raw(&raw_frame(types::HELLO, &body));
        expect_fatal(&mut c, ErrorCode::BadFrame, types::HELLO);
    }
}

#[test]
fn trailing_bytes_after_hello_fields_are_ignored() {
    let s = Server::start(&[]);
    let mut bytes = hello_f("ada", "", 0).to_bytes();
    bytes.extend_from_slice(b"future");
    let len = u32::try_from(bytes.len() - 4).expect("small");
    bytes[..4].copy_from_slice(&len.to_be_bytes());
    let mut c = s.connect();
    c.send_raw(&bytes);
    c.expect_welcome();
    assert_alive(&mut c);
}

#[test]
fn second_hello_is_a_non_fatal_bad_frame() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    c.hello("ada", "", 0);
    expect_error(&mut c, ErrorCode::BadFrame, types::HELLO, 0);
    c.hello("bob", "", 0);
    expect_error(&mut c, ErrorCode::BadFrame, types::HELLO, 0);
    assert_alive(&mut c);
    // The session is still ada's, and bob is still free.
    s.login("bob");
}

#[test]
fn unfinished_handshake_times_out_after_heartbeat_ms() {
    let s = Server::start(&["--heartbeat-ms", "300"]);
    let start = Instant::now();
    let mut silent = s.connect();
    let mut partial = s.connect();
    // Half a HELLO: the deadline is about finishing the handshake.
    partial.send_raw(&HELLO_VECTOR[..7]);
    expect_fatal(&mut silent, ErrorCode::Timeout, 0);
    expect_fatal(&mut partial, ErrorCode::Timeout, 0);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_millis(2500),
        "handshake deadline of 300 ms took {took:?}"
    );
}

#[test]
fn frames_pipelined_after_hello_are_handled_in_order_after_welcome() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.send_raw(&batch(&[
        hello_f("ada", "", 0),
        join_f("lobby", 0, 5),
        say_f("lobby", 1, "first"),
        ClientFrame::Ping { nonce: 9 },
    ]));
    c.expect_welcome();
    let a = read_join(&mut c, "lobby", 5);
    assert_eq!(a.names(), ["ada"]);
    assert_eq!(
        a.joined,
        ServerFrame::Joined { read: 0, room: "lobby".into(), last_id: 0, members: 1 }
    );
    // The ACK and the PONG, in either order (the spec does not order the
    // answers of different frames).
    let mut two = [c.recv_app(), c.recv_app()];
    two.sort_by_key(|f| f.frame_type());
    let [pong, ack] = two;
    assert_eq!(pong, ServerFrame::Pong { nonce: 9 });
    assert!(matches!(ack, ServerFrame::Ack { seq: 1, id: 1, .. }), "{ack:?}");
}

#[test]
fn a_password_for_an_unregistered_name_is_ignored() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.hello("ada", "whatever-password", 0);
    // It is checked against a dummy hash first (proto/PROTOCOL.md): allow
    // for hashing on a busy machine.
    let f = next_app_within(&mut c, Duration::from_secs(20));
    assert!(matches!(f, ServerFrame::Welcome { resumed: 0, .. }), "{f:?}");
    assert_alive(&mut c);
}

#[test]
fn a_resume_token_of_no_session_opens_a_new_one() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.hello("ada", "", 0x1234_5678);
    let ServerFrame::Welcome { resumed, .. } = c.expect_welcome() else { unreachable!() };
    assert_eq!(resumed, 0);
}

#[test]
fn pipelined_frames_may_exceed_1024_bytes_in_all() {
    // The 1 024-byte limit is per frame: a HELLO followed by 60 JOINs
    // (about 1 300 bytes) in one write is handled whole.
    let s = Server::start(&[]);
    let mut frames = vec![hello_f("ada", "", 0)];
    frames.extend((0..60).map(|i| join_f(&format!("room-{i:02}"), 0, 0)));
    frames.push(ClientFrame::Ping { nonce: 60 });
    let bytes = batch(&frames);
    assert!(bytes.len() > 1024);
    let mut c = s.connect();
    c.send_raw(&bytes);
    c.expect_welcome();
    for i in 0..60 {
        assert_eq!(read_join(&mut c, &format!("room-{i:02}"), 0).names(), ["ada"]);
    }
    assert_eq!(c.recv_app(), ServerFrame::Pong { nonce: 60 });
}
