//! The reconnect state machine: when to (re)connect, with growing delays
//! and jitter, and when to give up and go offline. The delays (about 1 s,
//! 8 s, 30 s, then 60 s) make the default 3 attempts span more than 30 s,
//! so a server restart of about that long is ridden out.
//!
//! It is pure: it never reads the clock (every call takes `now`) and does no
//! I/O; the caller opens sockets when it answers [`Action::Connect`].

use std::time::{Duration, Instant};

/// Where the connection stands, as shown in the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not started (no name yet).
    Idle,
    /// A connection attempt is in progress; `attempt` 0 is the first connect.
    Connecting { attempt: u32 },
    /// Handshake done.
    Connected,
    /// Lost; attempt number `attempt` starts at `until`.
    Waiting { until: Instant, attempt: u32 },
    /// Gave up after the configured attempts; only a manual retry restarts.
    Offline,
}

/// Full delays before reconnect attempts 1, 2, 3 and every later one, in ms.
pub const DELAYS: [u64; 4] = [1_000, 8_000, 30_000, 60_000];

/// What the caller must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open a new connection.
    Connect,
}

/// Backoff bookkeeping.
#[derive(Debug)]
pub struct Reconnect {
    /// The current phase.
    phase: Phase,
    /// Attempts allowed after a loss before going offline; 0: forever.
    max: u32,
    /// xorshift state for the jitter.
    rng: u64,
}

impl Reconnect {
    /// A machine allowing `max` attempts (0: forever); `seed` feeds the jitter.
    pub fn new(max: u32, seed: u64) -> Self {
        Reconnect { phase: Phase::Idle, max, rng: seed | 1 }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The attempt limit (0: forever).
    pub fn max(&self) -> u32 {
        self.max
    }

    /// The first connection.
    pub fn start(&mut self) -> Action {
        self.phase = Phase::Connecting { attempt: 0 };
        Action::Connect
    }

    /// Stops without retrying (e.g. the name was refused; a new start follows).
    pub fn stop(&mut self) {
        self.phase = Phase::Idle;
    }

    /// Goes offline at once (the server said retrying cannot help).
    pub fn give_up(&mut self) {
        self.phase = Phase::Offline;
    }

    /// The handshake succeeded: the attempt count starts over.
    pub fn on_connected(&mut self) {
        self.phase = Phase::Connected;
    }

    /// A connection (or an attempt) ended: wait, or go offline.
    pub fn on_lost(&mut self, now: Instant) {
        let attempt = match self.phase {
            Phase::Connecting { attempt } => attempt + 1,
            Phase::Connected | Phase::Idle => 1,
            Phase::Waiting { .. } | Phase::Offline => return,
        };
        if self.max != 0 && attempt > self.max {
            self.phase = Phase::Offline;
            return;
        }
        let until = now + self.delay(attempt);
        self.phase = Phase::Waiting { until, attempt };
    }

    /// The timer fired: connect if the wait is over.
    pub fn on_timer(&mut self, now: Instant) -> Option<Action> {
        match self.phase {
            Phase::Waiting { until, attempt } if now >= until => {
                self.phase = Phase::Connecting { attempt };
                Some(Action::Connect)
            }
            _ => None,
        }
    }

    /// The user asked to retry now: skip the wait, or leave offline afresh.
    pub fn retry_now(&mut self) -> Option<Action> {
        let attempt = match self.phase {
            Phase::Waiting { attempt, .. } => attempt,
            Phase::Offline => 0,
            _ => return None,
        };
        self.phase = Phase::Connecting { attempt };
        Some(Action::Connect)
    }

    /// When [`Reconnect::on_timer`] must be called next, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting { until, .. } => Some(until),
            _ => None,
        }
    }

    /// The wait before attempt `n` (1-based): [`DELAYS`], then the last of
    /// them, each at a random point in its top fifth so clients do not
    /// reconnect in step (and the first three still span 31 s or more).
    fn delay(&mut self, n: u32) -> Duration {
        let i = (n.max(1) as usize - 1).min(DELAYS.len() - 1);
        let full = DELAYS[i];
        let low = full * 4 / 5;
        Duration::from_millis(low + self.next_rand() % (full - low + 1))
    }

    fn next_rand(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(r: &Reconnect) -> (Instant, u32) {
        match r.phase() {
            Phase::Waiting { until, attempt } => (until, attempt),
            p => panic!("expected Waiting, got {p:?}"),
        }
    }

    #[test]
    fn backoff_grows_with_jitter_then_gives_up() {
        let t0 = Instant::now();
        let mut r = Reconnect::new(3, 42);
        assert_eq!(r.start(), Action::Connect);
        r.on_connected();
        let mut now = t0;
        let mut total = Duration::ZERO;
        for n in 1..=3u32 {
            r.on_lost(now);
            let (until, attempt) = waiting(&r);
            assert_eq!(attempt, n);
            let d = until - now;
            let full = Duration::from_millis(DELAYS[n as usize - 1]);
            assert!(d >= full * 4 / 5 && d <= full, "attempt {n}: {d:?}");
            total += d;
            assert_eq!(r.on_timer(until - Duration::from_millis(1)), None, "too early");
            assert_eq!(r.on_timer(until), Some(Action::Connect));
            assert_eq!(r.phase(), Phase::Connecting { attempt: n });
            now = until + Duration::from_millis(10);
        }
        assert!(total >= Duration::from_secs(31), "3 attempts ride out a 30 s restart");
        r.on_lost(now);
        assert_eq!(r.phase(), Phase::Offline);
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn success_resets_the_count() {
        let t0 = Instant::now();
        let mut r = Reconnect::new(2, 7);
        r.start();
        r.on_lost(t0);
        assert_eq!(waiting(&r).1, 1, "a failed first connect waits too");
        let until = waiting(&r).0;
        r.on_timer(until);
        r.on_lost(until);
        assert_eq!(waiting(&r).1, 2);
        r.on_timer(waiting(&r).0);
        r.on_connected();
        r.on_lost(t0 + Duration::from_secs(60));
        assert_eq!(waiting(&r).1, 1);
    }

    #[test]
    fn zero_means_forever_and_delay_is_capped() {
        let mut now = Instant::now();
        let mut r = Reconnect::new(0, 3);
        r.start();
        for _ in 0..40 {
            r.on_lost(now);
            let (until, _) = waiting(&r);
            assert!(until - now <= Duration::from_secs(60));
            r.on_timer(until);
            now = until;
        }
        assert!(matches!(r.phase(), Phase::Connecting { attempt: 40 }));
    }

    #[test]
    fn retry_now_skips_the_wait_and_leaves_offline() {
        let now = Instant::now();
        let mut r = Reconnect::new(1, 9);
        r.start();
        r.on_lost(now);
        assert_eq!(r.retry_now(), Some(Action::Connect));
        assert_eq!(r.phase(), Phase::Connecting { attempt: 1 });
        r.on_lost(now);
        assert_eq!(r.phase(), Phase::Offline);
        assert_eq!(r.on_timer(now + Duration::from_secs(999)), None);
        assert_eq!(r.retry_now(), Some(Action::Connect));
        r.on_lost(now);
        assert_eq!(waiting(&r).1, 1, "a manual retry starts a fresh cycle");
        r.retry_now();
        r.on_connected();
        assert_eq!(r.retry_now(), None, "nothing to retry while connected");
    }
}
