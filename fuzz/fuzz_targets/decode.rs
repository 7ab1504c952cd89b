//! Fuzz target: any bytes, fed to `check` then to both decoders the way a
//! server and a client do, must never panic, never claim more bytes than
//! they were given, and every frame that decodes must encode back to a
//! frame that decodes equal.
#![no_main]

use banter_proto::{check, decode_client, decode_server, DecodeError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    while at < data.len() {
        match check(&data[at..], 65_536) {
            Ok(n) => {
                assert!(at + n <= data.len());
                let frame = &data[at..at + n];
                if let Ok(f) = decode_client(frame) {
                    assert_eq!(decode_client(&f.to_bytes()).expect("re-encoded"), f);
                }
                if let Ok(f) = decode_server(frame) {
                    assert_eq!(decode_server(&f.to_bytes()).expect("re-encoded"), f);
                }
                at += n;
            }
            Err(DecodeError::Incomplete) => break,
            Err(e) => {
                assert!(e.is_framing());
                break;
            }
        }
    }
});
