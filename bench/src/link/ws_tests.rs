//! Tests of the WebSocket client side against tungstenite's codec and its
//! server handshake, a second implementation of RFC 6455.

use super::*;
use std::io::{Cursor, Read, Write};
use tungstenite::protocol::frame::coding::{Control as TControl, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};

/// Server frames as tungstenite writes them (unmasked).
fn server_frame(op: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let f = match op {
        OpCode::Control(TControl::Ping) => Frame::ping(payload.to_vec()),
        _ => Frame::message(payload.to_vec(), op, fin),
    };
    f.format(&mut out).unwrap();
    out
}

#[test]
fn rfc_accept_key() {
    // RFC 6455 §1.3's example.
    assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#[test]
fn client_frames_parse_as_masked_frames_in_tungstenite() {
    let mut m = Masks::default();
    for n in [0usize, 1, 5, 125, 126, 127, 1000, 65535, 65536, 70000] {
        let payload: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
        let mut out = b"prefix".to_vec();
        out.extend_from_slice(&payload);
        frame(&mut out, 6, OP_BINARY, m.take::<4>());
        assert_eq!(&out[..6], b"prefix");
        let mut cur = Cursor::new(&out[6..]);
        let (h, len) = FrameHeader::parse(&mut cur).unwrap().expect("whole header");
        assert_eq!(len as usize, n);
        assert!(h.is_final && !h.rsv1 && h.opcode == OpCode::Data(Data::Binary));
        let mask = h.mask.expect("client frames are masked");
        let mut body = out[6 + cur.position() as usize..].to_vec();
        assert_eq!(body.len(), n);
        apply_mask(&mut body, mask);
        assert_eq!(body, payload, "n = {n}");
    }
}

#[test]
fn masks_differ_and_masking_is_an_involution() {
    let mut m = Masks::default();
    let masks: Vec<[u8; 4]> = (0..2000).map(|_| m.take::<4>()).collect();
    let mut distinct = masks.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 1990, "masks repeat: {}", distinct.len());
    let mut data: Vec<u8> = (0..=255).collect();
    apply_mask(&mut data, [1, 2, 3, 4]);
    assert_eq!(data[..5], [1, 3, 1, 7, 5]);
    apply_mask(&mut data, [1, 2, 3, 4]);
    assert!(data.iter().enumerate().all(|(i, &b)| b == i as u8));
}

/// A stream of server frames: two messages (one fragmented, with a ping
/// between its fragments), a long one, and a close.
fn stream() -> (Vec<u8>, Vec<u8>) {
    let long: Vec<u8> = (0..70_000).map(|i| (i % 253) as u8).collect();
    let mut s = server_frame(OpCode::Data(Data::Binary), true, b"hello");
    s.extend(server_frame(OpCode::Data(Data::Binary), false, b"frag-"));
    s.extend(server_frame(OpCode::Control(TControl::Ping), true, b"p1"));
    s.extend(server_frame(OpCode::Data(Data::Continue), true, b"ment"));
    s.extend(server_frame(OpCode::Data(Data::Binary), true, b""));
    s.extend(server_frame(OpCode::Data(Data::Binary), true, &long));
    let close = tungstenite::protocol::CloseFrame { code: 1000u16.into(), reason: "bye".into() };
    Frame::close(Some(close)).format(&mut s).unwrap();
    let mut want = b"hellofrag-ment".to_vec();
    want.extend(&long);
    (s, want)
}

fn decode_in_pieces(s: &[u8], cut: &[usize]) -> (Vec<u8>, Vec<Control>) {
    let mut d = Decoder::default();
    let (mut got, mut ctl) = (Vec::new(), Vec::new());
    let mut at = 0;
    for &end in cut.iter().chain(std::iter::once(&s.len())) {
        let mut piece = s[at..end].to_vec();
        let n = d.decode(&mut piece, &mut ctl).unwrap();
        got.extend_from_slice(&piece[..n]);
        at = end;
    }
    (got, ctl)
}

#[test]
fn server_frames_decode_in_place_split_at_every_byte() {
    let (s, want) = stream();
    let close = Control::Close(Some(1000), "bye".into());
    let all = vec![Control::Ping(b"p1".to_vec()), close];
    let (got, ctl) = decode_in_pieces(&s, &[]);
    assert_eq!((got == want, &ctl), (true, &all));
    for cut in 0..s.len() {
        let (got, ctl) = decode_in_pieces(&s, &[cut]);
        assert!(got == want, "cut at {cut}");
        assert_eq!(ctl, all, "cut at {cut}");
    }
    let every: Vec<usize> = (1..200).chain((200..s.len()).step_by(997)).collect();
    assert!(decode_in_pieces(&s, &every).0 == want);
}

#[test]
fn protocol_violations_are_errors() {
    let mut ctl = Vec::new();
    let bad = |bytes: &[u8]| Decoder::default().decode(&mut bytes.to_vec(), &mut Vec::new());
    assert!(bad(&[0x82, 0x81, 1, 2, 3, 4, 0]).unwrap_err().contains("masked"));
    assert!(bad(&[0xc2, 0x00]).unwrap_err().contains("RSV"));
    assert!(bad(&[0x80, 0x00]).unwrap_err().contains("continuation"));
    assert!(bad(&[0x09, 0x00]).unwrap_err().contains("control"));
    assert!(bad(&[0x83, 0x00]).unwrap_err().contains("opcode"));
    assert!(bad(&[0x81, 0x01, b'x']).unwrap_err().contains("text"));
    assert!(bad(&[0x02, 0x01, b'x', 0x82, 0x00]).unwrap_err().contains("new message"));
    let mut text = Decoder::new(true);
    let mut b = vec![0x81, 0x02, b'o', b'k'];
    assert_eq!(text.decode(&mut b, &mut ctl), Ok(2));
}

#[test]
fn upgrade_answers_are_checked() {
    let mut m = Masks::default();
    let mut req = Vec::new();
    let key = request(&mut req, "127.0.0.1:9", "/ws", Some("banter.1"), &mut m);
    let req = String::from_utf8(req).unwrap();
    assert!(req.starts_with("GET /ws HTTP/1.1\r\n") && req.ends_with("\r\n\r\n"), "{req}");
    assert!(req.contains("Sec-WebSocket-Protocol: banter.1\r\n"), "{req}");
    let ok = |extra: &str| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
            accept_key(&key)
        )
    };
    let good = ok("Sec-WebSocket-Protocol: banter.1\r\n");
    assert_eq!(check_answer(good.as_bytes(), &key, Some("banter.1")), Ok(()));
    let e = check_answer(ok("").as_bytes(), &key, Some("banter.1")).unwrap_err();
    assert!(e.contains("subprotocol banter.1"), "{e}");
    let e = check_answer(good.as_bytes(), "other", Some("banter.1")).unwrap_err();
    assert!(e.contains("Accept"), "{e}");
    let e = check_answer(b"HTTP/1.1 400 Bad Request\r\n\r\n", &key, None).unwrap_err();
    assert!(e.contains("400 Bad Request"), "{e}");
    let e = check_answer(b"\x00\x00\x00\x1a\x22\x00\x02garbage\r\n\r\n", &key, None).unwrap_err();
    assert!(e.contains("not HTTP"), "{e}");
}

/// A tungstenite server that echoes two messages, then closes.
fn echo_twice_server() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut ws = tungstenite::accept_hdr(s, crate::link::test_pki::agree_banter).unwrap();
        for _ in 0..2 {
            let m = ws.read().unwrap();
            ws.send(m).unwrap();
        }
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    (addr, server)
}

#[test]
fn a_real_rfc6455_server_accepts_the_handshake_and_the_masked_frames() {
    let (addr, server) = echo_twice_server();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut m = Masks::default();
    let mut out = Vec::new();
    let key = request(&mut out, &addr.to_string(), "/ws", Some("banter.1"), &mut m);
    s.write_all(&out).unwrap();
    out.clear();
    for msg in [&b"first"[..], &[7u8; 300][..]] {
        let start = out.len();
        out.extend_from_slice(msg);
        frame(&mut out, start, OP_BINARY, m.take::<4>());
    }
    let (mut head, mut data, mut ctl) = (Vec::new(), Vec::new(), Vec::new());
    let mut d = Decoder::default();
    let mut buf = [0u8; 4096];
    let mut opened = false;
    while !ctl.iter().any(|c| matches!(c, Control::Close(..))) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the close frame");
        let mut fresh = buf[..n].to_vec();
        if !opened {
            head.extend_from_slice(&fresh);
            let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            check_answer(&head[..i + 4], &key, Some("banter.1")).unwrap();
            fresh = head.split_off(i + 4);
            opened = true;
            s.write_all(&out).unwrap();
        }
        let k = d.decode(&mut fresh, &mut ctl).unwrap();
        data.extend_from_slice(&fresh[..k]);
    }
    let mut want = b"first".to_vec();
    want.extend_from_slice(&[7u8; 300]);
    assert_eq!(data, want);
    drop(s);
    server.join().unwrap();
}
