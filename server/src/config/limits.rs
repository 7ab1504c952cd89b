//! The flags that bound what peers may cost (issue 15, spec §6 "Added for
//! hostile networks"): connections per address, new connections per second,
//! budgets of JOIN/LEAVE and WHO/HISTORY frames, lingering sessions, rooms,
//! history memory, the minimum rate of a frame once started, the proxies
//! allowed to speak the PROXY protocol, and the password hasher's threads.
//!
//! Parsing and checking only; the core applies them.

use crate::cidr::Cidr;
use getopts::{Matches, Options};

/// Default `--max-per-ip`: what §6 fixes.
pub const DEFAULT_MAX_PER_IP: u32 = 32;
/// Default `--conn-rate`: new connections per second per address.
pub const DEFAULT_CONN_RATE: u32 = 20;
/// Default `--join-rate`: JOIN and LEAVE frames per second per session.
pub const DEFAULT_JOIN_RATE: u32 = 2;
/// Default `--query-rate`: WHO and HISTORY frames per second per session.
pub const DEFAULT_QUERY_RATE: u32 = 5;
/// Default `--max-rooms`: rooms held in memory at once.
pub const DEFAULT_MAX_ROOMS: usize = 10_000;
/// Default `--history-memory`: bytes of messages kept in memory, all rooms.
pub const DEFAULT_HISTORY_MEMORY: usize = 64 << 20;
/// Default `--min-rate`: bytes per second a started frame must keep up.
pub const DEFAULT_MIN_RATE: u32 = 1024;

/// What peers may cost; see each flag's help.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Open connections from one address (IPv4, or IPv6 /64); 0: no limit.
    pub max_per_ip: u32,
    /// New connections per second from one address (burst twice); 0: off.
    pub conn_rate: u32,
    /// JOIN and LEAVE frames per second per session; 0: off.
    pub join_rate: u32,
    /// WHO and HISTORY frames per second per session; 0: off.
    pub query_rate: u32,
    /// Sessions lingering at once (the oldest ends first beyond it).
    pub max_lingering: usize,
    /// Rooms held in memory at once; a JOIN that would create one more is
    /// refused.
    pub max_rooms: usize,
    /// Bytes of messages kept in memory across all rooms.
    pub history_memory: usize,
    /// Bytes per second a frame must keep up once it has started (after
    /// one heartbeat of grace); 0: off.
    pub min_rate: u32,
    /// Peers allowed to open with a PROXY protocol header.
    pub proxy_from: Vec<Cidr>,
    /// Password hashing threads.
    pub hash_workers: usize,
}

/// Adds the flags to `o`.
pub fn options(o: &mut Options) {
    o.optopt("", "max-per-ip", "open connections from one address, 0: no limit (default 32)", "N");
    o.optopt("", "conn-rate", "new connections per second per address, 0: off (default 20)", "N");
    o.optopt("", "join-rate", "JOIN+LEAVE frames per second per session, 0: off (default 2)", "N");
    o.optopt(
        "",
        "query-rate",
        "WHO+HISTORY frames per second per session, 0: off (default 5)",
        "N",
    );
    o.optopt("", "max-lingering", "sessions lingering at once (default: --max-clients)", "N");
    o.optopt("", "max-rooms", "rooms held in memory at once (default 10000)", "N");
    o.optopt("", "history-memory", "bytes of history kept in memory (default 67108864)", "BYTES");
    o.optopt("", "min-rate", "bytes/s a started frame must keep up, 0: off (default 1024)", "N");
    o.optmulti("", "proxy-from", "accept PROXY protocol v1/v2 from this CIDR (repeatable)", "NET");
    o.optopt("", "hash-workers", "password hashing threads (default: CPUs, at most 4)", "N");
}

/// Reads the flags from `m`; `max_clients` is the default of `--max-lingering`.
pub fn parse(m: &Matches, max_clients: usize) -> Result<Limits, String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let proxy_from = m
        .opt_strs("proxy-from")
        .iter()
        .map(|s| s.trim().parse().map_err(|e| format!("--proxy-from: {e}")))
        .collect::<Result<Vec<Cidr>, String>>()?;
    let l = Limits {
        max_per_ip: num(m, "max-per-ip", DEFAULT_MAX_PER_IP)?,
        conn_rate: num(m, "conn-rate", DEFAULT_CONN_RATE)?,
        join_rate: num(m, "join-rate", DEFAULT_JOIN_RATE)?,
        query_rate: num(m, "query-rate", DEFAULT_QUERY_RATE)?,
        max_lingering: num(m, "max-lingering", max_clients)?,
        max_rooms: num(m, "max-rooms", DEFAULT_MAX_ROOMS)?,
        history_memory: num(m, "history-memory", DEFAULT_HISTORY_MEMORY)?,
        min_rate: num(m, "min-rate", DEFAULT_MIN_RATE)?,
        proxy_from,
        hash_workers: num(m, "hash-workers", cpus)?,
    };
    if l.max_rooms == 0 {
        return Err("--max-rooms must be at least 1".into());
    }
    if !(1..=64).contains(&l.hash_workers) {
        return Err(format!("--hash-workers must be from 1 to 64, not {}", l.hash_workers));
    }
    Ok(l)
}

fn num<T: std::str::FromStr>(m: &Matches, name: &str, default: T) -> Result<T, String> {
    match m.opt_str(name) {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("--{name}: invalid value '{s}' (expected a whole number)")),
    }
}
