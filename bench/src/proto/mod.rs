//! The wire adapters behind one interface, so the engine drives Banter,
//! Redis and the Node WebSocket baseline with exactly the same code and load: what to write to log in,
//! join, publish, answer a ping and quit, and what a received unit means.
//!
//! Parsing decodes only what the engine acts on (a payload slice, an ACK);
//! everything else is skipped by length. No I/O happens here.

pub mod banter;
pub mod banter_ext;
pub mod resp;
pub mod wsbase;

/// One thing the server said, as far as the harness cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Logged in: Banter WELCOME, or RESP `+PONG` to the login PING.
    Welcome {
        /// The server's frame-size limit (Banter; 0 elsewhere): file
        /// chunks carry at most `max_frame - 128` bytes.
        max_frame: u32,
        /// The extensions it offers ([`FEATURE_RECEIPTS`], [`FEATURE_FILES`]).
        features: u8,
    },
    /// In the room: Banter JOINED, or the RESP subscribe confirmation.
    Joined {
        /// The room's newest message id (Banter), 0 when unknown.
        last_id: u64,
    },
    /// The server accepted one of our publishes: Banter ACK, RESP integer.
    Ack {
        /// The SAY's (or UPLOAD's) seq (Banter; 0 elsewhere).
        seq: u32,
        /// The message's id in its room (Banter; 0 elsewhere).
        id: u64,
    },
    /// A delivered message (live, or replayed when `replay`).
    Msg {
        /// The message text / channel payload, starting with the stamp.
        payload: &'a [u8],
        /// Banter's flag bit 0: a JOIN replay or history answer.
        replay: bool,
        /// The message's id in its room (Banter; 0 elsewhere).
        id: u64,
    },
    /// A Banter file message (MSG with flag bit 1): its text is a file name.
    FileMsg,
    /// The end of a Banter history answer; `more` when older ones remain.
    HistoryEnd { more: bool },
    /// A keep-alive that must be answered with [`Proto::pong`].
    Ping { nonce: u64 },
    /// A refusal. `answers_publish` when it stands in for a publish's ACK
    /// (Banter ERROR about SAY, any RESP error reply); `about` is the type
    /// of the Banter frame it answers and `code` its error code (both 0:
    /// none, or not Banter).
    Error { fatal: bool, answers_publish: bool, about: u8, code: u16, text: String },
    /// Banter READ (§9): `name` has read our room up to `id`.
    Read {
        /// The room it names.
        room: &'a str,
        /// The reader.
        name: &'a str,
        /// Its marker.
        id: u64,
    },
    /// Banter REGISTERED: the session's name is an account now.
    Registered,
    /// Banter UPLOAD_READY (§10): send upload `seq` from `offset`.
    UploadReady { seq: u32, offset: u64 },
    /// Banter FILE_DATA (§10): bytes of `file` from `offset`.
    FileData {
        /// The file's hex SHA-256.
        file: &'a str,
        /// Where `data` starts in the file.
        offset: u64,
        /// Whether this is the download's last piece.
        last: bool,
        /// The bytes.
        data: &'a [u8],
    },
    /// Anything else (NOTICE, ROSTER, PRESENCE, `+OK`, …): skipped.
    Other,
}

/// `Event::Welcome.features`: the server offers read markers and receipts.
pub const FEATURE_RECEIPTS: u8 = 1;
/// `Event::Welcome.features`: the server offers file sharing.
pub const FEATURE_FILES: u8 = 2;

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
            Proto::Banter => banter::hello(out, name, ""),
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
