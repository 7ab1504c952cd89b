//! The reactor: one thread, one `mio::Poll`, the listener, signals, the
//! hasher's waker and a slab of links, around the protocol core.
//!
//! Each turn polls with a timeout from the core's next deadline, accepts
//! until `WouldBlock`, dispatches events by token (socket bytes through the
//! link's transport into the core), fires the core's timers, ends the
//! core's turn (the group commit), writes every peer with output once, and
//! reaps the links whose close is complete. Handlers never write to
//! sockets: they append to output queues (write batching before sleep,
//! after Redis' `networking.c`). Socket-level work is in `io`.

mod io;
mod link;
mod proxy;
mod redis;
mod web;

pub use redis::Redis;
pub use web::WebConfig;

use crate::auth::Hasher;
use crate::core::{AuthTicket, Core, PeerId, CLOSE_GRACE_MS};
use crate::files::{FileDir, FileDone, FileJob, FileWorker};
use crate::metrics::{Histogram, LATENCY_BOUNDS};
use crate::transport::tls::TlsIdentity;
use link::Link;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use slab::Slab;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LISTENER: Token = Token(usize::MAX - 1);
const SIGNALS: Token = Token(usize::MAX - 2);
/// The one waker a poll may have, shared by the hasher and the file workers.
const WAKER: Token = Token(usize::MAX - 3);

/// The server: the core and everything that does I/O for it.
pub struct Reactor {
    /// The protocol state.
    core: Core,
    /// The poll every socket is registered with.
    poll: Poll,
    /// The listening socket; `None` once shutdown has begun.
    listener: Option<TcpListener>,
    /// SIGTERM and SIGINT, as poll events.
    signals: Signals,
    /// Password hashing off the loop's thread.
    hasher: Hasher,
    /// File reads and writes off the loop's thread, with `--files`.
    files: Option<FileWorker>,
    /// Open links by slab key (= token).
    links: Slab<Link>,
    /// Link key of each core peer, by peer id.
    by_peer: Vec<u32>,
    /// Next link serial.
    next_serial: u64,
    /// Loop start, the zero of the core's clock.
    start: Instant,
    /// Milliseconds since `start`, read once per turn.
    now: u64,
    /// Links left with unread bytes by their read budget: (key, serial,
    /// peer closed), read again next turn.
    hot: Vec<(usize, u64, bool)>,
    /// One read buffer shared by every link.
    read_buf: Vec<u8>,
    /// Links being closed, checked by `reap`.
    closing: Vec<usize>,
    /// When shutdown must be over, once it has begun.
    shutdown_at: Option<u64>,
    /// Bytes of buffers released since the heap was last trimmed.
    released: usize,
    /// When the heap was last trimmed.
    trimmed_at: u64,
    /// Scratch lists reused every turn.
    scratch: Scratch,
    /// The TLS certificate, when one was given.
    tls: Option<TlsIdentity>,
    /// What HTTP answers need of the command line.
    web: WebConfig,
    /// What the reactor measures for `/metrics`.
    stats: Stats,
    /// Accept and close lines, summarised under a flood.
    log_lines: crate::loglimit::LogLimit,
    /// The connections to Redis, with `--cluster`.
    redis: Option<Redis>,
}

/// The reactor's own figures.
struct Stats {
    /// TLS handshakes completed.
    tls_handshakes: u64,
    /// Banter bytes taken by transports.
    bytes_out: u64,
    /// Time of turns that committed messages, commit and release included.
    commit: Histogram,
    /// Time of each turn, poll excluded.
    turn: Histogram,
}

/// Lists the loop fills and empties every turn, kept to save allocations.
#[derive(Default)]
struct Scratch {
    /// Peers to flush.
    dirty: Vec<PeerId>,
    /// Peers whose held input may be read again.
    resumed: Vec<PeerId>,
    /// Password jobs for the hasher.
    auth: Vec<AuthTicket>,
    /// Jobs for the file workers.
    file_jobs: Vec<FileJob>,
    /// Results of the file workers.
    file_done: Vec<FileDone>,
}

impl Reactor {
    /// Binds the listener and sets everything up; logs `listening on`.
    pub fn new(
        bind: std::net::SocketAddr,
        core: Core,
        tls: Option<TlsIdentity>,
        web: WebConfig,
        files: Option<FileDir>,
        redis: Option<Redis>,
    ) -> std::io::Result<Reactor> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(bind)?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
        poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let hasher = Hasher::start(waker.clone(), core.hash_workers())?;
        let files = match files {
            Some(dir) => Some(FileWorker::start(dir, waker)?),
            None => None,
        };
        log::info!("listening on {}", listener.local_addr()?);
        Ok(Reactor {
            core,
            poll,
            listener: Some(listener),
            signals,
            hasher,
            files,
            links: Slab::new(),
            by_peer: Vec::new(),
            next_serial: 0,
            start: Instant::now(),
            now: 0,
            hot: Vec::new(),
            read_buf: vec![0; 64 * 1024],
            closing: Vec::new(),
            shutdown_at: None,
            released: 0,
            trimmed_at: 0,
            scratch: Scratch::default(),
            tls,
            web,
            stats: Stats {
                tls_handshakes: 0,
                bytes_out: 0,
                commit: Histogram::new(LATENCY_BOUNDS),
                turn: Histogram::new(LATENCY_BOUNDS),
            },
            log_lines: crate::loglimit::LogLimit::default(),
            redis,
        })
    }

    /// Runs until a signal has shut the server down.
    pub fn run(&mut self) -> std::io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            let started = Instant::now();
            self.tick();
            self.redis_tick();
            self.read_hot();
            self.read_redis_unread();
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept_all(),
                    SIGNALS => self.on_signals(),
                    WAKER => {
                        self.on_auth_results();
                        self.on_file_results();
                    }
                    t if self.on_redis_event(t, ev) => {}
                    Token(k) => self.on_link_event(k, ev),
                }
            }
            self.core.fire_timers();
            let commit = Instant::now();
            if self.core.end_turn() > 0 {
                self.stats.commit.observe(commit.elapsed());
            }
            self.pump_redis();
            self.submit_auth();
            self.flush();
            self.submit_file_jobs(); // the flush may have asked for more download
            self.trim_heap();
            self.log_lines.roll(self.now);
            if self.reap() > 0 && self.shutdown_at.is_none() {
                self.accept_all(); // a freed descriptor may let a waiting client in
            }
            self.stats.turn.observe(started.elapsed());
            if self.shutdown_at.is_some_and(|at| self.core.is_empty() || self.now >= at) {
                return self.finish();
            }
        }
    }

    /// Reads the clocks once for the turn.
    fn tick(&mut self) {
        self.now = self.start.elapsed().as_millis() as u64;
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        self.core.set_time(self.now, wall);
    }

    /// Until the next timer, or no sleep at all while reads are pending.
    fn poll_timeout(&mut self) -> Option<Duration> {
        if !self.hot.is_empty() || self.core.owes_flush() || self.redis_unread() {
            return Some(Duration::ZERO);
        }
        let next = [self.core.next_deadline(), self.redis_due()].into_iter().flatten().min()?;
        Some(Duration::from_millis(next.saturating_sub(self.now)))
    }

    /// Hands queued password jobs to the hasher threads.
    fn submit_auth(&mut self) {
        self.core.take_auth_jobs(&mut self.scratch.auth);
        for t in self.scratch.auth.drain(..) {
            self.hasher.submit(t.ticket, t.job);
        }
    }

    /// The hasher answered: results into the core, then the input that
    /// waited for them.
    fn on_auth_results(&mut self) {
        let mut results = Vec::new();
        self.hasher.drain(&mut results);
        for r in results {
            self.core.auth_result(r);
        }
        self.read_resumed();
    }

    /// The file workers answered: results into the core (pieces of
    /// downloads queued, uploads moved on), then input that waited for
    /// the disk.
    fn on_file_results(&mut self) {
        let Some(w) = &self.files else { return };
        w.drain(&mut self.scratch.file_done);
        for d in self.scratch.file_done.drain(..) {
            self.core.file_done(d);
        }
        self.read_resumed();
    }

    /// Hands queued file jobs to the workers.
    fn submit_file_jobs(&mut self) {
        let Some(w) = &self.files else { return };
        self.core.take_file_jobs(&mut self.scratch.file_jobs);
        for j in self.scratch.file_jobs.drain(..) {
            w.submit(j);
        }
    }

    /// Reads the peers whose input was held back and may flow again.
    fn read_resumed(&mut self) {
        self.core.take_resumed(&mut self.scratch.resumed);
        for p in std::mem::take(&mut self.scratch.resumed) {
            if let Some(&key) = self.by_peer.get(p) {
                self.on_readable(key as usize, true); // reads were held back: read to WouldBlock
            }
        }
    }

    fn on_signals(&mut self) {
        let signals: Vec<i32> = self.signals.pending().collect();
        for sig in signals {
            match sig {
                SIGHUP => self.reload_tls(),
                _ => self.begin_shutdown(sig),
            }
        }
    }

    /// SIGHUP: the certificate and key are read again for new connections;
    /// a pair that fails to load leaves the old one.
    fn reload_tls(&mut self) {
        match &mut self.tls {
            None => log::warn!("SIGHUP: no --tls-cert to reload; ignored"),
            Some(t) => match t.reload() {
                Ok(()) => log::info!("SIGHUP: certificate reloaded; new connections use it"),
                Err(e) => log::error!("SIGHUP: {e}; keeping the certificate in use"),
            },
        }
    }

    /// Stops accepting and tells every client; the loop then drains for up
    /// to a second and exits.
    fn begin_shutdown(&mut self, sig: i32) {
        if self.shutdown_at.is_some() {
            return;
        }
        log::info!("signal {sig}: shutting down");
        if let Some(mut l) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut l);
        }
        self.shutdown_at = Some(self.now + CLOSE_GRACE_MS);
        self.core.shutdown();
    }

    /// Last steps after the loop: everything accepted is already committed
    /// (the core commits before the flush); make it durable and say bye.
    fn finish(&mut self) -> std::io::Result<()> {
        if let Err(e) = self.core.close_store() {
            log::error!("closing the database: {e}");
            return Err(std::io::Error::other(e));
        }
        log::info!("bye");
        Ok(())
    }

    /// Gives freed heap back to the OS once a burst is over: after a storm
    /// (say, 10 000 PRESENCE frames to 10 000 members) glibc keeps the freed
    /// buffers, and idle connections would look ten times their size. At
    /// most once a second, and only after a MiB of buffers was released.
    fn trim_heap(&mut self) {
        self.released += self.core.take_released();
        if self.released < 1 << 20 || self.now < self.trimmed_at + 1000 {
            return;
        }
        self.released = 0;
        self.trimmed_at = self.now;
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free memory of the allocator.
        unsafe {
            libc::malloc_trim(64 * 1024);
        }
    }
}
