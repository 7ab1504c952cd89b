//! Fuzz target: any bytes, fed to `check` then `decode` the way a server
//! does, must never panic, never claim more bytes than it was given, and
//! every frame that decodes must encode back to a frame that decodes equal.
#![no_main]

use banter_proto::{check, decode, DecodeError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    while at < data.len() {
        match check(&data[at..], 65_536) {
            Ok(n) => {
                assert!(at + n <= data.len());
                if let Ok(frame) = decode(&data[at..at + n]) {
                    let again = decode(&frame.to_bytes()).expect("re-encoded frame decodes");
                    assert_eq!(again, frame);
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
