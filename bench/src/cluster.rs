//! The comparison's cluster section (issue 17): the fan-out matrix on one
//! Redis and N = 1, 2, 3 `banterd --cluster` nodes (receivers and senders
//! each dealt round-robin over the nodes), against one banterd without
//! `--cluster` of the same shape in the same run; then idle connections on
//! one node and on the plain banterd, for memory per connection on the
//! nodes and in Redis.
//!
//! Every setup gets fresh servers, all pinned to the servers' CPU, so the
//! nodes and Redis compete for one core as they would on a loaded host;
//! what the model uses is CPU time per message and per delivery, which
//! that does not change. The section's latency rows share one open-loop
//! rate: half of the closed-loop median of the setup measured first (the
//! most nodes, the costliest). It measures; `render_cluster.rs` writes it
//! and `cluster_model.rs` derives the capacity model.

use crate::markdown::{Rerun, Runs};
use crate::plan::{Plan, Scenario};
use crate::sections::{settle, window_for, Comparison};
use crate::servers::{self, ServerProc};
use std::time::Duration;

/// One setup measured: a fan-out shape or idle connections, on N nodes
/// (0: one banterd without `--cluster`).
pub struct ClusterRow {
    /// Nodes (0: the plain banterd the cluster is compared with).
    pub nodes: usize,
    /// Fan-out: receivers, payload bytes, senders, in flight per sender;
    /// idle connections: (connections, 0, 0, 0).
    pub shape: (usize, usize, usize, u32),
    /// Closed-loop windows (idle connections: the holds).
    pub closed: Runs,
    /// Open-loop windows at `rate`.
    pub open: Runs,
    /// The open-loop rate, msg/s over all senders.
    pub rate: f64,
    /// The harness command of the closed-loop windows (target `URL`).
    pub command: String,
    /// Times measured (more than 1: another process disturbed it).
    pub attempts: usize,
}

impl Rerun for ClusterRow {
    fn disturbed_runs(&self) -> usize {
        let mut row = crate::markdown::Row::new(String::new());
        (row.base, row.ours) = (self.closed.clone(), self.open.clone());
        row.disturbed_runs()
    }

    fn set_attempts(&mut self, n: usize) {
        self.attempts = n;
    }
}

/// What the cluster section gathered.
#[derive(Default)]
pub struct ClusterResults {
    /// Fan-out rows, shape by shape, most nodes first, the plain banterd last.
    pub fanout: Vec<ClusterRow>,
    /// Idle connections: one node, then the plain banterd.
    pub idle: Vec<ClusterRow>,
    /// Server command lines (ports named `PORT`).
    pub commands: Vec<String>,
    /// Why the section could not run, if it could not.
    pub na: Option<String>,
}

/// The servers of one setup; stopped when dropped (nodes before Redis).
struct Setup {
    /// The nodes (or the one plain banterd), in order.
    nodes: Vec<ServerProc>,
    /// Their Redis (`None` for the plain banterd).
    redis: Option<ServerProc>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.nodes.clear();
    }
}

impl Comparison {
    /// The cluster section: every fan-out shape on every node count and
    /// on the plain banterd, then idle connections.
    pub fn cluster(&mut self) -> Result<(), String> {
        let mut counts = self.s.cluster_nodes.clone();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        counts.push(0);
        for &r in &self.s.cluster_receivers.clone() {
            for &b in &self.s.cluster_sizes.clone() {
                for &s in &self.s.cluster_senders.clone() {
                    self.cluster_shape(&counts, (r, b, s));
                }
            }
        }
        for n in [1, 0] {
            let mut rows = self.measured(&mut |c| vec![c.cluster_idle(n)]);
            self.results.cluster.idle.append(&mut rows);
        }
        Ok(())
    }

    /// One shape on every setup; the open-loop rate is half the first
    /// setup's closed-loop median.
    fn cluster_shape(&mut self, counts: &[usize], shape: (usize, usize, usize)) {
        let mut rate = None;
        for &n in counts {
            let mut rows = self.measured(&mut |c| vec![c.cluster_fanout(n, shape, rate)]);
            let first = rows.first().map(|r| r.closed.as_slice()).unwrap_or(&[]);
            let half = crate::markdown::median(first, "sent_per_s").map(|x| x / 2.0);
            rate = rate.or(half.filter(|&x| x > 0.0));
            self.results.cluster.fanout.append(&mut rows);
        }
    }

    /// `shape` on `n` nodes: closed loop, then open loop at `rate` (half
    /// its own closed-loop median when `None`).
    fn cluster_fanout(
        &mut self,
        n: usize,
        (r, b, s): (usize, usize, usize),
        rate: Option<f64>,
    ) -> ClusterRow {
        let window = window_for((r, b, s), self.s.window);
        let mut row = self.cluster_row(n, (r, b, s, window));
        let Some((setup, mut p)) = self.cluster_plan(&mut row, Scenario::Fanout, r + s) else {
            return row;
        };
        (p.receivers, p.size, p.senders, p.window) = (r, b, s, window);
        row.command = crate::markdown::command(&p, "URL");
        let runs = self.s.runs;
        let mut closed = self.closed_then_open(&p, runs, rate);
        row.open = closed.split_off(runs.min(closed.len()));
        let own = crate::markdown::median(&closed, "sent_per_s").map(|x| x / 2.0);
        row.rate = rate.or(own).unwrap_or(0.0);
        row.closed = closed;
        drop(setup);
        row
    }

    /// Idle connections on `n` nodes (0: the plain banterd), each run on
    /// fresh servers.
    fn cluster_idle(&mut self, n: usize) -> ClusterRow {
        let conns = self.s.cluster_conns;
        let mut row = self.cluster_row(n, (conns, 0, 0, 0));
        for _ in 0..self.s.runs {
            let Some((setup, mut p)) = self.cluster_plan(&mut row, Scenario::Connections, conns)
            else {
                break;
            };
            (p.conns, p.connect_rate) = (conns, 0.0);
            // Long enough for a heartbeat round, as the other sections.
            p.duration = Duration::from_secs_f64(self.s.duration.max(6.0));
            row.command = crate::markdown::command(&p, "URL");
            let mut got = self.session(&p, &mut |done| done.is_empty().then_some(0.0));
            row.closed.append(&mut got);
            drop(setup);
        }
        row
    }

    fn cluster_row(&self, nodes: usize, shape: (usize, usize, usize, u32)) -> ClusterRow {
        let (closed, open, command) = (Vec::new(), Vec::new(), String::new());
        ClusterRow { nodes, shape, closed, open, rate: 0.0, command, attempts: 1 }
    }

    /// Fresh servers for `row` and a plan of `scenario` over them, with
    /// room for `conns` connections; a failure is noted in `row`.
    fn cluster_plan(
        &mut self,
        row: &mut ClusterRow,
        scenario: Scenario,
        conns: usize,
    ) -> Option<(Setup, Plan)> {
        let setup = match self.cluster_servers(row.nodes, conns + 100) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("compare: cluster of {} node(s): {e}", row.nodes);
                row.closed.push(Err(e));
                return None;
            }
        };
        let mut p = self.plan(scenario, setup.nodes.first(), "banter").ok()?;
        p.nodes = setup.nodes.iter().skip(1).map(|s| s.addr).collect();
        p.node_pids = setup.nodes.iter().skip(1).map(|s| s.pid).collect();
        p.redis_pid = setup.redis.as_ref().map(|r| r.pid);
        for pid in p.pids() {
            settle(pid);
        }
        Some((setup, p))
    }

    /// Redis and `n` nodes on it (0: one banterd without `--cluster`),
    /// each allowed `max_clients` connections.
    fn cluster_servers(&mut self, n: usize, max_clients: usize) -> Result<Setup, String> {
        let cpu = self.s.cpus.map(|c| c.0);
        let bin = self.s.banterd.clone();
        if n == 0 {
            let plain = servers::banterd(&bin, cpu, max_clients, None)?;
            self.note_command(&plain.command, None);
            return Ok(Setup { nodes: vec![plain], redis: None });
        }
        let redis = servers::redis(&self.s.redis, cpu, 1000, None)?;
        self.note_command(&redis.command, None);
        let url = format!("redis://{}", redis.addr);
        let mut nodes = Vec::new();
        for k in 1..=n {
            let extra = ["--cluster".into(), url.clone(), "--node-id".into(), format!("n{k}")];
            let node = servers::banterd_with(&bin, cpu, max_clients, None, &extra)?;
            self.note_command(&node.command, Some(&url));
            nodes.push(node);
        }
        Ok(Setup { nodes, redis: Some(redis) })
    }

    /// Keeps a server command line for the report, its Redis URL and node
    /// id named (`redis://127.0.0.1:PORT`, `nK`).
    fn note_command(&mut self, command: &str, redis_url: Option<&str>) {
        let mut c = command.to_string();
        if let Some(url) = redis_url {
            c = c.replace(url, "redis://127.0.0.1:PORT");
        }
        let c = generic_node_id(&crate::render::generic(&c));
        if !self.results.cluster.commands.contains(&c) {
            self.results.cluster.commands.push(c);
        }
    }
}

/// A command line with `--node-id nK` written `--node-id nK` for any K.
fn generic_node_id(c: &str) -> String {
    match c.split_once("--node-id n") {
        Some((head, tail)) => {
            let rest = tail.trim_start_matches(|ch: char| ch.is_ascii_digit());
            format!("{head}--node-id nK{rest}")
        }
        None => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_named_generically() {
        let c = "banterd --cluster redis://127.0.0.1:PORT --node-id n12 --rate 0";
        assert_eq!(
            generic_node_id(c),
            "banterd --cluster redis://127.0.0.1:PORT --node-id nK --rate 0"
        );
        assert_eq!(generic_node_id("banterd --rate 0"), "banterd --rate 0");
    }
}
