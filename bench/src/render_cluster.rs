//! The Markdown of the cluster section (issue 17): how it was run, the
//! fan-out on N nodes against the plain banterd (CPU of every node and of
//! Redis per message and per delivery, latency added), memory per idle
//! connection on a node and in Redis, and the capacity model derived from
//! them with its formulas, checked against Centrifugo's published figures.
//!
//! It measures nothing; `cluster.rs` gathered the rows and
//! `cluster_model.rs` does the arithmetic.

use crate::cluster::{ClusterResults, ClusterRow};
use crate::cluster_model::Point;
use crate::compare::Settings;
use crate::markdown::{fmt, median, Row, Runs, Section};
use std::fmt::Write;

/// Share of deliveries that cross nodes when R receivers and S senders are
/// each dealt round-robin over N nodes (as `plan.rs` deals them).
pub fn crossing_share(r: usize, s: usize, n: usize) -> f64 {
    if r == 0 || s == 0 || n <= 1 {
        return 0.0;
    }
    let on = |node: usize| (0..r).filter(|i| i % n == node).count();
    let local: usize = (0..s).map(|k| on(k % n)).sum();
    1.0 - local as f64 / (r * s) as f64
}

/// The nodes' CPU per delivery, µs (= s per million): all nodes together,
/// or the plain banterd's.
fn node_cost(runs: &Runs) -> Option<f64> {
    median(runs, "nodes_cpu_s_per_m").or(median(runs, "server_cpu_s_per_m"))
}

fn setup(n: usize) -> String {
    match n {
        0 => "plain".into(),
        n => format!("{n} node{}", if n > 1 { "s" } else { "" }),
    }
}

/// The checks of a row (closed-loop windows as one side, open as the other).
fn checks(row: &ClusterRow) -> String {
    let sec = Section::new("", "closed", "open");
    let mut r = Row::new(String::new());
    (r.base, r.ours, r.attempts) = (row.closed.clone(), row.open.clone(), row.attempts);
    crate::markdown::flags(&sec, &r).replace("open: not run (its closed-loop rate was 0)", "-")
}

/// The plain banterd's row of the same shape.
fn plain<'a>(c: &'a ClusterResults, row: &ClusterRow) -> Option<&'a ClusterRow> {
    c.fanout.iter().find(|p| p.nodes == 0 && p.shape == row.shape)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => format!("{:.2}", a / b),
        _ => "-".into(),
    }
}

fn throughput(out: &mut String, c: &ClusterResults) {
    let _ = writeln!(out, "### Fan-out over the nodes (closed loop)\n\nReceivers and senders are each dealt round-robin over the nodes; \"crossing\" is the share of deliveries whose receiver sits on another node than the sender. Node CPU = all nodes together; µs per delivery = s per million deliveries. Total = nodes + Redis per delivery; × plain = total / the plain banterd's CPU per delivery at the same shape.\n");
    let _ = writeln!(out, "| R | B | S | W | setup | crossing | msg/s | deliv/s | nodes CPU µs/deliv | busiest node CPU % | Redis CPU µs/msg | Redis CPU % | total µs/deliv | × plain | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &c.fanout {
        let (r, b, s, w) = row.shape;
        let redis = median(&row.closed, "redis_cpu_s_per_m");
        let total = node_cost(&row.closed).map(|n| n + redis.unwrap_or(0.0));
        let base = plain(c, row).and_then(|p| node_cost(&p.closed));
        let one = |k| fmt(median(&row.closed, k));
        let _ = writeln!(
            out,
            "| {r} | {b} | {s} | {w} | {} | {:.0}% | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            setup(row.nodes),
            100.0 * crossing_share(r, s, row.nodes),
            one("sent_per_s"),
            one("delivered_per_s"),
            fmt(node_cost(&row.closed)),
            if row.nodes == 0 { one("server_cpu_pct") } else { one("node_cpu_max_pct") },
            if row.nodes == 0 { "-".into() } else { one("redis_cpu_us_per_msg") },
            if row.nodes == 0 { "-".into() } else { one("redis_cpu_pct") },
            fmt(total),
            ratio(total, base),
            checks(row)
        );
    }
    let _ = writeln!(out);
}

fn latency(out: &mut String, c: &ClusterResults) {
    let _ = writeln!(out, "### Latency added by crossing nodes (open loop)\n\nEvery setup of a shape gets the same fixed rate: half the closed-loop median of the setup measured first (the most nodes). Microseconds from the intended send time; \"added\" = this setup minus the plain banterd at the same rate.\n");
    let _ = writeln!(
        out,
        "| R | B | S | rate msg/s | setup | p50 | p99 | p99.9 | p50 added | p99 added | checks |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &c.fanout {
        let (r, b, s, _) = row.shape;
        let base = plain(c, row).map(|p| &p.open);
        let added = |k| match (median(&row.open, k), base.and_then(|p| median(p, k))) {
            (Some(a), Some(b)) if row.nodes > 0 => format!("{:+.0}", a - b),
            _ => "-".into(),
        };
        let one = |k| fmt(median(&row.open, k));
        let _ = writeln!(
            out,
            "| {r} | {b} | {s} | {} | {} | {} | {} | {} | {} | {} | {} |",
            fmt(Some(row.rate)),
            setup(row.nodes),
            one("p50_us"),
            one("p99_us"),
            one("p999_us"),
            added("p50_us"),
            added("p99_us"),
            checks(row)
        );
    }
    let _ = writeln!(out);
}

fn idle(out: &mut String, c: &ClusterResults) {
    if c.idle.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Idle connections\n\nN logged-in, joined connections (rooms of 10) held 6 s, each run on fresh servers: the node's and Redis's RSS growth per connection (Redis keeps every session, name and membership), and the node's idle CPU (heartbeats, and the liveness key renewed every second).\n");
    let _ = writeln!(out, "| setup | N | reached | conn/s | node B/conn | Redis B/conn | node idle CPU % | Redis idle CPU % | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for row in &c.idle {
        let one = |k| fmt(median(&row.closed, k));
        let cluster = |k| if row.nodes == 0 { "-".into() } else { one(k) };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            setup(row.nodes),
            row.shape.0,
            one("reached"),
            one("connects_per_s"),
            one("rss_per_conn"),
            cluster("redis_rss_per_conn"),
            one("server_cpu_pct"),
            cluster("redis_cpu_pct"),
            checks(row)
        );
    }
    let _ = writeln!(out);
}

/// The model's inputs: one point per fan-out row with figures.
pub fn points(c: &ClusterResults) -> Vec<Point> {
    let point = |row: &ClusterRow| {
        Some(Point {
            nodes: row.nodes,
            receivers: row.shape.0,
            node_us_per_delivery: node_cost(&row.closed)?,
            redis_us_per_msg: median(&row.closed, "redis_cpu_us_per_msg"),
        })
    };
    c.fanout.iter().filter_map(point).collect()
}

/// The whole section; nothing when it did not run.
pub fn cluster(out: &mut String, c: &ClusterResults, s: &Settings, header: &str) {
    if c.fanout.is_empty() && c.idle.is_empty() && c.na.is_none() {
        return;
    }
    let _ = writeln!(out, "## Cluster: banterd nodes over one Redis (issue 17)\n\n{header}\n");
    if let Some(na) = &c.na {
        let _ = writeln!(out, "**{na}.**\n");
        return;
    }
    commands(out, c);
    throughput(out, c);
    latency(out, c);
    idle(out, c);
    crate::render_cluster_model::model(out, c, &points(c), s);
}

fn commands(out: &mut String, c: &ClusterResults) {
    let _ = writeln!(out, "```sh");
    for cmd in &c.commands {
        let _ = writeln!(out, "{cmd}");
    }
    let first = c.fanout.iter().map(|r| &r.command).find(|x| x.contains(" --redis-pid"));
    for cmd in first.into_iter().chain(c.idle.first().map(|r| &r.command)) {
        let _ = writeln!(out, "{cmd}");
    }
    let _ = writeln!(out, "```\n\nRedis runs here without persistence (`--save '' --appendonly no`), as the baselines do, so its figures are its pub/sub and script work alone; a production cluster should run Redis with `appendonly yes` (every acknowledged message is in its stream), which adds a write per message to Redis's cost.\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crossing_share_follows_the_dealing() {
        assert_eq!(crossing_share(100, 1, 1), 0.0);
        assert!((crossing_share(100, 1, 2) - 0.5).abs() < 1e-9);
        // 100 over 3: node 0 has 34, so 66 of 100 cross.
        assert!((crossing_share(100, 1, 3) - 0.66).abs() < 1e-9);
        // Two senders on nodes 0 and 1 of 3 (34 and 33 local of 100 each).
        assert!((crossing_share(100, 2, 3) - (1.0 - 67.0 / 200.0)).abs() < 1e-9);
        assert_eq!(crossing_share(0, 1, 3), 0.0);
    }

    fn row(nodes: usize, r: usize, us: f64, redis: f64) -> ClusterRow {
        use crate::report::Val;
        let key = if nodes == 0 { "server_cpu_s_per_m" } else { "nodes_cpu_s_per_m" };
        let w = vec![
            (key, Val::Num(us)),
            ("redis_cpu_us_per_msg", Val::Num(redis)),
            ("redis_cpu_s_per_m", Val::Num(redis / r as f64)),
            ("p99_us", Val::Num(100.0 * (nodes + 1) as f64)),
        ];
        let (closed, open) = (vec![Ok(w.clone())], vec![Ok(w)]);
        let command = String::new();
        ClusterRow { nodes, shape: (r, 64, 1, 16), closed, open, rate: 50.0, command, attempts: 1 }
    }

    #[test]
    fn the_section_compares_with_plain_and_shows_the_model() {
        let fanout = vec![row(2, 100, 0.7, 30.0), row(0, 100, 0.2, 0.0)];
        let mut c = ClusterResults { fanout, ..ClusterResults::default() };
        c.fanout.extend([row(2, 1000, 0.52, 30.0), row(0, 1000, 0.2, 0.0)]);
        let mut out = String::new();
        cluster(&mut out, &c, &crate::compare::tests::settings(), "header");
        // Total 0.7 + 0.3 per delivery against 0.2: 5.00 x plain.
        assert!(out.contains("| 100 | 64 | 1 | 16 | 2 nodes | 50% |"), "{out}");
        assert!(out.contains("| 1.00 | 5.00 | ok |"), "{out}");
        assert!(out.contains("| 300 | failed | - | +200 |"), "{out}");
        assert!(out.contains("| 2 node(s) | 10.00 | 0.500 |"), "{out}");
        assert!(out.contains("appendonly yes"), "{out}");
        let mut none = String::new();
        cluster(&mut none, &ClusterResults::default(), &crate::compare::tests::settings(), "h");
        assert!(none.is_empty());
    }
}
