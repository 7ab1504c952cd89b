//! The message ids of one room that were shown, kept as ranges of
//! consecutive ids: messages arrive in runs (live, a catch-up, a history
//! page), so a room that showed a million messages holds a few ranges, not
//! a million ids. At most [`MAX_RANGES`] are kept; past that the oldest
//! range is forgotten (a repeat of an id that old would show again).
//!
//! It only answers "shown before?"; what to do about it is the session's.

use std::collections::BTreeMap;

/// Ranges kept at most. Each gap in what a room showed (a catch-up that
/// left messages out, history pages not yet joined up) costs one.
pub const MAX_RANGES: usize = 256;

/// A set of ids as disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Default, Clone)]
pub struct IdSet {
    /// First id of each range to its last.
    ranges: BTreeMap<u64, u64>,
}

impl IdSet {
    /// Adds `id`; false if it was already there.
    pub fn insert(&mut self, id: u64) -> bool {
        let below = self.ranges.range(..=id).next_back().map(|(s, e)| (*s, *e));
        if below.is_some_and(|(_, end)| end >= id) {
            return false;
        }
        let above = id.checked_add(1).and_then(|n| self.ranges.remove_entry(&n));
        let end = above.map_or(id, |(_, e)| e);
        match below {
            Some((start, last)) if last.checked_add(1) == Some(id) => {
                self.ranges.insert(start, end);
            }
            _ => {
                self.ranges.insert(id, end);
            }
        }
        if self.ranges.len() > MAX_RANGES {
            self.ranges.pop_first();
        }
        true
    }

    /// Whether `id` is in the set.
    #[cfg(test)]
    pub fn contains(&self, id: u64) -> bool {
        self.ranges.range(..=id).next_back().is_some_and(|(_, end)| *end >= id)
    }

    /// How many ranges are kept (what the set costs).
    #[cfg(test)]
    pub fn ranges(&self) -> usize {
        self.ranges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_in_any_order_join_up() {
        let mut s = IdSet::default();
        for id in [5, 7, 6, 1, 3, 2, 4] {
            assert!(s.insert(id), "{id} is new");
        }
        assert_eq!(s.ranges(), 1);
        for id in 1..=7 {
            assert!(!s.insert(id), "{id} again");
        }
        assert!(!s.contains(0) && !s.contains(8));
        assert!(s.insert(10) && s.insert(u64::MAX) && s.insert(0));
        assert_eq!(s.ranges(), 3, "0..=7, 10, MAX");
        assert!(s.contains(u64::MAX) && !s.contains(9));
    }

    #[test]
    fn the_oldest_gap_is_forgotten_past_the_limit() {
        let mut s = IdSet::default();
        for i in 0..(MAX_RANGES as u64 + 10) {
            s.insert(i * 2);
        }
        assert_eq!(s.ranges(), MAX_RANGES);
        assert!(!s.contains(0), "the oldest ranges went");
        assert!(s.contains((MAX_RANGES as u64 + 9) * 2));
    }
}
