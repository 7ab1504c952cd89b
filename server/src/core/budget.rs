//! Rate budgets: how many frames of a kind a session, or all peers of one
//! address, may send per second. Each budget is a GCRA token bucket (after
//! Redis-cell and `governor`): one `u64`, the theoretical arrival time,
//! in microseconds of the core's clock. No clock inside: callers pass
//! `now` in milliseconds.
//!
//! A session's buckets belong to the session, not its connection, so a
//! resumed or reconnected session keeps them (spec §6 `--rate`); an
//! address's buckets are shared by every session that connects from it,
//! so reconnecting under new names does not refill them.

/// What a budget is spent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SAY and TYPING (`--rate`).
    Say = 0,
    /// JOIN and LEAVE (`--join-rate`).
    Room = 1,
    /// WHO and HISTORY (`--query-rate`).
    Query = 2,
    /// REGISTER (fixed: [`REGISTER_EVERY_MS`], burst [`REGISTER_BURST`]).
    Register = 3,
}

/// How many times a session's budget one address gets: the users behind
/// one NAT share it.
pub const ADDR_FACTOR: u32 = 4;
/// A session may JOIN this many rooms at once beyond its rate: enough to
/// re-JOIN all of its 100 rooms after a reconnect.
pub const ROOM_BURST: u32 = 100;
/// One REGISTER per this many milliseconds per session...
pub const REGISTER_EVERY_MS: u64 = 10_000;
/// ...with this many at once.
pub const REGISTER_BURST: u32 = 3;

/// A rate: a token every `interval_us`, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Microseconds per token; 0: unlimited.
    interval_us: u64,
    /// Tokens that may be spent at once.
    burst: u32,
}

impl Rule {
    /// No limit.
    pub const OFF: Rule = Rule { interval_us: 0, burst: 0 };

    /// `rate` tokens a second, `burst` at once; `rate = 0` is [`Rule::OFF`].
    pub fn per_sec(rate: u32, burst: u32) -> Rule {
        if rate == 0 {
            return Rule::OFF;
        }
        Rule { interval_us: (1_000_000 / u64::from(rate)).max(1), burst: burst.max(1) }
    }

    /// A token every `ms` milliseconds, `burst` at once.
    pub fn every_ms(ms: u64, burst: u32) -> Rule {
        Rule { interval_us: ms.saturating_mul(1000).max(1), burst: burst.max(1) }
    }

    /// `k` times the rate and the burst (an address's share).
    pub fn times(self, k: u32) -> Rule {
        if self.is_off() {
            return self;
        }
        Rule { interval_us: (self.interval_us / u64::from(k.max(1))).max(1), burst: self.burst * k }
    }

    /// Whether this rule limits nothing.
    pub fn is_off(&self) -> bool {
        self.interval_us == 0
    }
}

/// One GCRA bucket: full when `tat <= now`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Theoretical arrival time of the next token, in microseconds.
    tat: u64,
}

impl Bucket {
    /// The arrival time after `n` more tokens, if `rule` allows them at `now`.
    fn next(&self, rule: Rule, now_ms: u64, n: u32) -> Option<u64> {
        if rule.is_off() {
            return Some(self.tat);
        }
        let now = now_ms.saturating_mul(1000);
        let cost = rule.interval_us.saturating_mul(u64::from(n.max(1)));
        let tat = self.tat.max(now).saturating_add(cost);
        let window = rule.interval_us.saturating_mul(u64::from(rule.burst));
        (tat - now <= window).then_some(tat)
    }

    /// Takes a token if `rule` allows one at `now`.
    pub fn take(&mut self, rule: Rule, now_ms: u64) -> bool {
        match self.next(rule, now_ms, 1) {
            Some(tat) => {
                self.tat = tat;
                true
            }
            None => false,
        }
    }

    /// Whether the bucket is full again at `now` (it may be forgotten).
    pub fn is_full(&self, now_ms: u64) -> bool {
        self.tat <= now_ms.saturating_mul(1000)
    }
}

/// One bucket per [`Kind`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Budgets {
    /// Indexed by `Kind as usize`.
    buckets: [Bucket; 4],
}

impl Budgets {
    /// Whether every bucket is full at `now`.
    pub fn all_full(&self, now_ms: u64) -> bool {
        self.buckets.iter().all(|b| b.is_full(now_ms))
    }
}

/// The rules of every kind, for sessions and for addresses.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Per session, by kind.
    session: [Rule; 4],
    /// Per address, by kind.
    addr: [Rule; 4],
}

impl Rules {
    /// From the command line's rates (each 0: off).
    pub fn new(say: u32, room: u32, query: u32) -> Rules {
        let session = [
            Rule::per_sec(say, say.saturating_mul(2)),
            Rule::per_sec(room, ROOM_BURST.saturating_add(room.saturating_mul(2))),
            Rule::per_sec(query, query.saturating_mul(2)),
            Rule::every_ms(REGISTER_EVERY_MS, REGISTER_BURST),
        ];
        Rules { session, addr: session.map(|r| r.times(ADDR_FACTOR)) }
    }

    /// Spends `n` `kind` tokens from both the session's and the address's
    /// budgets, or from neither: false when either lacks them.
    pub fn take(
        &self,
        kind: Kind,
        n: u32,
        session: &mut Budgets,
        addr: &mut Budgets,
        now: u64,
    ) -> bool {
        let k = kind as usize;
        let (Some(s), Some(a)) = (
            session.buckets[k].next(self.session[k], now, n),
            addr.buckets[k].next(self.addr[k], now, n),
        ) else {
            return false;
        };
        session.buckets[k].tat = s;
        addr.buckets[k].tat = a;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_of_twice_the_rate_then_steady() {
        let rule = Rule::per_sec(10, 20);
        let mut b = Bucket::default();
        let burst = (0..100).filter(|_| b.take(rule, 0)).count();
        assert_eq!(burst, 20);
        assert!(!b.take(rule, 99));
        assert!(b.take(rule, 100), "one token per 100 ms at 10/s");
        assert!(!b.take(rule, 150));
        let later = (0..100).filter(|_| b.take(rule, 60_000)).count();
        assert_eq!(later, 20, "a long pause refills only up to the burst");
        assert!(!b.is_full(60_000));
        assert!(b.is_full(62_000));
    }

    #[test]
    fn off_allows_everything() {
        let mut b = Bucket::default();
        assert!((0..10_000).all(|_| b.take(Rule::OFF, 0)));
        assert!(b.is_full(0));
        assert_eq!(Rule::per_sec(0, 5), Rule::OFF);
        assert_eq!(Rule::OFF.times(4), Rule::OFF);
    }

    #[test]
    fn slow_rules_and_huge_rates() {
        let mut b = Bucket::default();
        let reg = Rule::every_ms(10_000, 3);
        assert_eq!((0..10).filter(|_| b.take(reg, 5)).count(), 3);
        assert!(!b.take(reg, 9_000));
        assert!(b.take(reg, 10_005));
        let fast = Rule::per_sec(u32::MAX, u32::MAX);
        let mut b = Bucket::default();
        assert!((0..1000).all(|_| b.take(fast, u64::MAX / 1000)));
    }

    #[test]
    fn a_session_and_its_address_spend_together() {
        let rules = Rules::new(1, 0, 0);
        let mut addr = Budgets::default();
        let mut sessions = [Budgets::default(); 6];
        let mut ok = 0;
        for s in &mut sessions {
            ok += (0..5).filter(|_| rules.take(Kind::Say, 1, s, &mut addr, 0)).count();
        }
        // Each session has a burst of 2; the address, 4 times that.
        assert_eq!(ok, 8, "new sessions from one address do not refill it");
        assert!(rules.take(Kind::Room, 1, &mut sessions[0], &mut addr, 0), "off: room");
        // A refused take spends nothing: the session's tokens are intact.
        let mut fresh = Budgets::default();
        assert!(!rules.take(Kind::Say, 1, &mut fresh, &mut addr, 0));
        assert!(fresh.all_full(0));
    }

    #[test]
    fn a_costly_frame_takes_several_tokens_and_never_more_than_the_burst() {
        let rules = Rules::new(10, 2, 5);
        let (mut s, mut a) = (Budgets::default(), Budgets::default());
        assert!(rules.take(Kind::Room, 26, &mut s, &mut a, 0));
        assert!(rules.take(Kind::Room, 26, &mut s, &mut a, 0));
        assert!(rules.take(Kind::Room, 26, &mut s, &mut a, 0));
        assert!(rules.take(Kind::Room, 26, &mut s, &mut a, 0));
        assert!(!rules.take(Kind::Room, 26, &mut s, &mut a, 0), "104 tokens spent");
        assert!(rules.take(Kind::Room, 26, &mut s, &mut a, 13_000), "refilled at 2/s");
    }

    #[test]
    fn a_session_rejoins_its_hundred_rooms_at_once() {
        let rules = Rules::new(10, 2, 5);
        let (mut s, mut a) = (Budgets::default(), Budgets::default());
        let n = (0..200).filter(|_| rules.take(Kind::Room, 1, &mut s, &mut a, 0)).count();
        assert_eq!(n, 104);
    }
}
