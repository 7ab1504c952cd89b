//! A stream of SAYs cut by `kill -9` or SIGTERM: after a restart on the same
//! database, every acknowledged message and every message anyone was sent
//! is there with its text, ids have no gaps, and the next SAY gets the next id.

use super::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// The text of the SAY with this seq.
fn text_of(seq: u32) -> String {
    format!("m{seq} {}", "x".repeat(40))
}

/// SAYs a client may have sent and not yet seen acknowledged: a client
/// with a window, not a flood (the loop's fairness is tested elsewhere).
const WINDOW: u32 = 512;

/// A thread writing SAYs 1, 2, 3, … to lobby in bursts, keeping at most
/// [`WINDOW`] unacknowledged, until the socket fails (the server died) or
/// `max` were written, or the reader set `acked` to `u32::MAX` (done).
/// `acked` counts the ACKs the reader saw.
fn stream_says(c: &Conn, max: u32, acked: Arc<AtomicU32>) -> JoinHandle<()> {
    let mut w = c.stream.try_clone().expect("clone socket");
    std::thread::spawn(move || {
        let mut seq = 1;
        let end = Instant::now() + Duration::from_secs(30);
        while seq <= max && Instant::now() < end {
            let n = acked.load(Ordering::Relaxed);
            if n == u32::MAX {
                return;
            }
            if seq > n + WINDOW {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            let mut buf = Vec::new();
            for s in seq..(seq + 64).min(max + 1) {
                say_f("lobby", s, &text_of(s)).encode(&mut buf);
            }
            if w.write_all(&buf).is_err() {
                return;
            }
            seq += 64;
        }
    })
}

/// What the sender and an observer were told.
#[derive(Default)]
struct Seen {
    /// seq -> id of every ACK the sender got.
    acks: BTreeMap<u32, u64>,
    /// id -> text of every MSG the observer got.
    msgs: BTreeMap<u64, String>,
    /// How many ACKs, shared with the writer for its window.
    acked: Arc<AtomicU32>,
}

impl Seen {
    /// Reads whatever both connections have, for at most `limit`, until
    /// `acks` ACKs (or both go quiet for 500 ms).
    fn read(&mut self, ada: &mut Conn, bob: &mut Conn, acks: usize, limit: Duration) {
        let end = Instant::now() + limit;
        while self.acks.len() < acks && Instant::now() < end {
            let a = ada.recv_within(Duration::from_millis(250));
            if let Some(f) = &a {
                self.take(f);
            }
            let wait = if a.is_some() { 1 } else { 250 };
            let b = bob.recv_within(Duration::from_millis(wait));
            if let Some(f) = &b {
                self.take(f);
            }
            if a.is_none() && b.is_none() {
                return;
            }
        }
    }

    fn take(&mut self, f: &ServerFrame) {
        match f {
            ServerFrame::Ack { seq, id, .. } => {
                assert!(self.acks.insert(*seq, *id).is_none(), "two ACKs of {seq}");
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            ServerFrame::Msg { id, text, .. } => {
                self.msgs.insert(*id, text.clone());
            }
            _ => {}
        }
    }

    /// After a restart: everything seen is stored, ids 1..=max without gaps,
    /// and the next SAY gets max + 1.
    fn check_against(&self, s: &Server) {
        let mut carol = s.login("carol");
        let (last, _) = join(&mut carol, "lobby", 0, 0);
        let stored = all_history(&mut carol, "lobby");
        assert_eq!(stored.len() as u64, last, "ids 1..={last} without gaps");
        for (i, (id, from, _)) in stored.iter().enumerate() {
            assert_eq!((*id, from.as_str()), (i as u64 + 1, "ada"));
        }
        for (seq, id) in &self.acks {
            let Some((_, _, text)) = stored.get((*id as usize).wrapping_sub(1)) else {
                panic!("ACKed SAY {seq} (id {id}) lost; {} stored", stored.len());
            };
            assert_eq!(text, &text_of(*seq), "text of ACKed id {id}");
        }
        for (id, text) in &self.msgs {
            let got = stored.get((*id as usize).wrapping_sub(1)).map(|m| &m.2);
            assert_eq!(got, Some(text), "MSG id {id} that bob saw");
        }
        assert_eq!(say(&mut carol, "lobby", 1, "after").0, last + 1);
    }
}

/// ada streams SAYs into lobby, bob watches; returns both connections.
fn setup(s: &Server) -> (Conn, Conn) {
    let mut ada = s.login("ada");
    let mut bob = s.login("bob");
    join(&mut bob, "lobby", 0, 0);
    join(&mut ada, "lobby", 0, 0);
    match bob.recv_app() {
        ServerFrame::Presence { .. } => {}
        f => panic!("expected PRESENCE, got {f:?}"),
    }
    (ada, bob)
}

#[test]
fn kill_9_loses_no_acknowledged_message() {
    let dir = TempDir::new("store-kill9");
    let mut s = start_db(&dir, &[]);
    let (mut ada, mut bob) = setup(&s);
    let mut seen = Seen::default();
    let writer = stream_says(&ada, 1_000_000, seen.acked.clone());
    seen.read(&mut ada, &mut bob, 3_000, Duration::from_secs(20));
    assert!(seen.acks.len() >= 3_000, "only {} ACKs", seen.acks.len());
    s.kill9();
    // What was already sent before the kill counts too.
    seen.read(&mut ada, &mut bob, usize::MAX, Duration::from_secs(10));
    seen.acked.store(u32::MAX, Ordering::Relaxed);
    let _ = writer.join();
    let s = start_db(&dir, &[]);
    seen.check_against(&s);
}

#[test]
fn sigterm_loses_nothing_and_leaves_a_checkpointed_database() {
    let dir = TempDir::new("store-term");
    let mut s = start_db(&dir, &[]);
    let (mut ada, mut bob) = setup(&s);
    let mut seen = Seen::default();
    let writer = stream_says(&ada, 20_000, seen.acked.clone());
    seen.read(&mut ada, &mut bob, 2_000, Duration::from_secs(20));
    stop(&mut s);
    seen.read(&mut ada, &mut bob, usize::MAX, Duration::from_secs(10));
    seen.acked.store(u32::MAX, Ordering::Relaxed);
    let _ = writer.join();
    assert!(seen.acks.len() >= 2_000, "only {} ACKs", seen.acks.len());
    let wal = dir.0.join("banter.db-wal");
    let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(wal_len, 0, "the WAL is checkpointed on shutdown");
    let s = start_db(&dir, &[]);
    seen.check_against(&s);
}

#[test]
fn a_client_resuming_after_kill_9_resends_and_nothing_is_doubled() {
    let dir = TempDir::new("store-exactly-once");
    let mut s = start_db(&dir, &[]);
    let (mut ada, mut bob) = setup(&s);
    let token = ada.token;
    let mut seen = Seen::default();
    let max = 4_000;
    let writer = stream_says(&ada, max, seen.acked.clone());
    seen.read(&mut ada, &mut bob, 1_500, Duration::from_secs(20));
    s.kill9();
    seen.read(&mut ada, &mut bob, usize::MAX, Duration::from_secs(10));
    seen.acked.store(u32::MAX, Ordering::Relaxed);
    let _ = writer.join();
    let before = seen.acks.clone();
    // Some SAYs were stored but never acknowledged; the client cannot tell
    // which, so it resends every unacknowledged one with its seq (and here
    // 500 acknowledged ones too: within the 1 024 the server remembers).
    let top = *before.keys().last().expect("ACKs before the crash");
    let lo = top.saturating_sub(500).max(1);
    let s = start_db(&dir, &[]);
    let mut ada = s.connect();
    ada.hello("ada", "", token);
    assert!(matches!(ada.expect_welcome(), ServerFrame::Welcome { resumed: 1, .. }));
    let mut again = BTreeMap::new();
    for chunk in (lo..=max).collect::<Vec<u32>>().chunks(500) {
        let frames: Vec<ClientFrame> =
            chunk.iter().map(|&q| say_f("lobby", q, &text_of(q))).collect();
        ada.send_raw(&crate::server_util::batch(&frames));
        for _ in chunk {
            match ada.recv_app() {
                ServerFrame::Ack { seq, id, .. } => assert!(again.insert(seq, id).is_none()),
                f => panic!("expected ACK, got {f:?}"),
            }
        }
    }
    for (seq, id) in before.range(lo..) {
        assert_eq!(again.get(seq), Some(id), "SAY {seq} was ACKed as {id} before the crash");
    }
    let mut carol = s.login("carol");
    join(&mut carol, "lobby", 0, 0);
    let stored = all_history(&mut carol, "lobby");
    assert_eq!(stored.len(), max as usize, "every SAY stored exactly once");
    for (seq, id) in &again {
        assert_eq!(stored[(*id - 1) as usize].2, text_of(*seq), "id {id}");
    }
}
