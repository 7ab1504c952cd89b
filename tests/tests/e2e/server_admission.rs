//! Admission control (spec §6 "Added for hostile networks", issue 15):
//! connections per address (`--max-per-ip`) and new connections per second
//! (`--conn-rate`), both SERVER_FULL with the reason as detail; budgets of
//! JOIN/LEAVE and WHO/HISTORY answered RATE_LIMITED, not fatal; lingering
//! sessions bounded per address. Other hosts are simulated with source
//! addresses in 127.0.0.0/8.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::net::Ipv4Addr;

const HOST_A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const HOST_B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// Reads the fatal ERROR a refused connection gets; returns its detail.
fn refused(c: &mut Conn) -> String {
    let frames = c.expect_closed();
    match frames.as_slice() {
        [f] => assert_error(f, ErrorCode::ServerFull, 0, 0),
        other => panic!("expected one SERVER_FULL, got {other:?}"),
    }
}

/// Logs `name` in from `src`.
fn login_from(s: &Server, src: Ipv4Addr, name: &str) -> Conn {
    let mut c = s.connect_from(src);
    c.hello(name, "", 0);
    c.expect_welcome();
    c
}

#[test]
fn one_address_gets_max_per_ip_connections() {
    let s = Server::start(&["--max-per-ip", "3", "--conn-rate", "0"]);
    let mut held: Vec<Conn> = (0..3).map(|i| login_from(&s, HOST_A, &format!("a{i}"))).collect();
    let mut c = s.connect_from(HOST_A);
    let detail = refused(&mut c);
    assert!(detail.contains("127.0.0.2") && detail.contains('3'), "{detail}");
    // Another host still gets in, and a closed connection frees a place.
    let _b = login_from(&s, HOST_B, "b");
    held[0].send(&ClientFrame::Quit { reason: String::new() });
    held[0].expect_closed();
    login_from(&s, HOST_A, "a3");
}

#[test]
fn the_default_per_address_limit_is_32() {
    let s = Server::start(&["--conn-rate", "0"]);
    let _held: Vec<Conn> = (0..32).map(|i| login_from(&s, HOST_A, &format!("a{i}"))).collect();
    refused(&mut s.connect_from(HOST_A));
    login_from(&s, HOST_B, "b");
}

#[test]
fn new_connections_per_second_are_limited_per_address() {
    let s = Server::start(&["--conn-rate", "2", "--max-per-ip", "0"]);
    let mut conns: Vec<Conn> = (0..8).map(|_| s.connect_from(HOST_A)).collect();
    for c in &mut conns {
        c.hello("x", "", 0); // each answered: WELCOME, NAME_TAKEN or SERVER_FULL
    }
    let mut full = 0;
    for c in &mut conns {
        if let Some(ServerFrame::Error { code, detail, .. }) = c.recv_within(WAIT) {
            if code == ErrorCode::ServerFull as u16 {
                assert!(detail.contains("new connections"), "{detail}");
                full += 1;
            }
        }
    }
    // A burst of 4, plus what a slow machine regained meanwhile.
    assert!(full >= 2, "{full} refused");
    login_from(&s, HOST_B, "b");
}

#[test]
fn room_and_query_budgets_answer_rate_limited_and_go_on() {
    let s = Server::start(&["--join-rate", "1", "--query-rate", "1"]);
    let mut c = s.login("ada");
    let mut frames = Vec::new();
    for i in 0..60 {
        frames.push(join_f(&format!("r{i}"), 0, 0));
        frames.push(ClientFrame::Leave { room: format!("r{i}") });
    }
    c.send_raw(&batch(&frames));
    // One answer per frame: JOINED (its ROSTER aside), LEFT or an ERROR.
    let mut limited = 0;
    for _ in 0..120 {
        let f = loop {
            match next_app(&mut c) {
                ServerFrame::Roster { .. } => {}
                f => break f,
            }
        };
        match &f {
            ServerFrame::Joined { .. } | ServerFrame::Left { .. } => {}
            ServerFrame::Error { code: 13, about: types::LEAVE, .. } => {} // its JOIN was refused
            ServerFrame::Error { about, .. } => {
                assert!([types::JOIN, types::LEAVE].contains(about), "{f:?}");
                assert_error(&f, ErrorCode::RateLimited, *about, 0);
                limited += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(limited >= 10, "{limited} refused of 120");
    c.send_raw(&batch(&[
        ClientFrame::Who { room: "lobby".into() },
        ClientFrame::Who { room: "lobby".into() },
        ClientFrame::Who { room: "lobby".into() },
    ]));
    let answers: Vec<ServerFrame> = (0..3).map(|_| next_app(&mut c)).collect();
    let refused = answers.iter().filter(|f| matches!(f, ServerFrame::Error { code: 15, .. }));
    assert!(refused.count() >= 1, "{answers:?}");
    assert_alive(&mut c);
}

#[test]
fn lingering_sessions_are_bounded_per_address() {
    let s = Server::start(&["--max-per-ip", "2", "--conn-rate", "0", "--linger-ms", "60000"]);
    let mut w = login_from(&s, HOST_B, "watcher");
    join(&mut w, "lobby", "lobby", 0, 0);
    for i in 0..4 {
        let mut g = login_from(&s, HOST_A, &format!("g{i}"));
        join(&mut g, "lobby", "lobby", 0, 0);
        drop(g); // lingers for a minute
    }
    // Two linger at most: the two oldest are lost at once, not in a minute
    // (interleaved with the later JOINs: the server sees closes and new
    // connections in either order).
    let seen: Vec<ServerFrame> = (0..6).map(|_| next_app(&mut w)).collect();
    for i in 0..2 {
        assert!(seen.contains(&presence("lobby", &format!("g{i}"), LOST_EV)), "{seen:?}");
    }
    let a = join(&mut w, "lobby", "lobby", 0, 0);
    assert_eq!(a.names(), ["watcher", "g2", "g3"]);
}

#[test]
fn peers_trickling_a_frame_are_reaped_and_free_their_places() {
    let s = Server::start(&[
        "--max-clients",
        "3",
        "--max-per-ip",
        "0",
        "--heartbeat-ms",
        "400",
        "--min-rate",
        "100",
    ]);
    let mut slow: Vec<Conn> = (0..3).map(|i| s.login(&format!("slow{i}"))).collect();
    let frame = say_f("lobby", 1, &"x".repeat(500)).to_bytes();
    let start = std::time::Instant::now();
    let mut at = 0;
    // A byte every 50 ms each: heard from all the time, never a whole frame.
    while slow.iter_mut().any(|c| !c.is_closed()) {
        assert!(start.elapsed() < WAIT * 2, "trickling peers were never dropped");
        for c in &mut slow {
            let _ = std::io::Write::write_all(&mut c.stream, &frame[at..at + 1]);
        }
        at += 1;
    }
    for c in &mut slow {
        let timeout = c.expect_closed().into_iter().any(
            |f| matches!(f, ServerFrame::Error { code, .. } if code == ErrorCode::Timeout as u16),
        );
        assert!(timeout, "dropped with TIMEOUT");
    }
    s.login("honest");
    s.wait_log("trickled in too slowly");
}

#[test]
fn a_flood_of_connections_is_summarised_in_the_log() {
    let s = Server::start(&["--max-per-ip", "0", "--conn-rate", "0", "--max-clients", "500"]);
    for _ in 0..300 {
        drop(s.connect());
    }
    let line = s.wait_log("not logged since");
    assert!(line.contains("accepts") && line.contains("closes"), "{line}");
    let one_by_one = s.log().iter().filter(|l| l.contains("] accept ")).count();
    assert!(one_by_one < 150, "{one_by_one} accept lines for 300 connections");
}

/// A PROXY v1 line naming `src` as the client.
fn proxy_v1(src: &str, port: u16) -> Vec<u8> {
    format!("PROXY TCP4 {src} 127.0.0.1 {port} 3000\r\n").into_bytes()
}

/// A PROXY v2 header naming `src` as the client.
fn proxy_v2(src: [u8; 4], port: u16) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.extend([0x21, 0x11, 0, 12]);
    h.extend(src);
    h.extend([127, 0, 0, 1]);
    h.extend(port.to_be_bytes());
    h.extend(3000u16.to_be_bytes());
    h
}

/// Connects from 127.0.0.1 (the listed proxy), sends `header` and a HELLO
/// as `name` in one write.
fn via_proxy(s: &Server, header: &[u8], name: &str) -> Conn {
    let mut c = s.connect();
    let mut bytes = header.to_vec();
    bytes.extend(hello_f(name, "", 0).to_bytes());
    c.send_raw(&bytes);
    c
}

#[test]
fn behind_a_listed_proxy_limits_apply_to_the_real_address() {
    let s = Server::start(&["--proxy-from", "127.0.0.1/32", "--max-per-ip", "2"]);
    let mut held = Vec::new();
    for (i, header) in
        [proxy_v1("203.0.113.9", 5001), proxy_v2([203, 0, 113, 9], 5002)].iter().enumerate()
    {
        let mut c = via_proxy(&s, header, &format!("u{i}"));
        c.expect_welcome();
        held.push(c);
    }
    // A third from the same real address: refused, and the detail names it.
    let mut c = via_proxy(&s, &proxy_v1("203.0.113.9", 5003), "u2");
    assert!(refused(&mut c).contains("203.0.113.9"));
    // Another real address behind the same proxy is fine, even split up.
    let mut c = s.connect();
    let header = proxy_v2([198, 51, 100, 1], 6000);
    c.send_raw(&header[..7]);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let mut rest = header[7..].to_vec();
    rest.extend(hello_f("other", "", 0).to_bytes());
    c.send_raw(&rest);
    c.expect_welcome();
    c.send(&ClientFrame::Quit { reason: String::new() });
    c.expect_closed();
    s.wait_log("(for 198.51.100.1:6000)");
}

#[test]
fn a_proxy_header_from_anyone_else_is_just_bytes() {
    let s = Server::start(&["--proxy-from", "127.0.0.1/32"]);
    // From 127.0.0.2, a v2 header's CR LF CR LF is a Banter length of 218
    // MB: refused. (A v1 line starts with a letter: an HTTP request there.)
    let mut c = s.connect_from(HOST_A);
    c.send_raw(&proxy_v2([203, 0, 113, 9], 5001));
    expect_fatal(&mut c, ErrorCode::TooLarge, 0);
    let mut c = s.connect_from(HOST_A);
    c.send_raw(&proxy_v1("203.0.113.9", 5001));
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut c.stream, &mut answer);
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
    // From the proxy, a stream that is no PROXY header is dropped unanswered.
    let mut c = s.connect();
    c.send_raw(&hello_f("sneaky", "", 0).to_bytes());
    assert!(c.expect_closed().is_empty());
    s.wait_log("bad PROXY header");
}
