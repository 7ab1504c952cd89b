//! `banter-bench receipts` and `banter-bench files`: one session of several
//! windows on the same connections, summed up as one report of medians.
//!
//! - receipts: `--runs` pairs of windows, the first of each without MARK,
//!   the second with, at identical load; the report puts both side by
//!   side (`off_…`, `on_…`) with the ratios and the READ checks.
//! - files: `--runs` rounds of three windows, idle, upload, download; the
//!   report gives the transfers' MB/s and the chat's latency in each.
//!
//! It measures nothing itself (`run.rs` does); `compare` reuses the
//! summaries for its tables.

use crate::markdown::{median, Runs};
use crate::plan::{Plan, Scenario};
use crate::report::{self, Figures, Val};

/// Runs the scenario of `plan` (receipts or files); its report, and
/// whether it is clean (nothing lost, reordered, or broken).
pub fn run(plan: Plan) -> Result<(Figures, bool), String> {
    let per_run = if plan.scenario == Scenario::Files { 3 } else { 2 };
    let (windows, rate) = (plan.runs.max(1) * per_run, plan.rate);
    let outcomes = crate::run::session(plan, &mut |done| (done.len() < windows).then_some(rate))?;
    let runs: Runs = outcomes.iter().map(|o| Ok(report::figures(o))).collect();
    let f = match outcomes.first().map(|o| o.plan.scenario) {
        Some(Scenario::Files) => files(&runs),
        Some(_) => {
            let (off, on) = split_pairs(&runs);
            receipts(&off, &on)
        }
        None => return Err("no window was measured".into()),
    };
    let bad = ["lost", "reordered", "read_violations", "read_pairs_missing", "file_errors"];
    let clean = bad.iter().all(|k| report::num(&f, k).unwrap_or(0.0) == 0.0);
    Ok((f, clean))
}

/// Receipts windows in order (without MARK, with, …): (without, with).
pub fn split_pairs(runs: &Runs) -> (Runs, Runs) {
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for (i, r) in runs.iter().enumerate() {
        if i % 2 == 0 { &mut off } else { &mut on }.push(r.clone());
    }
    (off, on)
}

fn ok(runs: &Runs) -> impl Iterator<Item = &Figures> {
    runs.iter().filter_map(|r| r.as_ref().ok())
}

/// The median of `key`, as a figure.
fn med(runs: &Runs, key: &str) -> Val {
    median(runs, key).map_or(Val::Null, Val::Num)
}

/// The sum, largest or smallest of `key` over the runs.
fn fold(runs: &Runs, key: &str, how: fn(f64, f64) -> f64) -> Option<f64> {
    ok(runs).filter_map(|f| report::num(f, key)).reduce(how)
}

fn int(v: Option<f64>) -> Val {
    v.map_or(Val::Null, |x| Val::Int(x as u64))
}

/// `a / b` of two medians, as a figure.
fn ratio(a: &Val, b: &Val) -> Val {
    match (a, b) {
        (Val::Num(a), Val::Num(b)) if *b > 0.0 => Val::Num(a / b),
        _ => Val::Null,
    }
}

/// The figures every report starts with, copied from the first run.
fn head(f: &mut Figures, runs: &Runs, keys: &[&'static str]) {
    let first = ok(runs).next();
    for &k in keys {
        let v = first.and_then(|x| report::get(x, k)).cloned().unwrap_or(Val::Null);
        f.push((k, v));
    }
}

/// Whether any run says `key` is true.
fn any(runs: &Runs, key: &str) -> Val {
    Val::Bool(ok(runs).any(|f| report::get(f, key) == Some(&Val::Bool(true))))
}

/// The checks and the harness's health over all runs.
fn tail(f: &mut Figures, runs: &Runs) {
    f.push(("lost", int(fold(runs, "lost", f64::max))));
    f.push(("reordered", int(fold(runs, "reordered", f64::max))));
    f.push(("server_cpu_pct", med(runs, "server_cpu_pct")));
    f.push(("harness_cpu_pct", int(fold(runs, "harness_cpu_pct", f64::max))));
    f.push(("harness_bottleneck", any(runs, "harness_bottleneck")));
    f.push(("other_cpu_pct", int(fold(runs, "other_cpu_pct", f64::max))));
    f.push(("disturbed", any(runs, "disturbed")));
    f.push(("errors", int(fold(runs, "errors", f64::max))));
    let last = ok(runs).last().and_then(|x| report::get(x, "first_errors")).cloned();
    f.push(("first_errors", last.unwrap_or(Val::Text(String::new()))));
}

/// (figure without MARK, with MARK, source): the load's own figures.
const SIDES: &[(&str, &str, &str)] = &[
    ("off_sent_per_s", "on_sent_per_s", "sent_per_s"),
    ("off_delivered_per_s", "on_delivered_per_s", "delivered_per_s"),
    ("off_server_cpu_s_per_m", "on_server_cpu_s_per_m", "server_cpu_s_per_m"),
    ("off_p50_us", "on_p50_us", "p50_us"),
    ("off_p99_us", "on_p99_us", "p99_us"),
    ("off_p999_us", "on_p999_us", "p999_us"),
];

/// The receipts report: the load without MARK (`off`) and with (`on`).
pub fn receipts(off: &Runs, on: &Runs) -> Figures {
    let mut f = Figures::new();
    let keys = ["scenario", "target", "threads", "window_s", "members", "senders", "receivers"];
    head(&mut f, on, &keys);
    head(&mut f, on, &["size", "loop", "in_flight", "rate"]);
    f.push(("pairs", Val::Int(on.len() as u64)));
    for &(a, b, key) in SIDES {
        f.push((a, med(off, key)));
        f.push((b, med(on, key)));
    }
    let cpu = ratio(&med(on, "server_cpu_s_per_m"), &med(off, "server_cpu_s_per_m"));
    f.push(("cpu_ratio", cpu));
    f.push(("p99_ratio", ratio(&med(on, "p99_us"), &med(off, "p99_us"))));
    for k in ["marks_per_s", "reads_per_s", "reads_per_member_per_s", "read_pairs"] {
        f.push((k, med(on, k)));
    }
    head(&mut f, on, &["read_pairs_expected", "read_bound"]);
    let all: Runs = off.iter().chain(on).cloned().collect();
    f.push(("read_pair_max", int(fold(&all, "read_pair_max", f64::max))));
    f.push(("read_pairs_missing", int(fold(on, "read_pairs_missing", |a, b| a + b))));
    f.push(("read_violations", int(fold(&all, "read_violations", |a, b| a + b))));
    let gap = fold(&all, "read_min_gap_ms", f64::min);
    f.push(("read_min_gap_ms", gap.map_or(Val::Null, Val::Num)));
    tail(&mut f, &all);
    f
}

/// Latency keys of the files report: (window kind, source keys, p50
/// figure, p99 figure).
const CHAT: &[(&str, [&str; 5], &str, &str)] = &[
    ("idle", crate::report_ext::SAME, "idle_same_p50_us", "idle_same_p99_us"),
    ("idle", crate::report_ext::OTHER, "idle_other_p50_us", "idle_other_p99_us"),
    ("upload", crate::report_ext::SAME, "upload_same_p50_us", "upload_same_p99_us"),
    ("upload", crate::report_ext::OTHER, "upload_other_p50_us", "upload_other_p99_us"),
    ("download", crate::report_ext::SAME, "download_same_p50_us", "download_same_p99_us"),
    ("download", crate::report_ext::OTHER, "download_other_p50_us", "download_other_p99_us"),
];

/// p99 during a transfer / p99 idle: (figure, transfer, idle).
const RATIOS: &[(&str, &str, &str)] = &[
    ("upload_same_p99_ratio", "upload_same_p99_us", "idle_same_p99_us"),
    ("upload_other_p99_ratio", "upload_other_p99_us", "idle_other_p99_us"),
    ("download_same_p99_ratio", "download_same_p99_us", "idle_same_p99_us"),
    ("download_other_p99_ratio", "download_other_p99_us", "idle_other_p99_us"),
];

/// The windows of one kind.
fn of_phase(runs: &Runs, phase: &str) -> Runs {
    let is = |r: &&Result<Figures, String>| match r {
        Ok(f) => report::get(f, "phase") == Some(&Val::Text(phase.into())),
        Err(_) => false,
    };
    runs.iter().filter(is).cloned().collect()
}

/// The files report: throughput of the transfers and the chat's latency,
/// idle and while the file moves, on its connection and elsewhere.
pub fn files(runs: &Runs) -> Figures {
    let mut f = Figures::new();
    let keys = ["scenario", "target", "threads", "window_s", "file_size", "chatters", "chat_rate"];
    head(&mut f, runs, &keys);
    f.push(("rounds", Val::Int(of_phase(runs, "idle").len() as u64)));
    let (up, down) = (of_phase(runs, "upload"), of_phase(runs, "download"));
    f.push(("upload_mb_per_s", med(&up, "mb_per_s")));
    f.push(("upload_wire_mb_per_s", med(&up, "wire_mb_per_s")));
    f.push(("download_mb_per_s", med(&down, "mb_per_s")));
    f.push(("uploads", int(fold(&up, "transfers", |a, b| a + b))));
    f.push(("downloads", int(fold(&down, "transfers", |a, b| a + b))));
    f.push(("upload_server_cpu_pct", med(&up, "server_cpu_pct")));
    f.push(("download_server_cpu_pct", med(&down, "server_cpu_pct")));
    for &(phase, src, p50, p99) in CHAT {
        let w = of_phase(runs, phase);
        f.push((p50, med(&w, src[1])));
        f.push((p99, med(&w, src[2])));
    }
    for &(key, during, idle) in RATIOS {
        let v = ratio(
            report::get(&f, during).unwrap_or(&Val::Null),
            report::get(&f, idle).unwrap_or(&Val::Null),
        );
        f.push((key, v));
    }
    let worst = RATIOS.iter().filter_map(|r| report::num(&f, r.0)).reduce(f64::max);
    f.push(("worst_p99_ratio", worst.map_or(Val::Null, Val::Num)));
    f.push(("file_errors", int(fold(runs, "file_errors", |a, b| a + b))));
    head(&mut f, runs, &["tls"]);
    tail(&mut f, runs);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(pairs: &[(&'static str, Val)]) -> Result<Figures, String> {
        Ok(pairs.to_vec())
    }

    #[test]
    fn receipts_put_both_loads_side_by_side() {
        let off =
            |cpu: f64| window(&[("server_cpu_s_per_m", Val::Num(cpu)), ("lost", Val::Int(0))]);
        let on = |cpu: f64, v: u64| {
            window(&[("server_cpu_s_per_m", Val::Num(cpu)), ("read_violations", Val::Int(v))])
        };
        let runs: Runs = vec![off(2.0), on(3.0, 0), off(4.0), on(5.0, 1)];
        let (a, b) = split_pairs(&runs);
        let f = receipts(&a, &b);
        assert_eq!(report::num(&f, "off_server_cpu_s_per_m"), Some(3.0));
        assert_eq!(report::num(&f, "on_server_cpu_s_per_m"), Some(4.0));
        assert_eq!(report::num(&f, "cpu_ratio"), Some(4.0 / 3.0));
        assert_eq!(report::num(&f, "read_violations"), Some(1.0));
        assert_eq!(report::get(&f, "p99_ratio"), Some(&Val::Null));
    }

    #[test]
    fn files_sort_windows_by_kind() {
        let w = |phase: &str, mb: f64, p99: f64| {
            window(&[
                ("phase", Val::Text(phase.into())),
                ("mb_per_s", Val::Num(mb)),
                ("transfers", Val::Int(2)),
                ("same_p99_us", Val::Num(p99)),
            ])
        };
        let runs: Runs =
            vec![w("idle", 0.0, 100.0), w("upload", 600.0, 150.0), w("download", 900.0, 300.0)];
        let f = files(&runs);
        assert_eq!(report::num(&f, "upload_mb_per_s"), Some(600.0));
        assert_eq!(report::num(&f, "download_mb_per_s"), Some(900.0));
        assert_eq!(report::num(&f, "uploads"), Some(2.0));
        assert_eq!(report::num(&f, "upload_same_p99_ratio"), Some(1.5));
        assert_eq!(report::num(&f, "worst_p99_ratio"), Some(3.0));
        assert_eq!(report::num(&f, "rounds"), Some(1.0));
    }
}
