//! The type byte of each frame, which direction may send it, and its name.
//!
//! Nothing here encodes or decodes; see `client` and `server` for that.

pub const HELLO: u8 = 0x01;
pub const JOIN: u8 = 0x02;
pub const LEAVE: u8 = 0x03;
pub const SAY: u8 = 0x04;
pub const HISTORY: u8 = 0x05;
pub const TYPING: u8 = 0x06;
pub const WHO: u8 = 0x07;
pub const QUIT: u8 = 0x08;
pub const REGISTER: u8 = 0x09;
pub const MARK: u8 = 0x0A;
pub const UPLOAD: u8 = 0x0B;
pub const CHUNK: u8 = 0x0C;
pub const FETCH: u8 = 0x0D;
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
pub const READ: u8 = 0x2D;
pub const DELIVERED: u8 = 0x2E;
pub const UNREAD: u8 = 0x2F;
pub const UPLOAD_READY: u8 = 0x30;
pub const FILE_DATA: u8 = 0x31;

/// Whether a client may send `ty` (a server accepts it).
pub fn is_client(ty: u8) -> bool {
    matches!(ty, HELLO..=PONG)
}

/// Whether a server may send `ty` (a client accepts it).
pub fn is_server(ty: u8) -> bool {
    matches!(ty, WELCOME..=FILE_DATA | PING | PONG)
}

/// The spec's name of a frame type, for logs and messages; "UNKNOWN"
/// for a byte no frame has.
pub fn name(ty: u8) -> &'static str {
    const NAMES: [&str; 16] = [
        "UNKNOWN", "HELLO", "JOIN", "LEAVE", "SAY", "HISTORY", "TYPING", "WHO", "QUIT", "REGISTER",
        "MARK", "UPLOAD", "CHUNK", "FETCH", "PING", "PONG",
    ];
    const SERVER: [&str; 17] = [
        "WELCOME",
        "ERROR",
        "JOINED",
        "LEFT",
        "MSG",
        "ACK",
        "PRESENCE",
        "TYPING",
        "ROSTER",
        "HISTORY_END",
        "NOTICE",
        "REGISTERED",
        "READ",
        "DELIVERED",
        "UNREAD",
        "UPLOAD_READY",
        "FILE_DATA",
    ];
    match ty {
        0x01..=0x0F => NAMES[usize::from(ty)],
        WELCOME..=FILE_DATA => SERVER[usize::from(ty - WELCOME)],
        _ => "UNKNOWN",
    }
}
