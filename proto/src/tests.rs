//! Unit tests of the whole crate: the spec's test vectors, round trips of
//! every frame type, split and concatenated input, every decode error.

mod props;

use crate::*;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

/// One client frame of every type, with fields that exercise non-ASCII and limits.
pub(crate) fn client_samples() -> Vec<ClientFrame> {
    let s = |x: &str| x.to_string();
    vec![
        ClientFrame::Hello { version: 1, name: s("ada"), password: s("pw"), resume: 9 },
        ClientFrame::Join { room: s("lobby"), since: 3, limit: 20 },
        ClientFrame::Leave { room: s("lobby") },
        ClientFrame::Say { room: s("lobby"), seq: 7, text: s("hi é\nthere"), flags: 0 },
        ClientFrame::Say { room: s("@bob"), seq: 8, text: s("waves"), flags: FLAG_ACTION },
        ClientFrame::History { room: s("r"), before: u64::MAX, limit: 1000 },
        ClientFrame::Typing { room: s("r"), active: 1 },
        ClientFrame::Who { room: s("r") },
        ClientFrame::Quit { reason: s("bye") },
        ClientFrame::Register { password: s("correct horse") },
        ClientFrame::Mark { room: s("@bob"), id: 12 },
        ClientFrame::Upload {
            seq: 3,
            room: s("r"),
            name: s("a b.png"),
            size: 9,
            mime: s("image/png"),
        },
        ClientFrame::Chunk { seq: 3, offset: 4, data: vec![0, 1, 2, 255] },
        ClientFrame::Fetch { file: s("ab12"), offset: 7 },
        ClientFrame::Ping { nonce: 42 },
        ClientFrame::Pong { nonce: u64::MAX },
    ]
}

/// One server frame of every type.
pub(crate) fn server_samples() -> Vec<ServerFrame> {
    let s = |x: &str| x.to_string();
    let file = FileRef { file: s("ab".repeat(32).as_str()), size: 5, mime: s("text/plain") };
    vec![
        ServerFrame::Welcome {
            version: 1,
            name: s("Ada"),
            token: 0xDEAD_BEEF,
            resumed: 1,
            heartbeat_ms: 5000,
            max_frame: 65536,
            max_text: 4096,
            server: s("banterd 0.1.0"),
            features: vec![s("tls"), s("dm")],
        },
        ServerFrame::error(ErrorCode::NotInRoom, 4, 7, "not in room"),
        ServerFrame::Joined { room: s("lobby"), last_id: 12, members: 3, read: 9 },
        ServerFrame::Left { room: s("lobby") },
        ServerFrame::Msg {
            room: s("l"),
            id: 3,
            ts: 1,
            from: s("bob"),
            flags: 1,
            text: s("日本"),
            file: None,
        },
        ServerFrame::Msg {
            room: s("@bob"),
            id: 4,
            ts: 2,
            from: s("bob"),
            flags: FLAG_FILE,
            text: s("a.txt"),
            file: Some(file),
        },
        ServerFrame::Ack { seq: 1, room: s("l"), id: 2, ts: 3 },
        ServerFrame::Presence { room: s("l"), name: s("bob"), event: 3, reason: s("gone") },
        ServerFrame::Typing { room: s("l"), name: s("bob"), active: 0 },
        ServerFrame::Roster { room: s("l"), more: 1, names: vec![s("a"), s("Bob"), s("c")] },
        ServerFrame::HistoryEnd { room: s("l"), count: 20, more: 1 },
        ServerFrame::Notice { text: s("welcome") },
        ServerFrame::Registered { name: s("Ada") },
        ServerFrame::Read { room: s("@ada"), name: s("Ada"), id: 5 },
        ServerFrame::Delivered { room: s("@ada"), id: 5 },
        ServerFrame::Unread { room: s("@ada"), count: 2, last_id: 7, read: 5 },
        ServerFrame::UploadReady { seq: 3, offset: 4096 },
        ServerFrame::FileData { file: s("ab12"), offset: 0, last: 1, data: vec![9; 10] },
        ServerFrame::Ping { nonce: 1 },
        ServerFrame::Pong { nonce: 2 },
    ]
}

#[test]
fn covers_every_type() {
    let mut seen: Vec<u8> = client_samples().iter().map(|f| f.frame_type()).collect();
    seen.extend(server_samples().iter().map(|f| f.frame_type()));
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 32, "15 client types, 17 server types, PING/PONG both ways");
    for ty in seen {
        assert_ne!(types::name(ty), "UNKNOWN");
        assert!(types::is_client(ty) || types::is_server(ty));
    }
    assert_eq!(types::name(types::USER_TYPING), "TYPING");
    assert_eq!(types::name(0x10), "UNKNOWN");
    assert_eq!(types::name(0x32), "UNKNOWN");
}

#[test]
fn spec_test_vectors() {
    let s = |x: &str| x.to_string();
    let client = [
        (
            ClientFrame::Hello { version: 1, name: s("ada"), password: s(""), resume: 0 },
            "00 00 00 12 01 00 01 00 03 61 64 61 00 00 00 00 00 00 00 00 00 00",
        ),
        (
            ClientFrame::Join { room: s("lobby"), since: 0, limit: 20 },
            "00 00 00 12 02 00 05 6c 6f 62 62 79 00 00 00 00 00 00 00 00 00 14",
        ),
        (
            ClientFrame::Say { room: s("lobby"), seq: 7, text: s("hi é"), flags: 0 },
            "00 00 00 13 04 00 05 6c 6f 62 62 79 00 00 00 07 00 05 68 69 20 c3 a9",
        ),
        (ClientFrame::Ping { nonce: 42 }, "00 00 00 09 0e 00 00 00 00 00 00 00 2a"),
    ];
    for (frame, bytes) in client {
        let want = hex(bytes);
        assert_eq!(frame.to_bytes(), want, "encode {frame:?}");
        assert_eq!(decode_client(&want).unwrap(), frame, "decode {bytes}");
        assert_eq!(check(&want, DEFAULT_MAX_FRAME), Ok(want.len()));
    }
    let server = [
        (
            ServerFrame::Msg {
                room: s("lobby"),
                id: 3,
                ts: 1_764_300_000_000,
                from: s("ada"),
                flags: 0,
                text: s("hi"),
                file: None,
            },
            "00 00 00 22 25 00 05 6c 6f 62 62 79 00 00 00 00 00 00 00 03 00 00 01 9a c8 79 8b 00 \
             00 03 61 64 61 00 00 02 68 69",
        ),
        (
            ServerFrame::error(ErrorCode::NotInRoom, types::SAY, 7, "not in room"),
            "00 00 00 15 22 00 0d 04 00 00 00 07 00 0b 6e 6f 74 20 69 6e 20 72 6f 6f 6d",
        ),
        (ServerFrame::Ping { nonce: 42 }, "00 00 00 09 0e 00 00 00 00 00 00 00 2a"),
    ];
    for (frame, bytes) in server {
        let want = hex(bytes);
        assert_eq!(frame.to_bytes(), want, "encode {frame:?}");
        assert_eq!(decode_server(&want).unwrap(), frame, "decode {bytes}");
    }
}

#[test]
fn round_trip_every_variant() {
    for f in client_samples() {
        let bytes = f.to_bytes();
        assert_eq!(check(&bytes, DEFAULT_MAX_FRAME), Ok(bytes.len()));
        assert_eq!(decode_client(&bytes).unwrap(), f);
    }
    for f in server_samples() {
        let bytes = f.to_bytes();
        assert_eq!(check(&bytes, DEFAULT_MAX_FRAME), Ok(bytes.len()));
        assert_eq!(decode_server(&bytes).unwrap(), f);
    }
}

#[test]
fn older_peers_leave_out_trailing_fields() {
    // A version 1 WELCOME and JOINED (no features, no read marker).
    let mut w = ServerFrame::Welcome {
        version: 1,
        name: "a".into(),
        token: 1,
        resumed: 0,
        heartbeat_ms: 1,
        max_frame: 2,
        max_text: 3,
        server: "s".into(),
        features: vec![],
    }
    .to_bytes();
    w.truncate(w.len() - 2);
    w[3] -= 2;
    assert!(
        matches!(decode_server(&w), Ok(ServerFrame::Welcome { features, .. }) if features.is_empty())
    );
    let mut j =
        ServerFrame::Joined { room: "r".into(), last_id: 1, members: 1, read: 0 }.to_bytes();
    j.truncate(j.len() - 8);
    j[3] -= 8;
    assert!(matches!(decode_server(&j), Ok(ServerFrame::Joined { read: 0, .. })));
}

#[test]
fn file_flag_follows_the_file_fields() {
    let m = ServerFrame::Msg {
        room: "r".into(),
        id: 1,
        ts: 1,
        from: "a".into(),
        flags: FLAG_FILE | FLAG_REPLAY,
        text: "x".into(),
        file: None,
    };
    match decode_server(&m.to_bytes()).unwrap() {
        ServerFrame::Msg { flags, file, .. } => assert_eq!((flags, file), (FLAG_REPLAY, None)),
        other => panic!("{other:?}"),
    }
    // Bit 1 without the fields is a truncated frame.
    let mut bytes = m.to_bytes();
    let at = bytes.len() - 4; // flags byte: before text str "x" (2+1)
    bytes[at] |= FLAG_FILE;
    assert_eq!(
        decode_server(&bytes),
        Err(DecodeError::Truncated { ty: types::MSG, field: "file" })
    );
}

/// Feeds `stream` to a receiver in two reads split at `at`, the way a server
/// does: append, then take every complete frame.
fn receive_split(stream: &[u8], at: usize) -> Vec<ServerFrame> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in [&stream[..at], &stream[at..]] {
        buf.extend_from_slice(chunk);
        loop {
            match check(&buf, DEFAULT_MAX_FRAME) {
                Ok(n) => {
                    out.push(decode_server(&buf[..n]).unwrap());
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
    for f in server_samples() {
        let bytes = f.to_bytes();
        for at in 0..=bytes.len() {
            assert_eq!(receive_split(&bytes, at), vec![f.clone()], "split at {at}");
        }
    }
}

#[test]
fn many_frames_in_one_buffer() {
    let frames: Vec<ServerFrame> = server_samples().into_iter().cycle().take(1000).collect();
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
    assert_eq!(frame_size(&[0, 0, 1, 0]), Some(260));
    assert_eq!(frame_size(&[0, 0, 1]), None);
}

#[test]
fn body_errors() {
    // A JOIN whose body stops inside `since`.
    let f = [0, 0, 0, 5, types::JOIN, 0, 1, b'a', 0];
    assert_eq!(decode_client(&f), Err(DecodeError::Truncated { ty: types::JOIN, field: "since" }));
    // A str whose length runs past the body.
    let f = [0, 0, 0, 3, types::LEAVE, 0, 9];
    assert_eq!(decode_client(&f), Err(DecodeError::Truncated { ty: types::LEAVE, field: "room" }));
    // Invalid UTF-8.
    let f = [0, 0, 0, 5, types::WHO, 0, 2, 0xc3, 0x28];
    assert_eq!(decode_client(&f), Err(DecodeError::InvalidUtf8 { ty: types::WHO, field: "room" }));
    // Unknown type, also a type byte alone; the other direction's types.
    assert_eq!(decode_client(&[0, 0, 0, 1, 0x7f]), Err(DecodeError::UnknownType { ty: 0x7f }));
    assert_eq!(decode_client(&[0, 0, 0, 1, 0x10]), Err(DecodeError::UnknownType { ty: 0x10 }));
    assert_eq!(decode_client(&[0, 0, 0, 1, 0x25]), Err(DecodeError::WrongDirection { ty: 0x25 }));
    assert_eq!(decode_server(&[0, 0, 0, 1, 0x04]), Err(DecodeError::WrongDirection { ty: 0x04 }));
    assert_eq!(
        DecodeError::WrongDirection { ty: 0x25 }.to_string(),
        "MSG is a server-to-client frame"
    );
    assert_eq!(DecodeError::WrongDirection { ty: 0x25 }.error_code(), Some(ErrorCode::UnknownType));
    // A known type with an empty body.
    assert_eq!(
        decode_client(&[0, 0, 0, 1, types::PING]),
        Err(DecodeError::Truncated { ty: types::PING, field: "nonce" })
    );
    // A CHUNK whose `bytes` count runs past the body.
    let f = [0, 0, 0, 17, types::CHUNK, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    assert_eq!(decode_client(&f), Err(DecodeError::Truncated { ty: types::CHUNK, field: "data" }));
    let e = DecodeError::Truncated { ty: types::SAY, field: "seq" };
    assert_eq!(e.error_code(), Some(ErrorCode::BadFrame));
    assert_eq!(e.frame_type(), types::SAY);
    assert!(!e.is_framing());
    assert_eq!(DecodeError::UnknownType { ty: 9 }.error_code(), Some(ErrorCode::UnknownType));
    assert_eq!(e.to_string(), "SAY frame too short: missing seq");
}

#[test]
fn hello_version_is_read_first() {
    let mut h = ClientFrame::Hello { version: 7, name: "a".into(), password: "".into(), resume: 0 }
        .to_bytes();
    assert_eq!(hello_version(&h), Some(7));
    h.truncate(7);
    h[3] = 3;
    assert_eq!(hello_version(&h), Some(7), "the rest of the body does not matter");
    assert_eq!(hello_version(&[0, 0, 0, 2, types::HELLO, 0]), None);
    assert_eq!(hello_version(&ClientFrame::Ping { nonce: 1 }.to_bytes()), None);
    assert_eq!(frame_type(&h), Some(types::HELLO));
}

#[test]
fn trailing_bytes_are_ignored() {
    let mut bytes = ClientFrame::Ping { nonce: 5 }.to_bytes();
    bytes.extend_from_slice(&[1, 2, 3]);
    let len = (bytes.len() - HEADER_LEN) as u32;
    bytes[..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(decode_client(&bytes), Ok(ClientFrame::Ping { nonce: 5 }));
}

#[test]
fn decode_reads_only_the_declared_frame() {
    let mut bytes = ServerFrame::Pong { nonce: 1 }.to_bytes();
    let n = bytes.len();
    bytes.extend_from_slice(&[0xff; 7]);
    assert_eq!(check(&bytes, 100), Ok(n));
    assert_eq!(decode_server(&bytes), Ok(ServerFrame::Pong { nonce: 1 }));
}

#[test]
fn encode_never_emits_an_oversized_str() {
    let long = "é".repeat(40_000); // 80 000 bytes
    let bytes = ServerFrame::Notice { text: long }.to_bytes();
    match decode_server(&bytes).unwrap() {
        ServerFrame::Notice { text } => {
            assert_eq!(text.len(), 65_534);
            assert!(text.chars().all(|c| c == 'é'));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn encode_appends() {
    let mut out = vec![9, 9];
    ClientFrame::Ping { nonce: 1 }.encode(&mut out);
    assert_eq!(&out[..2], &[9, 9]);
    assert_eq!(decode_client(&out[2..]), Ok(ClientFrame::Ping { nonce: 1 }));
}

#[test]
fn borrowed_encoders_match_the_frames() {
    let file = FileRef { file: "ff".into(), size: 3, mime: "a/b".into() };
    for file in [None, Some(&file)] {
        let m = MsgRef {
            room: "lobby",
            id: 3,
            ts: 1_764_300_000_000,
            from: "ada",
            flags: 1,
            text: "hi é",
            file,
        };
        let f = ServerFrame::Msg {
            room: "lobby".into(),
            id: 3,
            ts: 1_764_300_000_000,
            from: "ada".into(),
            flags: 1 | if file.is_some() { FLAG_FILE } else { 0 },
            text: "hi é".into(),
            file: file.cloned(),
        };
        let mut out = vec![1];
        encode_msg(&mut out, &m);
        assert_eq!(&out[1..], &f.to_bytes()[..]);
        assert_eq!(msg_size(&m), out.len() - 1);
    }
    for flags in [0, FLAG_ACTION] {
        let mut out = Vec::new();
        encode_say(&mut out, "r", 9, "t", flags);
        let f = ClientFrame::Say { room: "r".into(), seq: 9, text: "t".into(), flags };
        assert_eq!(out, f.to_bytes());
    }
    let mut out = Vec::new();
    encode_file_data_head(&mut out, "ab", 5, 1, 3);
    out.extend_from_slice(b"xyz");
    let f = ServerFrame::FileData { file: "ab".into(), offset: 5, last: 1, data: b"xyz".to_vec() };
    assert_eq!(out, f.to_bytes());
}
