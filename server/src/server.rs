//! The event loop: one thread, one `mio::Poll`, one `Slab` of connections.
//!
//! Each iteration polls with a timeout from the timer wheel, accepts until
//! `WouldBlock`, dispatches events by token, fires due timers, commits the
//! SAYs accepted in the iteration (group commit, then releases their ACKs
//! and MSGs), writes every connection that has output once, and reaps the
//! connections marked closed. Handlers never write to sockets: they append
//! to output buffers and mark the connection (write batching, after Redis'
//! `networking.c`). Protocol handlers live in `handshake`, `rooms` and `chat`.

use crate::auth::Hasher;
use crate::chat::Batch;
use crate::config::Config;
use crate::conn::{Conn, Reason, State};
use crate::room::Room;
use crate::session::Session;
use crate::store::Store;
use crate::wheel::Wheel;
use banter_proto::{ErrorCode, ServerFrame};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use slab::Slab;
use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LISTENER: Token = Token(usize::MAX - 1);
const SIGNALS: Token = Token(usize::MAX - 2);
const WAKER: Token = Token(usize::MAX - 3);
/// Timer resolution: deadlines (heartbeat, handshake, linger, close) fire
/// up to this late, and timers due together share one wake-up.
const TICK_MS: u64 = 50;
/// Reads of the shared 64 KiB buffer one connection gets per iteration.
const READS_PER_TURN: usize = 4;
/// How long a closing connection may take to drain its output.
pub const CLOSE_GRACE_MS: u64 = 1000;

/// What a timer is for; the generation makes a timer of a reused slot inert.
#[derive(Debug, Clone, Copy)]
pub enum Timer {
    /// Handshake deadline, heartbeat check, or close deadline of a connection.
    Conn { key: u32, gen: u32 },
    /// End of a session's linger.
    Linger { session: u32, gen: u32 },
}

/// All of the server's state. Handlers are `impl Server` blocks in their
/// own modules.
pub struct Server {
    /// The command line.
    pub(crate) cfg: Config,
    /// The poll every socket is registered with.
    poll: Poll,
    /// The listening socket; `None` once shutdown has begun.
    listener: Option<TcpListener>,
    /// SIGTERM and SIGINT, as poll events.
    signals: Signals,
    /// Open connections by slab key (= token).
    pub(crate) conns: Slab<Conn>,
    /// Sessions, live or lingering.
    pub(crate) sessions: Slab<Session>,
    /// Session by lower-case name.
    pub(crate) names: HashMap<Box<str>, u32>,
    /// Every room ever created; rooms are never removed (ids must go on).
    pub(crate) rooms: Vec<Room>,
    /// Room index by lower-case name.
    pub(crate) room_ids: HashMap<Box<str>, u32>,
    /// Heartbeats, handshake and close deadlines, lingers.
    pub(crate) wheel: Wheel<Timer>,
    /// Durable storage, or the in-memory stand-in.
    pub(crate) store: Box<dyn Store>,
    /// Password hashing off the loop's thread.
    pub(crate) hasher: Hasher,
    /// Loop start, the zero of `now`.
    start: Instant,
    /// Milliseconds since `start`, read once per iteration.
    pub(crate) now: u64,
    /// Next connection generation.
    next_gen: u32,
    /// Connections with output to write this iteration.
    dirty: Vec<usize>,
    /// Connections being closed, checked by `reap`.
    closing: Vec<usize>,
    /// Sessions whose connection just closed: (session, conn), settled after each phase.
    pub(crate) detached: Vec<(u32, usize)>,
    /// SAYs accepted this iteration, waiting for the group commit.
    pub(crate) batch: Batch,
    /// HELLOs waiting for the hasher, by ticket.
    pub(crate) auth_wait: HashMap<u64, crate::handshake::PendingHello>,
    /// Connections left with unread bytes by their read budget: (key, gen,
    /// peer closed), read again next iteration.
    hot: Vec<(usize, u32, bool)>,
    /// One read buffer shared by every connection.
    read_buf: Vec<u8>,
    /// Scratch space for encoding a frame once for many receivers.
    pub(crate) scratch: Vec<u8>,
    /// Connections that are not closing (what `--max-clients` counts).
    open: usize,
    /// When shutdown must be over, once it has begun.
    shutdown_at: Option<u64>,
    /// Nonce of the next server PING.
    ping_nonce: u64,
    /// Bytes of output buffers freed since the heap was last trimmed.
    drained: usize,
    /// When the heap was last trimmed.
    trimmed_at: u64,
}

impl Server {
    /// Binds the listener and sets everything up; logs `listening on`.
    pub fn new(cfg: Config, store: Box<dyn Store>) -> io::Result<Server> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind((cfg.bind, cfg.port).into())?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let mut signals = Signals::new([SIGTERM, SIGINT])?;
        poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let hasher = Hasher::start(waker)?;
        let mut s = Server {
            wheel: Wheel::new(TICK_MS, 512, 0),
            poll,
            listener: None,
            signals,
            conns: Slab::new(),
            sessions: Slab::new(),
            names: HashMap::new(),
            rooms: Vec::new(),
            room_ids: HashMap::new(),
            store,
            hasher,
            start: Instant::now(),
            now: 0,
            next_gen: 0,
            dirty: Vec::new(),
            closing: Vec::new(),
            detached: Vec::new(),
            batch: Batch::default(),
            auth_wait: HashMap::new(),
            hot: Vec::new(),
            read_buf: vec![0; 64 * 1024],
            scratch: Vec::new(),
            open: 0,
            shutdown_at: None,
            ping_nonce: 0,
            drained: 0,
            trimmed_at: 0,
            cfg,
        };
        s.load_rooms()?;
        log::info!("listening on {}", listener.local_addr()?);
        s.listener = Some(listener);
        Ok(s)
    }

    /// Runs until a signal has shut the server down.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            self.now = self.start.elapsed().as_millis() as u64;
            self.read_hot();
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept_all(),
                    SIGNALS => self.on_signals(),
                    WAKER => self.on_auth_results(),
                    Token(k) => self.on_conn_event(k, ev),
                }
                self.settle();
            }
            self.fire_timers();
            self.commit_batch();
            self.settle();
            self.flush_dirty();
            self.trim_heap();
            if self.reap() > 0 && self.shutdown_at.is_none() {
                self.accept_all(); // a freed descriptor may let a waiting client in
            }
            if self.shutdown_at.is_some_and(|at| self.conns.is_empty() || self.now >= at) {
                return self.finish();
            }
        }
    }

    /// Until the next timer, or no sleep at all while reads are pending.
    fn poll_timeout(&self) -> Option<Duration> {
        if !self.hot.is_empty() {
            return Some(Duration::ZERO);
        }
        let next = self.wheel.next_deadline()?;
        Some(Duration::from_millis(next.saturating_sub(self.now)))
    }

    fn accept_all(&mut self) {
        while let Some(l) = &self.listener {
            match l.accept() {
                Ok((sock, addr)) => self.on_accept(sock, addr),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    // EMFILE and friends: try again when a connection is reaped.
                    log::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn on_accept(&mut self, mut sock: mio::net::TcpStream, addr: std::net::SocketAddr) {
        let _ = sock.set_nodelay(true);
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        if let Err(e) = self.poll.registry().register(&mut sock, Token(key), Interest::READABLE) {
            log::warn!("register {addr} failed: {e}");
            return;
        }
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        entry.insert(Conn::new(sock, addr, gen, self.now, self.cfg.rate));
        self.open += 1;
        log::info!("accept {addr} as #{key}");
        if self.open > self.cfg.max_clients {
            let why = format!("server full ({} clients)", self.cfg.max_clients);
            return self.close_conn(key, Reason::fatal(ErrorCode::ServerFull, 0, why));
        }
        self.wheel.insert(self.now + self.cfg.heartbeat_ms, Timer::Conn { key: key as u32, gen });
    }

    fn on_conn_event(&mut self, key: usize, ev: &mio::event::Event) {
        if !self.conns.contains(key) {
            return;
        }
        if ev.is_writable() {
            self.mark_dirty(key);
        }
        let closed = ev.is_read_closed() || ev.is_error();
        if ev.is_readable() || closed {
            self.on_readable(key, closed);
        }
    }

    /// Reads what the socket holds, feeding complete frames to the
    /// handlers. A read shorter than the buffer means the socket is empty
    /// (epoll is edge-triggered: new bytes raise a new event), which saves
    /// the extra `read` that would only say `WouldBlock`; when the event
    /// also reported the peer's close, it reads on to the EOF.
    ///
    /// At most [`READS_PER_TURN`] reads per connection per iteration, so a
    /// peer that keeps its socket full cannot hold the loop: a connection
    /// with bytes left goes on the `hot` list and is read again next turn
    /// (the poll does not sleep while that list is not empty).
    pub(crate) fn on_readable(&mut self, key: usize, closed: bool) {
        let mut buf = std::mem::take(&mut self.read_buf);
        for turn in 0.. {
            let conn = &mut self.conns[key];
            if turn == READS_PER_TURN {
                self.hot.push((key, conn.gen, closed));
                break;
            }
            let held = conn.state == State::Authenticating && conn.inbuf.len() > 64 * 1024;
            if conn.eof || conn.gone || held {
                break;
            }
            let n = match io::Read::read(&mut conn.sock, &mut buf) {
                Ok(0) => {
                    self.on_eof(key);
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.on_sock_error(key, e);
                    break;
                }
            };
            conn.last_heard = self.now;
            if !conn.is_closing() {
                self.ingest(key, &buf[..n]);
            } // else: draining the peer's input so our close is not a reset
            if n < buf.len() && !closed {
                break;
            }
        }
        self.read_buf = buf;
    }

    /// Reads again the connections that still had bytes last turn.
    fn read_hot(&mut self) {
        for (key, gen, closed) in std::mem::take(&mut self.hot) {
            if self.conns.get(key).is_some_and(|c| c.gen == gen) {
                self.on_readable(key, closed);
                self.settle();
            }
        }
    }

    /// The peer closed its side: answer what it sent, then close.
    fn on_eof(&mut self, key: usize) {
        self.conns[key].eof = true;
        self.close_conn(key, Reason::quiet("peer closed the connection"));
    }

    /// The socket failed: nothing more can be written.
    fn on_sock_error(&mut self, key: usize, e: io::Error) {
        self.conns[key].gone = true;
        self.close_conn(key, Reason::quiet(format!("socket error: {e}")));
    }

    /// Appends a frame to a connection's output (nothing once it is closing).
    pub(crate) fn send(&mut self, key: usize, f: &ServerFrame) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.is_closing() {
            return;
        }
        conn.out.push(f);
        self.after_push(key);
    }

    /// Appends encoded frames to a connection's output.
    pub(crate) fn send_bytes(&mut self, key: usize, bytes: &[u8]) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.is_closing() {
            return;
        }
        conn.out.push_bytes(bytes);
        self.after_push(key);
    }

    /// A non-fatal ERROR.
    pub(crate) fn send_error(
        &mut self,
        key: usize,
        code: ErrorCode,
        about: u8,
        seq: u32,
        detail: &str,
    ) {
        self.send(key, &ServerFrame::error(code, about, seq, detail));
    }

    fn after_push(&mut self, key: usize) {
        self.mark_dirty(key);
        let conn = &mut self.conns[key];
        if conn.out.pending() > self.cfg.out_limit {
            let dropped = conn.out.discard_unsent();
            let why =
                format!("slow consumer: over the output limit of {} bytes", self.cfg.out_limit);
            log::debug!("#{key}: dropping {dropped} unsent bytes");
            self.close_conn(key, Reason::fatal(ErrorCode::SlowConsumer, 0, why));
        }
    }

    pub(crate) fn mark_dirty(&mut self, key: usize) {
        let conn = &mut self.conns[key];
        if !conn.dirty {
            conn.dirty = true;
            self.dirty.push(key);
        }
    }
}

mod lifecycle;
