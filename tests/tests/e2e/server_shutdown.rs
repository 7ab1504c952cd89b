//! Shutdown (spec §4 "Shutdown"): on SIGTERM or SIGINT every client, logged
//! in or still in its handshake, gets ERROR SHUTTING_DOWN (about 0) and is
//! closed, and the process exits 0 promptly.
//!
//! Durability at shutdown (with `--db`) is the SQLite tests'.

use crate::server_util::*;
use banter_proto::ErrorCode;
use banter_tests::*;
use std::time::{Duration, Instant};

fn shutdown_on(sig: i32) {
    let mut s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    say(&mut v[0], "lobby", 1, "last words");
    let mut half = s.connect(); // no HELLO yet
    let t0 = Instant::now();
    s.signal(sig);
    for c in v.iter_mut().skip(1) {
        // bob still gets the MSG sent before the signal, then the ERROR.
        let f = c.recv_app();
        assert!(matches!(f, banter_proto::ServerFrame::Msg { id: 1, .. }), "{f:?}");
    }
    for c in v.iter_mut().chain([&mut half]) {
        expect_fatal(c, ErrorCode::ShuttingDown, 0);
    }
    let status = s.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert!(t0.elapsed() < Duration::from_secs(3), "took {:?}", t0.elapsed());
    // It stopped accepting.
    assert!(std::net::TcpStream::connect(s.addr).is_err());
}

#[test]
fn sigterm_says_shutting_down_to_everyone_and_exits_0() {
    shutdown_on(libc::SIGTERM);
}

#[test]
fn sigint_does_the_same() {
    shutdown_on(libc::SIGINT);
}

#[test]
fn shutdown_does_not_wait_long_for_a_client_that_never_reads() {
    let args = ["--rate", "0", "--out-limit", "67108864"];
    let mut s = Server::start(&args);
    let mut v = room_of(&s, &["bob", "ada"], "lobby");
    // ada never reads: 8 MB of MSGs pile up for her, most of them in the
    // server's own buffer (the output limit is 64 MiB).
    let text = "s".repeat(4000);
    for chunk in 0..250u32 {
        let says: Vec<_> = (1..=8).map(|i| say_f("lobby", chunk * 8 + i, &text)).collect();
        v[0].send_raw(&batch(&says));
        for _ in 0..8 {
            assert!(matches!(v[0].recv_app(), banter_proto::ServerFrame::Ack { .. }));
        }
    }
    let t0 = Instant::now();
    s.signal(libc::SIGTERM);
    expect_fatal(&mut v[0], ErrorCode::ShuttingDown, 0);
    let status = s.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(3), "flush not bounded: {took:?}");
}

#[test]
fn sighup_never_stops_the_server() {
    // `systemctl reload` (ops/banterd.service) sends SIGHUP.
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    s.signal(libc::SIGHUP);
    s.wait_log("SIGHUP");
    assert_alive(&mut c);
    s.login("bob");
}
