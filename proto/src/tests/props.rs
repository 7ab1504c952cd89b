//! Property tests: round trips of arbitrary frames, and decoding arbitrary
//! bytes never panics and never claims more bytes than it was given.

use crate::*;
use proptest::prelude::*;

fn arb_str() -> impl Strategy<Value = String> {
    prop_oneof![".{0,40}", "[a-z]{0,8}"]
}

fn client_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        (any::<u16>(), arb_str(), arb_str(), any::<u64>()).prop_map(
            |(version, name, password, resume)| ClientFrame::Hello {
                version,
                name,
                password,
                resume
            }
        ),
        (arb_str(), any::<u64>(), any::<u16>())
            .prop_map(|(room, since, limit)| ClientFrame::Join { room, since, limit }),
        (arb_str(), any::<u32>(), arb_str(), any::<u8>())
            .prop_map(|(room, seq, text, flags)| ClientFrame::Say { room, seq, text, flags }),
        (arb_str(), any::<u8>()).prop_map(|(room, active)| ClientFrame::Typing { room, active }),
        arb_str().prop_map(|reason| ClientFrame::Quit { reason }),
        (arb_str(), any::<u64>()).prop_map(|(room, id)| ClientFrame::Mark { room, id }),
        (any::<u32>(), any::<u64>(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(seq, offset, data)| ClientFrame::Chunk { seq, offset, data }),
        any::<u64>().prop_map(|nonce| ClientFrame::Ping { nonce }),
    ]
}

fn arb_file() -> impl Strategy<Value = Option<FileRef>> {
    prop::option::of((arb_str(), any::<u64>(), arb_str()).prop_map(|(file, size, mime)| FileRef {
        file,
        size,
        mime,
    }))
}

fn server_frame() -> impl Strategy<Value = ServerFrame> {
    prop_oneof![
        (arb_str(), any::<u64>(), any::<u64>(), arb_str(), any::<u8>(), arb_str(), arb_file())
            .prop_map(|(room, id, ts, from, flags, text, file)| {
                // The encoder derives bit 1 from `file`.
                let flags = (flags & !FLAG_FILE) | if file.is_some() { FLAG_FILE } else { 0 };
                ServerFrame::Msg { room, id, ts, from, flags, text, file }
            }),
        (any::<u16>(), any::<u8>(), any::<u32>(), arb_str())
            .prop_map(|(code, about, seq, detail)| ServerFrame::Error { code, about, seq, detail }),
        (arb_str(), any::<u8>(), prop::collection::vec(arb_str(), 0..20))
            .prop_map(|(room, more, names)| ServerFrame::Roster { room, more, names }),
        (arb_str(), arb_str(), any::<u8>(), arb_str()).prop_map(|(room, name, event, reason)| {
            ServerFrame::Presence { room, name, event, reason }
        }),
        (arb_str(), any::<u16>(), any::<u8>())
            .prop_map(|(room, count, more)| ServerFrame::HistoryEnd { room, count, more }),
        (arb_str(), any::<u32>(), any::<u64>(), any::<u64>()).prop_map(
            |(room, count, last_id, read)| ServerFrame::Unread { room, count, last_id, read }
        ),
    ]
}

proptest! {
    #[test]
    fn round_trip_client(f in client_frame()) {
        let bytes = f.to_bytes();
        prop_assert_eq!(check(&bytes, u32::MAX), Ok(bytes.len()));
        prop_assert_eq!(decode_client(&bytes), Ok(f));
    }

    #[test]
    fn round_trip_server(f in server_frame()) {
        let bytes = f.to_bytes();
        prop_assert_eq!(check(&bytes, u32::MAX), Ok(bytes.len()));
        prop_assert_eq!(decode_server(&bytes), Ok(f));
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        match check(&bytes, 1024) {
            Ok(n) => {
                prop_assert!(n <= bytes.len());
                let _ = decode_client(&bytes[..n]);
                let _ = decode_server(&bytes[..n]);
            }
            Err(e) => prop_assert!(e == DecodeError::Incomplete || e.is_framing()),
        }
        let _ = decode_client(&bytes);
        let _ = decode_server(&bytes);
    }

    #[test]
    fn decode_of_any_type_with_random_body(ty in any::<u8>(), body in prop::collection::vec(any::<u8>(), 0..100)) {
        let mut bytes = ((body.len() + 1) as u32).to_be_bytes().to_vec();
        bytes.push(ty);
        bytes.extend_from_slice(&body);
        if let Ok(f) = decode_client(&bytes) {
            prop_assert_eq!(f.frame_type(), ty);
        }
        if let Ok(f) = decode_server(&bytes) {
            prop_assert_eq!(f.frame_type(), ty);
        }
    }
}
