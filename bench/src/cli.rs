//! The command line: parses the options of a scenario run into a [`Plan`]
//! (the target URL through `target.rs`). Refuses what cannot run, with a
//! clear message.
//!
//! It runs nothing.

use crate::link::tls::TlsOpts;
use crate::plan::{Plan, Scenario};
use crate::proto::Proto;
use crate::stamp::STAMP_LEN;
use crate::target::Target;
use getopts::{Matches, Options};
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
    ("", "ca", "TLS: trust the PEM certificate(s) in FILE besides the system's roots", "FILE"),
    ("r", "receivers", "fanout: receivers in the room (100)", "R"),
    ("m", "members", "receipts: members of the room, senders included (100)", "M"),
    ("s", "senders", "fanout: senders (1)", "S"),
    ("b", "size", "payload bytes, at least 30 (64)", "B"),
    ("w", "window", "closed loop: messages in flight per sender (1)", "W"),
    (
        "",
        "rate",
        "open loop: messages/s over all senders (0: closed loop; files: the chat, 1000)",
        "N",
    ),
    (
        "n",
        "conns",
        "connections (1000) / churn loops (50) / replay readers (4) / files: chat connections besides the file's (2)",
        "N",
    ),
    ("", "connect-rate", "connections: new connections/s (2000; 0: as fast as accepted)", "C"),
    ("", "room-size", "connections: members per room (10)", "K"),
    ("", "history", "replay: messages put in the room first (10000)", "M"),
    ("", "limit", "replay: the JOIN's limit (1000)", "L"),
    ("", "runs", "receipts: pairs of windows without and with MARK (2); files: rounds of idle, upload, download windows (1)", "N"),
    ("", "file-size", "files: bytes of the file moved; K, M, G suffixes (64M)", "BYTES"),
    ("t", "threads", "worker threads (1; files: 2, the file's connection on its own)", "N"),
    ("", "warmup", "seconds of load before measuring (1)", "SECS"),
    ("d", "duration", "seconds measured / held (5)", "SECS"),
    ("", "sources", "127.0.0.x source addresses to spread over (8)", "N"),
    ("", "redis-pid", "cluster: the pid of the nodes' Redis, for its CPU and memory", "PID"),
];

/// Options that may be given more than once: long name, help, value hint.
const REPEATED: &[(&str, &str, &str)] = &[
    ("target", "server URL (banter://127.0.0.1:3000; see above); again for each further node of a cluster: each role is dealt round-robin over them", "URL"),
    ("server-pid", "the server's pid, for its CPU and memory; again for each further --target", "PID"),
];

/// The options every scenario accepts.
pub fn options() -> Options {
    let mut o = Options::new();
    for (short, long, help, hint) in VALUED {
        o.optopt(short, long, help, hint);
    }
    for (long, help, hint) in REPEATED {
        o.optmulti("", long, help, hint);
    }
    o.optflag(
        "",
        "insecure-skip-verify",
        "TLS: INSECURE, for benchmarks on loopback only: accept any server certificate",
    );
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

/// A byte count with an optional K, M or G (binary) suffix.
pub(crate) fn bytes(m: &Matches, name: &str, default: u64) -> Result<u64, String> {
    let Some(s) = m.opt_str(name) else {
        return Ok(default);
    };
    let (digits, unit) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        _ => (&s[..], 1),
    };
    let n: u64 = digits.parse().map_err(|_| format!("--{name}: {s:?} is not a size"))?;
    n.checked_mul(unit).ok_or_else(|| format!("--{name}: {s:?} is too large"))
}

fn pids(m: &Matches, name: &str) -> Result<Vec<u32>, String> {
    let one = |s: String| s.parse().map_err(|_| format!("--{name}: {s:?} is not a pid"));
    m.opt_strs(name).into_iter().map(one).collect()
}

/// The targets: the first, and the addresses of further nodes (of the
/// same scheme) with their pids, if given.
fn targets(m: &Matches) -> Result<(Target, Vec<std::net::SocketAddr>, Vec<u32>), String> {
    let urls = m.opt_strs("target");
    let first = urls.first().map_or("banter://127.0.0.1:3000", String::as_str);
    let target = Target::parse(first)?;
    let mut nodes = Vec::new();
    for url in urls.iter().skip(1) {
        let t = Target::parse(url)?;
        if (t.scheme, &t.ws_path) != (target.scheme, &target.ws_path) {
            return Err(format!("--target {url}: every node must be a {first} alike"));
        }
        nodes.push(t.addr);
    }
    let pids = pids(m, "server-pid")?;
    if pids.len() > urls.len().max(1) {
        return Err("--server-pid: more pids than --target nodes".into());
    }
    Ok((target, nodes, pids))
}

fn one_pid(m: &Matches, name: &str) -> Result<Option<u32>, String> {
    match m.opt_str(name) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| format!("--{name}: {s:?} is not a pid")),
    }
}

/// Receivers, senders and connections: receipts count the room's members
/// (`--members`, senders included); files' senders are every chat member.
fn sizes(scenario: Scenario, m: &Matches) -> Result<(usize, usize, usize), String> {
    let conns = num(
        m,
        "conns",
        match scenario {
            Scenario::Churn => 50,
            Scenario::Replay => 4,
            Scenario::Files => 2,
            _ => 1000,
        },
    )?;
    let senders = match scenario {
        Scenario::Files => conns + 1,
        _ => num(m, "senders", 1)?,
    };
    let receivers = match scenario {
        Scenario::Receipts if m.opt_present("receivers") => {
            return Err("receipts: the room's size is --members (senders included), not -r".into())
        }
        Scenario::Receipts => num::<usize>(m, "members", 100)?.saturating_sub(senders),
        _ => num(m, "receivers", 100)?,
    };
    Ok((receivers, senders, conns))
}

/// Builds the plan of `scenario` from parsed options.
pub fn plan(scenario: Scenario, m: &Matches) -> Result<Args, String> {
    let (target, nodes, pids) = targets(m)?;
    let tls = TlsOpts {
        ca: m.opt_str("ca").map(Into::into),
        insecure: m.opt_present("insecure-skip-verify"),
    };
    let files = scenario == Scenario::Files;
    let (receivers, senders, conns) = sizes(scenario, m)?;
    let prefix = unique_prefix();
    let plan = Plan {
        scenario,
        target,
        tls,
        receivers,
        senders,
        size: num(m, "size", 64)?,
        window: num(m, "window", 1)?,
        rate: num(m, "rate", if files { 1000.0 } else { 0.0 })?,
        conns,
        connect_rate: num(m, "connect-rate", 2000.0)?,
        room_size: num(m, "room-size", 10)?,
        history: num(m, "history", 10_000)?,
        limit: num(m, "limit", 1000)?,
        runs: num(m, "runs", if files { 1 } else { 2 })?,
        file_size: bytes(m, "file-size", 64 << 20)?,
        password: format!("bench-{prefix}-password"),
        threads: num(m, "threads", if files { 2 } else { 1 })?,
        warmup: secs(m, "warmup", 1.0)?,
        duration: secs(m, "duration", 5.0)?,
        sources: num(m, "sources", 8)?,
        server_pid: pids.first().copied(),
        nodes,
        node_pids: pids.get(1..).unwrap_or(&[]).to_vec(),
        redis_pid: one_pid(m, "redis-pid")?,
        prefix,
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
    if p.scenario == Scenario::Replay && p.target.proto != Proto::Banter {
        return Err("replay: only Banter keeps history, so this scenario is Banter-only".into());
    }
    if matches!(p.scenario, Scenario::Receipts | Scenario::Files) {
        check_extension(p)?;
    }
    if !p.target.tls && (p.tls.ca.is_some() || p.tls.insecure) {
        return Err("--ca and --insecure-skip-verify need a TLS target (banters://, rediss://, wss://, wsbases://)".into());
    }
    if p.tls.ca.is_some() && p.tls.insecure {
        return Err("--ca and --insecure-skip-verify contradict each other".into());
    }
    if !(p.rate >= 0.0 && p.rate.is_finite()) {
        return Err("--rate must be 0 or more".into());
    }
    Ok(())
}

/// Refuses receipts and files plans that cannot run.
fn check_extension(p: &Plan) -> Result<(), String> {
    let name = p.scenario.name();
    if p.target.proto != Proto::Banter {
        return Err(format!("{name}: a Banter extension (§9, §10), so Banter targets only"));
    }
    if p.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    if p.scenario == Scenario::Receipts && (p.senders == 0 || p.receivers == 0) {
        return Err("receipts: --members must be above --senders, which must be 1 or more".into());
    }
    if p.scenario == Scenario::Files && (p.file_size == 0 || p.rate <= 0.0 || p.conns < 2) {
        return Err(
            "files: --file-size 1 or more, --rate above 0 (the chat) and -n 2 or more (chat that does not touch the file's connection needs two)"
                .into(),
        );
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
        let m = o.parse(["--target", "rediss://127.0.0.1:1", "--ca", "x.pem"]).unwrap();
        assert_eq!(plan(Scenario::Fanout, &m).unwrap().plan.tls.ca, Some("x.pem".into()));
        let m = o.parse(["--target", "redis://127.0.0.1:1", "--insecure-skip-verify"]).unwrap();
        assert!(plan(Scenario::Fanout, &m).unwrap_err().contains("TLS target"));
        let m = o.parse(["--target", "wsbase://127.0.0.1:1/ws"]).unwrap();
        assert!(plan(Scenario::Replay, &m).unwrap_err().contains("Banter-only"));
        assert_eq!(unique_prefix().len(), 8);
    }

    #[test]
    fn several_targets_are_the_nodes_of_one_cluster() {
        let o = options();
        let a = ["--target", "banter://127.0.0.1:1", "--target", "banter://127.0.0.1:2"];
        let m = o.parse(a.iter().chain(&["--server-pid", "7", "--server-pid", "8"])).unwrap();
        let p = plan(Scenario::Fanout, &m).unwrap().plan;
        assert_eq!((p.target.addr.port(), p.nodes.len(), p.nodes[0].port()), (1, 1, 2));
        assert_eq!((p.server_pid, p.node_pids, p.redis_pid), (Some(7), vec![8], None));
        let m = o.parse(a.iter().chain(&["--redis-pid", "9"])).unwrap();
        assert_eq!(plan(Scenario::Fanout, &m).unwrap().plan.redis_pid, Some(9));
        let m = o.parse(["--target", "banter://127.0.0.1:1", "--target", "redis://127.0.0.1:2"]);
        assert!(plan(Scenario::Fanout, &m.unwrap()).unwrap_err().contains("alike"));
        let m = o.parse(["--server-pid", "1", "--server-pid", "2"]).unwrap();
        assert!(plan(Scenario::Fanout, &m).unwrap_err().contains("more pids"));
        let m = o.parse(["--redis-pid", "x"]).unwrap();
        assert!(plan(Scenario::Fanout, &m).unwrap_err().contains("not a pid"));
    }

    #[test]
    fn receipts_and_files_options() {
        let o = options();
        let m = o.parse(["--members", "10", "-s", "2"]).unwrap();
        let p = plan(Scenario::Receipts, &m).unwrap().plan;
        assert_eq!((p.receivers, p.senders, p.members(), p.runs), (8, 2, 10, 2));
        let m = o.parse(["-r", "10"]).unwrap();
        assert!(plan(Scenario::Receipts, &m).unwrap_err().contains("--members"));
        let m = o.parse(["--members", "1"]).unwrap();
        assert!(plan(Scenario::Receipts, &m).unwrap_err().contains("--members"));
        let m = o.parse(["--target", "redis://127.0.0.1:1"]).unwrap();
        assert!(plan(Scenario::Files, &m).unwrap_err().contains("Banter targets only"));
        let m = o.parse(["--file-size", "3M", "-n", "3"]).unwrap();
        let p = plan(Scenario::Files, &m).unwrap().plan;
        assert_eq!((p.file_size, p.senders, p.rate, p.threads), (3 << 20, 4, 1000.0, 2));
        assert!(p.password.len() >= 8);
        let m = o.parse(["--file-size", "big"]).unwrap();
        assert!(plan(Scenario::Files, &m).unwrap_err().contains("not a size"));
        let m = o.parse(["-n", "1"]).unwrap();
        assert!(plan(Scenario::Files, &m).unwrap_err().contains("-n 2"));
    }
}
