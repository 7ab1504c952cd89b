//! What the coordinating thread and the worker threads share: the run's
//! phase (set by the coordinator only), each worker's counters (written by
//! that worker only, once per loop turn, so the hot path touches no shared
//! cache line per message), each sender's last sequence number, and the
//! first few error texts.
//!
//! It holds no sockets and no histograms (those stay in the workers).

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Mutex;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    /// Opening, logging in and joining; no load yet.
    Setup = 0,
    /// Load runs, nothing recorded in the latency histogram.
    Warmup = 1,
    /// Load runs and latencies are recorded.
    Measure = 2,
    /// Senders stop; receivers take in what is still on its way.
    Drain = 3,
    /// Workers check order, say goodbye and return.
    Done = 4,
}

/// One worker's counters, a plain snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Connections that completed their setup.
    pub ready: u64,
    /// Connections that failed to connect, log in or join.
    pub failed: u64,
    /// Messages published.
    pub sent: u64,
    /// Publishes the server acknowledged (or refused).
    pub acked: u64,
    /// Messages received by receivers (fanout) or readers (replay).
    pub delivered: u64,
    /// Application bytes read from the server (after TLS and WebSocket).
    pub bytes_in: u64,
    /// Error replies and unexpected closes.
    pub errors: u64,
    /// Completed churn cycles or replay JOINs.
    pub cycles: u64,
    /// Connections currently open.
    pub open: u64,
    /// Turns of the worker's poll loop: with `sent`, how much each turn
    /// feeds the server (the check that the harness is not the bottleneck).
    pub loops: u64,
    /// Nanoseconds the worker spent blocked in poll, waiting for the server.
    pub wait_ns: u64,
    /// Write system calls on the sockets (sends per write: batching).
    pub writes: u64,
    /// TLS handshakes completed (every one a full handshake: no resumption).
    pub handshakes: u64,
}

/// How many fields [`Counts`] has.
const FIELDS: usize = 13;

impl Counts {
    fn to_array(self) -> [u64; FIELDS] {
        [
            self.ready,
            self.failed,
            self.sent,
            self.acked,
            self.delivered,
            self.bytes_in,
            self.errors,
            self.cycles,
            self.open,
            self.loops,
            self.wait_ns,
            self.writes,
            self.handshakes,
        ]
    }

    fn from_array(v: [u64; FIELDS]) -> Counts {
        let [ready, failed, sent, acked, delivered, bytes_in, errors, cycles, open, loops, wait_ns, writes, handshakes] =
            v;
        Counts {
            ready,
            failed,
            sent,
            acked,
            delivered,
            bytes_in,
            errors,
            cycles,
            open,
            loops,
            wait_ns,
            writes,
            handshakes,
        }
    }

    /// Field-wise sum.
    pub fn add(&mut self, o: &Counts) {
        let (a, b) = (self.to_array(), o.to_array());
        *self = Counts::from_array(std::array::from_fn(|i| a[i] + b[i]));
    }

    /// `self - earlier` field-wise (counts only grow, except `open`, kept).
    pub fn since(&self, earlier: &Counts) -> Counts {
        let (b, a) = (self.to_array(), earlier.to_array());
        let mut d = Counts::from_array(std::array::from_fn(|i| b[i].saturating_sub(a[i])));
        d.open = self.open;
        d
    }
}

/// The published copy of one worker's [`Counts`].
#[derive(Default)]
struct Published([AtomicU64; FIELDS]);

/// The state shared by a run's threads.
pub struct Shared {
    /// The current [`Phase`].
    phase: AtomicU8,
    /// When the current window's load started (ns on the harness clock):
    /// the open-loop origin.
    pub load_start_ns: AtomicU64,
    /// The current window's open-loop rate (f64 bits; 0: closed loop).
    rate_bits: AtomicU64,
    /// The current window's number (1, 2, …; 0 before the first).
    window: AtomicU32,
    /// Each worker's published counters.
    workers: Vec<Published>,
    /// `last_seq[s]`: the last sequence number sender `s` published.
    pub last_seq: Vec<AtomicU32>,
    /// Work that the drain must wait for besides deliveries: files
    /// transfers under way.
    pub busy: AtomicU64,
    /// The first few distinct error texts, for the report.
    errors: Mutex<Vec<String>>,
    /// What the first finished TLS handshake negotiated.
    tls: std::sync::OnceLock<String>,
}

/// How many distinct error texts a run keeps.
const MAX_ERRORS: usize = 8;

impl Shared {
    /// State for `workers` threads and `senders` senders, in Setup.
    pub fn new(workers: usize, senders: usize) -> Shared {
        Shared {
            phase: AtomicU8::new(Phase::Setup as u8),
            load_start_ns: AtomicU64::new(0),
            rate_bits: AtomicU64::new(0),
            window: AtomicU32::new(0),
            workers: (0..workers).map(|_| Published::default()).collect(),
            last_seq: (0..senders).map(|_| AtomicU32::new(0)).collect(),
            busy: AtomicU64::new(0),
            errors: Mutex::new(Vec::new()),
            tls: std::sync::OnceLock::new(),
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Relaxed) {
            0 => Phase::Setup,
            1 => Phase::Warmup,
            2 => Phase::Measure,
            3 => Phase::Drain,
            _ => Phase::Done,
        }
    }

    /// Moves the run to `p` (coordinator only).
    pub fn set_phase(&self, p: Phase) {
        self.phase.store(p as u8, Relaxed);
    }

    /// Starts window `n` at `rate` (0: closed loop), its load origin `now`.
    pub fn start_window(&self, n: u32, rate: f64, now: u64) {
        self.rate_bits.store(rate.to_bits(), Relaxed);
        self.load_start_ns.store(now, Relaxed);
        self.window.store(n, Relaxed);
    }

    /// The current window's number and open-loop rate.
    pub fn window(&self) -> (u32, f64) {
        let n = self.window.load(Relaxed);
        (n, f64::from_bits(self.rate_bits.load(Relaxed)))
    }

    /// Publishes worker `w`'s counters.
    pub fn publish(&self, w: usize, c: &Counts) {
        let Some(slot) = self.workers.get(w) else {
            return;
        };
        for (a, x) in slot.0.iter().zip(c.to_array()) {
            a.store(x, Relaxed);
        }
    }

    /// The sum of every worker's last published counters.
    pub fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for w in &self.workers {
            t.add(&Counts::from_array(std::array::from_fn(|i| w.0[i].load(Relaxed))));
        }
        t
    }

    /// The sum of every sender's last sequence number: messages published.
    pub fn published(&self) -> u64 {
        self.last_seq.iter().map(|s| u64::from(s.load(Relaxed))).sum()
    }

    /// Every sender's last sequence number.
    pub fn last_seqs(&self) -> Vec<u32> {
        self.last_seq.iter().map(|s| s.load(Relaxed)).collect()
    }

    /// Keeps an error text if it is new and there is room.
    pub fn note_error(&self, text: &str) {
        let mut e = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() < MAX_ERRORS && !e.iter().any(|x| x == text) {
            e.push(text.to_string());
        }
    }

    /// Keeps what the first finished TLS handshake negotiated.
    pub fn note_tls(&self, summary: &str) {
        let _ = self.tls.set(summary.to_string());
    }

    /// What the first finished TLS handshake negotiated, if any finished.
    pub fn tls(&self) -> Option<String> {
        self.tls.get().cloned()
    }

    /// The error texts kept.
    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_workers_and_errors_dedupe() {
        let s = Shared::new(2, 3);
        let c = Counts { sent: 2, delivered: 10, ..Counts::default() };
        s.publish(0, &c);
        s.publish(1, &c);
        s.publish(9, &c);
        let t = s.totals();
        assert_eq!((t.sent, t.delivered), (4, 20));
        let later = Counts { sent: 7, open: 1, handshakes: 3, ..t };
        let d = later.since(&t);
        assert_eq!((d.sent, d.delivered, d.open, d.handshakes), (3, 0, 1, 3));
        s.last_seq[2].store(5, Relaxed);
        assert_eq!(s.published(), 5);
        s.note_error("a");
        s.note_error("a");
        assert_eq!(s.errors(), vec!["a".to_string()]);
        s.set_phase(Phase::Measure);
        assert_eq!(s.phase(), Phase::Measure);
        s.start_window(2, 150.5, 7);
        assert_eq!(s.window(), (2, 150.5));
    }
}
