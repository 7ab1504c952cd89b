//! One benchmark connection: its socket, role, setup state, output buffer
//! and the few bytes of a unit split across reads. Reading goes through the
//! worker's one large scratch buffer, so an idle connection costs only its
//! socket and two small vectors.
//!
//! It knows no protocol: the worker parses what `read_into` returns.

use crate::plan::{ConnSpec, Role};
use crate::stats::OrderCheck;
use mio::net::TcpStream;
use std::io::{ErrorKind, Read, Write};

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The TCP connect is in progress.
    Connecting,
    /// Login sent, waiting for WELCOME / PONG.
    LoggingIn,
    /// Join sent, waiting for JOINED / the subscribe confirmation.
    Joining,
    /// Set up; doing its role's work.
    Ready,
    /// QUIT sent; waiting for the server to close.
    Quitting,
}

/// One connection.
pub struct Conn {
    /// The socket.
    pub stream: TcpStream,
    /// What it was opened for (role, name, room).
    pub spec: ConnSpec,
    /// Where it is.
    pub state: State,
    /// The tail of a unit whose rest has not arrived yet.
    pub carry: Vec<u8>,
    /// Bytes to send; `out[out_at..]` is not written yet.
    pub out: Vec<u8>,
    /// How much of `out` is written.
    pub out_at: usize,
    /// Whether the key is in the worker's list of connections to flush.
    pub queued: bool,
    /// Senders: the last sequence number published.
    pub seq: u32,
    /// Senders: `seq` when the current window started (open-loop schedule).
    pub base: u32,
    /// Senders: publishes not yet acknowledged.
    pub in_flight: u32,
    /// Filler: messages still to put in the room.
    pub to_fill: u64,
    /// When the current cycle (churn) or JOIN (replay) started, ns.
    pub t0: u64,
    /// Receivers: the per-sender order check.
    pub order: Option<OrderCheck>,
}

/// What one read produced.
pub enum ReadResult {
    /// `scratch[..total]` holds the carried tail and then `new` fresh bytes.
    Data { total: usize, new: usize },
    /// Nothing more to read now.
    Drained,
    /// The peer closed, or the socket failed (with the reason).
    Closed(String),
}

impl Conn {
    /// A connection being opened for `spec`.
    pub fn new(stream: TcpStream, spec: ConnSpec, senders: usize) -> Conn {
        let order = (spec.role == Role::Receiver).then(|| OrderCheck::new(senders));
        Conn {
            stream,
            spec,
            state: State::Connecting,
            carry: Vec::new(),
            out: Vec::new(),
            out_at: 0,
            queued: false,
            seq: 0,
            base: 0,
            in_flight: 0,
            to_fill: 0,
            t0: 0,
            order,
        }
    }

    /// Bytes queued but not yet written.
    pub fn pending(&self) -> usize {
        self.out.len() - self.out_at
    }

    /// Reads into `scratch` after the carried tail (then emptied).
    pub fn read_into(&mut self, scratch: &mut [u8]) -> ReadResult {
        let c = self.carry.len();
        if c >= scratch.len() {
            return ReadResult::Closed("a unit larger than the read buffer".into());
        }
        scratch[..c].copy_from_slice(&self.carry);
        match self.stream.read(&mut scratch[c..]) {
            Ok(0) => ReadResult::Closed("closed by the server".into()),
            Ok(n) => {
                self.carry.clear();
                ReadResult::Data { total: c + n, new: n }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => ReadResult::Drained,
            Err(e) if e.kind() == ErrorKind::Interrupted => ReadResult::Data { total: 0, new: 0 },
            Err(e) => ReadResult::Closed(format!("read: {e}")),
        }
    }

    /// Writes as much queued output as the socket takes, counting the
    /// write calls in `writes`. `Ok(true)` when everything is written.
    pub fn flush(&mut self, writes: &mut u64) -> Result<bool, String> {
        while self.out_at < self.out.len() {
            *writes += 1;
            match self.stream.write(&self.out[self.out_at..]) {
                Ok(0) => return Err("write returned 0".into()),
                Ok(n) => self.out_at += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        self.out.clear();
        self.out_at = 0;
        Ok(true)
    }

    /// Whether a connect in progress has finished: `Ok(true)` connected,
    /// `Ok(false)` still going, `Err` failed.
    pub fn connect_done(&mut self) -> Result<bool, String> {
        if let Ok(Some(e)) | Err(e) = self.stream.take_error() {
            return Err(format!("connect: {e}"));
        }
        match self.stream.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(format!("connect: {e}")),
        }
    }
}
