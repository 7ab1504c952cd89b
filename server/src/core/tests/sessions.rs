//! Handshake, sessions, resume and takeover, lingering, heartbeats and the
//! slow-consumer drop, with made-up time.

use super::*;
use banter_proto::{ErrorCode, PresenceEvent};

#[test]
fn hello_bytes_in_welcome_bytes_out() {
    let mut k = Kit::new(&[]);
    let p = k.connect();
    // The spec's HELLO test vector, split across two reads.
    let v = [0, 0, 0, 0x12, 1, 0, 1, 0, 3, b'a', b'd', b'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    k.send_raw(p, &v[..7]);
    assert!(k.recv(p).is_empty(), "nothing before the frame is whole");
    k.send_raw(p, &v[7..]);
    let got = k.recv(p);
    match &got[0] {
        ServerFrame::Welcome {
            version: 1, name, resumed: 0, max_frame: 65_536, features, ..
        } => {
            assert_eq!(name, "ada");
            assert_eq!(features, &["dm", "receipts"]);
        }
        other => panic!("{other:?}"),
    }
    assert_ne!(token_of(&got[0]), 0);
    assert!(matches!(got[1], ServerFrame::Notice { .. }));
}

#[test]
fn a_first_frame_other_than_hello_is_fatal() {
    let mut k = Kit::new(&[]);
    let p = k.connect();
    k.send(p, ClientFrame::Ping { nonce: 1 });
    let got = k.recv(p);
    assert_eq!(error_code(&got[0]), Some(ErrorCode::HelloFirst));
    assert!(k.core.peer(p).unwrap().is_closing());
}

#[test]
fn resume_answers_a_fresh_token_and_the_old_one_is_dead() {
    let mut k = Kit::new(&[]);
    let a = k.connect();
    k.send(a, hello("ada", "", 0));
    let first = token_of(&k.recv(a)[0]);
    k.core.peer_closed(a);
    let b = k.connect();
    k.send(b, hello("ada", "", first));
    let got = k.recv(b);
    let second = token_of(&got[0]);
    assert!(matches!(got[0], ServerFrame::Welcome { resumed: 1, .. }));
    assert_ne!(second, first, "a resume issues a new token");
    // The leaked old token no longer resumes anything: the name is taken.
    let c = k.connect();
    k.send(c, hello("ada", "", first));
    assert_eq!(error_code(&k.recv(c)[0]), Some(ErrorCode::NameTaken));
    // The new one does, and supersedes the open connection.
    let d = k.connect();
    k.send(d, hello("ada", "", second));
    assert!(matches!(k.recv(d)[0], ServerFrame::Welcome { resumed: 1, .. }));
    assert_eq!(error_code(&k.recv(b)[0]), Some(ErrorCode::Superseded));
}

#[test]
fn no_randomness_means_no_session() {
    let mut k = Kit::new(&[]);
    k.core.random = |_| false;
    let p = k.connect();
    k.send(p, hello("ada", "", 0));
    let got = k.recv(p);
    assert_eq!(error_code(&got[0]), Some(ErrorCode::Storage), "{got:?}");
    assert!(k.core.peer(p).unwrap().is_closing());
    assert!(k.core.names.is_empty(), "no session was opened");
}

#[test]
fn a_dropped_session_lingers_then_is_lost() {
    let mut k = Kit::new(&["--linger-ms", "10000", "--heartbeat-ms", "60000"]);
    let ada = k.member("ada", "lobby");
    let bob = k.member("bob", "lobby");
    k.recv(ada);
    k.core.peer_closed(bob);
    k.advance(9_900);
    assert!(k.recv_app(ada).is_empty(), "nothing while bob lingers");
    k.advance(200);
    let got = k.recv_app(ada);
    let lost = ServerFrame::Presence {
        room: "lobby".into(),
        name: "bob".into(),
        event: PresenceEvent::Lost as u8,
        reason: String::new(),
    };
    assert_eq!(got, vec![lost]);
    let again = k.login("bob");
    assert!(k.core.peer(again).is_some(), "the name is free again");
}

#[test]
fn heartbeat_pings_then_drops_a_silent_peer() {
    let mut k = Kit::new(&["--heartbeat-ms", "1000"]);
    let p = k.login("ada");
    k.advance(1_050);
    assert!(matches!(k.recv(p)[..], [ServerFrame::Ping { .. }]));
    k.advance(1_000);
    let got = k.recv(p);
    assert_eq!(error_code(&got[0]), Some(ErrorCode::Timeout), "{got:?}");
}

#[test]
fn an_unfinished_handshake_times_out() {
    let mut k = Kit::new(&["--heartbeat-ms", "1000"]);
    let p = k.connect();
    k.send_raw(p, &[0, 0]);
    k.advance(1_100);
    assert_eq!(error_code(&k.recv(p)[0]), Some(ErrorCode::Timeout));
    k.advance(1_100);
    assert!(k.core.peer(p).unwrap().expired, "the close deadline passed");
}

#[test]
fn a_slow_consumer_is_dropped_with_its_stream_whole() {
    let mut k = Kit::new(&["--rate", "0", "--out-limit", "65536"]);
    let reader = k.member("reader", "lobby");
    let talker = k.member("talker", "lobby");
    k.recv(reader);
    let text = "x".repeat(4000);
    k.send(talker, say("lobby", 1, &text));
    k.turn();
    // The transport takes 100 bytes of the first MSG, then stalls.
    let out = k.core.output(reader).unwrap();
    let first_len = out.pending();
    let mut s = [std::io::IoSlice::new(&[]); 4];
    out.slices(&mut s);
    let mut sent = s[0][..100].to_vec();
    out.consume(100);
    for seq in 2..=20 {
        k.send(talker, say("lobby", seq, &text));
        k.turn();
    }
    sent.extend(k.recv_bytes(reader));
    let frames = decode_all(&sent);
    assert!(
        matches!(frames[0], ServerFrame::Msg { id: 1, .. }),
        "the MSG partway written is finished"
    );
    assert_eq!(frames.len(), 2, "everything unsent after it is dropped: {frames:?}");
    assert_eq!(error_code(&frames[1]), Some(ErrorCode::SlowConsumer));
    assert!(first_len > 4000);
    // The talker is unaffected.
    assert!(k.recv(talker).iter().all(|f| matches!(f, ServerFrame::Ack { .. })));
}

fn decode_all(bytes: &[u8]) -> Vec<ServerFrame> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = check(&bytes[at..], u32::MAX).expect("whole frames");
        out.push(decode_server(&bytes[at..at + n]).expect("decodes"));
        at += n;
    }
    out
}

#[test]
fn a_transport_backlog_counts_toward_the_output_limit() {
    let mut k = Kit::new(&["--out-limit", "65536"]);
    let reader = k.member("reader", "lobby");
    let talker = k.member("talker", "lobby");
    k.recv(reader);
    k.core.flushed(reader, 65_000); // bytes a TLS or WebSocket layer still holds
    k.send(talker, say("lobby", 1, &"y".repeat(1000)));
    k.turn();
    assert_eq!(error_code(&k.recv(reader)[0]), Some(ErrorCode::SlowConsumer));
}

#[test]
fn frames_behind_a_password_hello_wait_for_the_check() {
    let mut k = Kit::new(&[]);
    assert!(k.core.store.create_account("bob", "Bob", "$argon2id$stored").unwrap());
    let p = k.connect();
    let mut bytes = hello("BOB", "right password", 0).to_bytes();
    ClientFrame::Join { room: "r".into(), since: 0, limit: 0 }.encode(&mut bytes);
    k.send_raw(p, &bytes);
    assert!(k.recv(p).is_empty(), "nothing until the hasher answers");
    assert_eq!(k.answer_auth(AuthOutcome::Verified(true)), 1);
    let got = k.recv_app(p);
    assert!(matches!(&got[0], ServerFrame::Welcome { name, .. } if name == "Bob"), "{got:?}");
    assert!(matches!(&got[1], ServerFrame::Joined { .. }), "the JOIN that waited: {got:?}");
    let mut resumed = Vec::new();
    k.core.take_resumed(&mut resumed);
    assert_eq!(resumed, [p], "the reactor is told to read again");
    let q = k.connect();
    k.send(q, hello("bob", "wrong", 0));
    k.answer_auth(AuthOutcome::Verified(false));
    assert_eq!(error_code(&k.recv(q)[0]), Some(ErrorCode::NameTaken), "bob is signed in");
}

#[test]
fn a_wrong_password_is_auth_failed_and_a_closed_peer_is_not_answered() {
    let mut k = Kit::new(&[]);
    k.core.store.create_account("bob", "bob", "$argon2id$stored").unwrap();
    let p = k.connect();
    k.send(p, hello("bob", "wrong", 0));
    k.answer_auth(AuthOutcome::Verified(false));
    assert_eq!(error_code(&k.recv(p)[0]), Some(ErrorCode::AuthFailed));
    let q = k.connect();
    k.send(q, hello("bob", "right", 0));
    k.core.peer_closed(q);
    k.answer_auth(AuthOutcome::Verified(true));
    assert!(k.core.names.is_empty(), "no session for a peer that left while waiting");
}
