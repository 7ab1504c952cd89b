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
        assert!(matches!(f, banter_proto::Frame::Msg { id: 1, .. }), "{f:?}");
    }
    for c in v.iter_mut().chain([&mut half]) {
        expect_fatal(c, ErrorCode::ShuttingDown, 0);
    }
    let status = s.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
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
