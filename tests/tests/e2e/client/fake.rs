//! A scripted server on 127.0.0.1:0 for what the real one would refuse or
//! cannot do yet: hostile bytes, message times of other days, MSG flags,
//! hostile file names and file bytes that do not match their hash.
//! It sends WELCOME, the JOIN answer and the scripted MSGs, then hands
//! every later client frame to the test and never answers (not even PING)
//! unless a frame is a SAY, which it acknowledges.

use banter_proto::{check, decode_client, ClientFrame, ServerFrame};
use banter_tests::WAIT;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::Sender;

/// The room the fake server answers JOIN with.
pub const ROOM: &str = "lobby";

/// A MSG from `from` in the fake room.
pub fn msg(id: u64, ts: u64, from: &str, flags: u8, text: &str) -> ServerFrame {
    ServerFrame::Msg {
        file: None,
        room: ROOM.into(),
        id,
        ts,
        from: from.into(),
        flags,
        text: text.into(),
    }
}

/// The scripted server for the hostile-text tests: one MSG of `hostile`,
/// then a sentinel.
pub fn hostile(listener: TcpListener, hostile: &str, heartbeat_ms: u32) {
    let ts = 1_764_300_000_000;
    let msgs = vec![msg(1, ts, "mallory", 0, hostile), msg(2, ts, "mallory", 0, "sentinel")];
    serve(listener, msgs, heartbeat_ms, None);
}

/// Reads the next whole client frame.
pub(super) fn next(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<ClientFrame> {
    loop {
        if let Ok(n) = check(buf, 1 << 20) {
            let f = decode_client(&buf[..n]).expect("client frame");
            buf.drain(..n);
            return Some(f);
        }
        let mut chunk = [0u8; 4096];
        match sock.read(&mut chunk) {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

/// Serves one client: the handshake, the JOIN answer, `msgs`; then every
/// frame goes to `frames` (SAYs are acknowledged) until the client leaves.
pub fn serve(
    listener: TcpListener,
    msgs: Vec<ServerFrame>,
    heartbeat_ms: u32,
    frames: Option<Sender<ClientFrame>>,
) {
    let (mut sock, mut buf) = greet(listener, msgs, heartbeat_ms, &[]);
    let mut id = 1000;
    while let Some(f) = next(&mut sock, &mut buf) {
        if let ClientFrame::Say { seq, room, .. } = &f {
            id += 1;
            let ack = ServerFrame::Ack { seq: *seq, room: room.clone(), id, ts: 1 };
            let _ = sock.write_all(&ack.to_bytes());
        }
        if let Some(tx) = &frames {
            let _ = tx.send(f);
        }
    }
}

/// Accepts one client and sends the handshake (offering `features`), the
/// JOIN answer and `msgs`; the socket and the bytes read past the JOIN.
pub fn greet(
    listener: TcpListener,
    msgs: Vec<ServerFrame>,
    heartbeat_ms: u32,
    features: &[&str],
) -> (TcpStream, Vec<u8>) {
    let (mut sock, _) = listener.accept().expect("accept");
    sock.set_read_timeout(Some(WAIT * 12)).ok();
    let mut buf = Vec::new();
    assert!(matches!(next(&mut sock, &mut buf), Some(ClientFrame::Hello { .. })));
    let welcome = ServerFrame::Welcome {
        features: features.iter().map(|f| f.to_string()).collect(),
        version: 1,
        name: "ada".into(),
        token: 7,
        resumed: 0,
        heartbeat_ms,
        max_frame: 65_536,
        max_text: 4096,
        server: "fake".into(),
    };
    sock.write_all(&welcome.to_bytes()).expect("write");
    assert!(matches!(next(&mut sock, &mut buf), Some(ClientFrame::Join { .. })));
    let room = || ROOM.to_string();
    let mut out = vec![
        ServerFrame::Joined { read: 0, room: room(), last_id: 0, members: 2 },
        ServerFrame::Roster { room: room(), more: 0, names: vec!["ada".into(), "mallory".into()] },
        ServerFrame::HistoryEnd { room: room(), count: 0, more: 0 },
    ];
    out.extend(msgs);
    for f in out {
        sock.write_all(&f.to_bytes()).expect("write");
    }
    (sock, buf)
}
