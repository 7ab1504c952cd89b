//! The rows of a comparison, section by section: each section pairs a
//! baseline with Banter over one transport (TCP: Redis; TLS: Redis over
//! TLS; WebSocket: the Node `ws` server), starts both servers, and measures
//! fan-out, idle connections and churn on both through the same engine.
//!
//! A side that cannot run at all (banterd refusing `--tls-cert`, or its
//! first connection over the transport failing: the server lacks TLS or
//! WebSocket) is marked `n/a` and the rest goes on. A row that another
//! process disturbed is measured again (`measured`).

use crate::compare::Settings;
use crate::link::tls::TlsOpts;
use crate::markdown::{self, Rerun, Results, Row, Runs, Section};
use crate::plan::{Plan, Scenario};
use crate::report;
use crate::servers::ServerProc;
use crate::sides::{Kind, Pair, TCP, TLS, WS};
use crate::stats;
use crate::target::Target;
use std::time::{Duration, Instant};

/// Fan-out rows over TLS and WebSocket (R, B, S): many small messages, and
/// a wide fan-out (per-message and per-delivery transport costs).
const TRANSPORT_FANOUT: &[(usize, usize, usize)] = &[(100, 64, 10), (1000, 64, 1)];

/// A comparison in progress.
pub struct Comparison {
    /// What to run.
    pub s: Settings,
    /// What it gave so far.
    pub results: Results,
    /// Runs done, for the progress lines.
    pub(crate) done: usize,
    /// Time spent measuring disturbed rows again, against the budget.
    rerun_spent: Duration,
}

impl Comparison {
    /// A comparison of `s`.
    pub fn new(s: Settings) -> Comparison {
        Comparison { s, results: Results::default(), done: 0, rerun_spent: Duration::ZERO }
    }

    /// Banter vs Redis over plain TCP: the full matrix, then replay.
    pub fn tcp(&mut self) -> Result<(), String> {
        let mut sec = Section::new("Plain TCP: Banter vs Redis pub/sub", "Redis", "Banter");
        let mut configs = Vec::new();
        for &r in &self.s.receivers {
            for &b in &self.s.sizes {
                configs.extend(self.s.senders.iter().map(|&s| (r, b, s)));
            }
        }
        let conns = self.s.conn_counts.clone();
        self.section(&mut sec, &TCP, &configs, &conns);
        self.results.sections.push(sec);
        Ok(())
    }

    /// Banter over TLS vs Redis over TLS.
    pub fn tls(&mut self) -> Result<(), String> {
        let mut sec =
            Section::new("TLS: Banter vs Redis, both over TLS", "Redis TLS", "Banter TLS");
        sec.intro = "Banter over TLS (`banters://`, ALPN `banter/1`, on banterd's one port) against `redis-server --tls-port`, both with the same throwaway ECDSA P-256 certificate made by `bench/compare.sh`. Connection and churn rates are full TLS handshakes per second; B/conn is the server's user-space memory per idle TLS connection.".into();
        if self.s.tls.is_none() {
            let na = Some("n/a (no --tls-cert, --tls-key, --ca given)".to_string());
            (sec.base_na, sec.ours_na) = (na.clone(), na);
        } else {
            let n = [self.s.transport_conns];
            self.section(&mut sec, &TLS, TRANSPORT_FANOUT, &n);
        }
        self.results.sections.push(sec);
        Ok(())
    }

    /// Banter over WebSocket vs the Node `ws` baseline.
    pub fn ws(&mut self) -> Result<(), String> {
        let mut sec = Section::new("WebSocket: Banter vs a Node ws server", "Node ws", "Banter ws");
        sec.intro = "Banter over WebSocket (`ws://HOST:PORT/ws`, subprotocol `banter.1`, one binary message per frame) against the broadcast server a user might write instead: Node.js with the `ws` package (`bench/ws-baseline/`, text messages, one line each; its protocol is in its README). The harness masks every frame, as RFC 6455 requires of clients.".into();
        let n = [self.s.transport_conns];
        self.section(&mut sec, &WS, TRANSPORT_FANOUT, &n);
        self.results.sections.push(sec);
        Ok(())
    }

    fn section(
        &mut self,
        sec: &mut Section,
        pair: &Pair,
        fanout: &[(usize, usize, usize)],
        conns: &[usize],
    ) {
        let (base, ours) = (self.open(sec, pair, pair.base, 0), self.open(sec, pair, pair.ours, 0));
        for &cfg in fanout {
            let rows = self.measured(&mut |c| c.config(pair, (base.as_ref(), ours.as_ref()), cfg));
            let mut it = rows.into_iter();
            sec.throughput.extend(it.next());
            sec.latency.extend(it.next());
        }
        let mut churn = self.measured(&mut |c| vec![c.churn(pair, (base.as_ref(), ours.as_ref()))]);
        sec.churn.append(&mut churn);
        if pair.base.kind == Kind::Redis {
            let mut row = self.replay(pair, ours.as_ref());
            sec.replay.append(&mut row);
        }
        drop((base, ours));
        for &n in conns {
            let mut rows = self.measured(&mut |c| vec![c.connections(sec, pair, n)]);
            sec.connections.append(&mut rows);
        }
    }

    /// A plan against `srv` (`None`: a placeholder, for a row's command).
    pub(crate) fn plan(
        &self,
        scenario: Scenario,
        srv: Option<&ServerProc>,
        scheme: &str,
    ) -> Result<Plan, String> {
        let url = srv.map_or(format!("{scheme}://127.0.0.1:1"), |s| s.url(scheme));
        let target = Target::parse(&url)?;
        let ca = self.s.tls.as_ref().filter(|_| target.tls).map(|t| t.ca.clone().into());
        Ok(Plan {
            scenario,
            target,
            tls: TlsOpts { ca, insecure: false },
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
            runs: self.s.runs,
            file_size: 64 << 20,
            password: format!("bench-{}-password", crate::cli::unique_prefix()),
            threads: 1,
            warmup: Duration::from_secs_f64(self.s.warmup),
            duration: Duration::from_secs_f64(self.s.duration),
            sources: 8,
            server_pid: srv.map(|s| s.pid),
            nodes: Vec::new(),
            node_pids: Vec::new(),
            redis_pid: None,
            prefix: crate::cli::unique_prefix(),
            progress: false,
        })
    }

    /// One session of `plan`, once its server has settled: setup once,
    /// then windows while `next` says.
    pub(crate) fn session(
        &mut self,
        plan: &Plan,
        next: &mut dyn FnMut(&[f64]) -> Option<f64>,
    ) -> Runs {
        let mut p = plan.clone();
        p.prefix = crate::cli::unique_prefix();
        if let Some(pid) = plan.server_pid {
            settle(pid);
        }
        let server = plan.target.url();
        let t = Instant::now();
        match crate::run::session(p, next) {
            Ok(outcomes) => outcomes
                .iter()
                .map(|o| {
                    let f = report::figures(o);
                    self.done += 1;
                    let what = markdown::command(&o.plan, &server);
                    let secs = t.elapsed().as_secs_f64();
                    eprintln!("[{:3} {secs:5.1}s] {what}: {}", self.done, markdown::headline(&f));
                    Ok(f)
                })
                .collect(),
            Err(e) => {
                eprintln!("[{:3}] {}: FAILED {e}", self.done, markdown::command(plan, &server));
                vec![Err(e)]
            }
        }
    }

    /// `runs` windows of `plan` in one session.
    fn runs(&mut self, plan: &Plan) -> Runs {
        let (runs, rate) = (self.s.runs, plan.rate);
        self.session(plan, &mut |done| (done.len() < runs).then_some(rate))
    }

    /// `f`'s rows, measured again (up to `max_reruns` times, while the
    /// rerun budget has room for another attempt as long as the first, so
    /// the whole comparison stays near 15 minutes)
    /// as long as another process disturbed one of their runs; the least
    /// disturbed attempt is kept.
    pub(crate) fn measured<T: Rerun>(
        &mut self,
        f: &mut dyn FnMut(&mut Comparison) -> Vec<T>,
    ) -> Vec<T> {
        let count = |rows: &[T]| rows.iter().map(T::disturbed_runs).sum::<usize>();
        let t = Instant::now();
        let mut best = f(self);
        let took = t.elapsed();
        let mut attempts = 1;
        let budget = Duration::from_secs_f64(self.s.rerun_budget);
        while count(&best) > 0 && attempts <= self.s.max_reruns && self.rerun_spent + took <= budget
        {
            eprintln!("compare: {} disturbed run(s); measuring the row again", count(&best));
            let t = Instant::now();
            let next = f(self);
            self.rerun_spent += t.elapsed();
            attempts += 1;
            if count(&next) <= count(&best) {
                best = next;
            }
        }
        best.iter_mut().for_each(|r| r.set_attempts(attempts));
        best
    }

    /// A fan-out configuration on both sides: `runs` closed-loop windows,
    /// then `runs` open-loop windows at half the baseline's closed-loop
    /// median (Banter's own when the baseline is n/a), on the same
    /// connections. Rows: throughput, latency.
    fn config(
        &mut self,
        pair: &Pair,
        srv: (Option<&ServerProc>, Option<&ServerProc>),
        cfg: (usize, usize, usize),
    ) -> Vec<Row> {
        let window = window_for(cfg, self.s.window);
        let shape = |mut p: Plan| {
            (p.receivers, p.size, p.senders) = cfg;
            p.window = window;
            p
        };
        let (Ok(p), Ok(q)) = (
            self.plan(Scenario::Fanout, srv.0, pair.base.scheme).map(shape),
            self.plan(Scenario::Fanout, srv.1, pair.ours.scheme).map(shape),
        ) else {
            return Vec::new();
        };
        let runs = self.s.runs;
        let mut base = srv.0.map_or(Vec::new(), |_| self.closed_then_open(&p, runs, None));
        let closed = base.get(..runs).unwrap_or(&base);
        let rate = markdown::median(closed, "sent_per_s").map(|r| r / 2.0).filter(|&r| r > 0.0);
        let mut ours = srv.1.map_or(Vec::new(), |_| self.closed_then_open(&q, runs, rate));
        let split = |v: &mut Runs| v.split_off(runs.min(v.len()));
        let (base_open, ours_open) = (split(&mut base), split(&mut ours));
        let mut closed_row = Row::new(markdown::command(&p, "URL"));
        (closed_row.base, closed_row.ours) = (base, ours);
        let open_rate = rate.or(markdown::median(&closed_row.ours, "sent_per_s").map(|r| r / 2.0));
        let mut open_row =
            Row::new(markdown::command(&Plan { rate: open_rate.unwrap_or(0.0), ..p }, "URL"));
        (open_row.base, open_row.ours) = (base_open, ours_open);
        vec![closed_row, open_row]
    }

    /// `runs` closed-loop windows, then `runs` open-loop ones at `rate`
    /// (or at half of the closed-loop median when `rate` is `None`).
    pub(crate) fn closed_then_open(&mut self, p: &Plan, runs: usize, rate: Option<f64>) -> Runs {
        let half =
            |done: &[f64]| stats::median(done.get(..runs).unwrap_or(done)).unwrap_or(0.0) / 2.0;
        self.session(p, &mut |done| {
            let open = rate.unwrap_or_else(|| half(done));
            match done.len() {
                n if n < runs => Some(0.0),
                n if n < 2 * runs && open > 0.0 => Some(open),
                _ => None,
            }
        })
    }

    /// Idle connections, each run on freshly started servers (a clean RSS
    /// baseline).
    fn connections(&mut self, sec: &mut Section, pair: &Pair, n: usize) -> Row {
        let mut row = Row::new(String::new());
        for side in [pair.base, pair.ours] {
            let mut all = Vec::new();
            for _ in 0..self.s.runs {
                let srv = self.open(sec, pair, side, n);
                let Ok(mut p) = self.plan(Scenario::Connections, srv.as_ref(), side.scheme) else {
                    break;
                };
                (p.conns, p.connect_rate) = (n, 0.0);
                // Long enough to include a heartbeat round (banterd pings a
                // connection silent for 5 s).
                p.duration = Duration::from_secs_f64(self.s.duration.max(6.0));
                row.command = markdown::command(&p, "URL");
                if srv.is_none() {
                    break;
                }
                all.extend(self.session(&p, &mut |done| done.is_empty().then_some(0.0)));
            }
            match side.kind == pair.ours.kind {
                true => row.ours = all,
                false => row.base = all,
            }
        }
        row
    }

    fn churn(&mut self, pair: &Pair, srv: (Option<&ServerProc>, Option<&ServerProc>)) -> Row {
        let p = self.plan(Scenario::Churn, srv.0, pair.base.scheme);
        let q = self.plan(Scenario::Churn, srv.1, pair.ours.scheme);
        let mut row = Row::new(p.as_ref().map_or(String::new(), |p| markdown::command(p, "URL")));
        if let (Some(_), Ok(p)) = (srv.0, &p) {
            row.base = self.runs(p);
        }
        if let (Some(_), Ok(q)) = (srv.1, &q) {
            row.ours = self.runs(q);
        }
        row
    }

    fn replay(&mut self, pair: &Pair, srv: Option<&ServerProc>) -> Vec<Row> {
        let Ok(mut p) = self.plan(Scenario::Replay, srv, pair.ours.scheme) else {
            return Vec::new();
        };
        p.conns = 4;
        let mut row = Row::new(markdown::command(&p, "URL"));
        if srv.is_some() {
            row.ours = self.runs(&p);
        }
        vec![row]
    }
}

/// Payload bytes a closed loop keeps in flight to all receivers together
/// (R x S x W x B) at most. Past this, loopback TCP on the 2-core machine
/// stalls for seconds at a time whatever the server: at R=5000, B=1024,
/// S=10, W=16 (800 MB in flight) Redis and banterd alike acknowledged
/// nothing in two windows of three, where W=1 gave 72 msg/s.
const MAX_IN_FLIGHT: usize = 128 << 20;

/// The window of a fan-out configuration (R, B, S): `want`, lowered so the
/// bytes in flight stay under [`MAX_IN_FLIGHT`], at least 1.
pub(crate) fn window_for((r, b, s): (usize, usize, usize), want: u32) -> u32 {
    let per_message = (r * b * s).max(1);
    let fits = (MAX_IN_FLIGHT / per_message).max(1);
    want.min(u32::try_from(fits).unwrap_or(u32::MAX))
}

/// How long a server may take to settle before a session starts anyway.
const SETTLE: Duration = Duration::from_secs(20);

/// Waits until server `pid` uses under 5% of a CPU (over 200 ms), at most
/// [`SETTLE`]: a server still busy with the previous session's goodbyes
/// (banterd tells each member of a 5 000-member room about every quit)
/// would otherwise charge that work to the next configuration.
pub(crate) fn settle(pid: u32) {
    let t = Instant::now();
    let step = Duration::from_millis(200);
    while t.elapsed() < SETTLE {
        let Some(a) = crate::procstat::cpu_seconds(pid) else {
            return;
        };
        std::thread::sleep(step);
        let Some(b) = crate::procstat::cpu_seconds(pid) else {
            return;
        };
        if (b - a) / step.as_secs_f64() < 0.05 {
            break;
        }
    }
    if t.elapsed() > Duration::from_secs(1) {
        eprintln!("compare: waited {:.1} s for the server to settle", t.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_bytes_in_flight_bounded() {
        assert_eq!(window_for((100, 64, 10), 16), 16);
        assert_eq!(window_for((5000, 1024, 1), 16), 16);
        assert_eq!(window_for((1000, 1024, 10), 16), 13);
        assert_eq!(window_for((5000, 1024, 10), 16), 2);
        assert_eq!(window_for((1_000_000, 1024, 10), 16), 1);
    }
}
