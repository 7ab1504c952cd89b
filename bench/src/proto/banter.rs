//! The Banter side of the adapter: encodes HELLO, JOIN, SAY, PONG and QUIT
//! (SAY through `banter_proto::encode_say`, straight into the output buffer,
//! since it is the hot path) and reads server frames, MSG through the
//! borrowed `banter_proto::view_msg` (no allocation per message).
//!
//! Rare frames (WELCOME, JOINED, ERROR, …) go through
//! `banter_proto::decode_server` so their checks stay in one place; the
//! frames of the extensions the receipts and files scenarios see often
//! (ACK, READ, FILE_DATA) are read in place by `banter_ext`. It does not
//! validate names or text: the harness generates both.

use super::{banter_ext, Event, Parsed, FEATURE_FILES, FEATURE_RECEIPTS};
use banter_proto::{
    check, decode_server, types, view_msg, ClientFrame, DecodeError, ErrorCode, ServerFrame,
    FLAG_FILE, FLAG_REPLAY,
};

/// Largest frame accepted from a server: above any `--max-frame` a benchmark
/// uses, below the engine's read buffer, so an impossible frame is refused
/// from its header at once.
const MAX_FRAME: u32 = 512 * 1024;

/// Appends HELLO without resume, with `password` (empty: none).
pub fn hello(out: &mut Vec<u8>, name: &str, password: &str) {
    ClientFrame::Hello {
        version: banter_proto::VERSION,
        name: name.into(),
        password: password.into(),
        resume: 0,
    }
    .encode(out);
}

/// Appends JOIN of `room` from the start, replaying up to `limit` messages.
pub fn join(out: &mut Vec<u8>, room: &str, limit: u16) {
    let room = room.into();
    ClientFrame::Join { room, since: 0, limit }.encode(out);
}

/// Appends SAY without building a frame (no allocation per message). The
/// payload is the harness's own ASCII stamp; anything else is not sent.
pub fn say(out: &mut Vec<u8>, room: &str, seq: u32, text: &[u8]) {
    match std::str::from_utf8(text) {
        Ok(text) => banter_proto::encode_say(out, room, seq, text, 0),
        Err(_) => debug_assert!(false, "bench payloads are ASCII"),
    }
}

/// Appends PONG echoing `nonce`.
pub fn pong(out: &mut Vec<u8>, nonce: u64) {
    ClientFrame::Pong { nonce }.encode(out);
}

/// Appends QUIT.
pub fn quit(out: &mut Vec<u8>) {
    let reason = "bench done".into();
    ClientFrame::Quit { reason }.encode(out);
}

/// Reads the frame at the front of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    let n = match check(buf, MAX_FRAME) {
        Ok(n) => n,
        Err(DecodeError::Incomplete) => return Ok(None),
        Err(e) => return Err(format!("framing error from server: {e}")),
    };
    let frame = &buf[..n];
    let ev = match banter_proto::frame_type(frame) {
        Some(types::MSG) => {
            let m = view_msg(frame).map_err(|e| format!("malformed MSG: {e}"))?;
            let replay = m.flags & FLAG_REPLAY != 0;
            match m.flags & FLAG_FILE {
                0 => Event::Msg { payload: m.text.as_bytes(), replay, id: m.id },
                _ => Event::FileMsg,
            }
        }
        Some(types::ACK | types::READ | types::UPLOAD_READY | types::FILE_DATA) => {
            banter_ext::parse(frame)?
        }
        Some(types::NOTICE | types::ROSTER | types::PRESENCE | types::USER_TYPING) => Event::Other,
        _ => rare(frame)?,
    };
    Ok(Some((ev, n)))
}

/// Frames seen a few times per connection: decoded in full.
fn rare(frame: &[u8]) -> Result<Event<'static>, String> {
    let f = match decode_server(frame) {
        Ok(f) => f,
        Err(DecodeError::UnknownType { .. }) => return Ok(Event::Other),
        Err(e) => return Err(format!("malformed frame from server: {e}")),
    };
    Ok(match f {
        ServerFrame::Ping { nonce } => Event::Ping { nonce },
        ServerFrame::Welcome { max_frame, features, .. } => {
            let has = |f: &str| features.iter().any(|x| x == f);
            let features = (if has("receipts") { FEATURE_RECEIPTS } else { 0 })
                | if has("files") { FEATURE_FILES } else { 0 };
            Event::Welcome { max_frame, features }
        }
        ServerFrame::Registered { .. } => Event::Registered,
        ServerFrame::Joined { last_id, .. } => Event::Joined { last_id },
        ServerFrame::HistoryEnd { more, .. } => Event::HistoryEnd { more: more != 0 },
        ServerFrame::Error { code, about, detail, .. } => {
            let known = ErrorCode::from_code(code);
            let name = known.map_or("UNKNOWN", |c| c.name());
            Event::Error {
                fatal: known.is_none_or(|c| c.is_fatal()),
                answers_publish: about == types::SAY,
                about,
                code,
                text: format!("{name} ({code}): {detail}"),
            }
        }
        _ => Event::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Event<'_> {
        let (ev, n) = parse(bytes).expect("parses").expect("complete");
        assert_eq!(n, bytes.len());
        ev
    }

    #[test]
    fn say_matches_the_codec() {
        let mut out = Vec::new();
        say(&mut out, "lobby", 7, "hi é".as_bytes());
        // The spec's test vector (§5).
        let vector = "00000013040005 6c6f626279 00000007 0005 686920c3a9";
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, vector.replace(' ', ""));
    }

    #[test]
    fn msg_yields_the_payload_even_split() {
        let f = ServerFrame::Msg {
            room: "r".into(),
            id: 3,
            ts: 9,
            from: "ada".into(),
            flags: FLAG_REPLAY,
            text: "payload!".into(),
            file: None,
        }
        .to_bytes();
        for cut in 0..f.len() {
            assert_eq!(parse(&f[..cut]), Ok(None), "cut at {cut}");
        }
        let want = Event::Msg { payload: b"payload!", replay: true, id: 3 };
        assert_eq!(one(&f), want);
        let file = banter_proto::FileRef { file: "ab".repeat(32), size: 9, mime: "a/b".into() };
        let f = ServerFrame::Msg {
            room: "r".into(),
            id: 4,
            ts: 9,
            from: "ada".into(),
            flags: 0,
            text: "x.bin".into(),
            file: Some(file),
        };
        assert_eq!(one(&f.to_bytes()), Event::FileMsg, "a file's name is not a payload");
    }

    #[test]
    fn control_frames() {
        let ack = ServerFrame::Ack { seq: 1, room: "r".into(), id: 5, ts: 1 };
        assert_eq!(one(&ack.to_bytes()), Event::Ack { seq: 1, id: 5 });
        assert_eq!(one(&ServerFrame::Ping { nonce: 42 }.to_bytes()), Event::Ping { nonce: 42 });
        let j = ServerFrame::Joined { room: "r".into(), last_id: 5, members: 2, read: 0 };
        assert_eq!(one(&j.to_bytes()), Event::Joined { last_id: 5 });
        let e = ServerFrame::error(ErrorCode::RateLimited, types::SAY, 4, "slow down");
        match one(&e.to_bytes()) {
            Event::Error { fatal, answers_publish, about, text, .. } => {
                assert!(!fatal && answers_publish && about == types::SAY);
                assert!(text.contains("RATE_LIMITED"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        let full = ServerFrame::error(ErrorCode::ServerFull, 0, 0, "full").to_bytes();
        assert!(matches!(one(&full), Event::Error { fatal: true, .. }));
        let w = ServerFrame::Welcome {
            version: 1,
            name: "ada".into(),
            token: 1,
            resumed: 0,
            heartbeat_ms: 5000,
            max_frame: 70_000,
            max_text: 4096,
            server: "banterd".into(),
            features: vec!["dm".into(), "files".into(), "receipts".into()],
        };
        let features = FEATURE_FILES | FEATURE_RECEIPTS;
        assert_eq!(one(&w.to_bytes()), Event::Welcome { max_frame: 70_000, features });
        let r = ServerFrame::Registered { name: "ada".into() };
        assert_eq!(one(&r.to_bytes()), Event::Registered);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(parse(&[0, 0, 0, 0]).is_err(), "len 0");
        // A MSG whose text length runs past the frame.
        let bad = [0, 0, 0, 4, types::MSG, 0, 9, 1];
        assert!(parse(&bad).is_err());
        assert_eq!(one(&[0, 0, 0, 1, 0x7f]), Event::Other, "unknown type skipped");
    }
}
