//! The coordinator: starts the workers, moves the run through its phases
//! (setup, warm-up, measured window, drain, goodbye), prints a progress
//! line every second, samples the server's and its own CPU and the
//! server's memory, and gathers everything into an [`Outcome`].
//!
//! It does not format the final report (`report.rs` does).

use crate::extra::Extra;
use crate::plan::{Plan, Scenario};
use crate::procstat::{self, CpuSample, OtherCpu, ProcTimes};
use crate::shared::{Counts, Phase, Shared};
use crate::stats::{self, Latency};
use crate::worker::{Worker, WorkerResult};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long setup may go without a new ready connection.
const STALL: Duration = Duration::from_secs(10);
/// How long the drain may wait for messages still on their way.
const DRAIN: Duration = Duration::from_secs(5);
/// How long it may wait for a file transfer under way to end (the mover
/// gives up on its own once nothing moved for 15 s).
const DRAIN_FILE: Duration = Duration::from_secs(60);

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The plan that ran.
    pub plan: Plan,
    /// The window's number in its session (1, 2, …): receipts mark in
    /// the even ones; files go idle, upload, download.
    pub window: u32,
    /// Seconds of the measured window.
    pub window_s: f64,
    /// Counters over the measured window.
    pub counts: Counts,
    /// Counters at the end of the run.
    pub totals: Counts,
    /// Latency over the window: delivery (fanout), cycle (churn), JOIN (replay).
    pub latency: Latency,
    /// Messages some receiver never got.
    pub lost: u64,
    /// Messages that arrived after a later one of their sender.
    pub late: u64,
    /// Server CPU seconds in the window (`None` without its pid).
    pub server_cpu_s: Option<f64>,
    /// Harness CPU seconds in the window.
    pub harness_cpu_s: f64,
    /// The busiest other process in the window (`None`: none was seen).
    pub other_cpu: Option<OtherCpu>,
    /// Seconds the setup took (connections: the ramp).
    pub setup_s: f64,
    /// Connections ready at the end of setup.
    pub reached: u64,
    /// Server RSS before the first connection, bytes.
    pub rss_before: Option<u64>,
    /// Server RSS at the end of the window, bytes.
    pub rss_after: Option<u64>,
    /// The first distinct error texts.
    pub errors: Vec<String>,
    /// What the TLS handshakes negotiated (version, suite, key exchange).
    pub tls: Option<String>,
    /// Receipts and files figures of the window.
    pub extra: Extra,
    /// Cluster: CPU seconds in the window of each further node (the plan's
    /// `node_pids`, in order), then of Redis when its pid is known.
    pub peer_cpu_s: Vec<Option<f64>>,
    /// Cluster: Redis's RSS before the first connection and at the end of
    /// the window, bytes (what it holds per session).
    pub redis_rss: (Option<u64>, Option<u64>),
}

/// Runs `plan` to the end: one measured window at the plan's rate.
pub fn run(plan: Plan) -> Result<Outcome, String> {
    let rate = plan.rate;
    let mut once = Some(rate);
    let mut all = session(plan, &mut |_| once.take())?;
    all.pop().ok_or_else(|| "no window was measured".into())
}

/// Sets the connections up once, then measures windows for as long as
/// `next` gives a rate for the next one (0: closed loop); `next` sees the
/// publishes per second of the windows so far. One outcome per window;
/// losses are counted over the whole session.
pub fn session(
    plan: Plan,
    next: &mut dyn FnMut(&[f64]) -> Option<f64>,
) -> Result<Vec<Outcome>, String> {
    let shared = Arc::new(Shared::new(plan.threads.max(1), plan.senders));
    let rss_before = plan.server_pid.and_then(procstat::rss_bytes);
    let redis_before = plan.redis_pid.and_then(procstat::rss_bytes);
    let handles = spawn_workers(&plan, &shared)?;
    let mut co = Coordinator {
        plan,
        shared,
        started: Instant::now(),
        last_line: Instant::now(),
        last_counts: Counts::default(),
    };
    let res = co.phases(next);
    co.shared.set_phase(Phase::Done);
    let results: Vec<WorkerResult> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
    let (setup_s, reached, windows) = res?;
    let base = Outcome {
        plan: co.plan.clone(),
        window: 0,
        window_s: 0.0,
        counts: Counts::default(),
        totals: co.shared.totals(),
        latency: Latency::default(),
        lost: results.iter().map(|r| r.lost).sum(),
        late: results.iter().map(|r| r.late).sum(),
        server_cpu_s: None,
        harness_cpu_s: 0.0,
        other_cpu: None,
        setup_s,
        reached,
        rss_before,
        rss_after: None,
        errors: co.shared.errors(),
        tls: co.shared.tls(),
        extra: Extra::default(),
        peer_cpu_s: Vec::new(),
        redis_rss: (redis_before, None),
    };
    let each = |(i, w)| outcome(&base, &results, i + 1, w);
    Ok(windows.into_iter().enumerate().map(each).collect())
}

/// Starts one worker thread per `plan.threads`; if one cannot start, the
/// others are stopped before the error is returned.
fn spawn_workers(
    plan: &Plan,
    shared: &Arc<Shared>,
) -> Result<Vec<JoinHandle<WorkerResult>>, String> {
    let link = crate::link::Setup::for_target(&plan.target, &plan.tls)?;
    let plan_arc = Arc::new(plan.clone());
    let mut handles = Vec::new();
    for id in 0..plan.threads.max(1) {
        match Worker::new(id, plan_arc.clone(), shared.clone(), link.clone()) {
            Ok(w) => handles.push(std::thread::spawn(move || w.run())),
            Err(e) => {
                shared.set_phase(Phase::Done);
                handles.into_iter().for_each(|h| drop(h.join()));
                return Err(format!("cannot start a worker: {e}"));
            }
        }
    }
    Ok(handles)
}

/// The outcome of window `n`: `base` (session-wide figures) plus its own.
fn outcome(base: &Outcome, results: &[WorkerResult], n: usize, w: Window) -> Outcome {
    let mut hist = stats::histogram();
    for h in results.iter().filter_map(|r| r.hists.get(n)) {
        let _ = hist.add(h);
    }
    let mut o = base.clone();
    for e in results.iter().filter_map(|r| r.extras.get(n)) {
        o.extra.add(e);
    }
    o.window = n as u32;
    o.plan.rate = w.rate;
    o.window_s = w.window_s;
    o.counts = w.counts;
    o.latency = stats::latency(&hist);
    o.server_cpu_s = w.server_cpu_s;
    o.peer_cpu_s = w.peer_cpu_s;
    o.redis_rss.1 = w.redis_rss_after;
    o.harness_cpu_s = w.harness_cpu_s;
    o.other_cpu = w.other_cpu;
    o.rss_after = w.rss_after;
    o
}

/// What the measured window gave.
struct Window {
    /// Its open-loop rate (0: closed loop).
    rate: f64,
    /// Its length.
    window_s: f64,
    /// Counter deltas.
    counts: Counts,
    /// Server CPU seconds in it.
    server_cpu_s: Option<f64>,
    /// Harness CPU seconds in it.
    harness_cpu_s: f64,
    /// The busiest other process in it.
    other_cpu: Option<OtherCpu>,
    /// Server RSS at its end.
    rss_after: Option<u64>,
    /// Cluster: the other nodes' and Redis's CPU seconds in it.
    peer_cpu_s: Vec<Option<f64>>,
    /// Cluster: Redis's RSS at its end.
    redis_rss_after: Option<u64>,
}

/// The coordinating thread's state.
struct Coordinator {
    /// The run.
    plan: Plan,
    /// Shared with the workers.
    shared: Arc<Shared>,
    /// When the run started, for progress lines.
    started: Instant,
    /// When the last progress line was printed.
    last_line: Instant,
    /// The counters at the last progress line.
    last_counts: Counts,
}

impl Coordinator {
    fn phases(
        &mut self,
        next: &mut dyn FnMut(&[f64]) -> Option<f64>,
    ) -> Result<(f64, u64, Vec<Window>), String> {
        let (setup_s, reached) = self.setup()?;
        let mut windows: Vec<Window> = Vec::new();
        loop {
            let rates: Vec<f64> =
                windows.iter().map(|w| w.counts.sent as f64 / w.window_s).collect();
            let Some(rate) = next(&rates) else {
                break;
            };
            let n = windows.len() as u32 + 1;
            self.shared.start_window(n, rate, crate::net::now_ns());
            if self.plan.scenario != Scenario::Connections {
                self.shared.set_phase(Phase::Warmup);
                self.wait(self.plan.warmup, "warmup");
            }
            windows.push(self.measure(rate));
            if self.plan.scenario.delivers() {
                self.drain();
            }
        }
        Ok((setup_s, reached, windows))
    }

    /// Waits until every connection is set up; `(seconds, ready)`.
    fn setup(&mut self) -> Result<(f64, u64), String> {
        let want = self.plan.setup_count() as u64;
        let start = Instant::now();
        let mut last_change = (Instant::now(), 0);
        loop {
            let t = self.shared.totals();
            let tolerant = self.plan.scenario == Scenario::Connections;
            if t.ready >= want || (tolerant && t.ready + t.failed >= want) {
                return Ok((start.elapsed().as_secs_f64(), t.ready));
            }
            if t.failed > 0 && !tolerant {
                let why = self.shared.errors().join("; ");
                return Err(format!("{} connection(s) failed during setup: {why}", t.failed));
            }
            if t.ready != last_change.1 {
                last_change = (Instant::now(), t.ready);
            } else if last_change.0.elapsed() > STALL {
                if tolerant {
                    return Ok((start.elapsed().as_secs_f64(), t.ready));
                }
                let why = self.shared.errors().join("; ");
                return Err(format!("setup stalled at {}/{want} ready {why}", t.ready));
            }
            self.tick("setup", Duration::from_millis(10));
        }
    }

    fn measure(&mut self, rate: f64) -> Window {
        let pid = self.plan.server_pid;
        let peers: Vec<u32> =
            self.plan.node_pids.iter().copied().chain(self.plan.redis_pid).collect();
        let procs0 = ProcTimes::take();
        let peers0: Vec<Option<f64>> = peers.iter().map(|&p| procstat::cpu_seconds(p)).collect();
        let (c0, cpu0, t0) = (self.shared.totals(), CpuSample::take(pid), Instant::now());
        self.shared.set_phase(Phase::Measure);
        let label = match self.plan.scenario {
            Scenario::Connections => "hold",
            _ => "measure",
        };
        self.wait(self.plan.duration, label);
        let (c1, cpu1) = (self.shared.totals(), CpuSample::take(pid));
        let peer_cpu_s =
            peers.iter().zip(peers0).map(|(&p, a)| Some(procstat::cpu_seconds(p)? - a?));
        let peer_cpu_s = peer_cpu_s.collect();
        let window_s = t0.elapsed().as_secs_f64();
        self.shared.set_phase(Phase::Drain);
        let mut exclude = self.plan.pids();
        exclude.push(std::process::id());
        let other_cpu = procstat::busiest_other(&procs0, &ProcTimes::take(), window_s, &exclude);
        Window {
            rate,
            window_s,
            counts: delta(&c1, &c0),
            server_cpu_s: cpu0.server.zip(cpu1.server).map(|(a, b)| b - a),
            harness_cpu_s: cpu1.harness - cpu0.harness,
            other_cpu,
            rss_after: pid.and_then(procstat::rss_bytes),
            peer_cpu_s,
            redis_rss_after: self.plan.redis_pid.and_then(procstat::rss_bytes),
        }
    }

    /// Lets receivers take in every message published before the stop,
    /// and a file transfer under way end.
    fn drain(&mut self) {
        let start = Instant::now();
        let r = self.plan.deliveries_per_message();
        loop {
            let delivered = self.shared.totals().delivered >= self.shared.published() * r;
            let moving = self.shared.busy.load(std::sync::atomic::Ordering::Relaxed) > 0;
            if delivered && !moving {
                return;
            }
            let waited = start.elapsed();
            if moving && waited > DRAIN_FILE {
                return self.shared.note_error("a file transfer did not end within 60 s");
            }
            if waited > DRAIN && !moving {
                return;
            }
            self.tick("drain", Duration::from_millis(5));
        }
    }

    fn wait(&mut self, d: Duration, label: &str) {
        let end = Instant::now() + d;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            self.tick(label, left.min(Duration::from_millis(50)));
        }
    }

    /// Sleeps `d`, printing a progress line when a second has passed.
    fn tick(&mut self, label: &str, d: Duration) {
        std::thread::sleep(d);
        let dt = self.last_line.elapsed().as_secs_f64();
        if dt < 1.0 {
            return;
        }
        let t = self.shared.totals();
        let d = delta(&t, &self.last_counts);
        if self.plan.progress {
            eprintln!(
                "[{:5.1}s] {label:<7} sent {:>9.0}/s  delivered {:>10.0}/s  {:>7.1} MB/s  \
                 ready {}  open {}  cycles {:.0}/s  errors {}",
                self.started.elapsed().as_secs_f64(),
                d.sent as f64 / dt,
                d.delivered as f64 / dt,
                d.bytes_in as f64 / dt / 1e6,
                t.ready,
                t.open,
                d.cycles as f64 / dt,
                t.errors,
            );
        }
        self.last_line = Instant::now();
        self.last_counts = t;
    }
}

/// `b - a` field-wise (counts only grow, except `open`, kept from `b`).
fn delta(b: &Counts, a: &Counts) -> Counts {
    b.since(a)
}
