//! The command line: parses the options of a scenario run into a [`Plan`]
//! and the target URL (`banter://host:port`, `redis://host:port`) into a
//! protocol and an address. Refuses what cannot run, with a clear message.
//!
//! It runs nothing.

use crate::plan::{Plan, Scenario};
use crate::proto::Proto;
use crate::stamp::STAMP_LEN;
use getopts::{Matches, Options};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// What the command line asked for.
#[derive(Debug)]
pub struct Args {
    /// The run.
    pub plan: Plan,
    /// Print JSON instead of the table.
    pub json: bool,
}

/// Options that take a value: short name, long name, help, value hint.
const VALUED: &[(&str, &str, &str, &str)] = &[
    ("", "target", "server URL (banter://127.0.0.1:3000)", "URL"),
    ("r", "receivers", "fanout: receivers in the room (100)", "R"),
    ("s", "senders", "fanout: senders (1)", "S"),
    ("b", "size", "payload bytes, at least 30 (64)", "B"),
    ("w", "window", "closed loop: messages in flight per sender (1)", "W"),
    ("", "rate", "open loop: messages/s over all senders (0: closed loop)", "N"),
    ("n", "conns", "connections (1000) / churn loops (50) / replay readers (4)", "N"),
    ("", "connect-rate", "connections: new connections/s (2000; 0: as fast as accepted)", "C"),
    ("", "room-size", "connections: members per room (10)", "K"),
    ("", "history", "replay: messages put in the room first (10000)", "M"),
    ("", "limit", "replay: the JOIN's limit (1000)", "L"),
    ("t", "threads", "worker threads (1)", "N"),
    ("", "warmup", "seconds of load before measuring (1)", "SECS"),
    ("d", "duration", "seconds measured / held (5)", "SECS"),
    ("", "sources", "127.0.0.x source addresses to spread over (8)", "N"),
    ("", "server-pid", "the server's pid, for its CPU and memory", "PID"),
];

/// The options every scenario accepts.
pub fn options() -> Options {
    let mut o = Options::new();
    for (short, long, help, hint) in VALUED {
        o.optopt(short, long, help, hint);
    }
    o.optflag("", "json", "print one JSON object instead of the table");
    o.optflag("q", "quiet", "no progress lines");
    o.optflag("h", "help", "this help");
    o.optflag("V", "version", "the version");
    o
}

fn num<T: std::str::FromStr>(m: &Matches, name: &str, default: T) -> Result<T, String> {
    match m.opt_str(name) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| format!("--{name}: {s:?} is not a valid number")),
    }
}

fn secs(m: &Matches, name: &str, default: f64) -> Result<Duration, String> {
    let v: f64 = num(m, name, default)?;
    Duration::try_from_secs_f64(v).map_err(|_| format!("--{name}: {v} is not a duration"))
}

fn pid(m: &Matches) -> Result<Option<u32>, String> {
    let Some(s) = m.opt_str("server-pid") else {
        return Ok(None);
    };
    s.parse().map(Some).map_err(|_| format!("--server-pid: {s:?} is not a pid"))
}

/// Splits `banter://host:port` or `redis://host:port`.
pub fn parse_target(url: &str) -> Result<(Proto, SocketAddr), String> {
    let (proto, rest, port) = if let Some(r) = url.strip_prefix("banter://") {
        (Proto::Banter, r, 3000)
    } else if let Some(r) = url.strip_prefix("redis://") {
        (Proto::Resp, r, 6379)
    } else {
        return Err(format!("target {url:?}: expected banter://HOST:PORT or redis://HOST:PORT"));
    };
    let rest = rest.trim_end_matches('/');
    let hostport = if rest.contains(':') { rest.to_string() } else { format!("{rest}:{port}") };
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| format!("target {url:?}: {e}"))?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| format!("target {url:?}: no IPv4 address"))?;
    Ok((proto, addr))
}

/// Builds the plan of `scenario` from parsed options.
pub fn plan(scenario: Scenario, m: &Matches) -> Result<Args, String> {
    let url = m.opt_str("target").unwrap_or_else(|| "banter://127.0.0.1:3000".into());
    let (proto, addr) = parse_target(&url)?;
    let default_conns = match scenario {
        Scenario::Churn => 50,
        Scenario::Replay => 4,
        _ => 1000,
    };
    let plan = Plan {
        scenario,
        proto,
        addr,
        receivers: num(m, "receivers", 100)?,
        senders: num(m, "senders", 1)?,
        size: num(m, "size", 64)?,
        window: num(m, "window", 1)?,
        rate: num(m, "rate", 0.0)?,
        conns: num(m, "conns", default_conns)?,
        connect_rate: num(m, "connect-rate", 2000.0)?,
        room_size: num(m, "room-size", 10)?,
        history: num(m, "history", 10_000)?,
        limit: num(m, "limit", 1000)?,
        threads: num(m, "threads", 1)?,
        warmup: secs(m, "warmup", 1.0)?,
        duration: secs(m, "duration", 5.0)?,
        sources: num(m, "sources", 8)?,
        server_pid: pid(m)?,
        prefix: unique_prefix(),
        progress: !m.opt_present("quiet"),
    };
    check(&plan)?;
    Ok(Args { plan, json: m.opt_present("json") })
}

/// Refuses plans that cannot run.
pub fn check(p: &Plan) -> Result<(), String> {
    if p.size < STAMP_LEN {
        return Err(format!("--size must be at least {STAMP_LEN} (the stamp)"));
    }
    if p.threads == 0 || p.threads > 64 {
        return Err("--threads must be 1 to 64".into());
    }
    if p.scenario == Scenario::Fanout && (p.senders == 0 || p.senders > 0xff_ffff) {
        return Err("--senders must be 1 to 16777215".into());
    }
    if p.scenario == Scenario::Replay && p.proto == Proto::Resp {
        return Err(
            "replay: Redis pub/sub keeps no history, so this scenario is Banter-only".into()
        );
    }
    if !(p.rate >= 0.0 && p.rate.is_finite()) {
        return Err("--rate must be 0 or more".into());
    }
    Ok(())
}

/// A name prefix unique to this process and moment: `b` + 7 hex digits.
pub fn unique_prefix() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mix = (t ^ (u64::from(std::process::id()) << 20)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("b{:07x}", mix >> 36)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let (p, a) = parse_target("redis://127.0.0.1:7000").unwrap();
        assert_eq!((p, a.port()), (Proto::Resp, 7000));
        let (p, a) = parse_target("banter://127.0.0.1").unwrap();
        assert_eq!((p, a.port()), (Proto::Banter, 3000));
        assert!(parse_target("http://x").is_err());
    }

    #[test]
    fn options_become_a_plan_and_bad_ones_are_refused() {
        let o = options();
        let m = o.parse(["--target", "redis://127.0.0.1:1", "-r", "7", "--rate", "500"]).unwrap();
        let a = plan(Scenario::Fanout, &m).unwrap();
        assert_eq!((a.plan.receivers, a.plan.rate), (7, 500.0));
        let m = o.parse(["-b", "10"]).unwrap();
        assert!(plan(Scenario::Fanout, &m).is_err());
        let m = o.parse(["--target", "redis://127.0.0.1:1"]).unwrap();
        assert!(plan(Scenario::Replay, &m).is_err());
        let m = o.parse(["-r", "many"]).unwrap();
        assert!(plan(Scenario::Fanout, &m).unwrap_err().contains("receivers"));
        assert_eq!(unique_prefix().len(), 8);
    }
}
