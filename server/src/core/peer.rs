//! One peer as the protocol sees it: where it is in its life (handshake →
//! authenticating → active → closing), its partial-frame leftover, its
//! output queue and the bookkeeping the heartbeat and rate limit look at.
//! It has no socket: whatever carries its bytes (TCP, TLS, WebSocket) lives
//! in the reactor's link, which the core never sees.
//!
//! Closing happens in two phases (after rustls' `tlsserver-mio`): a handler
//! only marks the peer closing and queues its last ERROR; the reactor drains
//! the output, closes the transport, and removes the peer once the far end
//! has gone or the close deadline has passed.

use super::outq::OutQueue;
use banter_proto::{ErrorCode, PRE_WELCOME_MAX_FRAME};
use std::borrow::Cow;
use std::net::SocketAddr;

/// Where a peer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Connected; waiting for HELLO.
    Handshake,
    /// HELLO received; a password check is under way on the hasher.
    /// Input waits in the leftover buffer until it answers.
    Authenticating,
    /// Logged in as session `session`.
    Active { session: u32 },
    /// Being closed: output drains, then the transport goes (at `deadline`
    /// at the latest, in loop milliseconds).
    Closing { deadline: u64 },
}

/// What a handler asks the core to do with its peer.
#[derive(Debug)]
pub enum Outcome {
    /// Keep going.
    Continue,
    /// Close, for this reason.
    Close(Reason),
    /// Not handled yet (a cluster's lookup is under way): the frame stays
    /// in the input, which is held until it can be handled.
    Retry,
}

/// Why a peer closes: the ERROR to send first, if any, and words for the
/// log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The fatal ERROR to send before closing: code and `about`.
    pub error: Option<(ErrorCode, u8)>,
    /// What the log (and the ERROR's detail) says.
    pub why: Cow<'static, str>,
}

impl Reason {
    /// A close that sends a fatal ERROR first.
    pub fn fatal(code: ErrorCode, about: u8, why: impl Into<Cow<'static, str>>) -> Reason {
        Reason { error: Some((code, about)), why: why.into() }
    }

    /// A close with nothing to send (peer gone, QUIT).
    pub fn quiet(why: impl Into<Cow<'static, str>>) -> Reason {
        Reason { error: None, why: why.into() }
    }
}

/// One peer.
#[derive(Debug)]
pub struct Peer {
    /// The far end's address (behind a trusted proxy, the one its PROXY
    /// header gave): for log lines and per-address rules.
    pub addr: SocketAddr,
    /// Whether its bytes travel encrypted (TLS), for the password rule.
    pub secure: bool,
    /// Counted in its address's open connections (`--max-per-ip`).
    pub counted: bool,
    /// From a `--proxy-from` address and its PROXY header not yet read:
    /// `addr` is the proxy's for now, and nothing is counted.
    pub awaits_proxy: bool,
    /// Bumped per peer across the slab: timers and hasher tickets carry it
    /// so that those of a reused slot are ignored.
    pub gen: u32,
    /// Where it is in its life.
    pub state: State,
    /// Bytes of a frame not yet complete (empty, and unallocated, between frames).
    pub inbuf: Vec<u8>,
    /// Encoded frames owed to the peer.
    pub out: OutQueue,
    /// What a peer needs only now and then (a password check, a download,
    /// direct messages on their way, closing), boxed on first use and freed
    /// when done, so an idle peer pays one pointer for it.
    pub rare: Option<Box<Rare>>,
    /// Bytes the transport took from `out` but has not yet handed to the
    /// operating system (TLS records, WebSocket framing): they count toward
    /// the output limit too.
    pub held: usize,
    /// Loop time (ms) of the last byte received: the heartbeat's only input.
    pub last_heard: u64,
    /// Loop time (ms) the frame now partly in `inbuf` started arriving: a
    /// frame must keep up `--min-rate` from then on.
    pub frame_started: Option<u64>,
    /// In a cluster: a frame's answer waits for Redis, so its input is held.
    pub waiting: bool,
    /// Already on the core's list of peers to flush this turn.
    pub dirty: bool,
    /// On the core's list of peers owed only a large room's fan-out.
    pub bulk: bool,
    /// Closing and past its deadline: the reactor removes it without waiting.
    pub expired: bool,
}

/// A peer's occasional state (see [`Peer::rare`]).
#[derive(Debug, Default)]
pub struct Rare {
    /// Direct messages queued and not yet taken by the transport: (end of
    /// them in the output stream, conversation, highest id), oldest first.
    pub delivery: Vec<(u64, u32, u64)>,
    /// The file being downloaded, if any.
    pub download: Option<Box<super::handlers::Download>>,
    /// The password check this connection waits for (at most one).
    pub auth_ticket: Option<u64>,
    /// In a cluster: the lookups for the frame at the front of its input.
    pub fetched: super::cluster::Fetched,
    /// Why it is closing, for the log line at removal.
    pub close_why: Option<Cow<'static, str>>,
    /// The fatal ERROR it was closed with, if any (a WebSocket close code
    /// depends on it).
    pub close_code: Option<ErrorCode>,
}

impl Rare {
    /// Whether it holds nothing (and can be freed).
    fn is_empty(&self) -> bool {
        self.delivery.is_empty()
            && self.download.is_none()
            && self.auth_ticket.is_none()
            && self.fetched == super::cluster::Fetched::None
            && self.close_why.is_none()
            && self.close_code.is_none()
    }
}

impl Peer {
    /// A freshly connected peer.
    pub fn new(addr: SocketAddr, gen: u32, now: u64) -> Peer {
        Peer {
            addr,
            secure: false,
            counted: false,
            awaits_proxy: false,
            gen,
            state: State::Handshake,
            inbuf: Vec::new(),
            out: OutQueue::default(),
            rare: None,
            held: 0,
            last_heard: now,
            frame_started: None,
            waiting: false,
            dirty: false,
            bulk: false,
            expired: false,
        }
    }

    /// Its occasional state, allocated if it had none.
    pub fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Frees the occasional state once nothing is left in it.
    pub fn tidy(&mut self) {
        if self.rare.as_ref().is_some_and(|r| r.is_empty()) {
            self.rare = None;
        }
    }

    /// The password check it waits for.
    pub fn auth_ticket(&self) -> Option<u64> {
        self.rare.as_ref().and_then(|r| r.auth_ticket)
    }

    /// Whether a download is under way.
    pub fn downloading(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.download.is_some())
    }

    /// Why it is closing, for the log line.
    pub fn close_why(&self) -> Option<&str> {
        self.rare.as_ref().and_then(|r| r.close_why.as_deref())
    }

    /// The fatal ERROR it was closed with.
    pub fn close_code(&self) -> Option<ErrorCode> {
        self.rare.as_ref().and_then(|r| r.close_code)
    }

    /// The session this peer is logged in as.
    pub fn session(&self) -> Option<u32> {
        match self.state {
            State::Active { session } => Some(session),
            _ => None,
        }
    }

    /// Whether it is being closed.
    pub fn is_closing(&self) -> bool {
        matches!(self.state, State::Closing { .. })
    }

    /// The frame-size limit that applies now: 1 024 until WELCOME.
    pub fn max_frame(&self, after_welcome: u32) -> u32 {
        match self.state {
            State::Active { .. } => after_welcome,
            _ => PRE_WELCOME_MAX_FRAME,
        }
    }

    /// Output owed in all: queued here and held by the transport.
    pub fn backlog(&self) -> usize {
        self.out.pending() + self.held
    }
}
