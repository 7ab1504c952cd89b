//! The slow consumer (spec §4 "Limits and errors"): a member that never
//! reads is dropped with ERROR SLOW_CONSUMER once its unsent output passes
//! `--out-limit`, its stream staying whole (a prefix of MSGs, the ERROR, the
//! close), while another member keeps receiving every message promptly and
//! in order.
//!
//! It does not measure throughput; `banter-bench` does.

use crate::server_util::*;
use banter_proto::{ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Messages the sender floods: 10 MB, well past the server's socket buffer
/// (at most 4 MiB here) plus the output limit.
const FLOOD: u32 = 2500;
/// Bytes of text per message.
const TEXT: usize = 4000;
/// Messages in flight at once: 32 KB, half the output limit.
const WINDOW: u32 = 8;

/// Why the stalled member starts reading.
#[derive(Debug)]
enum Wake {
    /// The watcher saw its TYPING stop: the server let go of it.
    Dropped,
    /// The sender got every ACK.
    FloodDone,
}

/// What the watching member saw.
struct Watched {
    /// MSG ids in arrival order.
    ids: Vec<u64>,
    /// Longest wait between two MSGs.
    max_gap: Duration,
    /// Frames other than MSG, PING and NOTICE.
    other: Vec<ServerFrame>,
}

/// Reads MSGs until `FLOOD` of them; signals `wake` when bob stops typing.
fn watch(mut carol: Conn, wake: mpsc::Sender<Wake>) -> Watched {
    let mut w = Watched { ids: Vec::new(), max_gap: Duration::ZERO, other: Vec::new() };
    let mut last = Instant::now();
    while w.ids.len() < FLOOD as usize {
        match carol.recv_app() {
            ServerFrame::Msg { id, .. } => {
                w.max_gap = w.max_gap.max(last.elapsed());
                last = Instant::now();
                w.ids.push(id);
            }
            f => {
                if f == typing("lobby", "bob", 0) {
                    let _ = wake.send(Wake::Dropped);
                }
                w.other.push(f);
            }
        }
    }
    w
}

/// Sends the flood as ada, a few messages at a time, each few sent once the
/// ACKs of the previous ones are back: every burst stays well under the
/// output limit, so a member that reads keeps up.
fn flood(mut ada: Conn, wake: mpsc::Sender<Wake>) {
    let text = "z".repeat(TEXT);
    let mut acked = 0;
    while acked < FLOOD {
        let next = (acked + 1..=(acked + WINDOW).min(FLOOD)).map(|i| say_f("lobby", i, &text));
        ada.send_raw(&batch(&next.collect::<Vec<_>>()));
        let until = (acked + WINDOW).min(FLOOD);
        while acked < until {
            match ada.recv_app() {
                ServerFrame::Ack { seq, .. } if seq == acked + 1 => acked = seq,
                // ada is a member too: she sees bob's typing stop.
                f if f == typing("lobby", "bob", 0) => {}
                f => panic!("expected ACK {}, got {f:?}", acked + 1),
            }
        }
    }
    let _ = wake.send(Wake::FloodDone);
}

#[test]
fn a_never_reading_client_is_dropped_and_others_keep_up() {
    let s = Server::start(&["--rate", "0", "--out-limit", "65536"]);
    let mut v = room_of(&s, &["ada", "carol"], "lobby");
    let mut bob = s.connect();
    bob.hello("bob", "", 0);
    bob.expect_welcome();
    join(&mut bob, "lobby", "lobby", 0, 0);
    bob.send(&ClientFrame::Typing { room: "lobby".into(), active: 1 });
    for c in v.iter_mut() {
        assert_eq!(c.recv_app(), presence("lobby", "bob", JOINED_EV));
        assert_eq!(c.recv_app(), typing("lobby", "bob", 1));
    }
    let (tx, rx) = mpsc::channel();
    let (carol, ada) = (v.pop().expect("carol"), v.pop().expect("ada"));
    let tx2 = tx.clone();
    let watcher = thread::spawn(move || watch(carol, tx2));
    let sender = thread::spawn(move || flood(ada, tx));
    let why = rx.recv_timeout(Duration::from_secs(60)).expect("a wake-up");
    let frames = bob.expect_closed();
    sender.join().expect("sender");
    let w = watcher.join().expect("watcher");
    check_dropped(&frames, &why);
    assert_eq!(w.ids, (1..=u64::from(FLOOD)).collect::<Vec<_>>());
    assert!(w.max_gap < Duration::from_secs(2), "stalled {:?}", w.max_gap);
    // bob's session lingers: no PRESENCE, only its typing stopped.
    assert_eq!(w.other, [typing("lobby", "bob", 0)]);
}

/// bob's stream: a gap-free prefix of the MSGs, then SLOW_CONSUMER, then the
/// close; and it was dropped well before the flood's end.
fn check_dropped(frames: &[ServerFrame], why: &Wake) {
    let (last, before) = frames.split_last().expect("frames before the close");
    assert_error(last, ErrorCode::SlowConsumer, 0, 0);
    let msgs: Vec<ServerFrame> = before
        .iter()
        .filter(|f| !matches!(f, ServerFrame::Notice { .. } | ServerFrame::Ping { .. }))
        .cloned()
        .collect();
    let got = ids(&msgs);
    assert_eq!(got, (1..=got.len() as u64).collect::<Vec<_>>());
    assert!(got.len() < FLOOD as usize, "bob got all {} (woke: {why:?})", got.len());
}

/// Floods `lobby` from `sender` until it sees `stalled`'s typing stop (the
/// server let go of it); returns how many messages that took.
fn flood_until_dropped(sender: &mut Conn, stalled: &str) -> u32 {
    let text = "z".repeat(TEXT);
    let stop = typing("lobby", stalled, 0);
    let mut acked = 0;
    let mut dropped = false;
    while !dropped {
        assert!(acked < FLOOD, "{stalled} never dropped");
        let next = (acked + 1..=acked + WINDOW).map(|i| say_f("lobby", i, &text));
        sender.send_raw(&batch(&next.collect::<Vec<_>>()));
        let until = acked + WINDOW;
        while acked < until {
            match sender.recv_app() {
                ServerFrame::Ack { seq, .. } if seq == acked + 1 => acked = seq,
                f if f == stop => dropped = true,
                f => panic!("expected ACK {}, got {f:?}", acked + 1),
            }
        }
    }
    acked
}

#[test]
fn a_closing_connection_no_longer_counts_toward_max_clients() {
    let args = ["--rate", "0", "--out-limit", "65536", "--max-clients", "2"];
    let s = Server::start(&args);
    let mut v = room_of(&s, &["bob", "ada"], "lobby");
    v[1].send(&ClientFrame::Typing { room: "lobby".into(), active: 1 });
    assert_eq!(v[0].recv_app(), typing("lobby", "ada", 1));
    let mut full = s.connect();
    full.hello("cy", "", 0);
    expect_fatal(&mut full, ErrorCode::ServerFull, 0);
    // ada stops reading; bob floods until the server drops her. Her
    // connection is then closing (its ERROR cannot be written yet) and no
    // longer counts: cy gets in at once.
    flood_until_dropped(&mut v[0], "ada");
    let mut cy = s.connect();
    cy.hello("cy", "", 0);
    cy.expect_welcome();
    let frames = v[1].expect_closed();
    let last = frames.last().expect("ERROR SLOW_CONSUMER");
    assert_error(last, ErrorCode::SlowConsumer, 0, 0);
}
