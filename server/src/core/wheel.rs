//! A hashed timer wheel with no clock inside (after sozu's `timer.rs` and
//! tokio-util's `DelayQueue`): the caller says what time it is, in
//! milliseconds on any monotonic scale, and gets back what is due.
//!
//! Entries live in a `Slab` and each slot lists the keys of the entries
//! whose tick falls on it; an entry more than one revolution away waits in
//! its slot until its round comes. The wheel knows nothing about what a
//! payload means: the server puts a slab key and a generation in it and
//! ignores a timer whose connection is gone, so nothing is ever cancelled:
//! a stale entry simply fires and is dropped.

use slab::Slab;

/// One scheduled payload.
struct Entry<T> {
    /// When it is due, in the caller's milliseconds.
    deadline: u64,
    /// The tick it was filed under (`deadline / tick_ms`, never in the past).
    tick: u64,
    /// What to hand back when due.
    payload: T,
}

/// A timer wheel of `T` payloads.
pub struct Wheel<T> {
    /// Milliseconds per slot.
    tick_ms: u64,
    /// Keys of `entries`, by `tick % slots.len()`.
    slots: Vec<Vec<usize>>,
    /// Every scheduled entry.
    entries: Slab<Entry<T>>,
    /// The first tick not yet processed by `poll`.
    cursor: u64,
    /// The earliest deadline, when known: kept up by `insert`, forgotten by
    /// a `poll` that fired something, so the loop's one question a turn
    /// costs a scan only after timers fired.
    earliest: Option<u64>,
}

impl<T> Wheel<T> {
    /// A wheel of `slots` slots of `tick_ms` each, starting at time `now`.
    pub fn new(tick_ms: u64, slots: usize, now: u64) -> Wheel<T> {
        assert!(tick_ms > 0 && slots > 0);
        Wheel {
            tick_ms,
            slots: (0..slots).map(|_| Vec::new()).collect(),
            entries: Slab::new(),
            cursor: now / tick_ms,
            earliest: None,
        }
    }

    /// Schedules `payload` for `deadline`. A deadline in the past fires at
    /// the next `poll`.
    pub fn insert(&mut self, deadline: u64, payload: T) {
        let tick = (deadline / self.tick_ms).max(self.cursor);
        let key = self.entries.insert(Entry { deadline, tick, payload });
        let n = self.slots.len();
        self.slots[(tick % n as u64) as usize].push(key);
        if self.entries.len() == 1 {
            self.earliest = Some(deadline);
        } else if let Some(e) = self.earliest.as_mut() {
            *e = (*e).min(deadline);
        }
    }

    /// Whether nothing is scheduled.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Moves every payload due at `now` (deadline <= now) into `out`, in no
    /// particular order within a tick but earlier ticks first.
    pub fn poll(&mut self, now: u64, out: &mut Vec<T>) {
        if self.earliest.is_some_and(|e| e > now) {
            return; // nothing is due: no slot to visit
        }
        let fired = out.len();
        let end = now / self.tick_ms;
        let n = self.slots.len() as u64;
        // Past one revolution every slot has been visited once: stop there.
        let last = end.min(self.cursor + n - 1);
        for tick in self.cursor..=last {
            self.expire_slot((tick % n) as usize, now, out);
        }
        // The current tick stays current: entries due later in it are
        // looked at again by the next poll.
        self.cursor = self.cursor.max(end);
        if out.len() > fired || self.entries.is_empty() {
            self.earliest = None;
        }
    }

    fn expire_slot(&mut self, slot: usize, now: u64, out: &mut Vec<T>) {
        let keys = &mut self.slots[slot];
        let mut i = 0;
        while i < keys.len() {
            let key = keys[i];
            if self.entries[key].deadline <= now {
                keys.swap_remove(i);
                out.push(self.entries.remove(key).payload);
            } else {
                i += 1;
            }
        }
    }

    /// The earliest deadline scheduled, or `None`. Exact for entries within
    /// one revolution; otherwise the earliest of the far ones. A scan only
    /// when timers fired since it last answered.
    pub fn next_deadline(&mut self) -> Option<u64> {
        if self.earliest.is_none() {
            self.earliest = self.scan();
        }
        self.earliest
    }

    fn scan(&self) -> Option<u64> {
        if self.entries.is_empty() {
            return None;
        }
        let n = self.slots.len() as u64;
        let mut far: Option<u64> = None;
        for i in 0..n {
            let tick = self.cursor + i;
            let mut here: Option<u64> = None;
            for &k in &self.slots[(tick % n) as usize] {
                let e = &self.entries[k];
                let best = if e.tick <= tick { &mut here } else { &mut far };
                *best = Some(best.map_or(e.deadline, |d| d.min(e.deadline)));
            }
            if here.is_some() {
                return here;
            }
        }
        far
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(w: &mut Wheel<u32>, now: u64) -> Vec<u32> {
        let mut out = Vec::new();
        w.poll(now, &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let mut w = Wheel::new(10, 8, 1000);
        w.insert(1055, 1);
        w.insert(1020, 2);
        assert_eq!(w.next_deadline(), Some(1020));
        assert!(due(&mut w, 1019).is_empty());
        assert_eq!(due(&mut w, 1020), vec![2]);
        assert_eq!(w.next_deadline(), Some(1055));
        assert!(due(&mut w, 1054).is_empty());
        assert_eq!(due(&mut w, 1055), vec![1]);
        assert!(w.is_empty());
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn far_entries_wait_for_their_round() {
        // 8 slots of 10 ms: one revolution is 80 ms.
        let mut w = Wheel::new(10, 8, 0);
        w.insert(250, 1);
        w.insert(30, 2);
        assert_eq!(w.next_deadline(), Some(30));
        assert_eq!(due(&mut w, 100), vec![2]);
        assert_eq!(w.next_deadline(), Some(250));
        assert!(due(&mut w, 249).is_empty());
        assert_eq!(due(&mut w, 260), vec![1]);
    }

    #[test]
    fn a_long_jump_fires_everything_due() {
        let mut w = Wheel::new(10, 4, 0);
        for i in 0..50 {
            w.insert(i * 7, i as u32);
        }
        assert_eq!(due(&mut w, 10_000), (0..50).collect::<Vec<_>>());
        assert!(w.is_empty());
    }

    #[test]
    fn past_deadlines_fire_next_poll() {
        let mut w = Wheel::new(10, 4, 500);
        w.insert(100, 7);
        assert_eq!(w.next_deadline(), Some(100));
        assert_eq!(due(&mut w, 500), vec![7]);
    }

    #[test]
    fn the_earliest_deadline_is_kept_between_firings() {
        let mut w = Wheel::new(10, 8, 0);
        w.insert(500, 1);
        assert_eq!(w.next_deadline(), Some(500));
        w.insert(300, 2);
        assert_eq!(w.earliest, Some(300), "kept by insert, no scan");
        assert!(due(&mut w, 299).is_empty());
        assert_eq!(w.earliest, Some(300), "a poll with nothing due keeps it");
        assert_eq!(due(&mut w, 300), vec![2]);
        assert_eq!(w.earliest, None, "forgotten after a firing");
        assert_eq!(w.next_deadline(), Some(500));
        assert_eq!(due(&mut w, 10_000), vec![1]);
        assert_eq!(w.next_deadline(), None);
        w.insert(20_000, 3);
        assert_eq!(w.next_deadline(), Some(20_000));
    }

    #[test]
    fn many_entries_in_order_of_ticks() {
        let mut w = Wheel::new(1, 16, 0);
        for i in (0..100).rev() {
            w.insert(i, i as u32);
        }
        let mut seen = Vec::new();
        for t in 0..100 {
            let mut out = Vec::new();
            w.poll(t, &mut out);
            assert_eq!(out, vec![t as u32], "at {t}");
            seen.extend(out);
        }
        assert_eq!(seen.len(), 100);
    }
}
