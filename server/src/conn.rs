//! One connection's state machine: handshake → (authenticating) → active →
//! closing, with its partial-read leftover, its bounded output and the
//! bookkeeping the heartbeat timer looks at.
//!
//! Closing happens in two phases (after rustls' `tlsserver-mio`): a handler
//! only marks the connection closing and queues its last ERROR; the loop
//! flushes, shuts the write side, and reaps it once the peer has gone or a
//! second has passed. This module holds state; the server acts on it.

use crate::outbuf::OutBuf;
use crate::ratelimit::Bucket;
use banter_proto::{ErrorCode, PRE_WELCOME_MAX_FRAME};
use mio::net::TcpStream;
use std::borrow::Cow;
use std::net::SocketAddr;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Accepted; waiting for HELLO.
    Handshake,
    /// HELLO received; a password check is under way on the hasher thread.
    /// Input waits in the leftover buffer until it answers.
    Authenticating,
    /// Logged in as session `session`.
    Active { session: u32 },
    /// Being closed: output drains, then the socket goes (at `deadline` at
    /// the latest, in loop milliseconds).
    Closing { deadline: u64 },
}

/// What a handler asks the loop to do with its connection.
#[derive(Debug)]
pub enum Outcome {
    /// Keep going.
    Continue,
    /// Close, for this reason.
    Close(Reason),
}

/// Why a connection closes: the ERROR to send first, if any, and words for
/// the log line.
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

/// One TCP connection.
pub struct Conn {
    /// The socket, non-blocking, registered with the poll under this slab key.
    pub sock: TcpStream,
    /// The peer's address, for the accept and close log lines.
    pub addr: SocketAddr,
    /// Bumped per accept across the slab: timers carry it so a timer of a
    /// reused slot is ignored.
    pub gen: u32,
    /// Where it is in its life.
    pub state: State,
    /// Bytes of a frame not yet complete (empty, and unallocated, between frames).
    pub inbuf: Vec<u8>,
    /// Encoded frames owed to the peer.
    pub out: OutBuf,
    /// Loop time (ms) of the last byte received: the heartbeat's only input.
    pub last_heard: u64,
    /// SAY/TYPING rate limit.
    pub bucket: Bucket,
    /// Already on the loop's list of connections to flush this iteration.
    pub dirty: bool,
    /// Registered for WRITABLE as well as READABLE.
    pub want_write: bool,
    /// The write side has been shut down (closing, output drained).
    pub shut: bool,
    /// The peer has closed its side (read EOF): nothing more to read.
    pub eof: bool,
    /// The socket failed (reset, broken pipe): nothing more to read or write.
    pub gone: bool,
    /// Why it is closing, for the log line at reap.
    pub close_why: Option<Cow<'static, str>>,
}

impl Conn {
    /// A freshly accepted connection.
    pub fn new(sock: TcpStream, addr: SocketAddr, gen: u32, now: u64, rate: u32) -> Conn {
        Conn {
            sock,
            addr,
            gen,
            state: State::Handshake,
            inbuf: Vec::new(),
            out: OutBuf::default(),
            last_heard: now,
            bucket: Bucket::new(rate, now),
            dirty: false,
            want_write: false,
            shut: false,
            eof: false,
            gone: false,
            close_why: None,
        }
    }

    /// The session this connection is logged in as.
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
}
