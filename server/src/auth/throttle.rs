//! The failure slowdown of the password hasher: per-name memory of failed
//! verifications deciding how long a verification's result is held back.
//!
//! Pure: it never reads the clock (the caller passes `now`) and never
//! sleeps; the hasher's dispatcher thread does the holding back. It does not
//! know passwords, only name keys.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// When repeated failures for one name start to slow it down.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRules {
    /// Failures (plus verifications in flight) a name gets without delay.
    pub free: u32,
    /// Delay of the first held-back result; each next one doubles it.
    pub first: Duration,
    /// The longest delay. Kept under the default handshake timeout (5 s) so
    /// the owner with the right password still gets in.
    pub cap: Duration,
    /// A name's failures are forgotten this long after its last one.
    pub window: Duration,
    /// Most names remembered at once (memory bound under a name spray).
    pub max_names: usize,
}

impl Default for ThrottleRules {
    fn default() -> ThrottleRules {
        ThrottleRules {
            free: 3,
            first: Duration::from_millis(500),
            cap: Duration::from_secs(4),
            window: Duration::from_secs(15 * 60),
            max_names: 100_000,
        }
    }
}

/// One name's recent failures.
struct Entry {
    /// Failed verifications since the last success, within the window.
    failures: u32,
    /// Verifications submitted and not yet finished: a burst of parallel
    /// guesses counts as failures in advance.
    in_flight: u32,
    /// When the last failure happened, to forget old ones.
    last_failure: Instant,
}

/// Per-name failure memory deciding how long a verification's result is
/// held back. Pure: the caller passes `now`.
pub struct Throttle {
    /// The thresholds and delays.
    rules: ThrottleRules,
    /// Name key -> its record; only names with failures or jobs in flight.
    entries: HashMap<String, Entry>,
}

impl Throttle {
    pub fn new(rules: ThrottleRules) -> Throttle {
        Throttle { rules, entries: HashMap::new() }
    }

    /// A verification for `key` starts: how long to hold its result back.
    pub fn begin(&mut self, key: &str, now: Instant) -> Duration {
        let window = self.rules.window;
        if !self.entries.contains_key(key) && self.entries.len() >= self.rules.max_names {
            self.make_room(now);
        }
        let e = self.entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            last_failure: now,
        });
        if e.in_flight == 0 && now.duration_since(e.last_failure) >= window {
            e.failures = 0;
        }
        let n = e.failures.saturating_add(e.in_flight);
        e.in_flight += 1;
        self.delay(n)
    }

    /// A verification for `key` finished with `ok`.
    pub fn finish(&mut self, key: &str, ok: bool, now: Instant) {
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_sub(1);
        if ok {
            e.failures = 0;
        } else {
            e.failures = e.failures.saturating_add(1);
            e.last_failure = now;
        }
        if e.failures == 0 && e.in_flight == 0 {
            self.entries.remove(key);
        }
    }

    /// Frees a slot in a full table: names whose failures are past the
    /// window go first; if none are, the oldest record is forgotten. The
    /// slowdown never switches itself off, however many names are sprayed.
    fn make_room(&mut self, now: Instant) {
        let window = self.rules.window;
        self.entries.retain(|_, e| e.in_flight > 0 || now.duration_since(e.last_failure) < window);
        if self.entries.len() < self.rules.max_names {
            return;
        }
        let oldest = self.entries.iter().min_by_key(|(_, e)| (e.in_flight > 0, e.last_failure));
        if let Some(k) = oldest.map(|(k, _)| k.clone()) {
            self.entries.remove(&k);
        }
    }

    /// The delay after `n` failures: none up to `free`, then doubling.
    fn delay(&self, n: u32) -> Duration {
        let Some(over) = n.checked_sub(self.rules.free) else {
            return Duration::ZERO;
        };
        let factor = 1u32 << over.min(16);
        self.rules.first.saturating_mul(factor).min(self.rules.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ThrottleRules {
        ThrottleRules {
            free: 3,
            first: Duration::from_millis(500),
            cap: Duration::from_secs(4),
            window: Duration::from_secs(60),
            max_names: 4,
        }
    }

    /// `n` finished failures for `key` at `now`.
    fn fail(t: &mut Throttle, key: &str, n: u32, now: Instant) {
        for _ in 0..n {
            t.begin(key, now);
            t.finish(key, false, now);
        }
    }

    #[test]
    fn throttle_delays_after_three_failures_doubling_to_the_cap() {
        let mut t = Throttle::new(rules());
        let now = Instant::now();
        let mut got = Vec::new();
        for _ in 0..8 {
            got.push(t.begin("eve", now).as_millis());
            t.finish("eve", false, now);
        }
        assert_eq!(got, [0, 0, 0, 500, 1000, 2000, 4000, 4000]);
        assert_eq!(t.begin("bob", now), Duration::ZERO, "other names unaffected");
    }

    #[test]
    fn throttle_success_and_the_window_reset_the_count() {
        let mut t = Throttle::new(rules());
        let now = Instant::now();
        fail(&mut t, "eve", 4, now);
        assert_eq!(t.begin("eve", now), Duration::from_secs(1));
        t.finish("eve", true, now);
        assert_eq!(t.begin("eve", now), Duration::ZERO);
        t.finish("eve", true, now);
        assert!(t.entries.is_empty(), "a clean name is forgotten");
        fail(&mut t, "eve", 5, now);
        let later = now + Duration::from_secs(61);
        assert_eq!(t.begin("eve", later), Duration::ZERO);
    }

    #[test]
    fn throttle_counts_guesses_in_flight() {
        let mut t = Throttle::new(rules());
        let now = Instant::now();
        let d: Vec<u128> = (0..5).map(|_| t.begin("eve", now).as_millis()).collect();
        assert_eq!(d, [0, 0, 0, 500, 1000]);
    }

    #[test]
    fn a_full_table_evicts_the_oldest_and_keeps_slowing_down() {
        let mut t = Throttle::new(rules());
        let now = Instant::now();
        for (i, name) in ["a", "b", "c", "d"].into_iter().enumerate() {
            fail(&mut t, name, 4, now + Duration::from_millis(i as u64));
        }
        // Full of fresh failures: a new name still gets counted and slowed.
        let later = now + Duration::from_millis(10);
        fail(&mut t, "eve", 4, later);
        assert_eq!(t.begin("eve", later), Duration::from_secs(1), "not switched off");
        assert!(t.entries.len() <= 4);
        assert!(!t.entries.contains_key("a"), "the oldest went");
        assert!(t.entries.contains_key("d"));
    }

    #[test]
    fn throttle_memory_is_bounded() {
        let mut t = Throttle::new(rules());
        let now = Instant::now();
        for name in ["a", "b", "c", "d", "e", "f"] {
            fail(&mut t, name, 1, now);
        }
        assert!(t.entries.len() <= 4);
        // Once the window has passed, old names make room for new ones.
        let later = now + Duration::from_secs(120);
        fail(&mut t, "g", 4, later);
        assert_eq!(t.begin("g", later), Duration::from_secs(1));
    }
}
