//! A client that keeps its socket full must not hold the event loop: the
//! server reads each connection a bounded amount per turn, so everyone
//! else is still served while the flood goes on.

use crate::server_util::*;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::*;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn a_flooding_sender_does_not_starve_others() {
    let s = Server::start(&["--rate", "0"]);
    // The flooder is alone in its room (nobody to fan out to); calm is in
    // no room, so all it gets is its PONGs.
    let flood = room_of(&s, &["flood"], "lobby").pop().expect("flood");
    let calm = s.login("calm");
    let stop = Arc::new(AtomicBool::new(false));
    // The flooder writes SAYs without pause and drains its ACKs in another
    // thread, so it is never a slow consumer, only a fast producer.
    let mut writer = flood.stream.try_clone().expect("clone");
    let mut reader = flood.stream.try_clone().expect("clone");
    let st = stop.clone();
    let acked = Arc::new(AtomicUsize::new(0));
    let seen = acked.clone();
    let drain = std::thread::spawn(move || {
        let mut b = vec![0u8; 1 << 16];
        reader.set_read_timeout(Some(Duration::from_millis(100))).ok();
        while !st.load(Ordering::Relaxed) {
            if let Ok(n) = reader.read(&mut b) {
                seen.fetch_add(n, Ordering::Relaxed);
            }
        }
    });
    let st = stop.clone();
    // Encoded once, written over and over: the writer outpaces the server,
    // which checks every character of each 4 000-byte text.
    let text = "flood ".repeat(666);
    let mut chunk = Vec::with_capacity(8 << 20);
    for seq in 1..=2_000 {
        say_f("lobby", seq, &text).encode(&mut chunk);
    }
    let pump = std::thread::spawn(move || {
        while !st.load(Ordering::Relaxed) {
            if writer.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    // The flood is on once the server has answered a thousand of its SAYs
    // (an ACK of room "lobby" is 32 bytes) while the pump keeps writing.
    let started = Instant::now();
    while acked.load(Ordering::Relaxed) < 1000 * 32 {
        assert!(started.elapsed() < WAIT, "the server answered no flood within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut calm = calm;
    let mut worst = Duration::ZERO;
    for nonce in 1..=5u64 {
        let t = Instant::now();
        calm.send(&ClientFrame::Ping { nonce });
        loop {
            match calm.recv_within(Duration::from_secs(3)) {
                Some(ServerFrame::Pong { nonce: n }) if n == nonce => break,
                Some(_) => {} // the flood's MSGs
                None => panic!("no PONG within 3 s while another client floods"),
            }
        }
        worst = worst.max(t.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    let _ = flood.stream.shutdown(std::net::Shutdown::Both);
    pump.join().expect("pump");
    drain.join().expect("drain");
    assert!(worst < Duration::from_secs(3), "worst PONG took {worst:?}");
}
