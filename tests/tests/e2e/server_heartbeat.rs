//! Heartbeats (spec §4 "Heartbeats"): the server PINGs after `heartbeat_ms`
//! of silence, drops with TIMEOUT after twice that, answers a client's PING
//! with PONG, and counts any byte of a frame still arriving as hearing.
//!
//! The handshake deadline is in `server_handshake`; the linger after a
//! timeout in `server_sessions`.

use crate::server_util::*;
use banter_proto::{ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::{Duration, Instant};

/// The spec's PING test vector, nonce 42.
const PING_VECTOR: [u8; 13] = [0, 0, 0, 9, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0x2a];

#[test]
fn client_ping_gets_pong_with_the_same_nonce() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    c.send_raw(&PING_VECTOR);
    assert_eq!(c.recv_app(), ServerFrame::Pong { nonce: 42 });
    for nonce in [0, 1, u64::MAX] {
        c.send(&ClientFrame::Ping { nonce });
        assert_eq!(c.recv_app(), ServerFrame::Pong { nonce });
    }
    // An unexpected PONG is ignored (proto/PROTOCOL.md).
    c.send(&ClientFrame::Pong { nonce: 5 });
    assert_alive(&mut c);
}

#[test]
fn server_pings_a_silent_client_and_a_pong_keeps_it() {
    let s = Server::start(&["--heartbeat-ms", "300"]);
    let mut c = s.login("ada");
    let t0 = Instant::now();
    let mut pings = 0;
    // For 1.5 s (five heartbeats): every frame is a PING, each answered.
    while t0.elapsed() < Duration::from_millis(1500) {
        match c.recv_within(Duration::from_millis(50)) {
            Some(ServerFrame::Ping { nonce }) => {
                if pings == 0 {
                    let at = t0.elapsed();
                    assert!(at >= Duration::from_millis(250), "first PING at {at:?}");
                }
                pings += 1;
                c.send(&ClientFrame::Pong { nonce });
            }
            Some(ServerFrame::Notice { .. }) => {}
            Some(f) => panic!("expected only PINGs, got {f:?}"),
            None => assert!(!c.is_closed(), "dropped although it answered"),
        }
    }
    assert!((2..=7).contains(&pings), "{pings} PINGs in 1.5 s at 300 ms");
    assert_alive(&mut c);
}

#[test]
fn a_client_that_never_answers_is_dropped_with_timeout() {
    let s = Server::start(&["--heartbeat-ms", "300"]);
    let mut c = s.login("ada");
    let t0 = Instant::now();
    let frames = c.expect_closed();
    let took = t0.elapsed();
    let (last, before) = frames.split_last().expect("ERROR TIMEOUT");
    assert_error(last, ErrorCode::Timeout, 0, 0);
    let pings = before.iter().filter(|f| matches!(f, ServerFrame::Ping { .. })).count();
    assert!(pings >= 1, "a PING before the drop: {before:?}");
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_millis(2500),
        "dropped after {took:?} for a 300 ms heartbeat"
    );
}

#[test]
fn bytes_of_a_slow_frame_count_as_hearing() {
    // 20 bytes a second is far under --min-rate's default: switched off
    // here (the reaper of trickled frames is tested in server_admission).
    let s = Server::start(&["--heartbeat-ms", "300", "--min-rate", "0"]);
    let mut v = room_of(&s, &["ada"], "lobby");
    let c = &mut v[0];
    // One SAY, one byte every 50 ms: about 1.3 s, over 4 × heartbeat_ms.
    let bytes = say_f("lobby", 1, "slow text").to_bytes();
    let mut seen = Vec::new();
    for b in &bytes {
        c.send_raw(&[*b]);
        if let Some(f) = c.recv_within(Duration::from_millis(50)) {
            seen.push(f);
        }
    }
    if !seen.iter().any(|f| matches!(f, ServerFrame::Ack { .. })) {
        seen.push(next_app(c));
    }
    let errors: Vec<&ServerFrame> =
        seen.iter().filter(|f| matches!(f, ServerFrame::Error { .. })).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let acks: Vec<&ServerFrame> =
        seen.iter().filter(|f| matches!(f, ServerFrame::Ack { .. })).collect();
    assert!(matches!(acks.as_slice(), [ServerFrame::Ack { seq: 1, id: 1, .. }]), "{seen:?}");
    assert_alive(c);
}

#[test]
fn a_client_heard_from_is_not_pinged() {
    let s = Server::start(&["--heartbeat-ms", "300"]);
    let mut c = s.login("ada");
    // A frame every 100 ms for 1.2 s: the server hears from ada all along,
    // so it owes only the PONGs.
    for nonce in 0..12 {
        c.send(&ClientFrame::Ping { nonce });
        match c.recv_within(Duration::from_millis(100)) {
            Some(ServerFrame::Notice { .. }) => assert_eq!(c.recv(), ServerFrame::Pong { nonce }),
            Some(f) => assert_eq!(f, ServerFrame::Pong { nonce }),
            None => panic!("no PONG {nonce}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
