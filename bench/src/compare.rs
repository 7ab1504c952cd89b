//! `banter-bench compare`: the standard matrix in one go, against servers
//! it starts itself (pinned to one CPU, the harness to another): Banter vs
//! Redis pub/sub over plain TCP, Banter vs Redis both over TLS, Banter
//! vs a Node `ws` server over WebSocket, and banterd alone for read
//! receipts and files (no baseline has them), and banterd as a cluster of
//! nodes over one Redis against itself alone. Each figure is the median of
//! several runs; the comparison is written as Markdown (`render.rs`).
//!
//! This file holds the settings and the entry point; `sections.rs`,
//! `sections_ext.rs` and `cluster.rs` run the rows.

use crate::sections::Comparison;
use crate::servers::TlsFiles;
use getopts::Options;
use std::process::ExitCode;
use std::time::Instant;

/// What the comparison runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The banterd binary.
    pub banterd: String,
    /// The redis-server binary.
    pub redis: String,
    /// The node binary.
    pub node: String,
    /// The Node `ws` baseline's script.
    pub ws_script: String,
    /// Certificate, key and CA for the TLS rows (`None`: no TLS rows).
    pub tls: Option<TlsFiles>,
    /// Where the Markdown goes.
    pub out: String,
    /// Runs per figure (the median is reported).
    pub runs: usize,
    /// Measured seconds per run.
    pub duration: f64,
    /// Warm-up seconds per run.
    pub warmup: f64,
    /// Closed loop: messages in flight per sender.
    pub window: u32,
    /// Receivers of the TCP matrix.
    pub receivers: Vec<usize>,
    /// Payload sizes of the TCP matrix.
    pub sizes: Vec<usize>,
    /// Sender counts of the TCP matrix.
    pub senders: Vec<usize>,
    /// Connection counts for the idle-memory test over TCP.
    pub conn_counts: Vec<usize>,
    /// Idle connections held over TLS and WebSocket.
    pub transport_conns: usize,
    /// Which sections run: `tcp`, `tls`, `ws`, `receipts`, `files`.
    pub only: Vec<String>,
    /// Receipts: the room sizes (members, one of them the sender).
    pub receipt_members: Vec<usize>,
    /// Files: bytes of the file moved.
    pub file_size: u64,
    /// Files: chat messages per second over all chat members.
    pub chat_rate: f64,
    /// Cluster: node counts (the plain banterd is always measured too).
    pub cluster_nodes: Vec<usize>,
    /// Cluster: receivers of the fan-out shapes.
    pub cluster_receivers: Vec<usize>,
    /// Cluster: payload sizes of the fan-out shapes.
    pub cluster_sizes: Vec<usize>,
    /// Cluster: sender counts of the fan-out shapes.
    pub cluster_senders: Vec<usize>,
    /// Cluster: idle connections held, for memory per connection.
    pub cluster_conns: usize,
    /// How many times a disturbed row may be measured again.
    pub max_reruns: usize,
    /// Seconds all reruns together may take.
    pub rerun_budget: f64,
    /// CPUs for the servers and the harness (`None`: no pinning).
    pub cpus: Option<(usize, usize)>,
}

/// The receipts section's room sizes: 2 members or more.
fn room_sizes(s: &str, max: usize) -> Result<Vec<usize>, String> {
    let v = list(s, max)?;
    match v.iter().any(|&m| m < 2) {
        true => Err("--receipt-members: a room needs 2 members or more".into()),
        false => Ok(v),
    }
}

/// The cluster section's node counts: 1 to 16 each.
fn nodes(s: &str, max: usize) -> Result<Vec<usize>, String> {
    let v = list(s, max)?;
    match v.iter().any(|&n| !(1..=16).contains(&n)) {
        true => Err("--cluster-nodes: 1 to 16 nodes each".into()),
        false => Ok(v),
    }
}

/// Every section, in the order they run by default.
const SECTIONS: &str = "tcp,tls,ws,receipts,files,cluster";

fn list(s: &str, max: usize) -> Result<Vec<usize>, String> {
    s.split(',')
        .map(|x| match x.trim() {
            "max" => Ok(max),
            n => n.parse().map_err(|_| format!("{n:?} is not a number")),
        })
        .collect()
}

/// Options of `compare`: long name, help, value hint (none: a flag).
const OPTIONS: &[(&str, &str, &str)] = &[
    ("banterd", "banterd binary (next to this one)", "PATH"),
    ("redis-server", "redis-server binary (redis-server)", "PATH"),
    ("node", "node binary, for the WebSocket baseline (node)", "PATH"),
    ("ws-baseline", "the baseline's script (bench/ws-baseline/server.js)", "PATH"),
    ("tls-cert", "server certificate (PEM) for the TLS rows", "FILE"),
    ("tls-key", "its private key (PEM)", "FILE"),
    ("ca", "the CA (PEM) that signed it, trusted by the harness", "FILE"),
    ("out", "Markdown output (bench/RESULTS.md)", "FILE"),
    ("runs", "measured windows per figure, median reported (3)", "N"),
    ("duration", "measured seconds per window (1.5)", "SECS"),
    ("warmup", "warm-up seconds per window (0.5)", "SECS"),
    ("window", "closed loop: in flight per sender (16)", "W"),
    ("receivers", "TCP: receiver counts (100,1000,5000)", "LIST"),
    ("sizes", "TCP: payload sizes (64,1024)", "LIST"),
    ("senders", "TCP: sender counts (1,10)", "LIST"),
    ("conns", "TCP: idle connection counts; max = what the fd limit allows (10000,max)", "LIST"),
    ("transport-conns", "TLS and WebSocket: idle connections (10000)", "N"),
    ("receipt-members", "receipts: room sizes, the sender included (10,100)", "LIST"),
    ("file-size", "files: bytes of the file; K, M, G suffixes (64M)", "BYTES"),
    ("chat-rate", "files: chat messages/s while the file moves (1000)", "N"),
    ("cluster-nodes", "cluster: node counts over one Redis (1,2,3)", "LIST"),
    ("cluster-receivers", "cluster: receiver counts (100,1000)", "LIST"),
    ("cluster-sizes", "cluster: payload sizes (64)", "LIST"),
    ("cluster-senders", "cluster: sender counts (1)", "LIST"),
    ("cluster-conns", "cluster: idle connections for memory per connection (5000)", "N"),
    ("only", "sections to run, of tcp,tls,ws,receipts,files,cluster (all)", "LIST"),
    ("max-reruns", "times a disturbed row may be measured again (2)", "N"),
    ("rerun-budget", "seconds all reruns together may take (120)", "SECS"),
    ("no-pin", "do not pin servers to CPU 0 and the harness to CPU 1", ""),
    ("help", "this help", ""),
];

fn parse(args: &[String]) -> Result<Option<getopts::Matches>, String> {
    let mut o = Options::new();
    for (long, help, hint) in OPTIONS {
        if hint.is_empty() {
            o.optflag("", long, help);
        } else {
            o.optopt("", long, help, hint);
        }
    }
    let m = o.parse(args).map_err(|e| e.to_string())?;
    if m.opt_present("help") {
        print!("{}", o.usage("usage: banter-bench compare [options]"));
        return Ok(None);
    }
    Ok(Some(m))
}

fn tls_files(m: &getopts::Matches) -> Result<Option<TlsFiles>, String> {
    match (m.opt_str("tls-cert"), m.opt_str("tls-key"), m.opt_str("ca")) {
        (Some(cert), Some(key), Some(ca)) => Ok(Some(TlsFiles { cert, key, ca })),
        (None, None, None) => Ok(None),
        _ => Err("--tls-cert, --tls-key and --ca go together".into()),
    }
}

fn settings(m: &getopts::Matches) -> Result<Settings, String> {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("banterd")))
        .map_or("banterd".into(), |p| p.display().to_string());
    let max = max_conns();
    let s = |k: &str, d: &str| m.opt_str(k).unwrap_or_else(|| d.into());
    let f = |k: &str, d: &str| s(k, d).parse::<f64>().map_err(|_| format!("--{k}: not a number"));
    let only: Vec<String> = s("only", SECTIONS).split(',').map(|x| x.trim().into()).collect();
    if let Some(bad) = only.iter().find(|x| !SECTIONS.split(',').any(|k| k == x.as_str())) {
        return Err(format!("--only: unknown section {bad:?} ({SECTIONS})"));
    }
    let members = room_sizes(&s("receipt-members", "10,100"), max)?;
    Ok(Settings {
        banterd: s("banterd", &sibling),
        redis: s("redis-server", "redis-server"),
        node: s("node", "node"),
        ws_script: s("ws-baseline", "bench/ws-baseline/server.js"),
        tls: tls_files(m)?,
        out: s("out", "bench/RESULTS.md"),
        runs: f("runs", "3")?.max(1.0) as usize,
        duration: f("duration", "1.5")?,
        warmup: f("warmup", "0.5")?,
        window: f("window", "16")?.max(1.0) as u32,
        receivers: list(&s("receivers", "100,1000,5000"), max)?,
        sizes: list(&s("sizes", "64,1024"), max)?,
        senders: list(&s("senders", "1,10"), max)?,
        conn_counts: list(&s("conns", "10000,max"), max)?,
        transport_conns: f("transport-conns", "10000")?.clamp(1.0, max as f64) as usize,
        only,
        receipt_members: members,
        file_size: crate::cli::bytes(m, "file-size", 64 << 20)?.max(1),
        chat_rate: f("chat-rate", "1000")?.max(1.0),
        cluster_nodes: nodes(&s("cluster-nodes", "1,2,3"), max)?,
        cluster_receivers: list(&s("cluster-receivers", "100,1000"), max)?,
        cluster_sizes: list(&s("cluster-sizes", "64"), max)?,
        cluster_senders: list(&s("cluster-senders", "1"), max)?,
        cluster_conns: f("cluster-conns", "5000")?.clamp(1.0, max as f64) as usize,
        max_reruns: f("max-reruns", "2")?.max(0.0) as usize,
        rerun_budget: f("rerun-budget", "120")?.max(0.0),
        cpus: (!m.opt_present("no-pin")).then_some((0, 1)),
    })
}

/// The most connections the harness can hold: its open-file limit minus
/// room for its own descriptors (poll, timer, pipes, stdio).
fn max_conns() -> usize {
    let limit = crate::net::raise_fd_limit() as usize;
    limit.saturating_sub(100).max(100)
}

/// Entry point of `banter-bench compare`.
pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let Some(m) = parse(args)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let s = settings(&m)?;
    if let Some((_, harness)) = s.cpus {
        pin_self(harness);
    }
    let started = Instant::now();
    let mut c = Comparison::new(s);
    for name in c.s.only.clone() {
        match name.as_str() {
            "tcp" => c.tcp()?,
            "tls" => c.tls()?,
            "ws" => c.ws()?,
            "receipts" => c.receipts()?,
            "cluster" => c.cluster()?,
            _ => c.files()?,
        }
    }
    c.results.elapsed_s = started.elapsed().as_secs_f64();
    let old = std::fs::read_to_string(&c.s.out).unwrap_or_default();
    let text = crate::render::render(&c.results, &c.s, &old);
    std::fs::write(&c.s.out, text).map_err(|e| format!("{}: {e}", c.s.out))?;
    eprintln!("compare: wrote {} in {:.0} s", c.s.out, c.results.elapsed_s);
    Ok(ExitCode::SUCCESS)
}

fn pin_self(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET stays within it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// The defaults, as `compare` with no options has them.
    pub fn settings() -> Settings {
        super::settings(&parse(&[]).unwrap().unwrap()).unwrap()
    }

    #[test]
    fn defaults_and_refusals() {
        let s = settings();
        assert_eq!((s.runs, s.window, s.max_reruns, s.transport_conns), (3, 16, 2, 10_000));
        assert_eq!(s.only, ["tcp", "tls", "ws", "receipts", "files", "cluster"]);
        assert_eq!((s.cluster_nodes, s.cluster_conns), (vec![1, 2, 3], 5000));
        assert_eq!((s.receipt_members, s.file_size), (vec![10, 100], 64 << 20));
        assert!(s.tls.is_none());
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let m = parse(&a(&["--tls-cert", "c.pem"])).unwrap().unwrap();
        assert!(super::settings(&m).unwrap_err().contains("go together"));
        let m = parse(&a(&["--only", "tcp,quic"])).unwrap().unwrap();
        assert!(super::settings(&m).unwrap_err().contains("quic"));
        let m = parse(&a(&["--cluster-nodes", "0,2"])).unwrap().unwrap();
        assert!(super::settings(&m).unwrap_err().contains("1 to 16"));
        let m = parse(&a(&["--receipt-members", "1"])).unwrap().unwrap();
        assert!(super::settings(&m).unwrap_err().contains("2 members"));
        let m = parse(&a(&["--tls-cert", "c", "--tls-key", "k", "--ca", "a"])).unwrap().unwrap();
        assert_eq!(super::settings(&m).unwrap().tls.unwrap().ca, "a");
    }
}
