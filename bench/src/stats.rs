//! The statistics a run keeps: a latency histogram (nanoseconds, 3
//! significant digits, HdrHistogram) and the per-receiver order check that
//! proves nothing was lost or reordered per sender.
//!
//! It does not read clocks or sockets: callers pass the values in.

use hdrhistogram::Histogram;

/// Highest latency the histogram can hold (60 s, in ns); larger saturate.
const MAX_NS: u64 = 60_000_000_000;

/// A fresh latency histogram in nanoseconds.
pub fn histogram() -> Histogram<u64> {
    // Bounds are constants known to be valid: 1 ns .. 60 s, 3 digits.
    Histogram::new_with_bounds(1, MAX_NS, 3).unwrap_or_else(|_| unreachable!())
}

/// Latency summary in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Samples in the histogram.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
}

/// Summarises a histogram of nanoseconds into microseconds.
pub fn latency(h: &Histogram<u64>) -> Latency {
    let us = |ns: u64| ns as f64 / 1000.0;
    if h.is_empty() {
        return Latency::default();
    }
    Latency {
        count: h.len(),
        p50: us(h.value_at_quantile(0.50)),
        p99: us(h.value_at_quantile(0.99)),
        p999: us(h.value_at_quantile(0.999)),
        max: us(h.max()),
    }
}

/// What one delivery looked like to the order check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The next expected sequence number.
    InOrder,
    /// Later than expected: this many messages were skipped (lost).
    Gap(u32),
    /// Earlier than expected: reordered or duplicated.
    Late,
    /// A sender index outside the run: not this run's message.
    Foreign,
}

/// One receiver's view of every sender: the next sequence number it expects.
#[derive(Debug, Clone)]
pub struct OrderCheck {
    /// `next[s]`: the seq expected next from sender `s` (seqs start at 1).
    next: Vec<u32>,
}

impl OrderCheck {
    /// A check for `senders` senders, expecting seq 1 from each.
    pub fn new(senders: usize) -> OrderCheck {
        OrderCheck { next: vec![1; senders] }
    }

    /// A check for `senders` senders but not sender `own` (a member that
    /// sends gets no copy of its own messages, so none is missing).
    pub fn excluding(senders: usize, own: Option<u32>) -> OrderCheck {
        let mut c = OrderCheck::new(senders);
        if let Some(n) = own.and_then(|i| c.next.get_mut(i as usize)) {
            *n = u32::MAX;
        }
        c
    }

    /// Records a delivery of `seq` from `sender`.
    pub fn see(&mut self, sender: u32, seq: u32) -> Seen {
        let Some(next) = self.next.get_mut(sender as usize) else {
            return Seen::Foreign;
        };
        if seq < *next {
            return Seen::Late;
        }
        let skipped = seq - *next;
        *next = seq.saturating_add(1);
        if skipped == 0 {
            Seen::InOrder
        } else {
            Seen::Gap(skipped)
        }
    }

    /// After the drain: messages each sender sent (`last_sent[s]` = its last
    /// seq) that this receiver never got past.
    pub fn missing(&self, last_sent: &[u32]) -> u64 {
        let pairs = self.next.iter().zip(last_sent);
        pairs.map(|(&next, &last)| u64::from(last.saturating_add(1).saturating_sub(next))).sum()
    }
}

/// The median of some figures (the mean of the middle two for an even
/// count); `None` for none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_check_finds_gaps_reorders_and_missing_tail() {
        let mut c = OrderCheck::new(2);
        assert_eq!(c.see(0, 1), Seen::InOrder);
        assert_eq!(c.see(0, 2), Seen::InOrder);
        assert_eq!(c.see(0, 5), Seen::Gap(2));
        assert_eq!(c.see(0, 4), Seen::Late);
        assert_eq!(c.see(1, 1), Seen::InOrder);
        assert_eq!(c.see(7, 1), Seen::Foreign);
        // Sender 0 sent up to 6 (one missing), sender 1 up to 1 (none).
        assert_eq!(c.missing(&[6, 1]), 1);
        assert_eq!(c.missing(&[5, 1]), 0);
        assert_eq!(OrderCheck::new(3).missing(&[0, 0, 2]), 2);
        let mut own = OrderCheck::excluding(2, Some(0));
        assert_eq!(own.see(1, 1), Seen::InOrder);
        assert_eq!(own.missing(&[9, 1]), 0, "its own nine are not missing");
    }

    #[test]
    fn latency_summary_in_microseconds() {
        let mut h = histogram();
        for us in 1..=1000u64 {
            h.record(us * 1000).unwrap();
        }
        let l = latency(&h);
        assert_eq!(l.count, 1000);
        assert!((l.p50 - 500.0).abs() < 1.0, "{l:?}");
        assert!((l.p99 - 990.0).abs() < 1.0, "{l:?}");
        assert!((l.max - 1000.0).abs() < 1.0, "{l:?}");
        assert_eq!(latency(&histogram()), Latency::default());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
    }
}
