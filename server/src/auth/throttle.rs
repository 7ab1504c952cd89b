//! The failure slowdown of password checks: memory of failed verifications
//! per key (a name, or an address) deciding how long a new check must wait
//! before it runs.
//!
//! Pure: it never reads the clock (the caller passes `now` in milliseconds)
//! and never sleeps; the core's password-check queue does the waiting, so a
//! slowed-down guess costs no hashing time while it waits. It does not know
//! passwords, only keys.

use std::collections::HashMap;
use std::hash::Hash;

/// When repeated failures for one key start to slow it down.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRules {
    /// Failures (plus verifications in flight) a key gets without delay.
    pub free: u32,
    /// Delay (ms) of the first slowed check; each next one doubles it.
    pub first_ms: u64,
    /// The longest delay (ms). Kept under the default handshake timeout
    /// (5 s) so the owner with the right password still gets in.
    pub cap_ms: u64,
    /// A key's failures are forgotten this long (ms) after its last one.
    pub window_ms: u64,
    /// Most keys remembered at once (memory bound under a spray).
    pub max_keys: usize,
}

impl ThrottleRules {
    /// For names: 3 failures free, then 0.5 s doubling to 4 s, 15 minutes.
    pub const NAMES: ThrottleRules = ThrottleRules {
        free: 3,
        first_ms: 500,
        cap_ms: 4000,
        window_ms: 15 * 60 * 1000,
        max_keys: 100_000,
    };
    /// For addresses: a host trying many names gets 10 failures free.
    pub const ADDRS: ThrottleRules = ThrottleRules { free: 10, ..ThrottleRules::NAMES };
}

/// One key's recent failures.
struct Entry {
    /// Failed verifications since the last success, within the window.
    failures: u32,
    /// Verifications begun and not yet finished: a burst of parallel
    /// guesses counts as failures in advance.
    in_flight: u32,
    /// When (ms) the last failure happened, to forget old ones.
    last_failure: u64,
}

/// Per-key failure memory. Pure: the caller passes `now`.
pub struct Throttle<K> {
    /// The thresholds and delays.
    rules: ThrottleRules,
    /// Key -> its record; only keys with failures or checks in flight.
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(rules: ThrottleRules) -> Throttle<K> {
        Throttle { rules, entries: HashMap::new() }
    }

    /// A verification for `key` begins: how long (ms) it must wait.
    pub fn begin(&mut self, key: &K, now: u64) -> u64 {
        if !self.entries.contains_key(key) && self.entries.len() >= self.rules.max_keys {
            self.make_room(now);
        }
        let window = self.rules.window_ms;
        let e = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            last_failure: now,
        });
        if e.in_flight == 0 && now.saturating_sub(e.last_failure) >= window {
            e.failures = 0;
        }
        let n = e.failures.saturating_add(e.in_flight);
        e.in_flight += 1;
        self.delay(n)
    }

    /// A verification for `key` finished with `ok`.
    pub fn finish(&mut self, key: &K, ok: bool, now: u64) {
        let Some(e) = self.entries.get_mut(key) else { return };
        e.in_flight = e.in_flight.saturating_sub(1);
        if ok {
            e.failures = 0;
        } else {
            e.failures = e.failures.saturating_add(1);
            e.last_failure = now;
        }
        self.forget_if_clean(key);
    }

    /// A verification for `key` was dropped before it ran (its connection
    /// went): neither a failure nor a success.
    pub fn cancel(&mut self, key: &K) {
        let Some(e) = self.entries.get_mut(key) else { return };
        e.in_flight = e.in_flight.saturating_sub(1);
        self.forget_if_clean(key);
    }

    fn forget_if_clean(&mut self, key: &K) {
        if self.entries.get(key).is_some_and(|e| e.failures == 0 && e.in_flight == 0) {
            self.entries.remove(key);
        }
    }

    /// Frees a slot in a full table: keys whose failures are past the
    /// window go first; if none are, the oldest record is forgotten. The
    /// slowdown never switches itself off, however many keys are sprayed.
    fn make_room(&mut self, now: u64) {
        let window = self.rules.window_ms;
        self.entries.retain(|_, e| e.in_flight > 0 || now.saturating_sub(e.last_failure) < window);
        if self.entries.len() < self.rules.max_keys {
            return;
        }
        let oldest = self.entries.iter().min_by_key(|(_, e)| (e.in_flight > 0, e.last_failure));
        if let Some(k) = oldest.map(|(k, _)| k.clone()) {
            self.entries.remove(&k);
        }
    }

    /// The delay after `n` failures: none up to `free`, then doubling.
    fn delay(&self, n: u32) -> u64 {
        let Some(over) = n.checked_sub(self.rules.free) else { return 0 };
        let factor = 1u64 << over.min(16);
        self.rules.first_ms.saturating_mul(factor).min(self.rules.cap_ms)
    }

    /// Keys remembered.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ThrottleRules {
        ThrottleRules { window_ms: 60_000, max_keys: 4, ..ThrottleRules::NAMES }
    }

    /// `n` finished failures for `key` at `now`.
    fn fail(t: &mut Throttle<&'static str>, key: &'static str, n: u32, now: u64) {
        for _ in 0..n {
            t.begin(&key, now);
            t.finish(&key, false, now);
        }
    }

    #[test]
    fn throttle_delays_after_three_failures_doubling_to_the_cap() {
        let mut t = Throttle::new(rules());
        let mut got = Vec::new();
        for _ in 0..8 {
            got.push(t.begin(&"eve", 0));
            t.finish(&"eve", false, 0);
        }
        assert_eq!(got, [0, 0, 0, 500, 1000, 2000, 4000, 4000]);
        assert_eq!(t.begin(&"bob", 0), 0, "other keys unaffected");
    }

    #[test]
    fn throttle_success_and_the_window_reset_the_count() {
        let mut t = Throttle::new(rules());
        fail(&mut t, "eve", 4, 0);
        assert_eq!(t.begin(&"eve", 0), 1000);
        t.finish(&"eve", true, 0);
        assert_eq!(t.begin(&"eve", 0), 0);
        t.finish(&"eve", true, 0);
        assert_eq!(t.remembered(), 0, "a clean key is forgotten");
        fail(&mut t, "eve", 5, 0);
        assert_eq!(t.begin(&"eve", 61_000), 0);
    }

    #[test]
    fn throttle_counts_guesses_in_flight_and_cancelled_ones_are_not_failures() {
        let mut t = Throttle::new(rules());
        let d: Vec<u64> = (0..5).map(|_| t.begin(&"eve", 0)).collect();
        assert_eq!(d, [0, 0, 0, 500, 1000]);
        (0..5).for_each(|_| t.cancel(&"eve"));
        assert_eq!(t.remembered(), 0);
        assert_eq!(t.begin(&"eve", 0), 0);
    }

    #[test]
    fn a_full_table_evicts_the_oldest_and_keeps_slowing_down() {
        let mut t = Throttle::new(rules());
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            fail(&mut t, key, 4, i as u64);
        }
        fail(&mut t, "eve", 4, 10);
        assert_eq!(t.begin(&"eve", 10), 1000, "not switched off");
        assert!(t.remembered() <= 4);
        assert!(!t.entries.contains_key("a"), "the oldest went");
        assert!(t.entries.contains_key("d"));
    }

    #[test]
    fn addresses_get_more_failures_free() {
        let mut t = Throttle::new(ThrottleRules::ADDRS);
        let d: Vec<u64> = (0..12)
            .map(|_| {
                let d = t.begin(&[10u8, 0, 0, 1], 0);
                t.finish(&[10, 0, 0, 1], false, 0);
                d
            })
            .collect();
        assert_eq!(&d[9..], [0, 500, 1000]);
    }
}
