//! The small enumerations and flag bits that travel inside frames:
//! presence events, MSG and SAY flags, and a MSG's file fields.
//!
//! Nothing here encodes or decodes; see `client` and `server` for that.

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
/// `MSG.flags` bit 1: the message is a file (§10); it carries file fields.
pub const FLAG_FILE: u8 = 0x02;
/// `SAY.flags` and `MSG.flags` bit 2: an action (`/me waves`).
pub const FLAG_ACTION: u8 = 0x04;

/// The file fields a MSG with [`FLAG_FILE`] carries after its text (the
/// text is then the file's name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileRef {
    /// Lower-case hex SHA-256 of the content: the file's handle for FETCH.
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type as the uploader declared it.
    pub mime: String,
}
