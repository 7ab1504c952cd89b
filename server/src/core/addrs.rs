//! What the server remembers per source address: open connections (for
//! `--max-per-ip`), the bucket of new connections (`--conn-rate`), the
//! budgets every session from that address shares, and the sessions that
//! linger on its behalf. An address is an IPv4 address or an IPv6 /64 (one
//! host usually owns a whole /64), an IPv4-mapped IPv6 address counting as
//! IPv4.
//!
//! An entry lives while it counts anything; [`Addrs::sweep`] forgets the
//! others once their buckets have refilled, so the table is bounded by the
//! connections and lingering sessions the server holds plus the addresses
//! that were busy in the last few seconds.

use super::budget::{Bucket, Budgets};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};

/// How often, in loop milliseconds, idle entries are looked for.
pub const SWEEP_EVERY_MS: u64 = 10_000;

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key of `ip`: itself for IPv4, its /64 for IPv6.
pub fn key_of(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let net = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(net))
        }
        v4 => v4,
    }
}

/// A lingering session as queued: its slot, uid and the generation it got
/// when its connection went. Stale once the session resumed or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lingerer {
    /// Session slot.
    pub slot: u32,
    /// Session uid (tells a later session in the same slot apart).
    pub uid: u64,
    /// `Session::gen` when it started to linger.
    pub gen: u32,
}

/// Sessions lingering, oldest first, with stale entries dropped lazily:
/// `live` counts the ones still lingering.
#[derive(Debug, Default)]
pub struct LingerQueue {
    /// In the order they started to linger; may hold stale entries.
    queue: VecDeque<Lingerer>,
    /// How many entries are still lingering.
    pub live: usize,
}

impl LingerQueue {
    /// A session started to linger.
    pub fn push(&mut self, l: Lingerer) {
        self.queue.push_back(l);
        self.live += 1;
    }

    /// One of the sessions queued here stopped lingering (resumed or ended).
    pub fn gone(&mut self) {
        self.live = self.live.saturating_sub(1);
    }

    /// The longest-lingering session still lingering (removed from the
    /// queue but still counted until [`LingerQueue::gone`]); `valid` tells
    /// stale entries.
    pub fn oldest(&mut self, valid: impl Fn(&Lingerer) -> bool) -> Option<Lingerer> {
        while let Some(l) = self.queue.pop_front() {
            if valid(&l) {
                return Some(l);
            }
        }
        None
    }

    /// Drops stale entries when they outnumber live ones (amortised O(1)).
    pub fn compact(&mut self, valid: impl Fn(&Lingerer) -> bool) {
        if self.queue.len() > 2 * self.live + 16 {
            self.queue.retain(valid);
        }
    }

    /// Whether nothing lingers.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

/// One address's record.
#[derive(Debug, Default)]
pub struct AddrState {
    /// Connections from it that are open and not closing.
    pub open: u32,
    /// New connections (`--conn-rate`).
    pub conn: Bucket,
    /// What its sessions spend together.
    pub budgets: Budgets,
    /// Its lingering sessions, oldest first.
    pub lingering: LingerQueue,
    /// Password checks of its peers waiting for the hasher (fair share).
    pub auth_waiting: u32,
}

impl AddrState {
    /// Whether it may be forgotten at `now`.
    fn is_idle(&self, now: u64) -> bool {
        self.open == 0
            && self.lingering.is_empty()
            && self.auth_waiting == 0
            && self.conn.is_full(now)
            && self.budgets.all_full(now)
    }
}

/// Every address the server currently has something on.
#[derive(Debug, Default)]
pub struct Addrs {
    /// By [`key_of`].
    map: HashMap<IpAddr, AddrState>,
    /// When idle entries were last dropped.
    swept_at: u64,
}

impl Addrs {
    /// The record of `key`, created empty if missing.
    pub fn entry(&mut self, key: IpAddr) -> &mut AddrState {
        self.map.entry(key).or_default()
    }

    /// The record of `key`, if any.
    pub fn get_mut(&mut self, key: IpAddr) -> Option<&mut AddrState> {
        self.map.get_mut(&key)
    }

    /// How many addresses are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Forgets idle entries, at most every [`SWEEP_EVERY_MS`].
    pub fn sweep(&mut self, now: u64) {
        if now < self.swept_at + SWEEP_EVERY_MS {
            return;
        }
        self.swept_at = now;
        self.map.retain(|_, a| !a.is_idle(now));
        if self.map.capacity() > 2 * self.map.len() + 64 {
            self.map.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_hosts_are_their_64() {
        assert_eq!(key_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(key_of(ip("2001:db8:1:2:bbbb::9")), ip("2001:db8:1:2::"));
        assert_ne!(key_of(ip("2001:db8:1:3::1")), key_of(ip("2001:db8:1:2::1")));
        assert_eq!(key_of(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(key_of(ip("10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn idle_entries_are_swept_busy_ones_kept() {
        let mut a = Addrs::default();
        a.entry(ip("10.0.0.1")).open = 1;
        a.entry(ip("10.0.0.2"));
        let rule = super::super::budget::Rule::per_sec(1, 2);
        assert!(a.entry(ip("10.0.0.3")).conn.take(rule, 20_000));
        a.sweep(20_000);
        assert_eq!(a.len(), 2, "the open one and the one with a spent bucket stay");
        a.sweep(25_000);
        assert_eq!(a.len(), 2, "not swept again so soon");
        a.sweep(40_000);
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn the_linger_queue_skips_stale_entries() {
        let mut q = LingerQueue::default();
        for slot in 0..5 {
            q.push(Lingerer { slot, uid: u64::from(slot), gen: 1 });
        }
        q.gone(); // slot 0 resumed
        let valid = |l: &Lingerer| l.slot != 0;
        assert_eq!(q.oldest(valid).map(|l| l.slot), Some(1));
        assert_eq!(q.live, 4, "still counted until it ends");
        q.gone();
        assert_eq!(q.live, 3);
    }
}
