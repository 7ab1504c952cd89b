//! `banter-bench compare`: runs the standard matrix against our own
//! `redis-server` and `banterd` in one go (servers pinned to one CPU, the
//! harness to another), takes the median of several runs of each figure
//! and writes the comparison as Markdown (`markdown.rs`).
//!
//! Each run is a fresh set of connections through the same engine and the
//! same code path for both servers; only the adapter differs.

use crate::markdown::{self, Results, Row};
use crate::plan::{Plan, Scenario};
use crate::proto::Proto;
use crate::report::{self, Figures};
use crate::servers::{self, ServerProc};
use crate::stats;
use getopts::Options;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What the comparison runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The banterd binary.
    pub banterd: String,
    /// The redis-server binary.
    pub redis: String,
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
    /// Receivers of the matrix.
    pub receivers: Vec<usize>,
    /// Payload sizes of the matrix.
    pub sizes: Vec<usize>,
    /// Sender counts of the matrix.
    pub senders: Vec<usize>,
    /// Connection counts for the idle-memory test.
    pub conn_counts: Vec<usize>,
    /// CPUs for the servers and the harness (`None`: no pinning).
    pub cpus: Option<(usize, usize)>,
}

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
    ("out", "Markdown output (bench/RESULTS.md)", "FILE"),
    ("runs", "measured windows per figure, median reported (3)", "N"),
    ("duration", "measured seconds per window (1.5)", "SECS"),
    ("warmup", "warm-up seconds per window (0.5)", "SECS"),
    ("window", "closed loop: in flight per sender (16)", "W"),
    ("receivers", "receiver counts (100,1000,5000)", "LIST"),
    ("sizes", "payload sizes (64,1024)", "LIST"),
    ("senders", "sender counts (1,10)", "LIST"),
    ("conns", "idle connection counts; max = what the fd limit allows (10000,max)", "LIST"),
    ("no-pin", "do not pin servers to CPU 0 and the harness to CPU 1", ""),
    ("help", "this help", ""),
];

fn settings(args: &[String]) -> Result<Option<Settings>, String> {
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
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("banterd")))
        .map_or("banterd".into(), |p| p.display().to_string());
    let max = max_conns();
    let s = |k: &str, d: &str| m.opt_str(k).unwrap_or_else(|| d.into());
    let f = |k: &str, d: &str| s(k, d).parse::<f64>().map_err(|_| format!("--{k}: not a number"));
    Ok(Some(Settings {
        banterd: s("banterd", &sibling),
        redis: s("redis-server", "redis-server"),
        out: s("out", "bench/RESULTS.md"),
        runs: f("runs", "3")?.max(1.0) as usize,
        duration: f("duration", "1.5")?,
        warmup: f("warmup", "0.5")?,
        window: f("window", "16")?.max(1.0) as u32,
        receivers: list(&s("receivers", "100,1000,5000"), max)?,
        sizes: list(&s("sizes", "64,1024"), max)?,
        senders: list(&s("senders", "1,10"), max)?,
        conn_counts: list(&s("conns", "10000,max"), max)?,
        cpus: (!m.opt_present("no-pin")).then_some((0, 1)),
    }))
}

/// The most connections the harness can hold: its open-file limit minus
/// room for its own descriptors (poll, timer, pipes, stdio).
fn max_conns() -> usize {
    let limit = crate::net::raise_fd_limit() as usize;
    limit.saturating_sub(100).max(100)
}

/// Entry point of `banter-bench compare`.
pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let Some(s) = settings(args)? else {
        return Ok(ExitCode::SUCCESS);
    };
    if let Some((_, harness)) = s.cpus {
        pin_self(harness);
    }
    let started = Instant::now();
    let mut c = Comparison::new(s);
    c.fanout()?;
    c.connections()?;
    c.churn_and_replay()?;
    c.results.elapsed_s = started.elapsed().as_secs_f64();
    let text = crate::render::render(&c.results, &c.s);
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

/// A comparison in progress.
struct Comparison {
    /// What to run.
    s: Settings,
    /// What it gave so far.
    results: Results,
    /// Runs done, for the progress lines.
    done: usize,
}

impl Comparison {
    fn new(s: Settings) -> Comparison {
        let results = Results::new(&s);
        Comparison { s, results, done: 0 }
    }

    fn start(&mut self, proto: Proto, conns: usize) -> Result<ServerProc, String> {
        let cpu = self.s.cpus.map(|c| c.0);
        let max = conns.max(1000) + 5000;
        let srv = match proto {
            Proto::Banter => servers::banterd(&self.s.banterd, cpu, max)?,
            Proto::Resp => servers::redis(&self.s.redis, cpu, max)?,
            Proto::WsBase => return Err("no baseline server yet".into()),
        };
        self.results.commands.push(srv.command.clone());
        Ok(srv)
    }

    /// A plan against `srv` with the comparison's timings.
    fn plan(&self, scenario: Scenario, srv: &ServerProc) -> Result<Plan, String> {
        Ok(Plan {
            scenario,
            target: crate::target::Target::parse(&srv.url)?,
            tls: Default::default(),
            receivers: 100,
            senders: 1,
            size: 64,
            window: self.s.window,
            rate: 0.0,
            conns: 50,
            connect_rate: 10_000.0,
            room_size: 10,
            history: 10_000,
            limit: 1000,
            threads: 1,
            warmup: Duration::from_secs_f64(self.s.warmup),
            duration: Duration::from_secs_f64(self.s.duration),
            sources: 8,
            server_pid: Some(srv.pid),
            prefix: crate::cli::unique_prefix(),
            progress: false,
        })
    }

    /// One session of `plan`: setup once, then windows while `next` says.
    fn session(
        &mut self,
        plan: &Plan,
        next: &mut dyn FnMut(&[f64]) -> Option<f64>,
    ) -> Vec<Result<Figures, String>> {
        let mut p = plan.clone();
        p.prefix = crate::cli::unique_prefix();
        let server = p.target.proto.name();
        let t = Instant::now();
        match crate::run::session(p, next) {
            Ok(outcomes) => outcomes
                .iter()
                .map(|o| {
                    let f = report::figures(o);
                    self.done += 1;
                    let what = markdown::command(&o.plan, server);
                    let secs = t.elapsed().as_secs_f64();
                    eprintln!("[{:3} {secs:5.1}s] {what}: {}", self.done, markdown::headline(&f));
                    Ok(f)
                })
                .collect(),
            Err(e) => {
                eprintln!("[{:3}] {}: FAILED {e}", self.done, markdown::command(plan, server));
                vec![Err(e)]
            }
        }
    }

    /// `runs` windows of `plan` in one session.
    fn runs(&mut self, plan: &Plan) -> Vec<Result<Figures, String>> {
        let (runs, rate) = (self.s.runs, plan.rate);
        self.session(plan, &mut |done| (done.len() < runs).then_some(rate))
    }

    /// The throughput matrix; each configuration also gives the latency
    /// at half of Redis's closed-loop peak, on the same connections.
    fn fanout(&mut self) -> Result<(), String> {
        let redis = self.start(Proto::Resp, 0)?;
        let banter = self.start(Proto::Banter, 0)?;
        for &r in &self.s.receivers.clone() {
            for &b in &self.s.sizes.clone() {
                for &sn in &self.s.senders.clone() {
                    let mut p = self.plan(Scenario::Fanout, &redis)?;
                    (p.receivers, p.size, p.senders) = (r, b, sn);
                    let q = self.retarget(&p, &banter)?;
                    self.config(&p, &q);
                }
            }
        }
        Ok(())
    }

    /// Redis: `runs` closed-loop windows, then `runs` open-loop windows at
    /// half their median; Banter: the same windows at the same rate.
    fn config(&mut self, p: &Plan, q: &Plan) {
        let runs = self.s.runs;
        let half =
            |done: &[f64]| stats::median(done.get(..runs).unwrap_or(done)).unwrap_or(0.0) / 2.0;
        let mut red = self.session(p, &mut |done| match done.len() {
            n if n < runs => Some(0.0),
            n if n < 2 * runs && half(done) > 0.0 => Some(half(done)),
            _ => None,
        });
        let closed = red.get(..runs).unwrap_or(&red);
        let rate = markdown::median(closed, "sent_per_s").unwrap_or(0.0) / 2.0;
        let mut ban = self.session(q, &mut |done| match done.len() {
            n if n < runs => Some(0.0),
            n if n < 2 * runs && rate > 0.0 => Some(rate),
            _ => None,
        });
        let mut row = Row::new(markdown::command(p, "URL"));
        let split = |v: &mut Vec<Result<Figures, String>>| v.split_off(runs.min(v.len()));
        let (red_open, ban_open) = (split(&mut red), split(&mut ban));
        (row.redis, row.banter) = (red, ban);
        self.results.throughput.push(row);
        let mut row = Row::new(markdown::command(&Plan { rate, ..p.clone() }, "URL"));
        (row.redis, row.banter) = (red_open, ban_open);
        self.results.latency.push(row);
    }

    fn retarget(&self, p: &Plan, srv: &ServerProc) -> Result<Plan, String> {
        let target = crate::target::Target::parse(&srv.url)?;
        Ok(Plan { target, server_pid: Some(srv.pid), ..p.clone() })
    }

    /// Idle connections, each count on fresh servers (a clean RSS baseline).
    fn connections(&mut self) -> Result<(), String> {
        for &n in &self.s.conn_counts.clone() {
            let mut row = Row::new(String::new());
            for proto in [Proto::Resp, Proto::Banter] {
                let mut all = Vec::new();
                for _ in 0..self.s.runs {
                    let srv = self.start(proto, n)?;
                    let mut p = self.plan(Scenario::Connections, &srv)?;
                    (p.conns, p.connect_rate) = (n, 0.0);
                    // Long enough to include a heartbeat round (banterd
                    // pings a connection silent for 5 s).
                    p.duration = Duration::from_secs_f64(self.s.duration.max(6.0));
                    row.command = markdown::command(&p, "URL");
                    all.extend(self.session(&p, &mut |done| done.is_empty().then_some(0.0)));
                }
                match proto {
                    Proto::Resp | Proto::WsBase => row.redis = all,
                    Proto::Banter => row.banter = all,
                }
            }
            self.results.connections.push(row);
        }
        Ok(())
    }

    fn churn_and_replay(&mut self) -> Result<(), String> {
        let redis = self.start(Proto::Resp, 0)?;
        let banter = self.start(Proto::Banter, 0)?;
        let p = self.plan(Scenario::Churn, &redis)?;
        let mut row = Row::new(markdown::command(&p, "URL"));
        row.redis = self.runs(&p);
        row.banter = self.runs(&self.plan(Scenario::Churn, &banter)?);
        self.results.churn.push(row);
        let mut p = self.plan(Scenario::Replay, &banter)?;
        p.conns = 4;
        let mut row = Row::new(markdown::command(&p, "URL"));
        row.banter = self.runs(&p);
        self.results.replay.push(row);
        Ok(())
    }
}
