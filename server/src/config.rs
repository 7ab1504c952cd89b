//! The command line of `banterd` (spec §6): parsed, checked and turned into
//! a [`Config`], or into a one-line reason the process exits with.
//!
//! This module only reads arguments and the environment; it opens nothing.
//! The flags that bound what peers may cost are in `limits`.

pub mod limits;

pub use limits::Limits;

use crate::cidr::Cidr;
use crate::store::SyncMode;
use banter_proto::{DEFAULT_MAX_FRAME, DEFAULT_MAX_TEXT, MAX_STR, PRE_WELCOME_MAX_FRAME};
use getopts::Options;
use std::net::IpAddr;
use std::path::PathBuf;

/// Largest `--max-frame` accepted: a frame of 16 MiB is already absurd for chat.
const MAX_MAX_FRAME: u32 = 16 << 20;

/// Everything the server needs to know from its command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Open connections allowed at once (closing ones do not count).
    pub max_clients: usize,
    /// Silence after which the server PINGs; twice this drops the client.
    pub heartbeat_ms: u64,
    /// How long a session outlives its connection.
    pub linger_ms: u64,
    /// SQLite database; `None` keeps history in memory.
    pub db: Option<PathBuf>,
    /// How hard each commit syncs (with `--db`).
    pub sync: SyncMode,
    /// Only registered names may log in (needs `--db`).
    pub accounts_only: bool,
    /// SAY and TYPING frames per second per session (each address gets
    /// four times as much); 0 disables both.
    pub rate: u32,
    /// Unsent output a client may owe before it is dropped.
    pub out_limit: usize,
    /// Largest frame `len` accepted after WELCOME.
    pub max_frame: u32,
    /// Largest SAY text in bytes.
    pub max_text: u32,
    /// Log level filter.
    pub log_level: log::LevelFilter,
    /// PEM certificate chain and private key; TLS is offered with both.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Plain connections from outside `trust_plain` are refused.
    pub require_tls: bool,
    /// Where passwords may travel in clear (plain TCP or WebSocket).
    pub trust_plain: Vec<Cidr>,
    /// Origins a browser page may open the WebSocket from, besides the
    /// page's own.
    pub allow_origins: Vec<String>,
    /// `/metrics` answers any address, not only loopback.
    pub metrics_public: bool,
    /// Where shared files are kept; file sharing is off without it.
    pub files: Option<PathBuf>,
    /// Largest file accepted, in bytes.
    pub max_file: u64,
    /// Bytes of files (finished and unfinished uploads) one account may hold.
    pub file_quota: u64,
    /// Admission control and bounds on state (issue 15).
    pub limits: Limits,
    /// A node of a cluster over Redis (`--cluster`, `--node-id`).
    pub cluster: Option<ClusterConfig>,
}

/// `--cluster URL [--node-id ID]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// `redis://HOST:PORT` of the Redis every node shares.
    pub url: String,
    /// This node's id, unique among the nodes (default: host name and pid).
    pub node: String,
}

/// What the command line asks for.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // made once per run: no reason to box
pub enum Command {
    Run(Box<Config>),
    Help(String),
    Version,
}

fn options() -> Options {
    let mut o = Options::new();
    o.optopt("", "bind", "address to listen on (default 0.0.0.0)", "IP");
    o.optopt("", "port", "port to listen on; 0 picks a free port (env PORT, default 3000)", "N");
    o.optopt("", "max-clients", "open connections allowed (env MAX_CLIENTS, default 100)", "N");
    o.optopt(
        "",
        "heartbeat-ms",
        "PING after this much silence, drop after twice (default 5000)",
        "N",
    );
    o.optopt("", "linger-ms", "how long a session outlives its connection (default 10000)", "N");
    o.optopt("", "db", "SQLite file for durable history and accounts (default: memory)", "PATH");
    o.optopt("", "sync", "with --db: normal (survives a crash) or full (also power loss)", "MODE");
    o.optflag("", "accounts-only", "only registered names may log in (needs --db)");
    o.optopt("", "rate", "SAY+TYPING frames per second per session, 0: off (default 10)", "N");
    o.optopt("", "out-limit", "unsent bytes before a client is dropped (default 4194304)", "BYTES");
    o.optopt("", "max-frame", "largest frame accepted after WELCOME (default 65536)", "BYTES");
    o.optopt("", "max-text", "largest message text (default 4096)", "BYTES");
    o.optopt("", "log-level", "error, warn, info, debug or trace (default info)", "LEVEL");
    o.optopt(
        "",
        "tls-cert",
        "PEM certificate chain: offer TLS on the same port (with --tls-key)",
        "PATH",
    );
    o.optopt("", "tls-key", "PEM private key of --tls-cert", "PATH");
    o.optflag("", "require-tls", "refuse plain connections from outside --trust-plain");
    o.optmulti(
        "",
        "trust-plain",
        "CIDR from which passwords may travel in clear (repeatable; default 127.0.0.0/8 and ::1; none: nowhere)",
        "NET",
    );
    o.optmulti(
        "",
        "allow-origin",
        "a web origin allowed to open /ws besides the page's own (repeatable)",
        "ORIGIN",
    );
    o.optflag("", "metrics-public", "answer /metrics to any address, not only loopback");
    o.optopt("", "files", "directory for shared files (file sharing is off without it)", "DIR");
    o.optopt("", "max-file", "largest file accepted (default 67108864)", "BYTES");
    o.optopt("", "file-quota", "bytes of files one account may hold (default 1073741824)", "BYTES");
    o.optopt(
        "",
        "cluster",
        "serve one chat with other nodes through this Redis",
        "redis://[[USER]:PASSWORD@]HOST[:PORT]",
    );
    o.optopt("", "node-id", "with --cluster: this node's id (default: host name and pid)", "ID");
    limits::options(&mut o);
    o.optflag("h", "help", "print this help and exit");
    o.optflag("V", "version", "print the version and exit");
    o
}

/// Parses `args` (without the program name); `env` looks up variables.
pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Command, String> {
    let o = options();
    let m = o.parse(args).map_err(|e| e.to_string())?;
    if m.opt_present("help") {
        let brief = "Usage: banterd [OPTIONS]\n\nThe Banter chat daemon.";
        return Ok(Command::Help(o.usage(brief)));
    }
    if m.opt_present("version") {
        return Ok(Command::Version);
    }
    if let Some(extra) = m.free.first() {
        return Err(format!("unexpected argument '{extra}'"));
    }
    let opt = |name: &str, var: Option<&str>| m.opt_str(name).or_else(|| var.and_then(&env));
    let max_frame = num(opt("max-frame", None), "--max-frame", DEFAULT_MAX_FRAME)?;
    let default_text = DEFAULT_MAX_TEXT.min(max_frame.saturating_sub(128));
    let max_clients =
        num(opt("max-clients", Some("MAX_CLIENTS")), "--max-clients (or MAX_CLIENTS)", 100)?;
    let c = Config {
        bind: parsed(opt("bind", None), "--bind", "0.0.0.0".parse().expect("literal"))?,
        port: num(opt("port", Some("PORT")), "--port (or PORT)", 3000)?,
        max_clients,
        heartbeat_ms: num(opt("heartbeat-ms", None), "--heartbeat-ms", 5000)?,
        linger_ms: num(opt("linger-ms", None), "--linger-ms", 10_000)?,
        db: m.opt_str("db").map(PathBuf::from),
        sync: m.opt_str("sync").as_deref().unwrap_or("normal").parse()?,
        accounts_only: m.opt_present("accounts-only"),
        rate: num(opt("rate", None), "--rate", 10)?,
        out_limit: num(opt("out-limit", None), "--out-limit", 4 << 20)?,
        max_frame,
        max_text: num(opt("max-text", None), "--max-text", default_text)?,
        log_level: parsed(opt("log-level", None), "--log-level", log::LevelFilter::Info)?,
        tls: tls_pair(m.opt_str("tls-cert"), m.opt_str("tls-key"))?,
        require_tls: m.opt_present("require-tls"),
        trust_plain: trust_plain(&m.opt_strs("trust-plain"))?,
        allow_origins: allow_origins(&m.opt_strs("allow-origin"))?,
        metrics_public: m.opt_present("metrics-public"),
        files: m.opt_str("files").map(PathBuf::from),
        max_file: num(opt("max-file", None), "--max-file", 64 << 20)?,
        file_quota: num(opt("file-quota", None), "--file-quota", 1 << 30)?,
        limits: limits::parse(&m, max_clients)?,
        cluster: cluster(m.opt_str("cluster"), m.opt_str("node-id"))?,
    };
    c.check()?;
    Ok(Command::Run(Box::new(c)))
}

impl Config {
    fn check(&self) -> Result<(), String> {
        if !(PRE_WELCOME_MAX_FRAME..=MAX_MAX_FRAME).contains(&self.max_frame) {
            return Err(format!(
                "--max-frame must be from {PRE_WELCOME_MAX_FRAME} to {MAX_MAX_FRAME}, not {}",
                self.max_frame
            ));
        }
        let top = (self.max_frame - 128).min(MAX_STR as u32);
        if self.max_text == 0 || self.max_text > top {
            return Err(format!(
                "--max-text must be from 1 to {top} (max-frame - 128), not {}",
                self.max_text
            ));
        }
        if self.max_clients == 0 {
            return Err("--max-clients must be at least 1".into());
        }
        if self.heartbeat_ms == 0 {
            return Err("--heartbeat-ms must be at least 1".into());
        }
        if self.out_limit < self.max_frame as usize {
            return Err(format!("--out-limit must be at least --max-frame ({})", self.max_frame));
        }
        if self.max_file == 0 {
            return Err("--max-file must be at least 1".into());
        }
        if self.accounts_only && self.db.is_none() && self.cluster.is_none() {
            return Err(
                "--accounts-only needs --db or --cluster (accounts must outlive the process)"
                    .into(),
            );
        }
        if self.db.is_some() && self.cluster.is_some() {
            return Err(
                "--db and --cluster exclude each other: a cluster keeps its data in Redis".into()
            );
        }
        Ok(())
    }
}

/// `--cluster` and `--node-id`.
fn cluster(url: Option<String>, node: Option<String>) -> Result<Option<ClusterConfig>, String> {
    let Some(url) = url else {
        return match node {
            Some(_) => Err("--node-id needs --cluster".into()),
            None => Ok(None),
        };
    };
    if !url.starts_with("redis://") {
        return Err("--cluster: the URL must be redis://[[USER]:PASSWORD@]HOST[:PORT]".into());
    }
    let node = node.unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    });
    let ok = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if node.is_empty() || node.len() > 64 || !node.chars().all(ok) {
        return Err(format!("--node-id: '{node}' must be 1-64 of A-Z a-z 0-9 - _ ."));
    }
    Ok(Some(ClusterConfig { url, node }))
}

/// `--tls-cert` and `--tls-key`: both or neither.
fn tls_pair(
    cert: Option<String>,
    key: Option<String>,
) -> Result<Option<(PathBuf, PathBuf)>, String> {
    match (cert, key) {
        (Some(c), Some(k)) => Ok(Some((c.into(), k.into()))),
        (None, None) => Ok(None),
        _ => Err("--tls-cert and --tls-key go together: give both or neither".into()),
    }
}

/// `--trust-plain`: loopback by default, `none` for nowhere.
fn trust_plain(nets: &[String]) -> Result<Vec<Cidr>, String> {
    if nets.is_empty() {
        return Ok(vec!["127.0.0.0/8".parse()?, "::1".parse()?]);
    }
    if nets.iter().any(|n| n.eq_ignore_ascii_case("none")) {
        if nets.len() > 1 {
            return Err("--trust-plain none cannot be combined with ranges".into());
        }
        return Ok(Vec::new());
    }
    nets.iter().map(|n| n.parse().map_err(|e| format!("--trust-plain: {e}"))).collect()
}

/// `--allow-origin`: `scheme://host[:port]`, compared case-insensitively.
fn allow_origins(origins: &[String]) -> Result<Vec<String>, String> {
    origins
        .iter()
        .map(|o| {
            let ok = o
                .split_once("://")
                .is_some_and(|(s, h)| !s.is_empty() && !h.is_empty() && !h.contains('/'));
            ok.then(|| o.to_ascii_lowercase()).ok_or_else(|| {
                format!("--allow-origin: '{o}' is not an origin like https://chat.example.org")
            })
        })
        .collect()
}

fn parsed<T: std::str::FromStr>(v: Option<String>, what: &str, default: T) -> Result<T, String> {
    match v {
        None => Ok(default),
        Some(s) => s.trim().parse().map_err(|_| format!("{what}: invalid value '{s}'")),
    }
}

fn num<T: std::str::FromStr>(v: Option<String>, what: &str, default: T) -> Result<T, String> {
    parsed(v, what, default).map_err(|e| format!("{e} (expected a whole number)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> =
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match parse(&args, lookup)? {
            Command::Run(c) => Ok(*c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let c = run(&[], &[]).unwrap();
        assert_eq!(c.port, 3000);
        assert_eq!(c.max_clients, 100);
        assert_eq!((c.heartbeat_ms, c.linger_ms, c.rate), (5000, 10_000, 10));
        assert_eq!((c.out_limit, c.max_frame, c.max_text), (4 << 20, 65_536, 4096));
        assert_eq!(c.bind.to_string(), "0.0.0.0");
        let l = &c.limits;
        assert_eq!((l.max_per_ip, l.conn_rate, l.join_rate, l.query_rate), (32, 20, 2, 5));
        assert_eq!((l.max_lingering, l.max_rooms, l.history_memory), (100, 10_000, 64 << 20));
        assert_eq!(l.min_rate, 1024);
        assert!(l.proxy_from.is_empty());
        assert!((1..=4).contains(&l.hash_workers));
    }

    #[test]
    fn limits_flags() {
        let c = run(
            &["--max-per-ip", "0", "--proxy-from", "10.0.0.0/8", "--proxy-from", "::1"],
            &[("MAX_CLIENTS", "7")],
        )
        .unwrap();
        assert_eq!((c.limits.max_per_ip, c.limits.max_lingering), (0, 7));
        assert_eq!(c.limits.proxy_from.len(), 2);
        assert!(run(&["--proxy-from", "10.0.0.0/40"], &[]).unwrap_err().contains("--proxy-from"));
        assert!(run(&["--max-rooms", "0"], &[]).is_err());
        assert!(run(&["--conn-rate", "-1"], &[]).unwrap_err().contains("--conn-rate"));
        assert!(run(&["--hash-workers", "0"], &[]).is_err());
    }

    #[test]
    fn env_and_flags() {
        let c = run(&["--port", "0"], &[("PORT", "9"), ("MAX_CLIENTS", "7")]).unwrap();
        assert_eq!((c.port, c.max_clients), (0, 7));
        let c = run(&[], &[("PORT", "9")]).unwrap();
        assert_eq!(c.port, 9);
    }

    #[test]
    fn bad_values_say_why() {
        assert!(run(&["--port", "x"], &[]).unwrap_err().contains("--port"));
        assert!(run(&["--port", "70000"], &[]).is_err());
        assert!(run(&["--bogus"], &[]).unwrap_err().contains("bogus"));
        assert!(run(&["--max-frame", "100"], &[]).unwrap_err().contains("--max-frame"));
        assert!(run(&["--max-frame", "2048", "--max-text", "4096"], &[]).is_err());
        assert_eq!(run(&["--max-frame", "2048"], &[]).unwrap().max_text, 1920);
        assert!(run(&["--accounts-only"], &[]).unwrap_err().contains("--db"));
        assert!(run(&["--sync", "maybe"], &[]).is_err());
        assert!(run(&["stray"], &[]).is_err());
        assert!(run(&["--log-level", "loud"], &[]).is_err());
        assert!(run(&["--tls-cert", "c.pem"], &[]).unwrap_err().contains("--tls-key"));
        assert!(run(&["--trust-plain", "10.0.0.0/40"], &[]).unwrap_err().contains("--trust-plain"));
        assert!(run(&["--trust-plain", "none", "--trust-plain", "::1"], &[]).is_err());
        assert!(run(&["--allow-origin", "example.org"], &[])
            .unwrap_err()
            .contains("--allow-origin"));
    }

    #[test]
    fn transport_flags() {
        let c = run(&[], &[]).unwrap();
        assert_eq!(c.trust_plain.len(), 2, "loopback by default");
        assert!(c.tls.is_none() && !c.require_tls && !c.metrics_public);
        let c = run(
            &["--tls-cert", "c", "--tls-key", "k", "--trust-plain", "none", "--require-tls"],
            &[],
        )
        .unwrap();
        assert!(c.tls.is_some() && c.require_tls && c.trust_plain.is_empty());
        let c = run(
            &["--allow-origin", "HTTPS://Chat.Example.org", "--trust-plain", "10.0.0.0/8"],
            &[],
        )
        .unwrap();
        assert_eq!(c.allow_origins, ["https://chat.example.org"]);
        assert!(c.trust_plain[0].contains("10.9.8.7".parse().unwrap()));
        let c = run(&["--files", "/tmp/f", "--max-file", "10", "--file-quota", "20"], &[]).unwrap();
        assert_eq!(
            (c.files.as_deref(), c.max_file, c.file_quota),
            (Some(std::path::Path::new("/tmp/f")), 10, 20)
        );
        assert_eq!(
            (run(&[], &[]).unwrap().max_file, run(&[], &[]).unwrap().file_quota),
            (64 << 20, 1 << 30)
        );
        assert!(run(&["--max-file", "0"], &[]).is_err());
    }
}
