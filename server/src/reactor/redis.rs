//! The reactor's side of a cluster (`--cluster`): the two Redis sockets
//! are polled like any other, what Redis says goes into the core, and
//! what the core asks goes to Redis once per turn, after the handlers ran
//! (so a turn's scripts leave in one write, as peers' output does).

use super::Reactor;
use crate::cluster::{Cluster, Input, Op};
use mio::Token;

/// Poll tokens of the two Redis connections.
pub(super) const REDIS_CMD: Token = Token(usize::MAX - 4);
pub(super) const REDIS_SUB: Token = Token(usize::MAX - 5);

/// The cluster's connections and the lists each turn reuses.
pub struct Redis {
    /// The connections.
    pub(super) cluster: Cluster,
    /// Ops taken from the core.
    ops: Vec<Op>,
    /// Inputs for the core.
    inputs: Vec<Input>,
    /// The subscription was read this turn already (carrying on from the
    /// last turn's budget): its poll event is skipped, so a turn reads at
    /// most one budget's worth.
    sub_read: bool,
}

impl Redis {
    /// Connections for `url` as node `node` (dead nodes' sessions are
    /// reaped after `linger_ms`).
    pub fn new(url: &str, node: &str, linger_ms: u64) -> Result<Redis, String> {
        let cluster = Cluster::new(url, node, linger_ms, REDIS_CMD, REDIS_SUB)?;
        log::info!("cluster node {node} on {}", cluster.shown());
        Ok(Redis { cluster, ops: Vec::new(), inputs: Vec::new(), sub_read: false })
    }
}

impl Reactor {
    /// Connects, renews and reaps what is due.
    pub(super) fn redis_tick(&mut self) {
        if let Some(r) = self.redis.as_mut() {
            r.cluster.tick(self.poll.registry(), self.now);
        }
    }

    /// When the cluster next needs the loop.
    pub(super) fn redis_due(&self) -> Option<u64> {
        self.redis.as_ref().and_then(|r| r.cluster.next_due())
    }

    /// Whether `token` is a Redis socket; if so, its event is handled.
    pub(super) fn on_redis_event(&mut self, token: Token, ev: &mio::event::Event) -> bool {
        let Some(r) = self.redis.as_mut().filter(|r| r.cluster.owns(token)) else { return false };
        if r.sub_read && r.cluster.is_sub(token) {
            return true; // read to WouldBlock or to the budget already
        }
        r.cluster.on_event(token, ev.is_writable(), self.now, &mut r.inputs);
        self.feed_core();
        true
    }

    /// Reads on from where the subscription's last read stopped at its
    /// turn's budget.
    pub(super) fn read_redis_unread(&mut self) {
        let Some(r) = self.redis.as_mut() else { return };
        r.sub_read = false;
        let Some(token) = r.cluster.unread() else { return };
        r.sub_read = true;
        r.cluster.on_event(token, false, self.now, &mut r.inputs);
        self.feed_core();
    }

    /// Whether the subscription has more to read at once.
    pub(super) fn redis_unread(&self) -> bool {
        self.redis.as_ref().is_some_and(|r| r.cluster.unread().is_some())
    }

    /// The core's ops to Redis (and what fails at once back to the core)
    /// until it has no more, then one write per connection.
    pub(super) fn pump_redis(&mut self) {
        loop {
            let Some(r) = self.redis.as_mut() else { return };
            self.core.take_cluster_ops(&mut r.ops);
            if r.ops.is_empty() {
                break;
            }
            for op in r.ops.drain(..) {
                r.cluster.submit(op, &mut r.inputs);
            }
            self.feed_core();
        }
        let Some(r) = self.redis.as_mut() else { return };
        r.cluster.flush(self.now, &mut r.inputs);
        self.feed_core();
    }

    /// Hands what Redis said to the core, then reads the peers whose held
    /// input may flow again.
    fn feed_core(&mut self) {
        let Some(r) = self.redis.as_mut() else { return };
        if r.inputs.is_empty() {
            return;
        }
        let inputs = std::mem::take(&mut r.inputs);
        for input in inputs {
            self.core.cluster_input(input);
        }
        self.read_resumed();
    }
}
