//! One worker thread: a mio poll loop over its share of the connections.
//! It opens them (paced during a connection ramp), reads through one
//! scratch buffer, hands each parsed unit to the role logic (`roles.rs`),
//! writes queued output, and publishes its counters once per loop turn.
//!
//! It does not decide the phase (the coordinator does) and never blocks
//! on anything but the poll.

use crate::conn::{Conn, State};
use crate::extra::Extra;
use crate::link::ws::Masks;
use crate::link::{self, ReadResult};
use crate::net::{self, Timer};
use crate::plan::{ConnSpec, Plan};
use crate::proto::Proto;
use crate::shared::{Counts, Phase, Shared};
use hdrhistogram::Histogram;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// The timer's poll token (connections use their slab key).
const TIMER: Token = Token(usize::MAX);
/// Read buffer shared by all of a worker's connections.
const SCRATCH: usize = 1 << 20;
/// Buffer for TLS records read before decryption (TLS targets only).
const RAW: usize = 256 << 10;
/// Connections a worker has in setup at once, so the listen backlog of
/// the server never overflows (a dropped SYN costs a 1 s retry).
pub(crate) const SETUP_AT_ONCE: usize = 128;
/// How long the goodbye may take before connections are just dropped.
const GOODBYE_NS: u64 = 3_000_000_000;

/// What a worker hands back at the end.
pub struct WorkerResult {
    /// Latencies (ns) recorded while measuring, by window number.
    pub hists: Vec<Histogram<u64>>,
    /// Messages a receiver never got (gaps, and tails missing after the drain).
    pub lost: u64,
    /// Messages that came after a later one of the same sender.
    pub late: u64,
    /// Receipts and files figures, by window number.
    pub extras: Vec<Extra>,
}

/// A worker's state; fields are crate-visible for `roles.rs`.
pub struct Worker {
    /// This worker's index (its counter slot).
    pub(crate) id: usize,
    /// The run.
    pub(crate) plan: Arc<Plan>,
    /// Phase, counters and sender sequence numbers shared with the others.
    pub(crate) shared: Arc<Shared>,
    /// The target's protocol.
    pub(crate) proto: Proto,
    /// The poll.
    pub(crate) poll: Poll,
    /// The connections, keyed by poll token.
    pub(crate) conns: Slab<Conn>,
    /// Connections still to open.
    pub(crate) to_open: VecDeque<ConnSpec>,
    /// Connections opened so far (for the ramp's pace).
    pub(crate) opened: u64,
    /// When the first connection was opened (ns), for the ramp's pace.
    pub(crate) ramp_start: Option<u64>,
    /// Connections opened but not set up yet.
    pub(crate) in_setup: usize,
    /// Keys with output to write.
    pub(crate) dirty: Vec<usize>,
    /// Keys of connections that act on every turn (senders, readers, filler).
    pub(crate) active: Vec<usize>,
    /// The transport every connection uses (TLS config, WebSocket upgrade).
    pub(crate) link: link::Setup,
    /// The read buffer.
    scratch: Box<[u8]>,
    /// TLS records as read, before decryption (empty without TLS).
    raw: Box<[u8]>,
    /// Random WebSocket masks.
    pub(crate) masks: Masks,
    /// A reusable payload buffer.
    pub(crate) payload: Vec<u8>,
    /// Open-loop pacing timer.
    pub(crate) timer: Timer,
    /// When the timer is armed to fire (ns; 0: not armed), so it is only
    /// re-armed when the next due time changes (timerfd_settime is costly).
    pub(crate) armed_for: u64,
    /// This worker's counters.
    pub(crate) counts: Counts,
    /// Latencies (ns) recorded while measuring, by window number.
    pub(crate) hists: Vec<Histogram<u64>>,
    /// The window whose histogram is `hist`, and its open-loop rate.
    pub(crate) window: (u32, f64),
    /// The current window's latencies (ns).
    pub(crate) hist: Histogram<u64>,
    /// Receipts and files figures of the windows so far, by number.
    pub(crate) extras: Vec<Extra>,
    /// The current window's.
    pub(crate) extra: Extra,
    /// Receipts: whether members MARK what they receive in this window.
    pub(crate) marking: bool,
    /// Files: the mover's state, on the worker that has the mover.
    pub(crate) mover: Option<Box<crate::mover::Mover>>,
    /// Lost messages seen so far.
    pub(crate) lost: u64,
    /// Late messages seen so far.
    pub(crate) late: u64,
    /// Churn: cycles started, for fresh names.
    pub(crate) cycle: u64,
    /// The phase as of this turn.
    pub(crate) phase: Phase,
    /// The clock as of the last event (ns).
    pub(crate) now: u64,
}

impl Worker {
    /// A worker for slot `id` of `plan`, its connections over `link`.
    pub fn new(
        id: usize,
        plan: Arc<Plan>,
        shared: Arc<Shared>,
        link: link::Setup,
    ) -> std::io::Result<Worker> {
        let poll = Poll::new()?;
        let timer = Timer::new()?;
        let fd = timer.raw_fd();
        poll.registry().register(&mut SourceFd(&fd), TIMER, Interest::READABLE)?;
        let to_open: VecDeque<ConnSpec> = plan.specs_for(id).into();
        let raw = vec![0; if link.tls.is_some() { RAW } else { 0 }].into_boxed_slice();
        let has_mover = to_open.iter().any(|s| s.role == crate::plan::Role::Mover);
        let mover = has_mover.then(|| Box::new(crate::mover::Mover::new(plan.file_size)));
        Ok(Worker {
            id,
            proto: plan.target.proto,
            plan,
            shared,
            poll,
            conns: Slab::new(),
            to_open,
            opened: 0,
            ramp_start: None,
            in_setup: 0,
            dirty: Vec::new(),
            active: Vec::new(),
            link,
            scratch: vec![0; SCRATCH].into_boxed_slice(),
            raw,
            masks: Masks::default(),
            payload: Vec::new(),
            timer,
            armed_for: 0,
            counts: Counts::default(),
            hists: Vec::new(),
            window: (0, 0.0),
            hist: crate::stats::histogram(),
            extras: Vec::new(),
            extra: Extra::default(),
            marking: false,
            mover,
            lost: 0,
            late: 0,
            cycle: 0,
            phase: Phase::Setup,
            now: net::now_ns(),
        })
    }

    /// Runs until the coordinator says Done and the goodbyes are over.
    pub fn run(mut self) -> WorkerResult {
        let mut events = Events::with_capacity(1024);
        let mut goodbye_since = None;
        loop {
            self.phase = self.shared.phase();
            self.now = net::now_ns();
            self.follow_window();
            if self.phase == Phase::Done {
                let since = *goodbye_since.get_or_insert_with(|| self.goodbye());
                if self.conns.is_empty() || self.now > since + GOODBYE_NS {
                    break;
                }
            }
            self.counts.loops += 1;
            self.open_due();
            self.pump();
            self.flush_dirty();
            self.shared.publish(self.id, &self.counts);
            self.poll_once(&mut events);
        }
        self.counts.open = self.conns.len() as u64;
        self.shared.publish(self.id, &self.counts);
        self.hists.resize_with(self.window.0 as usize, crate::stats::histogram);
        self.hists.push(self.hist);
        self.extras.resize_with(self.window.0 as usize, Extra::default);
        self.extras.push(self.extra);
        WorkerResult { hists: self.hists, lost: self.lost, late: self.late, extras: self.extras }
    }

    /// Waits for events (1 ms while connections are still to be opened,
    /// so a ramp keeps its pace) and handles them.
    fn poll_once(&mut self, events: &mut Events) {
        let wait = Duration::from_millis(if self.to_open.is_empty() { 10 } else { 1 });
        let before = net::now_ns();
        let polled = self.poll.poll(events, Some(wait));
        self.counts.wait_ns += net::now_ns().saturating_sub(before);
        if polled.is_err() {
            return;
        }
        for ev in events.iter() {
            let closing = ev.is_read_closed() || ev.is_error();
            let readable = ev.is_readable() || closing;
            self.on_ready_event(ev.token(), (readable, closing), ev.is_writable());
        }
    }

    /// On a new window: files the last window's histogram and restarts
    /// every sender's open-loop schedule from its current sequence number.
    fn follow_window(&mut self) {
        let w = self.shared.window();
        if w.0 == self.window.0 {
            return;
        }
        let done = std::mem::replace(&mut self.hist, crate::stats::histogram());
        self.hists.resize_with(self.window.0 as usize, crate::stats::histogram);
        self.hists.push(done);
        self.close_read_window();
        let extra = std::mem::take(&mut self.extra);
        self.extras.resize_with(self.window.0 as usize, Extra::default);
        self.extras.push(extra);
        self.window = w;
        let receipts = self.plan.scenario == crate::plan::Scenario::Receipts;
        self.marking = receipts && crate::receipts::marks_in(w.0);
        for &key in &self.active {
            if let Some(c) = self.conns.get_mut(key) {
                c.base = c.seq;
            }
        }
    }

    /// `readable`: (data may be there, the peer has closed its side).
    fn on_ready_event(&mut self, token: Token, readable: (bool, bool), writable: bool) {
        if token == TIMER {
            self.armed_for = 0;
            return self.timer.clear();
        }
        let key = token.0;
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        if c.state == State::Connecting {
            match c.connect_done() {
                Ok(true) => self.connected(key),
                Ok(false) => return,
                Err(e) => return self.closed(key, &e, true),
            }
        }
        if writable {
            self.flush(key);
        }
        if readable.0 {
            self.on_readable(key, readable.1);
        }
    }

    /// Reads what `key` has; until EOF when the peer has closed (`closing`),
    /// as no further event would come for the close. What the reads made
    /// the roles queue (a sender's refill after its ACKs, a PONG) is written
    /// at once, before any other socket is served: a sender is never held
    /// back until every ready socket has been drained.
    fn on_readable(&mut self, key: usize, closing: bool) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut raw = std::mem::take(&mut self.raw);
        while let Some(c) = self.conns.get_mut(key) {
            match c.read_into(&mut scratch, &mut raw, &mut self.masks) {
                ReadResult::Data { total, new, drained } => {
                    self.counts.bytes_in += new as u64;
                    self.now = net::now_ns();
                    self.link_events(key);
                    if let Err(e) = self.parse(key, &scratch[..total]) {
                        self.closed(key, &e, true);
                    }
                    // A short read emptied the socket: with edge-triggered
                    // polling, more data will raise a new event, so the
                    // extra read that would only say EAGAIN is skipped.
                    if drained && !closing {
                        break;
                    }
                }
                ReadResult::Drained => break,
                ReadResult::Closed(why) => self.closed(key, &why, true),
            }
        }
        self.scratch = scratch;
        self.raw = raw;
        self.flush(key);
    }

    /// Hands every whole unit in `buf` to the role logic; keeps the tail.
    fn parse(&mut self, key: usize, buf: &[u8]) -> Result<(), String> {
        let mut at = 0;
        while let Some((ev, used)) = self.proto.parse(&buf[at..])? {
            at += used;
            self.on_event(key, ev);
            if !self.conns.contains(key) {
                return Ok(());
            }
        }
        if let Some(c) = self.conns.get_mut(key) {
            c.carry.extend_from_slice(&buf[at..]);
        }
        Ok(())
    }

    /// Queues `key` for the next flush.
    pub(crate) fn mark_dirty(&mut self, key: usize) {
        if let Some(c) = self.conns.get_mut(key) {
            if !c.queued {
                c.queued = true;
                self.dirty.push(key);
            }
        }
    }

    fn flush_dirty(&mut self) {
        for key in std::mem::take(&mut self.dirty) {
            if let Some(c) = self.conns.get_mut(key) {
                c.queued = false;
            }
            self.flush(key);
        }
    }

    fn flush(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        if c.state == State::Connecting || !c.has_output() {
            return;
        }
        match c.flush(&mut self.counts.writes) {
            Ok(_) if c.pending() == 0 => self.mover_flushed(key),
            Ok(_) => {}
            Err(e) => self.closed(key, &e, true),
        }
    }

    /// Removes a connection the server closed (or that failed), accounting
    /// for it: expected after QUIT, an error otherwise.
    pub(crate) fn closed(&mut self, key: usize, why: &str, unexpected: bool) {
        let Some(mut c) = self.conns.try_remove(key) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.counts.open -= 1;
        self.active.retain(|&k| k != key);
        let quitting = c.state == State::Quitting;
        if !quitting && c.state != State::Ready {
            self.in_setup -= 1;
            self.counts.failed += 1;
        }
        if unexpected && !quitting {
            self.counts.errors += 1;
            self.shared.note_error(why);
        }
        self.after_close(c, quitting);
    }
}
