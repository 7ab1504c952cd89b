//! The comparison's results and their Markdown: the machine, the exact
//! commands, and for every row both servers' medians side by side with the
//! Banter/Redis ratio, plus the caveats a reader needs to judge them.
//!
//! It runs nothing; `compare.rs` fills [`Results`].

use crate::compare::Settings;
use crate::plan::{Plan, Scenario};
use crate::report::{self, Figures, Val};
use crate::stats;
use std::fmt::Write;

/// One configuration measured on both servers.
pub struct Row {
    /// The harness command (target left as `URL`).
    pub command: String,
    /// Redis runs.
    pub redis: Vec<Result<Figures, String>>,
    /// Banter runs.
    pub banter: Vec<Result<Figures, String>>,
}

impl Row {
    /// A row with no runs yet.
    pub fn new(command: String) -> Row {
        Row { command, redis: Vec::new(), banter: Vec::new() }
    }
}

/// Everything a comparison measured.
pub struct Results {
    /// Fan-out, closed loop.
    pub throughput: Vec<Row>,
    /// Fan-out, open loop at half of Redis's peak.
    pub latency: Vec<Row>,
    /// Idle connections.
    pub connections: Vec<Row>,
    /// Churn.
    pub churn: Vec<Row>,
    /// Replay (Banter only).
    pub replay: Vec<Row>,
    /// Server command lines, deduplicated at render time.
    pub commands: Vec<String>,
    /// How long the whole comparison took.
    pub elapsed_s: f64,
}

impl Results {
    /// Empty results.
    pub fn new(_s: &Settings) -> Results {
        Results {
            throughput: Vec::new(),
            latency: Vec::new(),
            connections: Vec::new(),
            churn: Vec::new(),
            replay: Vec::new(),
            commands: Vec::new(),
            elapsed_s: 0.0,
        }
    }
}

/// The median of figure `key` over the successful runs.
pub fn median(runs: &[Result<Figures, String>], key: &str) -> Option<f64> {
    let v: Vec<f64> =
        runs.iter().filter_map(|r| r.as_ref().ok()).filter_map(|f| report::num(f, key)).collect();
    stats::median(&v)
}

/// The largest value of figure `key` over the runs (losses, errors).
fn worst(runs: &[Result<Figures, String>], key: &str) -> f64 {
    let it = runs.iter().filter_map(|r| r.as_ref().ok());
    it.filter_map(|f| report::num(f, key)).fold(0.0, f64::max)
}

fn any_busy(runs: &[Result<Figures, String>]) -> bool {
    let busy = Val::Bool(true);
    let mut ok = runs.iter().filter_map(|r| r.as_ref().ok());
    ok.any(|f| report::get(f, "harness_bottleneck") == Some(&busy))
}

/// The command line that runs `p` (target shown as `url`).
pub fn command(p: &Plan, url: &str) -> String {
    let mut c = format!("banter-bench {} --target {url}", p.scenario.name());
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
    }
    let warm = if p.scenario == Scenario::Connections {
        String::new()
    } else {
        format!(" --warmup {}", p.warmup.as_secs_f64())
    };
    let _ = write!(c, " -d {}{warm} --server-pid PID", p.duration.as_secs_f64());
    c
}

/// A one-line summary of a run, for progress output.
pub fn headline(f: &Figures) -> String {
    let n = |k| report::num(f, k).unwrap_or(f64::NAN);
    match report::get(f, "scenario") {
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
        _ => format!("{:.0} replayed/s, p99 {:.0} us", n("replayed_per_s"), n("p99_us")),
    }
}

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

/// A `| Redis | Banter | ratio |` triple for figure `key`.
pub(crate) fn triple(row: &Row, key: &str) -> String {
    let (r, b) = (median(&row.redis, key), median(&row.banter, key));
    format!("{} | {} | {}", fmt(r), fmt(b), ratio(b, r))
}

pub(crate) fn flags(row: &Row) -> String {
    let mut f = Vec::new();
    for (name, runs) in [("redis", &row.redis), ("banter", &row.banter)] {
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
    }
    if f.is_empty() {
        "ok".into()
    } else {
        f.join("; ")
    }
}

pub(crate) fn config(row: &Row) -> String {
    let pick = |flag: &str| {
        let mut it = row.command.split_whitespace();
        it.by_ref().find(|w| *w == flag);
        it.next().unwrap_or("-").to_string()
    };
    format!("{} | {} | {}", pick("-r"), pick("-b"), pick("-s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sent: f64, lost: u64, busy: bool) -> Result<Figures, String> {
        Ok(vec![
            ("scenario", Val::Text("fanout".into())),
            ("sent_per_s", Val::Num(sent)),
            ("lost", Val::Int(lost)),
            ("harness_bottleneck", Val::Bool(busy)),
        ])
    }

    #[test]
    fn medians_ratios_and_flags() {
        let mut row = Row::new("banter-bench fanout --target URL -r 100 -s 10 -b 64".into());
        row.redis = vec![run(10.0, 0, false), run(30.0, 0, false), run(20.0, 0, false)];
        row.banter = vec![run(40.0, 0, false), Err("boom".into()), run(60.0, 2, true)];
        assert_eq!(median(&row.redis, "sent_per_s"), Some(20.0));
        assert_eq!(median(&row.banter, "sent_per_s"), Some(50.0));
        assert_eq!(triple(&row, "sent_per_s"), "20 | 50 | 2.50");
        assert_eq!(config(&row), "100 | 64 | 10");
        let f = flags(&row);
        assert!(f.contains("banter: 2 lost") && f.contains("harness busy"), "{f}");
        assert!(f.contains("failed run (boom)") && !f.contains("redis"), "{f}");
        row.banter.clear();
        assert_eq!(triple(&row, "sent_per_s"), "20 | failed | -");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt(Some(1234567.0)), "1\u{202f}234\u{202f}567");
        assert_eq!(fmt(Some(12.4)), "12");
        assert_eq!(fmt(Some(0.456)), "0.46");
        assert_eq!(fmt(None), "failed");
    }
}
