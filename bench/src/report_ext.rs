//! The figures of one window of the receipts and files scenarios, added to
//! the common ones (`report.rs`): for receipts whether the window marked,
//! the MARKs sent and the READs received against the server's pace; for
//! files the window's kind, the transfers' throughput and the chat's
//! latency on the file's connection ("same") and between others ("other").
//!
//! For a cluster (`banterd --cluster`, several nodes over one Redis) the
//! figures of every node and of Redis: CPU per message and per delivery,
//! and Redis's memory per connection.
//!
//! It measures nothing; `summary.rs` turns several windows into one report.

use crate::mover::FilePhase;
use crate::plan::{Plan, Scenario};
use crate::receipts::{read_bound, READ_MAX_MEMBERS};
use crate::report::{Figures, Val};
use crate::run::Outcome;
use crate::stats::{self, Latency};

/// The receipts figures of a window (after the fan-out ones).
pub fn receipts(f: &mut Figures, o: &Outcome) {
    let (p, e, s) = (&o.plan, &o.extra, o.window_s.max(1e-9));
    let members = p.members() as u64;
    let marking = crate::receipts::marks_in(o.window);
    let expected = match marking && p.members() <= READ_MAX_MEMBERS {
        true => members * members.saturating_sub(1),
        false => 0,
    };
    f.push(("members", Val::Int(members)));
    f.push(("marking", Val::Bool(marking)));
    f.push(("marks_per_s", Val::Num(e.marks as f64 / s)));
    f.push(("reads", Val::Int(e.reads)));
    f.push(("reads_per_s", Val::Num(e.reads as f64 / s)));
    f.push(("reads_per_member_per_s", Val::Num(e.reads as f64 / s / members.max(1) as f64)));
    f.push(("read_bound", Val::Int(read_bound(p.duration.as_secs_f64()))));
    f.push(("read_pair_max", Val::Int(e.read_pair_max)));
    f.push(("read_pairs", Val::Int(e.read_pairs)));
    f.push(("read_pairs_expected", Val::Int(expected)));
    f.push(("read_pairs_missing", Val::Int(e.read_pairs_missing)));
    f.push(("read_violations", Val::Int(e.read_violations)));
    let gap = e.read_min_gap_ns;
    f.push(("read_min_gap_ms", if gap > 0 { Val::Num(gap as f64 / 1e6) } else { Val::Null }));
}

/// The cluster figures of a window: all nodes' CPU together and the
/// busiest one's, Redis's CPU, each per message published and per
/// delivery, and Redis's RSS growth per connection reached.
pub fn cluster(f: &mut Figures, o: &Outcome) {
    let (p, c, s) = (&o.plan, &o.counts, o.window_s.max(1e-9));
    let nodes: Vec<Option<f64>> = std::iter::once(o.server_cpu_s)
        .chain(o.peer_cpu_s.iter().copied())
        .take(1 + p.node_pids.len())
        .collect();
    let all: Option<f64> = nodes.iter().copied().sum();
    let busiest = nodes
        .iter()
        .copied()
        .collect::<Option<Vec<f64>>>()
        .map(|v| v.into_iter().fold(0.0, f64::max));
    let redis =
        o.peer_cpu_s.get(p.node_pids.len()).copied().flatten().filter(|_| p.redis_pid.is_some());
    f.push(("nodes", Val::Int(1 + p.nodes.len() as u64)));
    for (name, cpu) in [("nodes", all), ("redis", redis)] {
        let (pct, us_msg, s_m) = CLUSTER_KEYS[usize::from(name == "redis")];
        f.push((pct, opt(cpu.map(|x| 100.0 * x / s))));
        f.push((us_msg, opt(per(cpu, c.sent, 1e6))));
        f.push((s_m, opt(per(cpu, c.delivered, 1e6))));
    }
    f.push(("node_cpu_max_pct", opt(busiest.map(|x| 100.0 * x / s))));
    let grown = o.redis_rss.1.zip(o.redis_rss.0).map(|(b, a)| b as f64 - a as f64);
    f.push(("redis_rss_per_conn", opt(per(grown, o.reached, 1.0))));
}

/// Keys of the nodes' and of Redis's CPU: % of a core, µs per message
/// published, s per million deliveries.
const CLUSTER_KEYS: [(&str, &str, &str); 2] = [
    ("nodes_cpu_pct", "nodes_cpu_us_per_msg", "nodes_cpu_s_per_m"),
    ("redis_cpu_pct", "redis_cpu_us_per_msg", "redis_cpu_s_per_m"),
];

/// `x * scale / n`, when both are known and `n` is not 0.
fn per(x: Option<f64>, n: u64, scale: f64) -> Option<f64> {
    x.filter(|_| n > 0).map(|x| x * scale / n as f64)
}

fn opt(v: Option<f64>) -> Val {
    v.map_or(Val::Null, Val::Num)
}

/// MB/s of `bytes` moved in `ns` (Null when nothing moved).
fn mb_per_s(bytes: u64, ns: u64) -> Val {
    match ns {
        0 => Val::Null,
        ns => Val::Num(bytes as f64 / 1e6 / (ns as f64 / 1e9)),
    }
}

/// The files figures of a window.
pub fn files(f: &mut Figures, o: &Outcome) {
    let (p, e, c, s) = (&o.plan, &o.extra, &o.counts, o.window_s.max(1e-9));
    let phase = FilePhase::of(o.window);
    f.push(("phase", Val::Text(phase.name().into())));
    f.push(("chatters", Val::Int(p.conns as u64)));
    f.push(("chat_rate", Val::Num(p.rate)));
    f.push(("file_size", Val::Int(p.file_size)));
    f.push(("sent_per_s", Val::Num(c.sent as f64 / s)));
    f.push(("delivered_per_s", Val::Num(c.delivered as f64 / s)));
    f.push(("sent", Val::Int(o.totals.sent)));
    f.push(("delivered", Val::Int(o.totals.delivered)));
    f.push(("lost", Val::Int(o.lost)));
    f.push(("reordered", Val::Int(o.late)));
    f.push(("transfers", Val::Int(e.transfers)));
    f.push(("mb_per_s", mb_per_s(e.file_bytes, e.file_ns)));
    let wire = if phase == FilePhase::Upload { e.wire_ns } else { 0 };
    f.push(("wire_mb_per_s", mb_per_s(e.file_bytes, wire)));
    f.push(("file_errors", Val::Int(e.file_errors)));
    chat(f, "same", &o.latency);
    chat(f, "other", &stats::latency(&e.side));
}

/// Keys of a chat latency: samples, p50, p99, p99.9, max (µs).
pub const SAME: [&str; 5] =
    ["same_samples", "same_p50_us", "same_p99_us", "same_p999_us", "same_max_us"];
/// The same for chat between connections that do not carry the file.
pub const OTHER: [&str; 5] =
    ["other_samples", "other_p50_us", "other_p99_us", "other_p999_us", "other_max_us"];

fn chat(f: &mut Figures, which: &str, l: &Latency) {
    let keys = if which == "same" { SAME } else { OTHER };
    f.push((keys[0], Val::Int(l.count)));
    for (k, v) in keys[1..].iter().zip([l.p50, l.p99, l.p999, l.max]) {
        f.push((k, if l.count > 0 { Val::Num(v) } else { Val::Null }));
    }
}

/// The scenario's own options of a command line (after `--target URL`).
pub fn args(p: &Plan) -> String {
    match p.scenario {
        Scenario::Files => {
            let (n, r, size, runs) = (p.conns, p.rate, p.file_size, p.runs);
            format!(" -n {n} --rate {r:.0} --file-size {size} --runs {runs}")
        }
        _ => {
            let (m, s, b, w) = (p.members(), p.senders, p.size, p.window);
            let rate = if p.rate > 0.0 { format!(" --rate {:.0}", p.rate) } else { String::new() };
            format!(" --members {m} -s {s} -b {b} -w {w} --runs {}{rate}", p.runs)
        }
    }
}

/// A one-line summary of a receipts or files window, for progress output.
pub fn headline(f: &Figures) -> String {
    let n = |k| crate::report::num(f, k).unwrap_or(f64::NAN);
    if let Some(Val::Text(phase)) = crate::report::get(f, "phase") {
        let mb =
            crate::report::num(f, "mb_per_s").map_or(String::new(), |x| format!(" {x:.0} MB/s,"));
        return format!(
            "{phase}:{mb} chat p99 {:.0} us on the file's connection, {:.0} us between others",
            n("same_p99_us"),
            n("other_p99_us")
        );
    }
    let marking = crate::report::get(f, "marking") == Some(&Val::Bool(true));
    format!(
        "{} {:.0} deliveries/s, p99 {:.0} us, {:.2} CPU s/M, {:.0} READs/s",
        if marking { "MARK" } else { "no MARK" },
        n("delivered_per_s"),
        n("p99_us"),
        n("server_cpu_s_per_m"),
        n("reads_per_s")
    )
}
