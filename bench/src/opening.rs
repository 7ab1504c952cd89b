//! How a worker opens connections: paced during a connection ramp, at
//! most a few in setup at once, and once TCP is up the WebSocket upgrade
//! (if any), then the login; a finished TLS handshake is counted here.
//!
//! Reading, writing and closing are `worker.rs`'s; what the server answers
//! to the login is `roles.rs`'s.

use crate::conn::{Conn, State};
use crate::link::Link;
use crate::net;
use crate::plan::{ConnSpec, Role, Scenario};
use crate::shared::Phase;
use crate::worker::{Worker, SETUP_AT_ONCE};
use mio::{Interest, Token};

impl Worker {
    /// Opens what the scenario and phase call for now.
    pub(crate) fn open_due(&mut self) {
        let churning = self.plan.scenario == Scenario::Churn;
        let load = matches!(self.phase, Phase::Warmup | Phase::Measure);
        if (churning && !load) || (!churning && self.phase != Phase::Setup) {
            return;
        }
        let limit = self.ramp_allowance();
        while self.in_setup < SETUP_AT_ONCE && self.opened < limit {
            let Some(spec) = self.to_open.pop_front() else {
                break;
            };
            self.open(spec);
        }
    }

    /// How many connections the ramp allows to have been opened by now.
    fn ramp_allowance(&mut self) -> u64 {
        if self.plan.scenario != Scenario::Connections || self.plan.connect_rate <= 0.0 {
            return u64::MAX;
        }
        let start = *self.ramp_start.get_or_insert(self.now);
        let per_worker = self.plan.connect_rate / self.plan.threads.max(1) as f64;
        1 + (per_worker * (self.now - start) as f64 / 1e9) as u64
    }

    fn open(&mut self, spec: ConnSpec) {
        let link = match Link::new(&self.link) {
            Ok(l) => l,
            Err(e) => return self.open_failed(spec, &e),
        };
        let mut stream = match net::connect_from(spec.source, spec.addr) {
            Ok(s) => s,
            Err(e) => return self.open_failed(spec, &format!("connect: {e}")),
        };
        let entry = self.conns.vacant_entry();
        let interest = Interest::READABLE | Interest::WRITABLE;
        let token = Token(entry.key());
        if let Err(e) = self.poll.registry().register(&mut stream, token, interest) {
            return self.open_failed(spec, &format!("register: {e}"));
        }
        let mut conn = Conn::new(stream, link, spec, self.plan.senders);
        conn.t0 = self.now;
        entry.insert(conn);
        self.opened += 1;
        self.in_setup += 1;
        self.counts.open += 1;
    }

    fn open_failed(&mut self, spec: ConnSpec, why: &str) {
        self.counts.failed += 1;
        self.counts.errors += 1;
        self.shared.note_error(why);
        if spec.role == Role::Churner {
            self.to_open.push_back(spec);
        }
    }

    /// The TCP connection is up: the WebSocket upgrade, or the login.
    pub(crate) fn connected(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        if c.link.start(&self.link, &mut c.out, &mut self.masks) {
            self.log_in(key);
        } else {
            c.state = State::Upgrading;
            self.mark_dirty(key);
        }
    }

    /// Sends the protocol's login.
    fn log_in(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        c.state = State::LoggingIn;
        let proto = self.proto;
        c.send(&mut self.masks, |out, spec| proto.login(out, &spec.name));
        self.mark_dirty(key);
    }

    /// After a read: counts a finished TLS handshake, and logs in once a
    /// WebSocket upgrade is through.
    pub(crate) fn link_events(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        if let Some(summary) = c.link.take_handshake() {
            self.counts.handshakes += 1;
            self.shared.note_tls(&summary);
        }
        if c.link.take_opened() && c.state == State::Upgrading {
            self.log_in(key);
        }
    }
}
