//! An in-process driver of the core for fuzzing (`fuzz/fuzz_targets/core.rs`)
//! and its regression tests: bytes are read as operations (peers connect
//! from a few addresses, send frames chosen from a vocabulary that favours
//! edge cases or raw bytes, close, fail, read their output fast or slowly;
//! time steps; the hasher answers), and after each one the protocol's
//! invariants are checked: every peer's stream is whole frames; no live MSG
//! for a room the peer is not in; a member's ids gapless from JOINED on;
//! bounded output; the core's own bounds (rooms, history memory, lingering
//! sessions, ids handed out). A violation is an `Err`, a bug a panic.
//!
//! Built with the `harness` feature (the fuzz crate's) and in unit tests.

mod input;
mod observe;

use super::{Core, PeerId};
use crate::auth::{AuthOutcome, AuthResult};
use crate::config::{parse, Command};
use crate::store::memory::MemoryStore;
use banter_proto::ClientFrame;
use input::{frame, Input};
use observe::View;
use std::io::IoSlice;

/// The wall clock: a fixed day plus the loop's time.
const EPOCH: u64 = 1_764_300_000_000;
/// Most peers alive at once.
const MAX_PEERS: usize = 48;

/// The command lines the first input byte picks from: small limits, so
/// that inputs reach them.
const CONFIGS: [&[&str]; 3] = [
    &[
        "--rate",
        "4",
        "--out-limit",
        "65536",
        "--max-frame",
        "2048",
        "--max-text",
        "300",
        "--heartbeat-ms",
        "1000",
        "--linger-ms",
        "3000",
        "--max-rooms",
        "4",
        "--history-memory",
        "6000",
        "--max-per-ip",
        "3",
        "--conn-rate",
        "4",
        "--hash-workers",
        "2",
        "--join-rate",
        "2",
        "--query-rate",
        "2",
        "--min-rate",
        "50",
    ],
    &[
        "--rate",
        "0",
        "--join-rate",
        "0",
        "--query-rate",
        "0",
        "--max-per-ip",
        "0",
        "--conn-rate",
        "0",
        "--out-limit",
        "70000",
        "--max-lingering",
        "2",
        "--max-rooms",
        "6",
        "--hash-workers",
        "1",
        "--heartbeat-ms",
        "400",
        "--linger-ms",
        "800",
    ],
    &[],
];

/// What a run reached, to tell a useful corpus from a dull one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    /// WELCOMEs sent.
    pub welcomes: usize,
    /// JOINEDs sent.
    pub joins: usize,
    /// Live MSGs and ACKs sent.
    pub messages: usize,
    /// Fatal ERRORs sent.
    pub fatal: usize,
}

/// Runs the operations in `data`; `Err` names the first broken invariant.
pub fn run(data: &[u8]) -> Result<Reached, String> {
    let Some((&first, ops)) = data.split_first() else { return Ok(Reached::default()) };
    let args = CONFIGS[usize::from(first) % CONFIGS.len()];
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let Ok(Command::Run(cfg)) = parse(&args, |_| None) else { return Err("bad config".into()) };
    let core = Core::new(*cfg, Box::new(MemoryStore::default()))?;
    let mut h = Harness {
        core,
        now: 0,
        peers: Vec::new(),
        held: Vec::new(),
        port: 1,
        reached: Reached::default(),
    };
    h.core.set_time(0, EPOCH);
    let mut input = Input { data: ops, at: 0 };
    while let Some(op) = input.byte() {
        h.op(op, &mut input)?;
        h.check()?;
    }
    h.step(0);
    h.read_all()?;
    h.gapless()?;
    h.check()?;
    Ok(h.reached)
}

/// One driven peer.
struct Driven {
    /// The core's key.
    id: PeerId,
    /// What it was sent, checked.
    view: View,
    /// Read only when asked (a slow reader).
    slow: bool,
}

/// The core, its clock and its peers.
struct Harness {
    core: Core,
    /// Loop milliseconds.
    now: u64,
    /// Peers still in the core.
    peers: Vec<Driven>,
    /// Password jobs taken from the core and not yet answered.
    held: Vec<(u64, bool)>,
    /// Next source port.
    port: u16,
    /// What was reached so far.
    reached: Reached,
}

impl Harness {
    fn op(&mut self, op: u8, r: &mut Input<'_>) -> Result<(), String> {
        match op % 12 {
            0 => self.connect(r.b()),
            1..=4 if !self.peers.is_empty() => {
                let tokens: Vec<u64> = self
                    .peers
                    .iter()
                    .filter_map(|d| d.view.welcome.as_ref().map(|w| w.1))
                    .collect();
                let d = &self.peers[usize::from(r.b()) % self.peers.len()];
                let joined: Vec<String> = d.view.rooms.keys().cloned().collect();
                let frame = frame(r, &tokens, &joined);
                self.core.input(d.id, &frame.to_bytes());
            }
            1..=4 => {}
            5 => {
                // Mostly a frame with a right length and any type and body
                // (answered and skipped); sometimes any bytes at all.
                let (who, how, n) = (r.b(), r.b(), usize::from(r.b() % 40));
                let mut raw = Vec::new();
                if how % 4 != 0 {
                    raw.extend((n as u32 + 1).to_be_bytes());
                    raw.push(how);
                }
                raw.extend_from_slice(r.bytes(n));
                self.with_peer(who, |core, p| core.input(p, &raw));
            }
            6 if r.b().is_multiple_of(2) => self.with_peer(r.b(), |core, p| core.peer_closed(p)),
            6 => self.with_peer(r.b(), |core, p| core.transport_failed(p, "reset".into())),
            7 => {
                // Mostly a short step; now and then seconds (timeouts).
                let b = u64::from(r.b());
                self.step(if b < 200 { b % 60 } else { (b - 200) * 100 });
            }
            8 => self.hasher(r.b()),
            9 => {
                let i = usize::from(r.b());
                let n = self.peers.len().max(1);
                if let Some(d) = self.peers.get_mut(i % n) {
                    d.slow = !d.slow;
                }
            }
            10 => {
                self.step(0);
                self.read_all()?;
                self.gapless()?;
            }
            _ => self.reap(),
        }
        self.read_fast()
    }

    /// A new peer from one of three addresses; three times in four it
    /// logs in at once as a name of its own.
    fn connect(&mut self, b: u8) {
        if self.peers.len() >= MAX_PEERS {
            return;
        }
        self.port = self.port.wrapping_add(1);
        let ip = [10, 0, 0, 1 + b % 3];
        let id = self.core.connect((ip, self.port).into());
        self.peers.push(Driven { id, view: View::default(), slow: false });
        if b >> 6 != 0 {
            let name = format!("u{}", self.port);
            let hello = ClientFrame::Hello { version: 1, name, password: String::new(), resume: 0 };
            self.core.input(id, &hello.to_bytes());
        }
    }

    fn with_peer(&mut self, b: u8, f: impl FnOnce(&mut Core, PeerId)) {
        if self.peers.is_empty() {
            return;
        }
        let id = self.peers[usize::from(b) % self.peers.len()].id;
        f(&mut self.core, id);
    }

    /// Moves the clock on and ends a turn, as the reactor does.
    fn step(&mut self, ms: u64) {
        self.now += ms;
        self.core.set_time(self.now, EPOCH + self.now);
        self.core.fire_timers();
        self.core.end_turn();
    }

    /// Hands jobs to a made-up hasher and answers some of those it holds.
    fn hasher(&mut self, b: u8) {
        let mut jobs = Vec::new();
        self.core.take_auth_jobs(&mut jobs);
        for j in jobs {
            let hash = matches!(j.job, crate::auth::AuthJob::Hash { .. });
            self.held.push((j.ticket, hash));
        }
        let answer = usize::from(b % 4).min(self.held.len());
        for (i, (ticket, hash)) in self.held.drain(..answer).enumerate() {
            let outcome = if hash {
                AuthOutcome::Hashed(Ok("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA".into()))
            } else {
                AuthOutcome::Verified((usize::from(b) >> (2 + i)) & 1 == 1)
            };
            self.core.auth_result(AuthResult { ticket, outcome });
        }
    }

    /// Removes peers whose close is complete, as the reactor's reap does.
    fn reap(&mut self) {
        let core = &mut self.core;
        self.peers.retain(|d| {
            let done =
                core.peer(d.id).is_none_or(|x| x.is_closing() && (x.expired || x.out.is_empty()));
            if done {
                core.remove(d.id);
            }
            !done
        });
    }

    /// Reads the output of every peer that is not slow.
    fn read_fast(&mut self) -> Result<(), String> {
        for i in 0..self.peers.len() {
            if !self.peers[i].slow {
                self.read(i)?;
            }
        }
        Ok(())
    }

    /// Reads everything owed to every peer.
    fn read_all(&mut self) -> Result<(), String> {
        (0..self.peers.len()).try_for_each(|i| self.read(i))
    }

    fn read(&mut self, i: usize) -> Result<(), String> {
        let d = &mut self.peers[i];
        let Some(out) = self.core.output(d.id) else { return Ok(()) };
        let mut got = Vec::new();
        while !out.is_empty() {
            let mut s = [IoSlice::new(&[]); 16];
            let n = out.slices(&mut s);
            let len: usize = s[..n].iter().map(|x| x.len()).sum();
            s[..n].iter().for_each(|x| got.extend_from_slice(x));
            out.consume(len);
        }
        let frames = d.view.take(&got).map_err(|e| format!("peer #{}: {e}", d.id))?;
        let id = d.id;
        for f in &frames {
            if let banter_proto::ServerFrame::Ping { nonce } = f {
                // A live client answers; a slow one is not read here anyway.
                self.core.input(id, &ClientFrame::Pong { nonce: *nonce }.to_bytes());
            }
            use banter_proto::ServerFrame as F;
            match f {
                F::Welcome { .. } => self.reached.welcomes += 1,
                F::Joined { .. } => self.reached.joins += 1,
                F::Msg { .. } | F::Ack { .. } => self.reached.messages += 1,
                F::Error { code, .. } if *code == 8 || *code == 9 || *code == 11 => {
                    self.reached.fatal += 1
                }

                _ => {}
            }
        }
        Ok(())
    }

    /// Every connected member saw its rooms' ids without a gap.
    fn gapless(&self) -> Result<(), String> {
        for d in &self.peers {
            let open = self.core.peer(d.id).is_some_and(|x| !x.is_closing());
            if open && !d.view.fatal {
                d.view.gapless().map_err(|e| format!("peer #{}: {e}", d.id))?;
            }
        }
        Ok(())
    }

    /// Bounds that hold after every operation.
    fn check(&self) -> Result<(), String> {
        let c = &self.core;
        let cap = c.cfg.out_limit + c.cfg.max_frame as usize + 256;
        for d in &self.peers {
            if let Some(p) = c.peer(d.id) {
                if p.backlog() > cap || p.out.footprint() > cap + 2 * super::outq::SEG_MAX {
                    return Err(format!("peer #{} owes {} bytes", d.id, p.backlog()));
                }
            }
        }
        if c.rooms.len() - c.direct_rooms > c.cfg.limits.max_rooms {
            return Err(format!("{} rooms in memory", c.rooms.len()));
        }
        if c.lingering.live > c.cfg.limits.max_lingering {
            return Err(format!("{} sessions lingering", c.lingering.live));
        }
        if c.history.bytes > c.cfg.limits.history_memory {
            return Err(format!("{} bytes of history", c.history.bytes));
        }
        for (key, &s) in &c.names {
            let ok = c.sessions.get(s as usize).is_some_and(|x| {
                *banter_proto::validate::name_key(&x.name) == **key
                    && x.rooms
                        .iter()
                        .all(|&r| c.rooms.get(r as usize).is_some_and(|m| m.members.contains(&s)))
            });
            if !ok {
                return Err(format!("name {key} and its session disagree"));
            }
        }
        if c.names.len() != c.sessions.len() {
            return Err(format!("{} names, {} sessions", c.names.len(), c.sessions.len()));
        }
        for (_, room) in &c.rooms {
            if !c.batch_pending() && room.next_id != room.last_id + 1 {
                return Err(format!(
                    "room {}: next id {} after {}",
                    room.name, room.next_id, room.last_id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
