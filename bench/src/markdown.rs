//! The comparison's results and the cells of its Markdown tables: for every
//! row both servers' medians side by side with their ratio, each server's
//! spread over its runs, and the checks a reader needs to judge the row
//! (losses, a busy harness, a disturbing process, reruns, a side that could
//! not run at all).
//!
//! It runs nothing; `compare.rs` fills [`Results`] and `render.rs` lays
//! the document out.

use crate::plan::{Plan, Scenario};
use crate::report::{self, Figures, Val};
use crate::stats;
use std::fmt::Write;

/// The runs of one side of a row.
pub type Runs = Vec<Result<Figures, String>>;

/// One configuration measured on both servers.
pub struct Row {
    /// The harness command (target left as `URL`).
    pub command: String,
    /// The baseline's runs (Redis, Redis over TLS, Node ws).
    pub base: Runs,
    /// Banter's runs.
    pub ours: Runs,
    /// How many times the row was measured (more than 1: it was re-run
    /// because another process disturbed it).
    pub attempts: usize,
}

impl Row {
    /// A row with no runs yet.
    pub fn new(command: String) -> Row {
        Row { command, base: Vec::new(), ours: Vec::new(), attempts: 1 }
    }

    /// Runs of either side that another process disturbed.
    pub fn disturbed_runs(&self) -> usize {
        let yes = Val::Bool(true);
        let ok = self.base.iter().chain(&self.ours).filter_map(|r| r.as_ref().ok());
        ok.filter(|f| report::get(f, "disturbed") == Some(&yes)).count()
    }
}

/// What [`Comparison::measured`] can measure again: rows whose runs tell
/// whether another process disturbed them.
pub(crate) trait Rerun {
    /// Runs another process disturbed.
    fn disturbed_runs(&self) -> usize;
    /// Notes how many times the row was measured.
    fn set_attempts(&mut self, n: usize);
}

impl Rerun for Row {
    fn disturbed_runs(&self) -> usize {
        Row::disturbed_runs(self)
    }

    fn set_attempts(&mut self, n: usize) {
        self.attempts = n;
    }
}

/// One pair of servers compared over one transport.
pub struct Section {
    /// The heading.
    pub title: String,
    /// What the section measures and how, for the reader.
    pub intro: String,
    /// The baseline's name in column heads.
    pub base: String,
    /// Banter's name in column heads.
    pub ours: String,
    /// Why the baseline could not run at all (its cells say `n/a`).
    pub base_na: Option<String>,
    /// Why Banter could not run at all, e.g. `n/a (server lacks TLS)`.
    pub ours_na: Option<String>,
    /// Fan-out, closed loop.
    pub throughput: Vec<Row>,
    /// Fan-out, open loop at half of the baseline's peak.
    pub latency: Vec<Row>,
    /// Idle connections.
    pub connections: Vec<Row>,
    /// Churn.
    pub churn: Vec<Row>,
    /// Replay (Banter only).
    pub replay: Vec<Row>,
}

impl Section {
    /// An empty section comparing `base` with `ours`.
    pub fn new(title: &str, base: &str, ours: &str) -> Section {
        Section {
            title: title.into(),
            intro: String::new(),
            base: base.into(),
            ours: ours.into(),
            base_na: None,
            ours_na: None,
            throughput: Vec::new(),
            latency: Vec::new(),
            connections: Vec::new(),
            churn: Vec::new(),
            replay: Vec::new(),
        }
    }
}

/// Everything a comparison measured.
#[derive(Default)]
pub struct Results {
    /// Plain TCP, TLS, WebSocket.
    pub sections: Vec<Section>,
    /// Read receipts (banterd only): rows of the load without MARK (`base`)
    /// and with (`ours`), closed loop then open loop, per room size.
    pub receipts: Vec<Row>,
    /// Why the receipts section could not run, if it could not.
    pub receipts_na: Option<String>,
    /// Files (banterd only): one row per transport, every window in `ours`.
    pub files: Vec<Row>,
    /// Server command lines, deduplicated at render time.
    pub commands: Vec<String>,
    /// The cluster section (issue 17).
    pub cluster: crate::cluster::ClusterResults,
    /// How long the whole comparison took.
    pub elapsed_s: f64,
}

/// The successful runs' values of figure `key`.
fn values(runs: &[Result<Figures, String>], key: &str) -> Vec<f64> {
    let ok = runs.iter().filter_map(|r| r.as_ref().ok());
    ok.filter_map(|f| report::num(f, key)).filter(|x| x.is_finite()).collect()
}

/// The median of figure `key` over the successful runs.
pub fn median(runs: &[Result<Figures, String>], key: &str) -> Option<f64> {
    stats::median(&values(runs, key))
}

/// The spread of figure `key` over the runs: (max - min) / median, in %.
pub fn spread(runs: &[Result<Figures, String>], key: &str) -> Option<f64> {
    let v = values(runs, key);
    let m = stats::median(&v)?;
    let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    (v.len() > 1 && m != 0.0).then(|| 100.0 * (hi - lo) / m.abs())
}

/// The largest value of figure `key` over the runs (losses, errors).
fn worst(runs: &[Result<Figures, String>], key: &str) -> f64 {
    values(runs, key).into_iter().fold(0.0, f64::max)
}

fn any_busy(runs: &[Result<Figures, String>]) -> bool {
    let busy = Val::Bool(true);
    let mut ok = runs.iter().filter_map(|r| r.as_ref().ok());
    ok.any(|f| report::get(f, "harness_bottleneck") == Some(&busy))
}

/// The most disturbing other process over the runs: `name pct%`.
fn disturber(runs: &[Result<Figures, String>]) -> Option<String> {
    let ok = runs.iter().filter_map(|r| r.as_ref().ok());
    let worst = ok
        .filter(|f| report::get(f, "disturbed") == Some(&Val::Bool(true)))
        .filter_map(|f| Some((report::num(f, "other_cpu_pct")?, report::get(f, "other_process")?)))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    match worst.1 {
        Val::Text(name) => Some(format!("{name} {:.0}%", worst.0)),
        _ => None,
    }
}

/// The command line that runs `p` (target shown as `url`).
pub fn command(p: &Plan, url: &str) -> String {
    let mut c = format!("banter-bench {} --target {url}", p.scenario.name());
    for node in &p.nodes {
        match url {
            "URL" => c.push_str(" --target URL"),
            _ => {
                let _ = write!(c, " --target {}://{node}", p.target.scheme);
            }
        }
    }
    match p.scenario {
        Scenario::Fanout => {
            let _ = write!(c, " -r {} -s {} -b {} -w {}", p.receivers, p.senders, p.size, p.window);
            if p.rate > 0.0 {
                let _ = write!(c, " --rate {:.0}", p.rate);
            }
        }
        Scenario::Connections => {
            let _ = write!(
                c,
                " -n {} --connect-rate {:.0} --room-size {}",
                p.conns, p.connect_rate, p.room_size
            );
        }
        Scenario::Churn => {
            let _ = write!(c, " -n {}", p.conns);
        }
        Scenario::Replay => {
            let _ = write!(c, " -n {} --history {} --limit {}", p.conns, p.history, p.limit);
        }
        Scenario::Receipts | Scenario::Files => c.push_str(&crate::report_ext::args(p)),
    }
    let warm = if p.scenario == Scenario::Connections {
        String::new()
    } else {
        format!(" --warmup {}", p.warmup.as_secs_f64())
    };
    let _ = write!(c, " -d {}{warm} --server-pid PID", p.duration.as_secs_f64());
    c.push_str(&" --server-pid PID".repeat(p.node_pids.len()));
    if p.redis_pid.is_some() {
        c.push_str(" --redis-pid PID");
    }
    if p.target.tls {
        c.push_str(" --ca CA.pem");
    }
    c
}

/// A one-line summary of a run, for progress output.
pub fn headline(f: &Figures) -> String {
    let n = |k| report::num(f, k).unwrap_or(f64::NAN);
    let mut s = match report::get(f, "scenario") {
        Some(Val::Text(s)) if s == "fanout" => format!(
            "{:.0} msg/s, {:.0} deliveries/s, p99 {:.0} us, lost {}",
            n("sent_per_s"),
            n("delivered_per_s"),
            n("p99_us"),
            n("lost")
        ),
        Some(Val::Text(s)) if s == "connections" => format!(
            "{} reached, {:.0}/s, {:.0} B/conn",
            n("reached"),
            n("connects_per_s"),
            n("rss_per_conn")
        ),
        Some(Val::Text(s)) if s == "churn" => {
            format!("{:.0} cycles/s, p99 {:.0} us", n("cycles_per_s"), n("p99_us"))
        }
        Some(Val::Text(s)) if s == "receipts" || s == "files" => crate::report_ext::headline(f),
        _ => format!("{:.0} replayed/s, p99 {:.0} us", n("replayed_per_s"), n("p99_us")),
    };
    if let Some(d) = disturber(&[Ok(f.clone())]) {
        let _ = write!(s, " (disturbed: {d})");
    }
    s
}

/// A number for a table: thin-space thousands, few decimals; `failed`
/// when no run gave it.
pub(crate) fn fmt(v: Option<f64>) -> String {
    match v {
        None => "failed".into(),
        Some(x) if x.abs() >= 1000.0 => {
            let s = format!("{x:.0}");
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 && ch != '-' {
                    out.push('\u{202f}');
                }
                out.push(ch);
            }
            out
        }
        Some(x) if x.abs() >= 10.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
    }
}

fn ratio(b: Option<f64>, r: Option<f64>) -> String {
    match (b, r) {
        (Some(b), Some(r)) if r != 0.0 => format!("{:.2}", b / r),
        _ => "-".into(),
    }
}

/// One side's median of `key`, or `n/a` when that side could not run.
pub(crate) fn cell(runs: &[Result<Figures, String>], na: &Option<String>, key: &str) -> String {
    if na.is_some() {
        return "n/a".into();
    }
    fmt(median(runs, key))
}

/// A `| base | ours | ratio |` triple for figure `key`.
pub(crate) fn triple(sec: &Section, row: &Row, key: &str) -> String {
    let b = median(&row.base, key).filter(|_| sec.base_na.is_none());
    let o = median(&row.ours, key).filter(|_| sec.ours_na.is_none());
    let (bc, oc) = (cell(&row.base, &sec.base_na, key), cell(&row.ours, &sec.ours_na, key));
    format!("{bc} | {oc} | {}", ratio(o, b))
}

/// Both sides' spread of `key`: `3% / 12%`.
pub(crate) fn spreads(sec: &Section, row: &Row, key: &str) -> String {
    let one = |runs: &Runs, na: &Option<String>| match (na, spread(runs, key)) {
        (Some(_), _) => "n/a".to_string(),
        (None, Some(s)) => format!("{s:.0}%"),
        (None, None) => "-".into(),
    };
    format!("{} / {}", one(&row.base, &sec.base_na), one(&row.ours, &sec.ours_na))
}

/// The checks column: losses, a busy harness, failed runs, errors, a
/// disturbing process and reruns, or a side that could not run.
pub(crate) fn flags(sec: &Section, row: &Row) -> String {
    let mut f = Vec::new();
    let sides = [(&sec.base, &row.base, &sec.base_na), (&sec.ours, &row.ours, &sec.ours_na)];
    for (name, runs, na) in sides {
        if na.is_some() {
            f.push(format!("{name}: n/a"));
            continue;
        }
        if runs.is_empty() {
            f.push(format!("{name}: not run (its closed-loop rate was 0)"));
        }
        let lost = worst(runs, "lost") + worst(runs, "reordered");
        if lost > 0.0 {
            f.push(format!("{name}: {lost:.0} lost/reordered"));
        }
        if any_busy(runs) {
            f.push(format!("{name}: harness busy"));
        }
        if let Some(Err(e)) = runs.iter().find(|r| r.is_err()) {
            f.push(format!("{name}: failed run ({e})"));
        }
        let errors = worst(runs, "errors");
        if errors > 0.0 {
            f.push(format!("{name}: {errors:.0} errors"));
        }
        if let Some(d) = disturber(runs) {
            f.push(format!("{name}: disturbed by {d}"));
        }
    }
    if row.attempts > 1 {
        f.push(format!("measured {} times (disturbed)", row.attempts));
    }
    if f.is_empty() {
        "ok".into()
    } else {
        f.join("; ")
    }
}

/// `R | B | S | W` of a fan-out row.
pub(crate) fn config(row: &Row) -> String {
    let pick = |flag: &str| {
        let mut it = row.command.split_whitespace();
        it.by_ref().find(|w| *w == flag);
        it.next().unwrap_or("-").to_string()
    };
    format!("{} | {} | {} | {}", pick("-r"), pick("-b"), pick("-s"), pick("-w"))
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
