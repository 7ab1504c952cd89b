//! What each role does with what the server says, and the per-turn work
//! (`pump`): senders keep their window full (closed loop) or their schedule
//! (open loop, stamped with the intended send time), readers re-JOIN, the
//! filler fills, churners go round.
//!
//! Socket handling is `worker.rs`'s; this file only queues output.

use crate::conn::State;
use crate::plan::{ConnSpec, Role, Scenario};
use crate::proto::{Event, FEATURE_FILES, FEATURE_RECEIPTS};
use crate::shared::Phase;
use crate::stamp::{self, Stamp};
use crate::stats::Seen;
use crate::worker::Worker;
use banter_proto::{types, ErrorCode};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// Publishes the filler keeps in flight.
const FILL_WINDOW: u32 = 64;
/// A sender stops queueing while this much of its output is unwritten
/// (open loop keeps its schedule and catches up, stamps stay honest).
const OUT_CAP: usize = 4 << 20;

impl Worker {
    /// Acts on one unit the server sent on connection `key`.
    pub(crate) fn on_event(&mut self, key: usize, ev: Event<'_>) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        let role = c.spec.role;
        match ev {
            Event::Welcome { max_frame, features } if c.state == State::LoggingIn => {
                self.welcome(key, role, max_frame, features)
            }
            Event::Joined { last_id } if c.state == State::Joining => self.ready(key, last_id),
            Event::Ack { seq, id } => {
                self.mark(key, id);
                match role == Role::Mover && seq >= crate::mover::UPLOAD_SEQ0 {
                    true => self.mover_acked(key, seq),
                    false => self.acked(key),
                }
            }
            Event::Msg { payload, replay, id } => self.delivered(key, role, payload, (replay, id)),
            Event::HistoryEnd { .. } if role == Role::Reader => self.replay_done(key),
            Event::Ping { nonce } => {
                let proto = self.proto;
                c.send(&mut self.masks, |out, _| proto.pong(out, nonce));
                self.mark_dirty(key);
            }
            Event::Read { room, name, id } => self.on_read(key, room, name, id),
            Event::Registered if role == Role::Mover => self.mover_registered(key),
            Event::UploadReady { seq, offset } => self.on_upload_ready(key, seq, offset),
            Event::FileData { file, offset, last, data } => {
                self.on_file_data(key, (file, offset, last, data))
            }
            Event::Error { fatal, answers_publish, about, code, text } => {
                self.on_error(key, role, (fatal, answers_publish, about, code), &text)
            }
            _ => {}
        }
    }

    /// An ERROR: counted and noted; a fatal one (or a refused REGISTER:
    /// the mover cannot work without an account) ends the connection.
    fn on_error(&mut self, key: usize, role: Role, e: (bool, bool, u8, u16), text: &str) {
        let (fatal, answers_publish, about, code) = e;
        let registered = ErrorCode::AlreadyRegistered.code();
        if role == Role::Mover && about == types::REGISTER && code == registered {
            return self.mover_registered(key); // signed in with its password
        }
        self.counts.errors += 1;
        self.shared.note_error(text);
        if fatal || about == types::REGISTER {
            self.closed(key, text, false);
        } else if answers_publish {
            self.acked(key);
        } else if role == Role::Mover {
            self.mover_refused(key, about);
        }
    }

    /// Logged in: a check that the server offers what the scenario needs,
    /// then the join (the mover registers first).
    fn welcome(&mut self, key: usize, role: Role, max_frame: u32, features: u8) {
        let need = match (self.plan.scenario, role) {
            (Scenario::Receipts, _) => Some((FEATURE_RECEIPTS, "receipts")),
            (Scenario::Files, Role::Mover) => Some((FEATURE_FILES, "files (banterd --files DIR)")),
            _ => None,
        };
        if let Some((bit, what)) = need.filter(|(bit, _)| features & bit == 0) {
            let why =
                format!("the server does not offer {what} (WELCOME features {bit:#x} lacking)");
            self.shared.note_error(&why);
            return self.closed(key, &why, false);
        }
        if role == Role::Mover {
            return self.mover_welcome(key, max_frame);
        }
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        if self.proto.must_join(role.receives()) && role != Role::Reader {
            c.state = State::Joining;
            let proto = self.proto;
            c.send(&mut self.masks, |out, spec| proto.join(out, &spec.room, 0));
            self.mark_dirty(key);
        } else {
            self.ready(key, 0);
        }
    }

    /// Connection `key` finished its setup (`last_id`: the room's newest id).
    fn ready(&mut self, key: usize, last_id: u64) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        c.state = State::Ready;
        self.in_setup -= 1;
        match c.spec.role {
            Role::Filler => {
                c.to_fill = self.plan.history.saturating_sub(last_id);
                self.active.push(key);
                return self.fill_check(key);
            }
            Role::Sender { .. } | Role::Reader | Role::Chatter { .. } | Role::Mover => {
                self.active.push(key)
            }
            Role::Churner => self.publish(key, self.now),
            Role::Receiver | Role::Idle => {}
        }
        self.counts.ready += 1;
    }

    /// A publish was answered. A closed-loop sender refills its window at
    /// once (the worker writes it before serving another socket), as an
    /// independent client would, rather than at the next turn of the loop.
    fn acked(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        c.in_flight = c.in_flight.saturating_sub(1);
        self.counts.acked += 1;
        let load = matches!(self.phase, Phase::Warmup | Phase::Measure);
        match c.spec.role {
            Role::Sender { idx } if load && self.window.1 <= 0.0 => {
                self.top_up(key, idx);
            }
            Role::Churner => {
                c.state = State::Quitting;
                let proto = self.proto;
                c.send(&mut self.masks, |out, _| proto.quit(out));
                self.mark_dirty(key);
            }
            Role::Filler => self.fill_check(key),
            _ => {}
        }
    }

    /// The filler counts as ready once the room holds the history asked for.
    fn fill_check(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        if c.to_fill == 0 && c.in_flight == 0 {
            self.active.retain(|&k| k != key);
            self.counts.ready += 1;
        }
    }

    /// A message arrived on `key`: marked (receipts), checked for order,
    /// and its latency recorded (files: chat that does not touch the
    /// mover's connection goes to the side histogram).
    fn delivered(&mut self, key: usize, role: Role, payload: &[u8], (replay, id): (bool, u64)) {
        if !replay {
            self.mark(key, id);
        }
        match role {
            Role::Receiver | Role::Chatter { .. } | Role::Mover if !replay => {}
            Role::Reader if replay => {
                self.counts.delivered += 1;
                return;
            }
            _ => return,
        }
        let Some(st) = stamp::read(payload) else {
            self.counts.errors += 1;
            return self.shared.note_error("a message without this run's stamp");
        };
        let Some(order) = self.conns.get_mut(key).and_then(|c| c.order.as_mut()) else {
            return;
        };
        match order.see(st.sender, st.seq) {
            Seen::InOrder => {}
            Seen::Gap(n) => self.lost += u64::from(n),
            Seen::Late => self.late += 1,
            Seen::Foreign => return self.shared.note_error("a message from an unknown sender"),
        }
        self.counts.delivered += 1;
        if self.phase == Phase::Measure {
            let ns = self.now.saturating_sub(st.sent_ns).max(1);
            match matches!(role, Role::Chatter { .. }) && st.sender != 0 {
                true => self.extra.side.saturating_record(ns),
                false => self.hist.saturating_record(ns),
            }
        }
    }

    fn replay_done(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        c.in_flight = 0;
        self.counts.cycles += 1;
        if self.phase == Phase::Measure {
            self.hist.saturating_record(self.now.saturating_sub(c.t0).max(1));
        }
    }

    /// A connection is gone; a churner's cycle ends (and a new one is
    /// queued); the mover's transfer ends with it.
    pub(crate) fn after_close(&mut self, c: crate::conn::Conn, quit_done: bool) {
        if c.spec.role == Role::Mover {
            self.mover_gone(quit_done);
        }
        if c.spec.role != Role::Churner || self.phase == Phase::Done {
            return;
        }
        if quit_done {
            self.counts.cycles += 1;
            if self.phase == Phase::Measure {
                self.hist.saturating_record(self.now.saturating_sub(c.t0).max(1));
            }
        }
        self.cycle += 1;
        let base = &c.spec.name[..c.spec.name.find('z').unwrap_or(c.spec.name.len())];
        let name = format!("{base}z{:x}", self.cycle);
        let spec = ConnSpec { name, ..c.spec };
        self.to_open.push_back(spec);
    }

    /// The per-turn work of the active connections.
    pub(crate) fn pump(&mut self) {
        let load = matches!(self.phase, Phase::Warmup | Phase::Measure);
        let mut next_due = u64::MAX;
        for i in 0..self.active.len() {
            let Some(&key) = self.active.get(i) else {
                break;
            };
            let Some(c) = self.conns.get(key) else {
                continue;
            };
            let role = c.spec.role;
            match (role, c.in_flight, role.sender_idx()) {
                (Role::Filler, _, _) => self.fill(key),
                (Role::Reader, 0, _) if load => self.rejoin(key),
                (_, _, Some(idx)) if load => next_due = next_due.min(self.top_up(key, idx)),
                _ => {}
            }
            if role == Role::Mover {
                self.move_files(key);
            }
        }
        if next_due != u64::MAX && next_due != self.armed_for {
            let wait = next_due.saturating_sub(self.now);
            self.timer.arm(Duration::from_nanos(wait));
            self.armed_for = next_due;
        }
    }

    /// The filler publishes while it has room in its window.
    fn fill(&mut self, key: usize) {
        while let Some(c) = self.conns.get_mut(key) {
            if c.in_flight >= FILL_WINDOW || c.to_fill == 0 {
                return;
            }
            c.to_fill -= 1;
            self.publish(key, self.now);
        }
    }

    /// A reader asks for the replay again.
    fn rejoin(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        c.in_flight = 1;
        c.t0 = self.now;
        let (proto, limit) = (self.proto, self.plan.limit);
        c.send(&mut self.masks, |out, spec| proto.join(out, &spec.room, limit));
        self.mark_dirty(key);
    }

    /// Sender `idx` publishes what its loop allows now; returns when it is
    /// next due (open loop), `u64::MAX` if never by time (closed loop).
    fn top_up(&mut self, key: usize, idx: u32) -> u64 {
        let (plan, rate) = (&self.plan, self.window.1);
        if rate <= 0.0 {
            let window = plan.window.max(1);
            while let Some(c) = self.conns.get(key) {
                if c.in_flight >= window || c.pending() > OUT_CAP {
                    break;
                }
                self.publish(key, self.now);
            }
            return u64::MAX;
        }
        let interval = plan.senders as f64 * 1e9 / rate;
        let start = self.shared.load_start_ns.load(Relaxed);
        let origin = start as f64 + interval * f64::from(idx) / plan.senders as f64;
        loop {
            let Some(c) = self.conns.get(key) else {
                return u64::MAX;
            };
            let due = (origin + interval * f64::from(c.seq - c.base)) as u64;
            if c.pending() > OUT_CAP {
                return self.now + 1_000_000;
            }
            if due > self.now {
                return due;
            }
            self.publish(key, due);
        }
    }

    /// Queues one publish on `key`, stamped with `sent_ns`.
    fn publish(&mut self, key: usize, sent_ns: u64) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        let sender = c.spec.role.sender_idx().unwrap_or(0);
        c.seq += 1;
        c.in_flight += 1;
        let st = Stamp { sender, seq: c.seq, sent_ns };
        stamp::write(&mut self.payload, st, self.plan.size);
        let (proto, seq, payload) = (self.proto, c.seq, &self.payload);
        c.send(&mut self.masks, |out, spec| proto.publish(out, &spec.room, seq, payload));
        let stamped = c.spec.role.sender_idx().and(self.shared.last_seq.get(sender as usize));
        if let Some(last) = stamped {
            last.store(c.seq, Relaxed);
        }
        self.counts.sent += 1;
        self.mark_dirty(key);
    }

    /// Says goodbye to every connection (QUIT) and settles the order check
    /// and the last window's READs; returns when it started.
    pub(crate) fn goodbye(&mut self) -> u64 {
        self.close_read_window();
        let last = self.shared.last_seqs();
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            let Some(c) = self.conns.get_mut(key) else {
                continue;
            };
            if let Some(order) = &c.order {
                self.lost += order.missing(&last);
            }
            if c.state == State::Connecting {
                self.closed(key, "", false);
                continue;
            }
            if c.state != State::Ready {
                self.in_setup -= 1;
            }
            c.state = State::Quitting;
            let proto = self.proto;
            c.send(&mut self.masks, |out, _| proto.quit(out));
            self.mark_dirty(key);
        }
        self.to_open.clear();
        self.now
    }
}
