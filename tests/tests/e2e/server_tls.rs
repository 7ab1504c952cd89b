//! TLS on the Banter port (§7): told by its first byte, ALPN `banter/1`,
//! `features` listing `tls` on every transport, certificate reload on
//! SIGHUP for new connections only, the password rule with `--trust-plain`
//! and `--require-tls` (ERROR TLS_REQUIRED, code 23), a handshake that
//! arrives a byte at a time, and garbage after `0x16`.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::pki::Pki;
use banter_tests::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// A server with a certificate from `pki`, plus `args`.
fn tls_server(pki: &Pki, args: &[&str]) -> Server {
    let (cert, key) = pki.server("server");
    let (cert, key) = (cert.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let mut all = vec!["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    all.extend_from_slice(args);
    Server::start(&all)
}

fn tls_conn(s: &Server, pki: &Pki) -> Conn {
    Conn::connect_tls(s.addr, pki.client_config(), "localhost").expect("TLS handshake")
}

fn features(f: &ServerFrame) -> Vec<String> {
    match f {
        ServerFrame::Welcome { features, .. } => features.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tls_user_and_a_plain_user_chat_in_one_room() {
    let pki = Pki::new("chat");
    let s = tls_server(&pki, &[]);
    let mut ada = tls_conn(&s, &pki);
    assert_eq!(ada.wire.alpn().as_deref(), Some(&b"banter/1"[..]));
    ada.hello("ada", "", 0);
    assert_eq!(features(&ada.expect_welcome()), ["tls", "dm", "receipts"]);
    let mut bob = s.connect();
    bob.hello("bob", "", 0);
    assert_eq!(
        features(&bob.expect_welcome()),
        ["tls", "dm", "receipts"],
        "tls is listed on every transport"
    );
    join(&mut ada, "lobby", "lobby", 0, 0);
    join(&mut bob, "lobby", "lobby", 0, 0);
    next_app(&mut ada); // bob joined
    say(&mut ada, "lobby", 1, "over TLS");
    assert!(matches!(next_app(&mut bob), ServerFrame::Msg { text, .. } if text == "over TLS"));
    say(&mut bob, "lobby", 1, "in clear");
    assert!(matches!(next_app(&mut ada), ServerFrame::Msg { text, .. } if text == "in clear"));
}

#[test]
fn sighup_swaps_the_certificate_for_new_connections_only() {
    let (old, new) = (Pki::new("old"), Pki::new("new"));
    let s = tls_server(&old, &[]);
    let mut early = tls_conn(&s, &old);
    early.hello("early", "", 0);
    early.expect_welcome();
    // The files now hold a certificate of another CA; SIGHUP reloads them.
    let (cert, key) = new.server("server");
    let (live_cert, live_key) = (old.dir.0.join("server.pem"), old.dir.0.join("server.key"));
    std::fs::copy(&cert, &live_cert).expect("swap cert");
    std::fs::copy(&key, &live_key).expect("swap key");
    s.signal(libc::SIGHUP);
    s.wait_log("certificate reloaded");
    assert!(
        Conn::connect_tls(s.addr, old.client_config(), "localhost").is_err(),
        "new connections get the new pair"
    );
    let mut late = tls_conn(&s, &new);
    late.hello("late", "", 0);
    late.expect_welcome();
    assert_alive(&mut early); // the open connection keeps its session (and its keys)
                              // A pair that fails to load keeps the one in use.
    std::fs::write(&live_cert, "not a certificate").expect("break cert");
    s.signal(libc::SIGHUP);
    s.wait_log("keeping the certificate in use");
    let mut again = tls_conn(&s, &new);
    again.hello("again", "", 0);
    again.expect_welcome();
}

#[test]
fn passwords_travel_only_over_tls_outside_trust_plain() {
    let pki = Pki::new("pw");
    let s = tls_server(&pki, &["--trust-plain", "none"]);
    let mut ada = tls_conn(&s, &pki);
    ada.hello("ada", "", 0);
    ada.expect_welcome();
    ada.send(&ClientFrame::Register { password: "correct horse".into() });
    assert!(matches!(next_app(&mut ada), ServerFrame::Registered { .. }));
    ada.send(&ClientFrame::Quit { reason: String::new() });
    ada.expect_closed();
    let mut plain = s.connect();
    plain.hello("ada", "correct horse", 0);
    expect_fatal(&mut plain, ErrorCode::TlsRequired, types::HELLO);
    let mut secure = tls_conn(&s, &pki);
    secure.hello("ada", "correct horse", 0);
    secure.expect_welcome();
    // Without a password plain TCP still works, but REGISTER over it does not.
    let mut bob = s.connect();
    bob.hello("bob", "", 0);
    bob.expect_welcome();
    bob.send(&ClientFrame::Register { password: "another secret".into() });
    expect_fatal(&mut bob, ErrorCode::TlsRequired, types::REGISTER);
}

#[test]
fn loopback_is_trusted_in_clear_by_default() {
    let pki = Pki::new("loop");
    let s = tls_server(&pki, &[]);
    let mut ada = s.connect();
    ada.hello("ada", "", 0);
    ada.expect_welcome();
    ada.send(&ClientFrame::Register { password: "correct horse".into() });
    assert!(matches!(next_app(&mut ada), ServerFrame::Registered { .. }));
}

#[test]
fn require_tls_refuses_plain_connections_and_http() {
    let pki = Pki::new("req");
    let s = tls_server(&pki, &["--require-tls", "--trust-plain", "none"]);
    let mut plain = s.connect();
    plain.hello("bob", "", 0);
    expect_fatal(&mut plain, ErrorCode::TlsRequired, types::HELLO);
    let mut secure = tls_conn(&s, &pki);
    secure.hello("bob", "", 0);
    secure.expect_welcome();
    let (status, head, _) = http(s.addr, None, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 426, "{head}");
    let (status, _, body) =
        http(s.addr, Some(pki.client_config()), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]));
}

#[test]
fn a_handshake_a_byte_at_a_time_still_completes() {
    let pki = Pki::new("slow");
    let s = tls_server(&pki, &[]);
    let mut sock = std::net::TcpStream::connect(s.addr).expect("connect");
    sock.set_nodelay(true).ok();
    sock.set_read_timeout(Some(WAIT)).ok();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = rustls::ClientConnection::new(pki.client_config(), name).expect("client");
    let mut hello = Vec::new();
    tls.write_tls(&mut hello).expect("ClientHello");
    for b in hello {
        sock.write_all(&[b]).expect("one byte");
    }
    while tls.is_handshaking() {
        tls.complete_io(&mut sock).expect("handshake");
    }
    let mut c = Conn::connect(s.addr); // the frame helpers, on this TLS socket
    c.stream = sock;
    c.wire = Wire::from_tls(tls);
    c.hello("slow", "", 0);
    c.expect_welcome();
}

#[test]
fn garbage_after_0x16_closes_only_that_connection() {
    let pki = Pki::new("junk");
    let s = tls_server(&pki, &[]);
    let mut ok = s.login("steady");
    let mut junk = s.connect();
    junk.stream.write_all(&[0x16, 0xff, 0x00, 0x10, 0x42, 0x42, 0x42, 0x42]).expect("junk");
    assert!(closes_within(&mut junk.stream, WAIT), "the junk connection is closed");
    assert_alive(&mut ok);
}

#[test]
fn tls_to_a_server_without_a_certificate_is_closed_at_once() {
    let pki = Pki::new("nocert");
    let s = Server::start(&[]);
    let t = Instant::now();
    assert!(Conn::connect_tls(s.addr, pki.client_config(), "localhost").is_err());
    assert!(t.elapsed() < Duration::from_secs(2), "closed at once, not at the deadline");
    let mut c = s.login("plain");
    assert_alive(&mut c);
}

#[test]
fn a_stalled_handshake_is_reaped_at_the_handshake_deadline() {
    let pki = Pki::new("stall");
    let s = tls_server(&pki, &["--heartbeat-ms", "500"]);
    let mut c = s.connect();
    c.stream.write_all(&[0x16, 0x03, 0x01, 0x01]).expect("half a record header");
    let t = Instant::now();
    assert!(closes_within(&mut c.stream, Duration::from_secs(5)));
    assert!(t.elapsed() >= Duration::from_millis(400), "not before the deadline");
}

/// Whether the server closes `sock` within `limit` (bytes it sends first
/// are read and dropped).
fn closes_within(sock: &mut std::net::TcpStream, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    let mut b = [0u8; 4096];
    while Instant::now() < end {
        sock.set_read_timeout(Some(Duration::from_millis(100))).ok();
        match sock.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}
