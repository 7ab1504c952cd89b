//! One benchmark connection: its socket and transport, role, setup state,
//! output buffer and the few bytes of a unit split across reads. Reading
//! goes through the worker's one large scratch buffer, so an idle plain
//! connection costs only its socket and two small vectors (a TLS one adds
//! rustls's state).
//!
//! It knows no protocol: the worker parses what `read_into` returns.

use crate::link::ws::Masks;
use crate::link::{FlushIo, Link, ReadIo, ReadResult};
use crate::plan::{ConnSpec, Role};
use crate::stats::OrderCheck;
use mio::net::TcpStream;
use std::io::ErrorKind;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The TCP connect is in progress.
    Connecting,
    /// WebSocket upgrade sent, waiting for its `101`.
    Upgrading,
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
    /// The transport over it: TLS, WebSocket, or neither.
    pub link: Link,
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
    /// Receivers (and chat members): the per-sender order check.
    pub order: Option<OrderCheck>,
    /// Receipts: the member's marker and the READs it received.
    pub receipts: Option<Box<crate::receipts::ReadLog>>,
}

impl Conn {
    /// A connection being opened for `spec` over `link`.
    pub fn new(stream: TcpStream, link: Link, spec: ConnSpec, senders: usize) -> Conn {
        let order = match spec.role {
            Role::Receiver => Some(OrderCheck::new(senders)),
            Role::Chatter { .. } | Role::Mover => {
                Some(OrderCheck::excluding(senders, spec.role.sender_idx()))
            }
            _ => None,
        };
        Conn {
            stream,
            link,
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
            receipts: None,
        }
    }

    /// Bytes queued but not yet written.
    pub fn pending(&self) -> usize {
        self.out.len() - self.out_at
    }

    /// Whether a flush has anything to do.
    pub fn has_output(&self) -> bool {
        self.pending() > 0 || self.link.wants_write()
    }

    /// Queues one protocol unit, which `f` appends (given the connection's
    /// spec); a WebSocket link makes it one message.
    pub fn send(&mut self, masks: &mut Masks, f: impl FnOnce(&mut Vec<u8>, &ConnSpec)) {
        let start = self.out.len();
        f(&mut self.out, &self.spec);
        if self.out.len() > start {
            self.link.wrap(&mut self.out, start, masks);
        }
    }

    /// Reads application bytes into `scratch` after the carried tail (then
    /// emptied); `raw` is the worker's buffer for TLS records.
    pub fn read_into(
        &mut self,
        scratch: &mut [u8],
        raw: &mut [u8],
        masks: &mut Masks,
    ) -> ReadResult {
        if let Some(why) = self.link.take_ended() {
            let _ = self.flush(&mut 0); // a WebSocket close reply, if it fits
            return ReadResult::Closed(why);
        }
        let carry = self.carry.len();
        if carry >= scratch.len() {
            return ReadResult::Closed("a unit larger than the read buffer".into());
        }
        scratch[..carry].copy_from_slice(&self.carry);
        let out = &mut self.out;
        let io = ReadIo { stream: &mut self.stream, scratch, carry, raw, out, masks };
        let r = self.link.read(io);
        if let ReadResult::Data { .. } = r {
            self.carry.clear();
        }
        r
    }

    /// Writes as much queued output as the socket takes, counting the
    /// write calls in `writes`. `Ok(true)` when everything is written.
    pub fn flush(&mut self, writes: &mut u64) -> Result<bool, String> {
        let io = FlushIo { stream: &mut self.stream, out: &self.out, at: &mut self.out_at, writes };
        let done = self.link.flush(io)?;
        if self.out_at == self.out.len() {
            self.out.clear();
            self.out_at = 0;
        }
        Ok(done)
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
