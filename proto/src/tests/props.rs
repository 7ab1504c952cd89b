//! Property tests: round trips of arbitrary frames, and decoding arbitrary
//! bytes never panics and never claims more bytes than it was given.

use crate::*;
use proptest::prelude::*;

fn arb_str() -> impl Strategy<Value = String> {
    prop_oneof![".{0,40}", "[a-z]{0,8}"]
}

fn client_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (any::<u16>(), arb_str(), arb_str(), any::<u64>()).prop_map(
            |(version, name, password, resume)| Frame::Hello { version, name, password, resume }
        ),
        (arb_str(), any::<u64>(), any::<u16>()).prop_map(|(room, since, limit)| Frame::Join {
            room,
            since,
            limit
        }),
        (arb_str(), any::<u32>(), arb_str()).prop_map(|(room, seq, text)| Frame::Say {
            room,
            seq,
            text
        }),
        (arb_str(), any::<u8>()).prop_map(|(room, active)| Frame::Typing { room, active }),
        arb_str().prop_map(|reason| Frame::Quit { reason }),
        any::<u64>().prop_map(|nonce| Frame::Ping { nonce }),
    ]
}

fn server_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (arb_str(), any::<u64>(), any::<u64>(), arb_str(), any::<u8>(), arb_str()).prop_map(
            |(room, id, ts, from, flags, text)| Frame::Msg { room, id, ts, from, flags, text }
        ),
        (any::<u16>(), any::<u8>(), any::<u32>(), arb_str())
            .prop_map(|(code, about, seq, detail)| Frame::Error { code, about, seq, detail }),
        (arb_str(), any::<u8>(), prop::collection::vec(arb_str(), 0..20))
            .prop_map(|(room, more, names)| Frame::Roster { room, more, names }),
        (arb_str(), arb_str(), any::<u8>(), arb_str()).prop_map(|(room, name, event, reason)| {
            Frame::Presence { room, name, event, reason }
        }),
        (arb_str(), any::<u16>(), any::<u8>()).prop_map(|(room, count, more)| Frame::HistoryEnd {
            room,
            count,
            more
        }),
    ]
}

proptest! {
    #[test]
    fn round_trip(f in prop_oneof![client_frame(), server_frame()]) {
        let bytes = f.to_bytes();
        prop_assert_eq!(check(&bytes, u32::MAX), Ok(bytes.len()));
        prop_assert_eq!(decode(&bytes), Ok(f));
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        match check(&bytes, 1024) {
            Ok(n) => {
                prop_assert!(n <= bytes.len());
                let _ = decode(&bytes[..n]);
            }
            Err(e) => prop_assert!(e == DecodeError::Incomplete || e.is_framing()),
        }
        let _ = decode(&bytes);
    }

    #[test]
    fn decode_of_valid_type_with_random_body(ty in any::<u8>(), body in prop::collection::vec(any::<u8>(), 0..100)) {
        let mut bytes = ((body.len() + 1) as u32).to_be_bytes().to_vec();
        bytes.push(ty);
        bytes.extend_from_slice(&body);
        if let Ok(f) = decode(&bytes) {
            prop_assert_eq!(f.frame_type(), ty);
        }
    }
}
