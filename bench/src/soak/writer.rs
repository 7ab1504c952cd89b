//! A writer of the soak: one session that says a uniquely numbered line
//! every 200 ms, keeps every SAY until its ACK, and when the server goes
//! away (kill -9, restart) reconnects, resumes with its token and resends
//! every unacknowledged SAY with its original seq, exactly as `banter`
//! does. Every ACK goes to the shared ledger: text -> (room, id).
//!
//! It checks as it goes that a seq's ACK never names two different ids.

use crate::attack::wire::{host, Wire};
use banter_proto::{ClientFrame, ServerFrame};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What all writers learnt.
#[derive(Default)]
pub struct Ledger {
    /// Text -> (room, id) of every ACK.
    pub acked: HashMap<String, (String, u64)>,
    /// Reconnections that resumed (WELCOME resumed = 1).
    pub resumed: u64,
    /// Reconnections that got a new session instead.
    pub fresh: u64,
    /// ACKs of one seq naming two different ids (must stay 0).
    pub conflicts: u64,
}

/// The shared ledger.
pub type Shared = Arc<Mutex<Ledger>>;

/// One writer's state across connections.
struct Writer {
    name: String,
    room: String,
    /// Unacknowledged SAYs by seq.
    pending: BTreeMap<u32, String>,
    /// Each seq's ACKed id.
    acked: HashMap<u32, u64>,
    token: u64,
    seq: u32,
}

/// Writer `i` until `stop` (then until its last SAY is acknowledged).
pub fn run(i: usize, to: SocketAddr, stop: &AtomicBool, ledger: &Shared) {
    let mut w = Writer {
        name: format!("writer{i}"),
        room: format!("soak{}", i % 3),
        pending: BTreeMap::new(),
        acked: HashMap::new(),
        token: 0,
        seq: 0,
    };
    let give_up = || stop.load(Ordering::Relaxed);
    let mut deadline: Option<Instant> = None;
    loop {
        if give_up() {
            let end = *deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(30));
            if w.pending.is_empty() || Instant::now() > end {
                return;
            }
        }
        let Ok(mut wire) = Wire::connect(host(5, i), to) else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        let Ok((token, resumed)) = wire.hello_resumed(&w.name, "", w.token, Duration::from_secs(5))
        else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        if w.token != 0 {
            let mut l = ledger.lock().unwrap_or_else(|e| e.into_inner());
            *(if resumed { &mut l.resumed } else { &mut l.fresh }) += 1;
        }
        w.token = token;
        connected(&mut w, &mut wire, i, stop, ledger);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One connection's life: rejoin, resend, then write and read until it fails.
fn connected(w: &mut Writer, wire: &mut Wire, i: usize, stop: &AtomicBool, ledger: &Shared) {
    let mut frames = vec![ClientFrame::Join { room: w.room.clone(), since: 0, limit: 0 }];
    frames.extend(w.pending.iter().map(|(s, text)| say(&w.room, *s, text)));
    if wire.send_all(&frames).is_err() {
        return;
    }
    let mut next = Instant::now();
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        if stopping && w.pending.is_empty() {
            return;
        }
        if !stopping && Instant::now() >= next {
            w.seq += 1;
            let text = format!("w{i}-{}", w.seq);
            w.pending.insert(w.seq, text.clone());
            if wire.send(&say(&w.room, w.seq, &text)).is_err() {
                return;
            }
            next += Duration::from_millis(200);
        }
        match wire.recv(Duration::from_millis(50)) {
            Ok(Some(ServerFrame::Ack { seq, id, room, .. })) => {
                let mut l = ledger.lock().unwrap_or_else(|e| e.into_inner());
                if w.acked.insert(seq, id).is_some_and(|old| old != id) {
                    l.conflicts += 1;
                }
                if let Some(text) = w.pending.remove(&seq) {
                    l.acked.insert(text, (room, id));
                }
            }
            Ok(Some(ServerFrame::Error { code: 15, seq, .. })) if seq != 0 => {
                // Rate-limited: sent again after a pause, with its seq.
                std::thread::sleep(Duration::from_millis(300));
                next = next.max(Instant::now() + Duration::from_millis(300));
                let text = w.pending.get(&seq).cloned();
                if text.is_some_and(|t| wire.send(&say(&w.room, seq, &t)).is_err()) {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

fn say(room: &str, seq: u32, text: &str) -> ClientFrame {
    ClientFrame::Say { room: room.into(), seq, text: text.into(), flags: 0 }
}
