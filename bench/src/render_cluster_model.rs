//! The Markdown of the cluster capacity model: each derived number with
//! its formula and inputs, projected to more nodes than were measured
//! (said so), and set against Centrifugo's published figures.
//!
//! It measures nothing; `cluster_model.rs` does the arithmetic.

use crate::cluster::ClusterResults;
use crate::cluster_model::{self as model, Point, Split};
use crate::compare::Settings;
use crate::markdown::{fmt, median};
use std::fmt::Write;

/// Memory the connection counts are given for (bytes), and its name.
const RAM: (f64, &str) = (16.0 * 1073741824.0, "16 GiB");
/// Centrifugo's published figures: PUB/SUB messages/s per Redis instance.
const CENTRIFUGO_REDIS: f64 = 650_000.0;
/// ... and connections per node.
const CENTRIFUGO_CONNS: &str = "100–200 k";
/// Node counts the model is projected to.
const PROJECT: [usize; 5] = [1, 2, 3, 5, 10];

fn f(v: Option<f64>) -> String {
    fmt(v)
}

/// The split of every setup measured, and what crossing nodes costs.
fn splits(out: &mut String, points: &[Point]) -> Vec<Split> {
    let mut ns: Vec<usize> = points.iter().map(|p| p.nodes).collect();
    ns.sort_unstable();
    ns.dedup();
    let all: Vec<Split> = ns.iter().filter_map(|&n| model::split(points, n)).collect();
    let _ = writeln!(out, "**1. Node CPU per message and per delivery.** With R receivers over N nodes, the nodes together spend C(R) = N·m + R·d µs per message: m once per node per message (take it from Redis, or alone from the sender; order it; start the fan-out), d per delivery. Two room sizes R₁ < R₂ at one N give d = (C(R₂) − C(R₁)) / (R₂ − R₁) and m = (C(R₁) − R₁·d) / N, where C(R) = R × (nodes µs per delivery) above.\n");
    let _ = writeln!(out, "| setup | m, µs per message per node | d, µs per delivery | crossing cost vs plain: Δm·N + Redis per message, µs | Δd per delivery, µs |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let plain = all.iter().find(|s| s.nodes == 0).copied();
    for s in &all {
        let redis = redis_at(points, s.nodes);
        let (dm, dd) = match (plain, s.nodes) {
            (Some(p), n) if n > 0 => (
                Some(s.per_message * n as f64 - p.per_message + redis.unwrap_or(0.0)),
                Some(s.per_delivery - p.per_delivery),
            ),
            _ => (None, None),
        };
        let name = if s.nodes == 0 { "plain".to_string() } else { format!("{} node(s)", s.nodes) };
        let show = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:+.2}"));
        let _ = writeln!(
            out,
            "| {name} | {:.2} | {:.3} | {} | {} |",
            s.per_message,
            s.per_delivery,
            show(dm),
            show(dd)
        );
    }
    if all.is_empty() {
        let _ =
            writeln!(out, "| - | needs two receiver counts (--cluster-receivers) | - | - | - |");
    }
    let _ = writeln!(out);
    all
}

/// Redis's mean µs per message at `n` nodes.
fn redis_at(points: &[Point], n: usize) -> Option<f64> {
    let v: Vec<f64> =
        points.iter().filter(|p| p.nodes == n).filter_map(|p| p.redis_us_per_msg).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Redis per message, node per room message, and the cluster's bound.
fn messages(out: &mut String, points: &[Point], splits: &[Split]) -> Option<f64> {
    let line = model::redis_line(points);
    let node = splits.iter().filter(|s| s.nodes > 0).max_by_key(|s| s.nodes).copied();
    let r = points.iter().map(|p| p.receivers).max().unwrap_or(0);
    let _ = writeln!(out, "**2. Messages per Redis core and per node core.** Redis's CPU per message is a line in the node count, r(N) = a + b·N µs (every node is one more subscriber of the room's channel), fitted over the node counts measured: {}. One Redis (one core: Redis runs commands on one thread) carries 10⁶ / r(N) messages/s. One node core carries 10⁶ / (m + (R/N)·d) messages/s of a room of R spread over N nodes (every node with members gets every message), m and d from the most nodes measured ({}); for R = {r}. A cluster of N nodes then carries min(Redis, node) messages/s of that one room; rooms on disjoint nodes add up on the nodes' side, not on Redis's. N beyond the node counts measured is a projection.\n",
        line.map_or("not enough node counts".into(), |(a, b)| format!("a = {a:.1} µs, b = {b:.1} µs")),
        node.map_or("not measured".into(), |s| format!(
            "N = {}: m = {:.2} µs, d = {:.3} µs, so at most 10⁶ / d = {} deliveries/s per node core in rooms large enough that m vanishes",
            s.nodes, s.per_message, s.per_delivery, f(model::node_deliveries_per_s(&s)))));
    let _ = writeln!(out, "| N | r(N) µs | msg/s per Redis core | msg/s per node core (R = {r}) | deliveries/s per node core | cluster msg/s, one room of {r} | bound by |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for n in PROJECT {
        let redis = line.and_then(|l| model::redis_msgs_per_s(l, n));
        let per_node = node.and_then(|s| model::node_msgs_per_s(&s, r, n));
        let deliveries = per_node.map(|m| m * r as f64 / n as f64);
        let (both, by) = match (redis, per_node) {
            (Some(a), Some(b)) if a <= b => (Some(a), "Redis"),
            (Some(_), Some(b)) => (Some(b), "each node"),
            _ => (None, "-"),
        };
        let rn = line.map(|(a, b)| a + b * n as f64);
        let _ = writeln!(
            out,
            "| {n} | {} | {} | {} | {} | {} | {by} |",
            f(rn),
            f(redis),
            f(per_node),
            f(deliveries),
            f(both)
        );
    }
    let _ = writeln!(out);
    line.and_then(|l| model::redis_msgs_per_s(l, 1))
}

/// Connections per node and per Redis in [`RAM`]; returns the node's
/// count and its idle CPU (% of a core) per 100 k connections.
fn connections(out: &mut String, c: &ClusterResults) -> (Option<f64>, Option<f64>) {
    let row = c.idle.iter().find(|r| r.nodes > 0);
    let node_b = row.and_then(|r| median(&r.closed, "rss_per_conn"));
    let redis_b = row.and_then(|r| median(&r.closed, "redis_rss_per_conn"));
    let plain_b =
        c.idle.iter().find(|r| r.nodes == 0).and_then(|r| median(&r.closed, "rss_per_conn"));
    let per_node = node_b.and_then(|b| model::conns_in(RAM.0, b));
    let idle = row
        .and_then(|r| Some(median(&r.closed, "server_cpu_pct")? * 1e5 / r.shape.0.max(1) as f64));
    let _ = writeln!(out, "**3. Connections per node and per Redis.** Connections = memory / bytes per connection, from the idle table (RSS growth; the kernel's socket buffers, a few KiB per idle TCP connection, are not in RSS and not counted). In {}: a node at {} B/conn holds {} connections (the plain banterd, {} B/conn: {}); Redis at {} B per session holds {} sessions. Idle CPU grows with the connections (heartbeats): the node's idle share × 100 000 / N = {}% of a core per 100 k idle connections. Memory is not what limits a node first: the open-file limit is (20 000 per process on this machine), then that heartbeat CPU and the kernel's buffers.\n",
        RAM.1, f(node_b), f(per_node), f(plain_b), f(plain_b.and_then(|b| model::conns_in(RAM.0, b))),
        f(redis_b), f(redis_b.and_then(|b| model::conns_in(RAM.0, b))), f(idle));
    (per_node, idle)
}

/// The model section.
pub fn model(out: &mut String, c: &ClusterResults, points: &[Point], _s: &Settings) {
    let _ = writeln!(out, "### Capacity model\n\nDerived from the medians above; every figure is CPU time per event, so it holds whatever else shares the core (the nodes and Redis share one here), up to cache effects.\n");
    let all = splits(out, points);
    let redis1 = messages(out, points, &all);
    let (per_node, idle) = connections(out, c);
    let _ = writeln!(out, "**4. Against Centrifugo's published figures** (about {} PUB/SUB messages/s per Redis instance, {CENTRIFUGO_CONNS} connections per node): ours carries {} messages/s per Redis core at N = 1 ({} of Centrifugo's); a node holds {} connections by memory in {}, and would spend {}% of a core on heartbeats at 100 k.\n",
        fmt(Some(CENTRIFUGO_REDIS)), f(redis1), redis1.map_or("-".into(), |x| format!("{:.2}×", x / CENTRIFUGO_REDIS)), f(per_node), RAM.1, f(idle));
    let _ = writeln!(out, "{WHY}\n");
}

const WHY: &str = "Why they differ. Redis: Centrifugo's figure is for PUB/SUB, a PUBLISH fanned out to the node subscribers. Every Banter message is one Lua script (EVALSHA) that checks the sender's ACK memory, increments the room's id and event counters, appends the message to the room's stream (XADD, so history survives any node), publishes it, and stores the ACK (so a resend is never stored twice): seven commands and a script call where Centrifugo counts one, measured on one core that the nodes share, without persistence (with `appendonly yes` each message is also written to the append-only file). Redis's work per message involves the room's nodes (one PUBLISH reaching each subscribed node), never its members, so room size is the nodes' cost; where the table shows Redis's µs per message higher for the larger room, that room ran at a far lower message rate, where fewer commands share each read and write (and Redis's CPU is read in 10 ms clock ticks, coarse at a few % of a core). Connections: Centrifugo's 100–200 k per node are what its authors ran on larger hosts. By memory a node here would hold millions; what stops it first is the open-file limit (20 000 per process here; raised, the kernel's per-socket memory) and the heartbeat's CPU above; 100 k connections per node were not held on this machine.";
