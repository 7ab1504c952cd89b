//! The wire adapters behind one interface, so the engine drives Banter,
//! Redis and the Node WebSocket baseline with exactly the same code and load: what to write to log in,
//! join, publish, answer a ping and quit, and what a received unit means.
//!
//! Parsing decodes only what the engine acts on (a payload slice, an ACK);
//! everything else is skipped by length. No I/O happens here.

pub mod banter;
pub mod resp;
pub mod wsbase;

/// One thing the server said, as far as the harness cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Logged in: Banter WELCOME, or RESP `+PONG` to the login PING.
    Welcome,
    /// In the room: Banter JOINED, or the RESP subscribe confirmation.
    Joined {
        /// The room's newest message id (Banter), 0 when unknown.
        last_id: u64,
    },
    /// The server accepted one of our publishes: Banter ACK, RESP integer.
    Ack,
    /// A delivered message (live, or replayed when `replay`).
    Msg {
        /// The message text / channel payload, starting with the stamp.
        payload: &'a [u8],
        /// Banter's flag bit 0: a JOIN replay or history answer.
        replay: bool,
    },
    /// The end of a Banter history answer; `more` when older ones remain.
    HistoryEnd { more: bool },
    /// A keep-alive that must be answered with [`Proto::pong`].
    Ping { nonce: u64 },
    /// A refusal. `answers_publish` when it stands in for a publish's ACK
    /// (Banter ERROR about SAY, any RESP error reply).
    Error { fatal: bool, answers_publish: bool, text: String },
    /// Anything else (NOTICE, ROSTER, PRESENCE, `+OK`, …): skipped.
    Other,
}

/// Which server protocol a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// `banter://`: the Banter binary protocol.
    Banter,
    /// `redis://`: RESP2, SUBSCRIBE/PUBLISH.
    Resp,
    /// `wsbase://`: the Node `ws` baseline's line protocol (`wsbase.rs`).
    WsBase,
}

/// What `parse` returns: an event and the bytes it used, `None` when the
/// buffer does not hold a whole unit yet, or an error that ends the
/// connection (the stream cannot be trusted any more).
pub type Parsed<'a> = Result<Option<(Event<'a>, usize)>, String>;

impl Proto {
    /// Parses the unit at the front of `buf`.
    pub fn parse(self, buf: &[u8]) -> Parsed<'_> {
        match self {
            Proto::Banter => banter::parse(buf),
            Proto::Resp => resp::parse(buf),
            Proto::WsBase => wsbase::parse(buf),
        }
    }

    /// Appends the login request: HELLO, or a PING (RESP, baseline).
    pub fn login(self, out: &mut Vec<u8>, name: &str) {
        match self {
            Proto::Banter => banter::hello(out, name),
            Proto::Resp => resp::command(out, &[b"PING"]),
            Proto::WsBase => wsbase::ping(out),
        }
    }

    /// Whether a connection in this role must join the room: Banter needs
    /// membership to speak; a Redis (or baseline) publisher needs none.
    pub fn must_join(self, receives: bool) -> bool {
        receives || self == Proto::Banter
    }

    /// Appends the join request: JOIN (with a replay `limit`), or SUBSCRIBE.
    pub fn join(self, out: &mut Vec<u8>, room: &str, limit: u16) {
        match self {
            Proto::Banter => banter::join(out, room, limit),
            Proto::Resp => resp::command(out, &[b"SUBSCRIBE", room.as_bytes()]),
            Proto::WsBase => wsbase::join(out, room),
        }
    }

    /// Appends one publish: SAY numbered `seq`, or PUBLISH.
    pub fn publish(self, out: &mut Vec<u8>, room: &str, seq: u32, payload: &[u8]) {
        match self {
            Proto::Banter => banter::say(out, room, seq, payload),
            Proto::Resp => resp::command(out, &[b"PUBLISH", room.as_bytes(), payload]),
            Proto::WsBase => wsbase::publish(out, room, payload),
        }
    }

    /// Appends the answer to a ping.
    pub fn pong(self, out: &mut Vec<u8>, nonce: u64) {
        match self {
            Proto::Banter => banter::pong(out, nonce),
            Proto::Resp | Proto::WsBase => {}
        }
    }

    /// Appends the goodbye: QUIT in each protocol.
    pub fn quit(self, out: &mut Vec<u8>) {
        match self {
            Proto::Banter => banter::quit(out),
            Proto::Resp => resp::command(out, &[b"QUIT"]),
            Proto::WsBase => wsbase::quit(out),
        }
    }
}
