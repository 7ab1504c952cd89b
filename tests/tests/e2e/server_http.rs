//! HTTP/1.1 on the Banter port (§7): told by a first letter, one request
//! per connection with `Connection: close`, `/healthz`, `/metrics`, 404,
//! 405, 400 for malformed requests, 431 over 8 KiB of headers, a request
//! split into many writes, and an idle HTTP connection closed at the
//! handshake deadline.

use banter_tests::*;
use std::io::Write;
use std::time::{Duration, Instant};

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[test]
fn healthz_answers_ok_and_closes() {
    let s = Server::start(&[]);
    let (status, head, body) = http(s.addr, None, HEALTH);
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]), "{head}");
    assert!(head.contains("Connection: close\r\n"), "{head}");
    let mut c = s.login("after"); // Banter on the same port, unaffected
    c.send(&banter_proto::ClientFrame::Ping { nonce: 3 });
    assert!(matches!(c.recv_app(), banter_proto::ServerFrame::Pong { nonce: 3 }));
}

#[test]
fn a_request_split_into_single_bytes_is_answered() {
    let s = Server::start(&[]);
    let mut c = Conn::connect(s.addr);
    for b in HEALTH {
        c.stream.write_all(&[*b]).expect("byte");
    }
    let (head, _) = c.read_head();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
}

#[test]
fn unknown_paths_methods_and_garbage() {
    let s = Server::start(&[]);
    let cases: [(&[u8], u16); 5] = [
        (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
        (b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n", 400),
        (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"DELETE /metrics HTTP/1.1\r\n\r\n", 405),
    ];
    for (req, want) in cases {
        let (status, head, _) = http(s.addr, None, req);
        assert_eq!(status, want, "{}\n{head}", String::from_utf8_lossy(req));
        assert!(head.contains("Connection: close"), "{head}");
    }
}

#[test]
fn headers_over_8_kib_get_431() {
    let s = Server::start(&[]);
    let big = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n", "p".repeat(9000));
    let (status, _, _) = http(s.addr, None, big.as_bytes());
    assert_eq!(status, 431);
    let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
    let (status, _, _) = http(s.addr, None, format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes());
    assert_eq!(status, 431, "too many header lines");
}

#[test]
fn metrics_in_the_prometheus_text_format() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    c.send(&banter_proto::ClientFrame::Who { room: "nowhere".into() }); // one NOT_IN_ROOM
    c.recv_app();
    let (status, head, body) = http(s.addr, None, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let text = String::from_utf8(body).expect("UTF-8");
    for want in [
        "banter_sessions 1\n",
        "banter_connections{transport=\"tcp\"} 1\n",
        "banter_connections{transport=\"http\"} 1\n",
        "banter_errors_total{code=\"NOT_IN_ROOM\"} 1\n",
        "# TYPE banter_turn_seconds histogram\n",
        "banter_build_info{version=",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn an_idle_http_connection_is_closed_at_the_handshake_deadline() {
    let s = Server::start(&["--heartbeat-ms", "500"]);
    let mut c = Conn::connect(s.addr);
    c.stream.write_all(b"GET /healthz HTT").expect("part of a request");
    let t = Instant::now();
    let mut b = [0u8; 256];
    c.stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let n = std::io::Read::read(&mut c.stream, &mut b).unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer, not even a Banter ERROR: {:?}", &b[..n]);
    assert!(t.elapsed() < Duration::from_secs(4));
}

#[test]
fn the_web_client_is_served_with_its_content_types_and_a_self_only_policy() {
    let s = Server::start(&[]);
    let (status, head, body) = http(s.addr, None, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("Content-Type: text/html; charset=utf-8\r\n"), "{head}");
    assert!(head.contains("Content-Security-Policy: default-src 'self';"), "{head}");
    let page = String::from_utf8(body).expect("UTF-8 page");
    assert!(page.contains("app.js"), "the page loads its script");
    for (path, kind) in [
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let (status, head, body) = http(s.addr, None, req.as_bytes());
        assert_eq!(status, 200, "{path}: {head}");
        assert!(head.contains(&format!("Content-Type: {kind}")), "{path}: {head}");
        assert!(!body.is_empty());
    }
    let (status, _, _) = http(s.addr, None, b"GET /README.md HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 404, "only the page's own files are served");
}
