//! The protocol core: sessions, names, rooms, timers, storage, the
//! group-commit batch, the password-check queue and a slab of peers. It does
//! no I/O and reads no clock. The reactor feeds it plaintext bytes, end of
//! input, time and password-check results, and takes back each peer's
//! output bytes and what to do with the peer (flush it, close it, read it
//! again). What carries a peer's bytes (TCP, TLS, WebSocket) is invisible
//! here: no `mio`, socket or token appears in this module tree.
//!
//! Handlers live in `handlers` (one file per family of frames); the data
//! they work on in `peer`, `session`, `room` and `outq`; closing, lingering
//! and timers in `lifecycle`.

mod addrs;
mod admit;
mod authq;
mod bounds;
mod budget;
mod cluster;
mod handlers;
#[cfg(any(test, feature = "harness"))]
pub mod harness;
mod lifecycle;
mod outpool;
mod output;
mod outq;
mod peer;
mod room;
mod saved;
mod session;
#[cfg(test)]
mod tests;
mod wheel;

pub use authq::AuthTicket;
pub use outq::OutQueue;
pub use peer::{Peer, Reason};

use crate::config::Config;
use crate::metrics::Counters;
use crate::store::Store;
use crate::store::StoredMark;
use addrs::{Addrs, LingerQueue};
use authq::AuthWait;
use bounds::{HistoryMemory, Tombstones};
use budget::Rules;
use handlers::{Batch, Files, Receipts};
use room::Room;
use session::Session;
use slab::Slab;
use std::collections::HashMap;
use std::net::SocketAddr;
use wheel::Wheel;

/// A peer's key in the core's slab.
pub type PeerId = usize;

/// Fills a session token with randomness; false when there is none.
pub type Random = fn(&mut [u8; 8]) -> bool;

/// Timer resolution: deadlines (heartbeat, handshake, linger, close) fire
/// up to this late, and timers due together share one wake-up.
const TICK_MS: u64 = 50;
/// How long a closing peer may take to drain its output.
pub const CLOSE_GRACE_MS: u64 = 1000;
/// Input a peer may have waiting while its password is checked.
const HELD_INPUT: usize = 64 * 1024;

/// What a timer is for; the generation makes a timer of a reused slot inert.
#[derive(Debug, Clone, Copy)]
enum Timer {
    /// Handshake deadline, heartbeat check, or close deadline of a peer.
    Peer { key: u32, gen: u32 },
    /// End of a session's linger.
    Linger { session: u32, gen: u32 },
    /// End of a receipt's second (a stale one finds nothing to do).
    Receipt { kind: handlers::ReceiptKind, room: u32, who: u32 },
    /// An upload's idle check (a finished one is not found).
    Upload { id: u64 },
    /// Nothing to do but wake the loop (a slowed password check is due).
    Wake,
    /// The previous run's saved sessions may no longer be resumed.
    ForgetSaved,
}

/// All protocol state of the server.
pub struct Core {
    /// The command line.
    cfg: Config,
    /// Connected peers by key.
    peers: Slab<Peer>,
    /// Sessions, live or lingering.
    sessions: Slab<Session>,
    /// Session by lower-case name.
    names: HashMap<Box<str>, u32>,
    /// Rooms in memory (those with members, and without a database those
    /// with messages), at most `--max-rooms`.
    rooms: Slab<Room>,
    /// Room slot by lower-case name.
    room_ids: HashMap<Box<str>, u32>,
    /// Next room uid.
    next_room_uid: u64,
    /// How many of `rooms` are direct conversations (never freed, not
    /// counted against `--max-rooms`: one per pair of accounts that wrote).
    direct_rooms: usize,
    /// Rooms that lost a member this turn, freed at its end if empty.
    vacated: Vec<u32>,
    /// Every window's messages against `--history-memory`.
    history: HistoryMemory,
    /// Newest ids of rooms evicted without a database.
    tombstones: Tombstones,
    /// Heartbeats, handshake and close deadlines, lingers.
    wheel: Wheel<Timer>,
    /// Durable storage, or the in-memory stand-in.
    store: Box<dyn Store>,
    /// Password checks to hand to the hasher, and those it is working on.
    auth: AuthWait,
    /// Milliseconds on the reactor's monotonic clock, set once per turn.
    now: u64,
    /// Milliseconds since the Unix epoch, set with `now`: message times.
    wall: u64,
    /// Next peer generation.
    next_gen: u32,
    /// Next session uid.
    next_uid: u64,
    /// Peers with output to flush or a state change to act on.
    dirty: Vec<PeerId>,
    /// Peers owed only fan-out of large rooms, flushed [`output::BULK_PER_TURN`] a
    /// turn after the others (may hold stale entries).
    bulk: std::collections::VecDeque<PeerId>,
    /// Set while frames go to the members of a room over
    /// [`output::BULK_ABOVE`].
    fanning_out_big: bool,
    /// Peers whose input was held and may be read again.
    resume: Vec<PeerId>,
    /// Sessions whose peer just closed: (session, peer), settled after each call.
    detached: Vec<(u32, PeerId)>,
    /// SAYs accepted this turn, waiting for the group commit.
    batch: Batch,
    /// Scratch space for encoding frames once for many receivers.
    scratch: Vec<u8>,
    /// Peers that are not closing (what `--max-clients` counts).
    open: usize,
    /// Set once shutdown has begun: nothing lingers, nobody new gets in.
    shutting_down: bool,
    /// Nonce of the next server PING.
    ping_nonce: u64,
    /// Heap bytes of output buffers released since last asked.
    released: usize,
    /// Where session tokens come from (the OS; tests make it fail).
    random: Random,
    /// What `/metrics` reports of the protocol's work.
    counters: Counters,
    /// Conversations of each account (by key), for UNREAD at sign-in.
    convs: HashMap<Box<str>, Vec<u32>>,
    /// Markers moved this turn, stored with the turn's commit.
    marks_out: Vec<StoredMark>,
    /// READ and DELIVERED receipts being paced.
    receipts: Receipts,
    /// File sharing, with `--files`.
    files: Option<Files>,
    /// Per-address counts, buckets and lingering sessions.
    addrs: Addrs,
    /// The frame budgets of sessions and addresses, from the command line.
    rules: Rules,
    /// Every lingering session, oldest first (`--max-lingering`).
    lingering: LingerQueue,
    /// Session saves and ends owed to the database, in order.
    to_save: Vec<saved::SaveEvent>,
    /// Session changes of a commit that failed, owed again.
    unsaved: Vec<crate::store::SessionChange>,
    /// Until when (loop ms) sessions saved by the previous run may be resumed.
    restore_until: u64,
    /// This node's cluster state, with `--cluster`.
    cluster: Option<Box<cluster::ClusterState>>,
}

impl Core {
    /// A core over `store`. Nothing is read from it yet: a room's newest
    /// id is read when the room is first needed, older messages when a page
    /// asks for them, so start-up costs the same however big the database.
    pub fn new(cfg: Config, store: Box<dyn Store>) -> Result<Core, String> {
        let mut core = Core {
            wheel: Wheel::new(TICK_MS, 512, 0),
            peers: Slab::new(),
            sessions: Slab::new(),
            names: HashMap::new(),
            rooms: Slab::new(),
            room_ids: HashMap::new(),
            next_room_uid: 0,
            direct_rooms: 0,
            vacated: Vec::new(),
            history: HistoryMemory::default(),
            tombstones: Tombstones::default(),
            store,
            auth: AuthWait::default(),
            now: 0,
            wall: 0,
            next_gen: 0,
            next_uid: 0,
            dirty: Vec::new(),
            bulk: std::collections::VecDeque::new(),
            fanning_out_big: false,
            resume: Vec::new(),
            detached: Vec::new(),
            batch: Batch::default(),
            scratch: Vec::new(),
            open: 0,
            shutting_down: false,
            ping_nonce: 0,
            released: 0,
            random: handlers::os_random,
            counters: Counters::default(),
            convs: HashMap::new(),
            marks_out: Vec::new(),
            receipts: Receipts::default(),
            files: cfg.files.as_ref().map(|_| Files::new(cfg.max_file, cfg.file_quota)),
            addrs: Addrs::default(),
            rules: Rules::new(cfg.rate, cfg.limits.join_rate, cfg.limits.query_rate),
            lingering: LingerQueue::default(),
            to_save: Vec::new(),
            unsaved: Vec::new(),
            restore_until: 0,
            cluster: cfg.cluster.as_ref().map(|c| Box::new(cluster::ClusterState::new(&c.node))),
            cfg,
        };
        core.load_conversations()?;
        core.open_restore_window();
        Ok(core)
    }

    /// Sets the time for what follows: `mono_ms` on a monotonic clock
    /// (timers), `wall_ms` since the Unix epoch (message times).
    pub fn set_time(&mut self, mono_ms: u64, wall_ms: u64) {
        self.now = mono_ms;
        self.wall = wall_ms;
    }

    /// A new connection from `addr`. Over `--max-clients`, or over a limit
    /// of its address (`--max-per-ip`, `--conn-rate`), it is answered
    /// SERVER_FULL and starts closing at once. From a `--proxy-from`
    /// address, the real source is learnt later ([`Core::proxy_source`]).
    pub fn connect(&mut self, addr: SocketAddr) -> PeerId {
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        let key = self.peers.insert(Peer::new(addr, gen, self.now));
        self.open += 1;
        if self.open > self.cfg.max_clients || self.shutting_down {
            let why = format!("server full ({} clients)", self.cfg.max_clients);
            self.close(key, Reason::fatal(banter_proto::ErrorCode::ServerFull, 0, why));
            return key;
        }
        let deadline = self.now + self.cfg.heartbeat_ms;
        self.wheel.insert(deadline, Timer::Peer { key: key as u32, gen });
        if self.cfg.limits.proxy_from.iter().any(|n| n.contains(addr.ip())) {
            self.peers[key].awaits_proxy = true;
        } else {
            self.admit(key);
        }
        key
    }

    /// Plaintext bytes from peer `p`.
    pub fn input(&mut self, p: PeerId, data: &[u8]) {
        let Some(peer) = self.peers.get_mut(p) else { return };
        peer.last_heard = self.now;
        self.counters.bytes_in += data.len() as u64;
        if !peer.is_closing() {
            self.ingest(p, data);
            let peer = &mut self.peers[p];
            if !peer.inbuf.is_empty() && peer.frame_started.is_none() {
                peer.frame_started = Some(self.now);
            }
        } // else: the reactor drains the peer's input so our close is not a reset
        self.settle();
    }

    /// Bytes arrived for `p` that are not plaintext yet (part of a TLS
    /// handshake, a WebSocket frame header, an HTTP request): they count as
    /// hearing from it.
    pub fn heard(&mut self, p: PeerId) {
        if let Some(peer) = self.peers.get_mut(p) {
            peer.last_heard = self.now;
        }
    }

    /// The transport of `p` is encrypted (its TLS handshake completed).
    pub fn set_secure(&mut self, p: PeerId) {
        if let Some(peer) = self.peers.get_mut(p) {
            peer.secure = true;
        }
    }

    /// The transport of `p` ends the connection itself (an HTTP answer, a
    /// WebSocket CLOSE, a TLS alert): close without a Banter ERROR, letting
    /// the transport's goodbye drain.
    pub fn end(&mut self, p: PeerId, why: String) {
        self.close(p, Reason::quiet(why));
        self.settle();
    }

    /// Whether the reactor should read more of `p`'s input now.
    pub fn wants_input(&self, p: PeerId) -> bool {
        self.peers.get(p).is_some_and(|peer| match peer.state {
            peer::State::Authenticating => peer.inbuf.len() <= HELD_INPUT,
            peer::State::Active { session } => {
                (!peer.waiting || peer.inbuf.len() <= HELD_INPUT)
                    && !self.upload_backlogged(self.sessions[session as usize].uid)
            }
            _ => true,
        })
    }

    /// The far end of `p` closed its side: answer what it sent, then close.
    pub fn peer_closed(&mut self, p: PeerId) {
        self.close(p, Reason::quiet("peer closed the connection"));
        self.settle();
    }

    /// The transport of `p` failed: nothing more can be sent; close now.
    pub fn transport_failed(&mut self, p: PeerId, why: String) {
        self.close(p, Reason::quiet(why));
        if let Some(peer) = self.peers.get_mut(p) {
            peer.expired = true;
        }
        self.settle();
    }

    /// Peers to flush or act on since the last call, each once.
    /// Peers whose held input may be read again.
    pub fn take_resumed(&mut self, out: &mut Vec<PeerId>) {
        out.append(&mut self.resume);
    }

    /// A peer, for the reactor to flush and look at.
    pub fn peer(&self, p: PeerId) -> Option<&Peer> {
        self.peers.get(p)
    }

    /// A peer's output, for its transport to drain.
    pub fn output(&mut self, p: PeerId) -> Option<&mut OutQueue> {
        self.peers.get_mut(p).map(|peer| &mut peer.out)
    }

    /// After a flush: how many bytes the transport of `p` still holds; the
    /// direct messages it took are delivered.
    pub fn flushed(&mut self, p: PeerId, held: usize) {
        let Some(peer) = self.peers.get_mut(p) else { return };
        peer.held = held;
        let downloading = peer.downloading();
        if peer.rare.as_ref().is_some_and(|r| !r.delivery.is_empty()) {
            self.check_delivery(p);
            self.settle();
        }
        if downloading {
            self.pump(p);
        }
    }

    /// Forgets a peer the reactor has closed for good; returns it for the
    /// log line.
    pub fn remove(&mut self, p: PeerId) -> Option<Peer> {
        self.cancel_download(p);
        let peer = self.peers.try_remove(p)?;
        self.released += peer.out.capacity() + peer.inbuf.capacity();
        if !peer.is_closing() {
            self.open -= 1; // removed without a close: cannot happen, but count right
        }
        Some(peer)
    }

    /// Heap bytes of buffers released since the last call.
    pub fn take_released(&mut self) -> usize {
        std::mem::take(&mut self.released)
    }

    /// Whether no peer is left.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// The protocol's counters, sessions and rooms, for `/metrics`.
    pub fn stats(&self) -> (&Counters, u64, u64) {
        (&self.counters, self.sessions.len() as u64, self.rooms.len() as u64)
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// The earliest timer deadline, if any.
    pub fn next_deadline(&mut self) -> Option<u64> {
        self.wheel.next_deadline()
    }

    /// The transport of `p` can take more bytes: flush it this turn.
    pub fn want_flush(&mut self, p: PeerId) {
        self.mark_dirty(p);
    }
}
