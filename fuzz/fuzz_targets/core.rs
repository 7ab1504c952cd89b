//! Drives banterd's protocol core in-process: sequences of frames from
//! several peers, disconnects, time steps and password-check answers,
//! with the protocol's invariants checked after every step (see
//! `banterd::core::harness`). A broken invariant is a crash, like a panic.
//! Minimised findings go to `fuzz/regressions/core/`, which `cargo test`
//! replays.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = banterd::core::harness::run(data) {
        panic!("invariant broken: {e}");
    }
});
