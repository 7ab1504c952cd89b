//! Turns an [`Outcome`] into figures: a list of named values that prints as
//! a table for people and as one JSON object for scripts, with a warning
//! when the harness itself, not the server, was the bottleneck.
//!
//! It measures nothing; `run.rs` does.

use crate::plan::Scenario;
use crate::run::Outcome;
use std::fmt::Write;

/// Harness CPU (share of the cores it may use) above which it may be the
/// bottleneck: past 70% a closed-loop harness is too often busy when an
/// answer arrives, and under-feeds the server (issue 16).
pub const BUSY: f64 = 0.7;

/// One figure's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A count.
    Int(u64),
    /// A rate, a time, a ratio.
    Num(f64),
    /// A name or a message.
    Text(String),
    /// A flag.
    Bool(bool),
    /// Not measured (e.g. no server pid).
    Null,
}

/// The figures of one run, in display order.
pub type Figures = Vec<(&'static str, Val)>;

/// The figures of a run.
pub fn figures(o: &Outcome) -> Figures {
    let p = &o.plan;
    let s = o.window_s.max(1e-9);
    let c = &o.counts;
    let mut f: Figures = vec![
        ("scenario", Val::Text(p.scenario.name().into())),
        ("target", Val::Text(p.target.url())),
        ("threads", Val::Int(p.threads as u64)),
        ("window_s", Val::Num(o.window_s)),
    ];
    match p.scenario {
        Scenario::Fanout => fanout(&mut f, o),
        Scenario::Connections => connections(&mut f, o),
        Scenario::Churn => {
            f.push(("concurrency", Val::Int(p.conns as u64)));
            f.push(("cycles", Val::Int(c.cycles)));
            f.push(("cycles_per_s", Val::Num(c.cycles as f64 / s)));
        }
        Scenario::Receipts => {
            fanout(&mut f, o);
            crate::report_ext::receipts(&mut f, o);
        }
        Scenario::Files => crate::report_ext::files(&mut f, o),
        Scenario::Replay => replay(&mut f, o),
    }
    if !matches!(p.scenario, Scenario::Connections | Scenario::Files) {
        latency(&mut f, o);
    }
    if p.target.tls {
        tls(&mut f, o);
    }
    cpu(&mut f, o);
    if p.redis_pid.is_some() || !p.node_pids.is_empty() {
        crate::report_ext::cluster(&mut f, o);
    }
    f.push(("errors", Val::Int(o.totals.errors)));
    f.push(("first_errors", Val::Text(o.errors.join("; "))));
    f
}

fn replay(f: &mut Figures, o: &Outcome) {
    let (p, c, s) = (&o.plan, &o.counts, o.window_s.max(1e-9));
    f.push(("readers", Val::Int(p.conns as u64)));
    f.push(("history", Val::Int(p.history)));
    f.push(("limit", Val::Int(u64::from(p.limit))));
    f.push(("joins_per_s", Val::Num(c.cycles as f64 / s)));
    f.push(("replayed_per_s", Val::Num(c.delivered as f64 / s)));
    f.push(("mb_per_s", Val::Num(c.bytes_in as f64 / s / 1e6)));
}

/// The fan-out figures (also the receipts scenario's).
pub(crate) fn fanout(f: &mut Figures, o: &Outcome) {
    let (p, c, s) = (&o.plan, &o.counts, o.window_s.max(1e-9));
    f.push(("receivers", Val::Int(p.receivers as u64)));
    f.push(("senders", Val::Int(p.senders as u64)));
    f.push(("size", Val::Int(p.size as u64)));
    let mode = if p.rate > 0.0 { "open" } else { "closed" };
    f.push(("loop", Val::Text(mode.into())));
    f.push(("in_flight", Val::Int(u64::from(p.window))));
    f.push(("rate", Val::Num(p.rate)));
    f.push(("sent_per_s", Val::Num(c.sent as f64 / s)));
    f.push(("delivered_per_s", Val::Num(c.delivered as f64 / s)));
    f.push(("mb_per_s", Val::Num(c.bytes_in as f64 / s / 1e6)));
    f.push(("sent", Val::Int(o.totals.sent)));
    f.push(("delivered", Val::Int(o.totals.delivered)));
    f.push(("lost", Val::Int(o.lost)));
    f.push(("reordered", Val::Int(o.late)));
}

fn connections(f: &mut Figures, o: &Outcome) {
    let p = &o.plan;
    f.push(("connections", Val::Int(p.conns as u64)));
    f.push(("reached", Val::Int(o.reached)));
    f.push(("failed", Val::Int(o.totals.failed)));
    f.push(("ramp_s", Val::Num(o.setup_s)));
    let rate = o.reached as f64 / o.setup_s.max(1e-9);
    f.push(("connects_per_s", Val::Num(rate)));
    let opt = |v: Option<u64>| v.map_or(Val::Null, Val::Int);
    f.push(("rss_before", opt(o.rss_before)));
    f.push(("rss_after", opt(o.rss_after)));
    let per = match (o.rss_before, o.rss_after) {
        (Some(a), Some(b)) if o.reached > 0 => Val::Num((b as f64 - a as f64) / o.reached as f64),
        _ => Val::Null,
    };
    f.push(("rss_per_conn", per));
}

/// TLS: what was negotiated, and full handshakes completed per second
/// (over the ramp for `connections`, over the window otherwise).
fn tls(f: &mut Figures, o: &Outcome) {
    f.push(("tls", Val::Text(o.tls.clone().unwrap_or_default())));
    let (n, secs) = match o.plan.scenario {
        Scenario::Connections => (o.totals.handshakes, o.setup_s),
        _ => (o.counts.handshakes, o.window_s),
    };
    f.push(("handshakes", Val::Int(n)));
    f.push(("handshakes_per_s", Val::Num(n as f64 / secs.max(1e-9))));
}

fn latency(f: &mut Figures, o: &Outcome) {
    let l = &o.latency;
    f.push(("latency_samples", Val::Int(l.count)));
    f.push(("p50_us", Val::Num(l.p50)));
    f.push(("p99_us", Val::Num(l.p99)));
    f.push(("p999_us", Val::Num(l.p999)));
    f.push(("max_us", Val::Num(l.max)));
}

fn cpu(f: &mut Figures, o: &Outcome) {
    let s = o.window_s.max(1e-9);
    let server = o.server_cpu_s;
    f.push(("server_cpu_s", server.map_or(Val::Null, Val::Num)));
    f.push(("server_cpu_pct", server.map_or(Val::Null, |c| Val::Num(100.0 * c / s))));
    let per_m = match server {
        Some(c) if o.counts.delivered > 0 => Val::Num(c * 1e6 / o.counts.delivered as f64),
        _ => Val::Null,
    };
    f.push(("server_cpu_s_per_m", per_m));
    harness(f, o);
    let other = o.other_cpu.as_ref();
    f.push(("other_cpu_pct", other.map_or(Val::Null, |x| Val::Num(x.pct))));
    f.push(("other_process", Val::Text(other.map_or(String::new(), |x| x.name.clone()))));
    f.push(("disturbed", Val::Bool(other.is_some_and(|x| x.pct > DISTURBED_PCT))));
}

/// Another process's CPU share (%) in the window above which a run is
/// called disturbed (and `compare` runs its row again).
pub const DISTURBED_PCT: f64 = 5.0;

/// How the harness itself fared: its CPU share of the cores it may use,
/// the share of the window it waited for the server, and how much each
/// loop turn and each write fed the server. A harness that waits most of
/// the window and sends many messages per turn is not the bottleneck.
fn harness(f: &mut Figures, o: &Outcome) {
    let s = o.window_s.max(1e-9);
    let cores = o.plan.threads.clamp(1, usable_cores()) as f64;
    let share = o.harness_cpu_s / s / cores;
    let c = &o.counts;
    let threads = o.plan.threads.max(1) as f64;
    f.push(("harness_cpu_pct", Val::Num(100.0 * share)));
    f.push(("harness_wait_pct", Val::Num(100.0 * c.wait_ns as f64 / 1e9 / s / threads)));
    f.push(("harness_loops_per_s", Val::Num(c.loops as f64 / s)));
    let per = |n: u64, d: u64| if d == 0 { Val::Null } else { Val::Num(n as f64 / d as f64) };
    f.push(("sends_per_loop", per(c.sent, c.loops)));
    f.push(("sends_per_write", per(c.sent, c.writes)));
    f.push(("harness_bottleneck", Val::Bool(share >= BUSY)));
}

/// The CPUs this process may run on (its affinity mask, so a harness
/// pinned to one core counts one).
fn usable_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn show(v: &Val) -> String {
    match v {
        Val::Int(i) => i.to_string(),
        Val::Num(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Val::Num(x) => format!("{x:.2}"),
        Val::Text(t) => t.clone(),
        Val::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Val::Null => "-".into(),
    }
}

/// The figures as an aligned two-column table, plus warnings.
pub fn table(f: &Figures) -> String {
    let mut out = String::new();
    for (k, v) in f {
        if matches!(v, Val::Text(t) if t.is_empty()) {
            continue;
        }
        let _ = writeln!(out, "{k:<20} {}", show(v));
    }
    if f.iter().any(|(k, v)| *k == "harness_bottleneck" && *v == Val::Bool(true)) {
        out.push_str(
            "WARNING: the harness used over 70% of its CPU; the figures may measure \
             the harness, not the server (try --threads, or a free core)\n",
        );
    }
    if f.iter().any(|(k, v)| *k == "disturbed" && *v == Val::Bool(true)) {
        out.push_str(
            "WARNING: another process used over 5% of a CPU during the window \
             (other_process); the figures may be disturbed\n",
        );
    }
    out
}

/// The figures as one JSON object on one line.
pub fn json(f: &Figures) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in f.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{k}\":");
        match v {
            Val::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Val::Num(x) if x.is_finite() => {
                let _ = write!(out, "{x}");
            }
            Val::Text(t) => quote(&mut out, t),
            Val::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Val::Num(_) | Val::Null => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Looks a figure up by name.
pub fn get<'a>(f: &'a Figures, key: &str) -> Option<&'a Val> {
    f.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// A figure as a number, if it is one.
pub fn num(f: &Figures, key: &str) -> Option<f64> {
    match get(f, key)? {
        Val::Int(i) => Some(*i as f64),
        Val::Num(x) => Some(*x),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_nulls() {
        let f: Figures = vec![
            ("a", Val::Int(3)),
            ("b", Val::Text("say \"hi\"\n\\".into())),
            ("c", Val::Null),
            ("d", Val::Num(f64::NAN)),
            ("e", Val::Bool(true)),
            ("g", Val::Num(1.5)),
        ];
        let j = json(&f);
        assert_eq!(j, r#"{"a":3,"b":"say \"hi\"\u000a\\","c":null,"d":null,"e":true,"g":1.5}"#);
        assert_eq!(num(&f, "g"), Some(1.5));
        assert_eq!(num(&f, "b"), None);
    }

    #[test]
    fn table_warns_when_the_harness_is_busy() {
        let busy: Figures = vec![("harness_bottleneck", Val::Bool(true))];
        assert!(table(&busy).contains("WARNING"));
        let idle: Figures = vec![("harness_bottleneck", Val::Bool(false))];
        assert!(!table(&idle).contains("WARNING"));
    }
}
