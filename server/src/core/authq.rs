//! The password-check queue: HELLOs with a password and REGISTERs wait
//! here until a hasher thread is free. At most one check per connection
//! (so at most `--max-clients` in all); addresses take turns (one job per
//! address per round), so one host cannot starve the others' logins; a
//! check of a connection that closed is dropped before it runs; and
//! repeated failures slow a name (and, less, an address) down by making
//! its next checks wait, without holding a hasher thread meanwhile.
//!
//! The hasher threads see only jobs; what to do with an answer stays here
//! (see `handlers::hello`).

use super::addrs::key_of;
use super::{Core, PeerId, Timer};
use crate::auth::{AuthJob, Throttle, ThrottleRules};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// What to do when the hasher answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// A HELLO: WELCOME if the password matched (or the name is free).
    Login { registered: bool },
    /// A HELLO in accounts-only mode with no usable password: refuse (after
    /// the same delay as a wrong password).
    RequireAccount,
    /// A HELLO in accounts-only mode for a free name: create the account.
    CreateOnLogin,
    /// A REGISTER from a logged-in session (by its uid).
    Register { session: u32, uid: u64 },
}

/// A HELLO or REGISTER waiting for the hasher.
#[derive(Debug)]
pub struct Pending {
    /// The peer that asked.
    pub peer: PeerId,
    /// Its generation, so a reused slot is not answered.
    pub gen: u32,
    /// The name asked for.
    pub name: String,
    /// HELLO.resume.
    pub resume: u64,
    /// What to do with the answer.
    pub then: Then,
}

/// A password job for the hasher. Holds a password: no `Debug`.
pub struct AuthTicket {
    pub ticket: u64,
    pub job: AuthJob,
}

/// A job in the queue.
struct Queued {
    /// Its ticket.
    ticket: u64,
    /// The job.
    job: AuthJob,
    /// Loop time (ms) before which it may not run (the failure slowdown).
    due: u64,
}

/// What the core knows of a check until it is answered.
struct Check {
    /// What to do with the answer.
    pending: Pending,
    /// Its address key.
    ip: IpAddr,
    /// Name key, for verifications (the failure slowdown counts them).
    verify: Option<String>,
}

/// Checks waiting for a hasher thread and running on one.
pub struct AuthWait {
    /// Every check not yet answered, by ticket.
    checks: HashMap<u64, Check>,
    /// Jobs not yet handed over, per address, oldest first.
    queued: HashMap<IpAddr, VecDeque<Queued>>,
    /// Addresses with queued jobs, in turn order.
    ring: VecDeque<IpAddr>,
    /// Jobs handed to the hasher and not yet answered.
    running: usize,
    /// Failure slowdown per name.
    names: Throttle<String>,
    /// Failure slowdown per address.
    addrs: Throttle<IpAddr>,
}

impl Default for AuthWait {
    fn default() -> AuthWait {
        AuthWait {
            checks: HashMap::new(),
            queued: HashMap::new(),
            ring: VecDeque::new(),
            running: 0,
            names: Throttle::new(ThrottleRules::NAMES),
            addrs: Throttle::new(ThrottleRules::ADDRS),
        }
    }
}

impl Core {
    /// Queues a password check for `pending.peer`.
    pub(super) fn submit_auth(&mut self, pending: Pending, job: AuthJob) {
        let p = pending.peer;
        let ticket = (u64::from(pending.gen) << 32) | p as u64;
        let ip = key_of(self.peers[p].addr.ip());
        let verify = matches!(job, AuthJob::Verify { .. })
            .then(|| banter_proto::validate::name_key(&pending.name));
        let mut due = self.now;
        if let Some(key) = &verify {
            let wait =
                self.auth.names.begin(key, self.now).max(self.auth.addrs.begin(&ip, self.now));
            due += wait;
            if wait > 0 {
                self.wheel.insert(due, Timer::Wake);
            }
        }
        let q = self.auth.queued.entry(ip).or_default();
        if q.is_empty() {
            self.auth.ring.push_back(ip);
        }
        q.push_back(Queued { ticket, job, due });
        self.addrs.entry(ip).auth_waiting += 1;
        self.peers[p].rare_mut().auth_ticket = Some(ticket);
        self.auth.checks.insert(ticket, Check { pending, ip, verify });
    }

    /// Jobs for the hasher: as many as it has idle threads, one address at
    /// a time in turn, each job only once it is due.
    pub fn take_auth_jobs(&mut self, out: &mut Vec<AuthTicket>) {
        let workers = self.cfg.limits.hash_workers;
        let mut idle_rounds = 0;
        while self.auth.running < workers && idle_rounds < self.auth.ring.len() {
            let Some(ip) = self.auth.ring.pop_front() else { break };
            let Some(q) = self.auth.queued.get_mut(&ip) else { continue };
            // The oldest job that is due: a slowed name does not hold up
            // the other names of its address.
            if let Some(i) = q.iter().position(|j| j.due <= self.now) {
                let Some(j) = q.remove(i) else { continue };
                out.push(AuthTicket { ticket: j.ticket, job: j.job });
                self.auth.running += 1;
                idle_rounds = 0;
                if let Some(a) = self.addrs.get_mut(ip) {
                    a.auth_waiting = a.auth_waiting.saturating_sub(1);
                }
            } else {
                idle_rounds += 1;
            }
            if q.is_empty() {
                self.auth.queued.remove(&ip);
            } else {
                self.auth.ring.push_back(ip);
            }
        }
    }

    /// The hasher answered `ticket`: a thread is free again, and the check
    /// it answered (unless dropped meanwhile) with its slowdown bookkeeping.
    pub(super) fn answered(&mut self, ticket: u64, ok: bool) -> Option<Pending> {
        self.auth.running = self.auth.running.saturating_sub(1);
        let check = self.auth.checks.remove(&ticket)?;
        if let Some(key) = &check.verify {
            self.auth.names.finish(key, ok, self.now);
            self.auth.addrs.finish(&check.ip, ok, self.now);
        }
        if let Some(peer) = self.peers.get_mut(check.pending.peer) {
            if peer.auth_ticket() == Some(ticket) {
                peer.rare_mut().auth_ticket = None;
                peer.tidy();
            }
        }
        Some(check.pending)
    }

    /// Drops the check `ticket` (its connection is closing): out of the
    /// queue if it has not run, ignored when it comes back if it has.
    pub(super) fn cancel_auth(&mut self, ticket: u64) {
        let Some(check) = self.auth.checks.remove(&ticket) else { return };
        if let Some(key) = &check.verify {
            self.auth.names.cancel(key);
            self.auth.addrs.cancel(&check.ip);
        }
        let Some(q) = self.auth.queued.get_mut(&check.ip) else { return };
        let Some(i) = q.iter().position(|j| j.ticket == ticket) else { return };
        q.remove(i);
        if let Some(a) = self.addrs.get_mut(check.ip) {
            a.auth_waiting = a.auth_waiting.saturating_sub(1);
        }
        if q.is_empty() {
            self.auth.queued.remove(&check.ip);
            self.auth.ring.retain(|&x| x != check.ip);
        }
    }

    /// Password hashing threads to start (`--hash-workers`).
    pub fn hash_workers(&self) -> usize {
        self.cfg.limits.hash_workers
    }
}
