//! A token bucket for the per-connection rate limit on SAY and TYPING:
//! `rate` tokens a second, at most `2 × rate` saved up. No clock inside:
//! the caller passes `now` in milliseconds.

/// One connection's bucket. Kept small (12 bytes): every connection has one.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    /// Tokens available, in thousandths of a token.
    milli: u32,
    /// When `milli` was last brought up to date (ms, truncated to u32: the
    /// bucket only ever looks at differences).
    at: u32,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn new(rate: u32, now: u64) -> Bucket {
        Bucket { milli: rate.saturating_mul(2000), at: now as u32 }
    }

    /// Takes one token if there is one. `rate = 0` always allows.
    pub fn take(&mut self, rate: u32, now: u64) -> bool {
        if rate == 0 {
            return true;
        }
        let cap = rate.saturating_mul(2000);
        let elapsed = (now as u32).wrapping_sub(self.at);
        // rate tokens/s = rate milli-tokens/ms.
        let gained = u64::from(elapsed) * u64::from(rate);
        self.milli = (u64::from(self.milli) + gained).min(u64::from(cap)) as u32;
        self.at = now as u32;
        if self.milli >= 1000 {
            self.milli -= 1000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_of_twice_the_rate_then_steady() {
        let mut b = Bucket::new(10, 0);
        let burst = (0..100).filter(|_| b.take(10, 0)).count();
        assert_eq!(burst, 20);
        assert!(!b.take(10, 99));
        assert!(b.take(10, 100), "one token per 100 ms at 10/s");
        assert!(!b.take(10, 150));
        // A long pause refills only up to the cap.
        let later = (0..100).filter(|_| b.take(10, 60_000)).count();
        assert_eq!(later, 20);
    }

    #[test]
    fn zero_disables() {
        let mut b = Bucket::new(0, 0);
        assert!((0..10_000).all(|_| b.take(0, 0)));
    }

    #[test]
    fn clock_wrap_is_harmless() {
        let mut b = Bucket::new(1, u64::from(u32::MAX) - 10);
        assert!(b.take(1, u64::from(u32::MAX) - 10));
        assert!(b.take(1, u64::from(u32::MAX) - 5));
        assert!(!b.take(1, u64::from(u32::MAX) + 5));
        assert!(b.take(1, u64::from(u32::MAX) + 1000));
    }
}
