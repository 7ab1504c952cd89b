//! The `Frame` enum: one variant per frame type of the spec, with typed fields.
//!
//! Encoding lives in `encode.rs`, decoding in `decode.rs`; neither this
//! module nor they check the *meaning* of a field (a valid name, a text's
//! characters): that is `validate`'s job, called by whoever acts on a frame.

/// The type byte of each frame.
pub mod types {
    pub const HELLO: u8 = 0x01;
    pub const JOIN: u8 = 0x02;
    pub const LEAVE: u8 = 0x03;
    pub const SAY: u8 = 0x04;
    pub const HISTORY: u8 = 0x05;
    pub const TYPING: u8 = 0x06;
    pub const WHO: u8 = 0x07;
    pub const QUIT: u8 = 0x08;
    pub const REGISTER: u8 = 0x09;
    pub const PING: u8 = 0x0E;
    pub const PONG: u8 = 0x0F;
    pub const WELCOME: u8 = 0x21;
    pub const ERROR: u8 = 0x22;
    pub const JOINED: u8 = 0x23;
    pub const LEFT: u8 = 0x24;
    pub const MSG: u8 = 0x25;
    pub const ACK: u8 = 0x26;
    pub const PRESENCE: u8 = 0x27;
    pub const USER_TYPING: u8 = 0x28;
    pub const ROSTER: u8 = 0x29;
    pub const HISTORY_END: u8 = 0x2A;
    pub const NOTICE: u8 = 0x2B;
    pub const REGISTERED: u8 = 0x2C;
}

/// `PRESENCE.event` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PresenceEvent {
    Joined = 1,
    Left = 2,
    Quit = 3,
    Lost = 4,
}

impl PresenceEvent {
    /// The event for a wire value; `None` for a value this version does not know.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Joined),
            2 => Some(Self::Left),
            3 => Some(Self::Quit),
            4 => Some(Self::Lost),
            _ => None,
        }
    }
}

/// `MSG.flags` bit 0: the message is replayed (JOIN) or history (HISTORY).
pub const FLAG_REPLAY: u8 = 0x01;

/// One frame of either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    // ---- client to server ----
    /// 0x01: opens a session or resumes one (`resume` = its token, 0: none).
    Hello { version: u16, name: String, password: String, resume: u64 },
    /// 0x02: become a member of `room`, replaying up to `limit` messages after `since`.
    Join { room: String, since: u64, limit: u16 },
    /// 0x03: stop being a member of `room`.
    Leave { room: String },
    /// 0x04: post `text` to `room`; `seq` numbers the session's SAYs 1, 2, 3, …
    Say { room: String, seq: u32, text: String },
    /// 0x05: the newest `limit` messages with `id < before` (0: newest).
    History { room: String, before: u64, limit: u16 },
    /// 0x06: the sender starts (`active` != 0) or stops typing in `room`.
    Typing { room: String, active: u8 },
    /// 0x07: ask for the members of `room`.
    Who { room: String },
    /// 0x08: end the session for good.
    Quit { reason: String },
    /// 0x09: bind the current name to `password`.
    Register { password: String },

    // ---- both directions ----
    /// 0x0E: the peer must answer PONG with the same nonce.
    Ping { nonce: u64 },
    /// 0x0F: the answer to PING.
    Pong { nonce: u64 },

    // ---- server to client ----
    /// 0x21: the handshake succeeded.
    Welcome {
        version: u16,
        name: String,
        token: u64,
        resumed: u8,
        heartbeat_ms: u32,
        max_frame: u32,
        max_text: u32,
        server: String,
    },
    /// 0x22: a refusal; `about` is the type answered (0: none), `seq` the SAY's.
    Error { code: u16, about: u8, seq: u32, detail: String },
    /// 0x23: the JOIN succeeded.
    Joined { room: String, last_id: u64, members: u32 },
    /// 0x24: the LEAVE succeeded.
    Left { room: String },
    /// 0x25: a chat message (live, replayed or history, see `flags`).
    Msg { room: String, id: u64, ts: u64, from: String, flags: u8, text: String },
    /// 0x26: the SAY numbered `seq` was stored as `id` at `ts`.
    Ack { seq: u32, room: String, id: u64, ts: u64 },
    /// 0x27: `name` joined, left, quit or was lost from `room`.
    Presence { room: String, name: String, event: u8, reason: String },
    /// 0x28: `name` started or stopped typing in `room`.
    UserTyping { room: String, name: String, active: u8 },
    /// 0x29: members of `room`; `more` = 1 when another ROSTER follows.
    Roster { room: String, more: u8, names: Vec<String> },
    /// 0x2A: the end of a history answer of `count` MSG frames.
    HistoryEnd { room: String, count: u16, more: u8 },
    /// 0x2B: text from the server for the user.
    Notice { text: String },
    /// 0x2C: the REGISTER succeeded.
    Registered { name: String },
}

impl Frame {
    /// The frame's type byte.
    pub fn frame_type(&self) -> u8 {
        use types::*;
        match self {
            Frame::Hello { .. } => HELLO,
            Frame::Join { .. } => JOIN,
            Frame::Leave { .. } => LEAVE,
            Frame::Say { .. } => SAY,
            Frame::History { .. } => HISTORY,
            Frame::Typing { .. } => TYPING,
            Frame::Who { .. } => WHO,
            Frame::Quit { .. } => QUIT,
            Frame::Register { .. } => REGISTER,
            Frame::Ping { .. } => PING,
            Frame::Pong { .. } => PONG,
            Frame::Welcome { .. } => WELCOME,
            Frame::Error { .. } => ERROR,
            Frame::Joined { .. } => JOINED,
            Frame::Left { .. } => LEFT,
            Frame::Msg { .. } => MSG,
            Frame::Ack { .. } => ACK,
            Frame::Presence { .. } => PRESENCE,
            Frame::UserTyping { .. } => USER_TYPING,
            Frame::Roster { .. } => ROSTER,
            Frame::HistoryEnd { .. } => HISTORY_END,
            Frame::Notice { .. } => NOTICE,
            Frame::Registered { .. } => REGISTERED,
        }
    }

    /// The spec's name of the frame type, for logs and messages.
    pub fn type_name(ty: u8) -> &'static str {
        use types::*;
        match ty {
            HELLO => "HELLO",
            JOIN => "JOIN",
            LEAVE => "LEAVE",
            SAY => "SAY",
            HISTORY => "HISTORY",
            TYPING => "TYPING",
            WHO => "WHO",
            QUIT => "QUIT",
            REGISTER => "REGISTER",
            PING => "PING",
            PONG => "PONG",
            WELCOME => "WELCOME",
            ERROR => "ERROR",
            JOINED => "JOINED",
            LEFT => "LEFT",
            MSG => "MSG",
            ACK => "ACK",
            PRESENCE => "PRESENCE",
            USER_TYPING => "TYPING",
            ROSTER => "ROSTER",
            HISTORY_END => "HISTORY_END",
            NOTICE => "NOTICE",
            REGISTERED => "REGISTERED",
            _ => "UNKNOWN",
        }
    }

    /// A fatal or non-fatal ERROR frame built from a code.
    pub fn error(code: crate::ErrorCode, about: u8, seq: u32, detail: impl Into<String>) -> Frame {
        Frame::Error { code: code.code(), about, seq, detail: detail.into() }
    }
}
