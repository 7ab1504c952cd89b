//! Unit tests of the whole crate: the spec's test vectors, round trips of
//! every frame type, split and concatenated input, every decode error.

mod props;

use crate::frame::types;
use crate::*;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

/// One frame of every type, with fields that exercise non-ASCII and limits.
pub(crate) fn samples() -> Vec<Frame> {
    let s = |x: &str| x.to_string();
    vec![
        Frame::Hello { version: 1, name: s("ada"), password: s("pw"), resume: 9 },
        Frame::Join { room: s("lobby"), since: 3, limit: 20 },
        Frame::Leave { room: s("lobby") },
        Frame::Say { room: s("lobby"), seq: 7, text: s("hi é\nthere") },
        Frame::History { room: s("r"), before: u64::MAX, limit: 1000 },
        Frame::Typing { room: s("r"), active: 1 },
        Frame::Who { room: s("r") },
        Frame::Quit { reason: s("bye") },
        Frame::Register { password: s("correct horse") },
        Frame::Ping { nonce: 42 },
        Frame::Pong { nonce: u64::MAX },
        Frame::Welcome {
            version: 1,
            name: s("Ada"),
            token: 0xDEAD_BEEF,
            resumed: 1,
            heartbeat_ms: 5000,
            max_frame: 65536,
            max_text: 4096,
            server: s("banterd 0.1.0"),
        },
        Frame::Error { code: 13, about: 4, seq: 7, detail: s("not in room") },
        Frame::Joined { room: s("lobby"), last_id: 12, members: 3 },
        Frame::Left { room: s("lobby") },
        Frame::Msg { room: s("l"), id: 3, ts: 1, from: s("bob"), flags: 1, text: s("日本") },
        Frame::Ack { seq: 1, room: s("l"), id: 2, ts: 3 },
        Frame::Presence { room: s("l"), name: s("bob"), event: 3, reason: s("gone") },
        Frame::UserTyping { room: s("l"), name: s("bob"), active: 0 },
        Frame::Roster { room: s("l"), more: 1, names: vec![s("a"), s("Bob"), s("c")] },
        Frame::HistoryEnd { room: s("l"), count: 20, more: 1 },
        Frame::Notice { text: s("welcome") },
        Frame::Registered { name: s("Ada") },
    ]
}

#[test]
fn covers_every_type() {
    let mut seen: Vec<u8> = samples().iter().map(|f| f.frame_type()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 23);
    for ty in seen {
        assert_ne!(Frame::type_name(ty), "UNKNOWN");
    }
}

#[test]
fn spec_test_vectors() {
    let s = |x: &str| x.to_string();
    let cases = [
        (
            Frame::Hello { version: 1, name: s("ada"), password: s(""), resume: 0 },
            "00 00 00 12 01 00 01 00 03 61 64 61 00 00 00 00 00 00 00 00 00 00",
        ),
        (
            Frame::Join { room: s("lobby"), since: 0, limit: 20 },
            "00 00 00 12 02 00 05 6c 6f 62 62 79 00 00 00 00 00 00 00 00 00 14",
        ),
        (
            Frame::Say { room: s("lobby"), seq: 7, text: s("hi é") },
            "00 00 00 13 04 00 05 6c 6f 62 62 79 00 00 00 07 00 05 68 69 20 c3 a9",
        ),
        (Frame::Ping { nonce: 42 }, "00 00 00 09 0e 00 00 00 00 00 00 00 2a"),
        (
            Frame::Msg {
                room: s("lobby"),
                id: 3,
                ts: 1_764_300_000_000,
                from: s("ada"),
                flags: 0,
                text: s("hi"),
            },
            "00 00 00 22 25 00 05 6c 6f 62 62 79 00 00 00 00 00 00 00 03 00 00 01 9a c8 79 8b 00 \
             00 03 61 64 61 00 00 02 68 69",
        ),
        (
            Frame::error(ErrorCode::NotInRoom, types::SAY, 7, "not in room"),
            "00 00 00 15 22 00 0d 04 00 00 00 07 00 0b 6e 6f 74 20 69 6e 20 72 6f 6f 6d",
        ),
    ];
    for (frame, bytes) in cases {
        let want = hex(bytes);
        assert_eq!(frame.to_bytes(), want, "encode {frame:?}");
        assert_eq!(decode(&want).unwrap(), frame, "decode {bytes}");
        assert_eq!(check(&want, DEFAULT_MAX_FRAME), Ok(want.len()));
    }
}

#[test]
fn round_trip_every_variant() {
    for f in samples() {
        let bytes = f.to_bytes();
        assert_eq!(check(&bytes, DEFAULT_MAX_FRAME), Ok(bytes.len()));
        assert_eq!(decode(&bytes).unwrap(), f);
    }
}

/// Feeds `stream` to a receiver in two reads split at `at`, the way a server
/// does: append, then take every complete frame.
fn receive_split(stream: &[u8], at: usize) -> Vec<Frame> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in [&stream[..at], &stream[at..]] {
        buf.extend_from_slice(chunk);
        loop {
            match check(&buf, DEFAULT_MAX_FRAME) {
                Ok(n) => {
                    out.push(decode(&buf[..n]).unwrap());
                    buf.drain(..n);
                }
                Err(DecodeError::Incomplete) => break,
                Err(e) => panic!("{e}"),
            }
        }
    }
    assert!(buf.is_empty());
    out
}

#[test]
fn every_frame_split_at_every_byte() {
    for f in samples() {
        let bytes = f.to_bytes();
        for at in 0..=bytes.len() {
            assert_eq!(receive_split(&bytes, at), vec![f.clone()], "split at {at}");
        }
    }
}

#[test]
fn many_frames_in_one_buffer() {
    let frames: Vec<Frame> = samples().into_iter().cycle().take(1000).collect();
    let mut stream = Vec::new();
    for f in &frames {
        f.encode(&mut stream);
    }
    assert_eq!(receive_split(&stream, stream.len()), frames);
    assert_eq!(receive_split(&stream, stream.len() / 3), frames);
}

#[test]
fn check_refuses_from_the_header_alone() {
    assert_eq!(check(&[], 10), Err(DecodeError::Incomplete));
    assert_eq!(check(&[0, 0, 0], 10), Err(DecodeError::Incomplete));
    assert_eq!(check(&[0, 0, 0, 0], 10), Err(DecodeError::ZeroLength));
    assert_eq!(check(&[0, 0, 0, 11], 10), Err(DecodeError::TooLarge { len: 11, max: 10 }));
    assert_eq!(check(&[0, 0, 0, 10], 10), Err(DecodeError::Incomplete));
    assert_eq!(
        check(&[0xff, 0xff, 0xff, 0xff, 1], 1024),
        Err(DecodeError::TooLarge { len: u32::MAX, max: 1024 })
    );
    assert!(DecodeError::ZeroLength.is_framing());
    assert!(DecodeError::TooLarge { len: 2, max: 1 }.is_framing());
    assert_eq!(DecodeError::TooLarge { len: 2, max: 1 }.frame_type(), 0);
}

#[test]
fn body_errors() {
    // A JOIN whose body stops inside `since`.
    let f = [0, 0, 0, 5, types::JOIN, 0, 1, b'a', 0];
    assert_eq!(decode(&f), Err(DecodeError::Truncated { ty: types::JOIN, field: "since" }));
    // A str whose length runs past the body.
    let f = [0, 0, 0, 3, types::LEAVE, 0, 9];
    assert_eq!(decode(&f), Err(DecodeError::Truncated { ty: types::LEAVE, field: "room" }));
    // Invalid UTF-8.
    let f = [0, 0, 0, 5, types::WHO, 0, 2, 0xc3, 0x28];
    assert_eq!(decode(&f), Err(DecodeError::InvalidUtf8 { ty: types::WHO, field: "room" }));
    // Unknown type, also a type byte alone.
    assert_eq!(decode(&[0, 0, 0, 1, 0x7f]), Err(DecodeError::UnknownType { ty: 0x7f }));
    assert_eq!(decode(&[0, 0, 0, 1, 0x0a]), Err(DecodeError::UnknownType { ty: 0x0a }));
    // A known type with an empty body.
    assert_eq!(
        decode(&[0, 0, 0, 1, types::PING]),
        Err(DecodeError::Truncated { ty: types::PING, field: "nonce" })
    );
    let e = DecodeError::Truncated { ty: types::SAY, field: "seq" };
    assert_eq!(e.error_code(), Some(ErrorCode::BadFrame));
    assert_eq!(e.frame_type(), types::SAY);
    assert!(!e.is_framing());
    assert_eq!(DecodeError::UnknownType { ty: 9 }.error_code(), Some(ErrorCode::UnknownType));
    assert_eq!(e.to_string(), "SAY frame too short: missing seq");
}

#[test]
fn trailing_bytes_are_ignored() {
    let mut bytes = Frame::Ping { nonce: 5 }.to_bytes();
    bytes.extend_from_slice(&[1, 2, 3]);
    let len = (bytes.len() - HEADER_LEN) as u32;
    bytes[..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(decode(&bytes), Ok(Frame::Ping { nonce: 5 }));
}

#[test]
fn decode_reads_only_the_declared_frame() {
    let mut bytes = Frame::Pong { nonce: 1 }.to_bytes();
    let n = bytes.len();
    bytes.extend_from_slice(&[0xff; 7]);
    assert_eq!(check(&bytes, 100), Ok(n));
    assert_eq!(decode(&bytes), Ok(Frame::Pong { nonce: 1 }));
}

#[test]
fn encode_never_emits_an_oversized_str() {
    let long = "é".repeat(40_000); // 80 000 bytes
    let bytes = Frame::Notice { text: long }.to_bytes();
    match decode(&bytes).unwrap() {
        Frame::Notice { text } => {
            assert_eq!(text.len(), 65_534);
            assert!(text.chars().all(|c| c == 'é'));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn encode_appends() {
    let mut out = vec![9, 9];
    Frame::Ping { nonce: 1 }.encode(&mut out);
    assert_eq!(&out[..2], &[9, 9]);
    assert_eq!(decode(&out[2..]), Ok(Frame::Ping { nonce: 1 }));
}

#[test]
fn encode_msg_matches_frame_encode() {
    let f = Frame::Msg {
        room: "lobby".into(),
        id: 3,
        ts: 1_764_300_000_000,
        from: "ada".into(),
        flags: 1,
        text: "hi é".into(),
    };
    let mut out = vec![1];
    encode_msg(&mut out, "lobby", 3, 1_764_300_000_000, "ada", 1, "hi é");
    assert_eq!(&out[1..], &f.to_bytes()[..]);
}
