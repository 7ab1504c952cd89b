//! WebSocket on the Banter port (§7): the upgrade and its refusals (key,
//! version, subprotocol, Origin), Banter frames split across and packed
//! into binary messages and fragments, masked frames only, text messages
//! (1003), oversized messages (1009), PING answered, close codes after a
//! fatal ERROR (1000) and on shutdown (1001), and sessions that resume
//! across transports.

use crate::server_util::*;
use banter_proto::{ClientFrame, ErrorCode, ServerFrame};
use banter_tests::wire::{ws_frame, ws_frame_unmasked};
use banter_tests::*;
use std::io::Write;
use std::time::Duration;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};

fn ws(s: &Server) -> Conn {
    Conn::connect(s.addr).upgrade_ws(None)
}

/// Sends raw bytes below the WebSocket layer (hand-made frames).
fn raw(c: &mut Conn, bytes: &[u8]) {
    c.wire.send_bytes(&mut c.stream, bytes).expect("send");
}

/// Waits for the server's CLOSE and returns its code.
fn close_code(c: &mut Conn) -> u16 {
    c.expect_closed();
    c.wire.close_code().expect("a CLOSE frame")
}

#[test]
fn a_websocket_user_chats_with_a_tcp_user() {
    let s = Server::start(&[]);
    let mut ada = ws(&s);
    ada.hello("ada", "", 0);
    ada.expect_welcome();
    let mut bob = s.login("bob");
    join(&mut ada, "lobby", "lobby", 0, 0);
    join(&mut bob, "lobby", "lobby", 0, 0);
    next_app(&mut ada);
    say(&mut bob, "lobby", 1, "to the browser");
    assert!(
        matches!(next_app(&mut ada), ServerFrame::Msg { text, .. } if text == "to the browser")
    );
    say(&mut ada, "lobby", 1, "from the browser");
    assert!(
        matches!(next_app(&mut bob), ServerFrame::Msg { text, .. } if text == "from the browser")
    );
}

#[test]
fn an_upgrade_request_in_single_bytes() {
    let s = Server::start(&[]);
    let mut c = Conn::connect(s.addr);
    for b in ws_request(&s.addr, None, "banter.1").bytes() {
        c.stream.write_all(&[b]).expect("byte");
    }
    let (head, rest) = c.read_head();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "RFC 6455's example key: {head}"
    );
    c.wire = std::mem::replace(&mut c.wire, Wire::plain()).upgraded(&rest);
    c.hello("ada", "", 0);
    c.expect_welcome();
}

#[test]
fn bad_upgrades_are_refused_with_their_status() {
    let s = Server::start(&["--allow-origin", "https://other.example"]);
    let base = ws_request(&s.addr, None, "banter.1");
    let cases: Vec<(String, u16)> = vec![
        (base.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"), 400),
        (base.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 12"), 426),
        (ws_request(&s.addr, None, "chat"), 400),
        (base.replace("Upgrade: websocket\r\n", ""), 400),
        (ws_request(&s.addr, Some("https://evil.example"), "banter.1"), 403),
        (ws_request(&s.addr, Some("https://localhost"), "banter.1"), 403),
    ];
    for (req, want) in cases {
        let (status, head, _) = http(s.addr, None, req.as_bytes());
        assert_eq!(status, want, "{req}\n{head}");
    }
    // The page's own origin, and an allowed one, get in.
    for origin in [format!("http://{}", s.addr), "https://other.example".to_string()] {
        let mut c = Conn::connect(s.addr).upgrade_ws(Some(&origin));
        c.hello("ok", "", 0);
        c.expect_welcome();
        c.send(&ClientFrame::Quit { reason: String::new() });
        c.expect_closed();
    }
}

#[test]
fn banter_frames_across_messages_and_fragments() {
    let s = Server::start(&[]);
    let mut c = ws(&s);
    let mut bytes = hello_f("ada", "", 0).to_bytes();
    bytes.extend(join_f("lobby", 0, 0).to_bytes());
    bytes.extend(ClientFrame::Ping { nonce: 9 }.to_bytes());
    // HELLO split across two messages; JOIN and PING in one message made of
    // three fragments, the middle one carrying part of each.
    let (a, rest) = bytes.split_at(7);
    raw(&mut c, &ws_frame(OpCode::Data(Data::Binary), true, a));
    let third = rest.len() / 3;
    raw(&mut c, &ws_frame(OpCode::Data(Data::Binary), false, &rest[..third]));
    raw(&mut c, &ws_frame(OpCode::Control(Control::Ping), true, b"mid-message"));
    raw(&mut c, &ws_frame(OpCode::Data(Data::Continue), false, &rest[third..2 * third]));
    raw(&mut c, &ws_frame(OpCode::Data(Data::Continue), true, &rest[2 * third..]));
    c.expect_welcome();
    let answers: Vec<ServerFrame> = (0..3).map(|_| next_app(&mut c)).collect();
    assert!(matches!(answers[0], ServerFrame::Joined { .. }), "{answers:?}");
    assert!(matches!(answers[2], ServerFrame::Pong { nonce: 9 }), "{answers:?}");
    assert_eq!(c.wire.pongs(), [b"mid-message".to_vec()], "the PING between fragments is answered");
}

#[test]
fn text_unmasked_and_oversized_messages_close_with_their_codes() {
    let s = Server::start(&["--max-frame", "2048"]);
    let mut c = ws(&s);
    raw(&mut c, &ws_frame(OpCode::Data(Data::Text), true, b"hello"));
    assert_eq!(close_code(&mut c), 1003);
    let mut c = ws(&s);
    raw(&mut c, &ws_frame_unmasked(OpCode::Data(Data::Binary), b"\0\0\0\x01\x0e"));
    assert_eq!(close_code(&mut c), 1002);
    // Signed in first (before WELCOME the core takes only small frames), the
    // payload opens with a Banter header announcing a frame the core accepts
    // (2 040 bytes), so only the message size can close it, whether the two
    // fragments arrive in one read or two.
    for (name, pause) in [("ada", Duration::ZERO), ("bob", Duration::from_millis(150))] {
        let mut c = ws(&s);
        c.hello(name, "", 0);
        c.expect_welcome();
        let mut first = vec![0u8; 2000];
        first[..4].copy_from_slice(&2040u32.to_be_bytes());
        first[4] = 0x04; // SAY
        raw(&mut c, &ws_frame(OpCode::Data(Data::Binary), false, &first));
        std::thread::sleep(pause);
        raw(&mut c, &ws_frame(OpCode::Data(Data::Continue), true, &[0; 53]));
        assert_eq!(close_code(&mut c), 1009, "2 053 bytes is over max_frame + 4 ({pause:?})");
    }
}

#[test]
fn a_fatal_error_closes_with_1000_and_shutdown_with_1001() {
    let mut s = Server::start(&[]);
    let mut c = ws(&s);
    c.send(&ClientFrame::Ping { nonce: 1 }); // not HELLO
    let frames = c.expect_closed();
    assert!(matches!(&frames[..], [ServerFrame::Error { code: 4, .. }]), "{frames:?}");
    assert_eq!(c.wire.close_code(), Some(1000));
    let mut d = ws(&s);
    d.hello("ada", "", 0);
    d.expect_welcome();
    s.signal(libc::SIGTERM);
    let frames = d.expect_closed();
    assert!(matches!(frames.last(), Some(ServerFrame::Error { code: 10, .. })), "{frames:?}");
    assert_eq!(d.wire.close_code(), Some(1001));
    s.wait_exit(WAIT);
}

#[test]
fn a_terminal_session_resumes_in_the_browser_and_back() {
    let s = Server::start(&[]);
    let tcp = s.login("ada");
    let token = tcp.token;
    drop(tcp); // dropped without QUIT: the session lingers
    let mut browser = ws(&s);
    browser.hello("ada", "", token);
    assert!(matches!(browser.expect_welcome(), ServerFrame::Welcome { resumed: 1, .. }));
    let token = browser.token;
    let mut back = s.connect();
    back.hello("ada", "", token);
    assert!(matches!(back.expect_welcome(), ServerFrame::Welcome { resumed: 1, .. }));
    expect_fatal(&mut browser, ErrorCode::Superseded, 0);
    assert_eq!(browser.wire.close_code(), Some(1000));
}

#[test]
fn a_websocket_inside_tls_carries_banter_too() {
    let pki = banter_tests::pki::Pki::new("wss");
    let (cert, key) = pki.server("server");
    let (cert, key) = (cert.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let s = Server::start(&["--tls-cert", &cert, "--tls-key", &key, "--trust-plain", "none"]);
    let origin = format!("https://{}", s.addr);
    let tls = Conn::connect_tls(s.addr, pki.client_config(), "localhost").expect("TLS");
    let mut c = tls.upgrade_ws(Some(&origin));
    c.hello("ada", "", 0);
    assert!(
        matches!(c.expect_welcome(), ServerFrame::Welcome { features, .. } if features == ["tls", "dm", "receipts"])
    );
    c.send(&ClientFrame::Register { password: "correct horse".into() });
    assert!(
        matches!(next_app(&mut c), ServerFrame::Registered { .. }),
        "a password may travel inside wss"
    );
    // The same origin over plain http is not the page's own for a wss page.
    let plain_origin = format!("http://{}", s.addr);
    let req = ws_request(&s.addr, Some(&plain_origin), "banter.1");
    let (status, _, _) = http(s.addr, Some(pki.client_config()), req.as_bytes());
    assert_eq!(status, 403);
}
