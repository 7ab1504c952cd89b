//! Decoding in two steps, after mini-redis: [`check`] reads only the 4-byte
//! header and says whether a whole frame is buffered (refusing a zero or
//! oversized length at once), then [`decode`] parses exactly that frame.
//!
//! Decoding never panics and never reads past its input, whatever the bytes.
//! It checks the structure of a frame (field lengths, UTF-8), not what the
//! fields mean: see `validate` for names and text.

use crate::frame::{types::*, Frame};
use crate::HEADER_LEN;

/// Why a buffer does not (yet) hold a usable frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not enough bytes yet; read more and call again. Not an error of the peer.
    Incomplete,
    /// Framing: `len = 0`. Fatal; the stream cannot be trusted any more.
    ZeroLength,
    /// Framing: `len` is over the receiver's limit. Fatal; known from the header alone.
    TooLarge { len: u32, max: u32 },
    /// Body: shorter than the fields of its type; `field` is the first missing one.
    Truncated { ty: u8, field: &'static str },
    /// Body: a `str` field is not UTF-8.
    InvalidUtf8 { ty: u8, field: &'static str },
    /// Body: a type byte this version does not know.
    UnknownType { ty: u8 },
}

impl DecodeError {
    /// Framing errors leave the stream unusable; body errors skip one frame.
    pub fn is_framing(&self) -> bool {
        matches!(self, DecodeError::ZeroLength | DecodeError::TooLarge { .. })
    }

    /// The type byte of the frame the error is about, 0 for framing errors.
    pub fn frame_type(&self) -> u8 {
        match self {
            DecodeError::Truncated { ty, .. }
            | DecodeError::InvalidUtf8 { ty, .. }
            | DecodeError::UnknownType { ty } => *ty,
            _ => 0,
        }
    }

    /// The error code a server answers this error with (`None` for `Incomplete`).
    pub fn error_code(&self) -> Option<crate::ErrorCode> {
        use crate::ErrorCode::*;
        match self {
            DecodeError::Incomplete => None,
            DecodeError::ZeroLength | DecodeError::Truncated { .. } => Some(BadFrame),
            DecodeError::InvalidUtf8 { .. } => Some(BadFrame),
            DecodeError::TooLarge { .. } => Some(TooLarge),
            DecodeError::UnknownType { .. } => Some(UnknownType),
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |ty: u8| Frame::type_name(ty);
        match self {
            DecodeError::Incomplete => write!(f, "incomplete frame"),
            DecodeError::ZeroLength => write!(f, "frame length 0"),
            DecodeError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes is over the limit of {max}")
            }
            DecodeError::Truncated { ty, field } => {
                write!(f, "{} frame too short: missing {field}", name(*ty))
            }
            DecodeError::InvalidUtf8 { ty, field } => {
                write!(f, "{} frame: {field} is not valid UTF-8", name(*ty))
            }
            DecodeError::UnknownType { ty } => write!(f, "unknown frame type 0x{ty:02x}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Reads the header at the front of `buf`: the whole frame's size in bytes
/// (header included) when all of it is buffered, `Incomplete` when not, and
/// a framing error when the length is 0 or over `max_len`, even if only the
/// header has arrived.
pub fn check(buf: &[u8], max_len: u32) -> Result<usize, DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Err(DecodeError::Incomplete);
    };
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if len == 0 {
        return Err(DecodeError::ZeroLength);
    }
    if len > max_len {
        return Err(DecodeError::TooLarge { len, max: max_len });
    }
    let total = HEADER_LEN + len as usize;
    if buf.len() < total {
        return Err(DecodeError::Incomplete);
    }
    Ok(total)
}

/// Parses the frame at the front of `buf` (header included). Bytes after the
/// frame's declared end are not looked at; bytes after the last known field
/// inside it are ignored, as the spec says. Does not apply a size limit:
/// call [`check`] first.
pub fn decode(buf: &[u8]) -> Result<Frame, DecodeError> {
    let total = check(buf, u32::MAX)?;
    let body = &buf[HEADER_LEN..total];
    let ty = body[0];
    let mut r = Reader { ty, buf: &body[1..] };
    r.frame()
}

/// A cursor over one frame's body.
struct Reader<'a> {
    /// The frame's type, carried into errors.
    ty: u8,
    /// What is left of the body.
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated { ty: self.ty, field });
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn u8(&mut self, f: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, f)?[0])
    }
    fn u16(&mut self, f: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, f)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, f: &'static str) -> Result<u32, DecodeError> {
        let mut a = [0; 4];
        a.copy_from_slice(self.take(4, f)?);
        Ok(u32::from_be_bytes(a))
    }
    fn u64(&mut self, f: &'static str) -> Result<u64, DecodeError> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8, f)?);
        Ok(u64::from_be_bytes(a))
    }
    fn str(&mut self, f: &'static str) -> Result<String, DecodeError> {
        let n = self.u16(f)? as usize;
        let bytes = self.take(n, f)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(DecodeError::InvalidUtf8 { ty: self.ty, field: f }),
        }
    }
    fn list(&mut self, f: &'static str) -> Result<Vec<String>, DecodeError> {
        let n = self.u16(f)? as usize;
        // Each item takes at least 2 bytes: never reserve more than the body holds.
        let mut items = Vec::with_capacity(n.min(self.buf.len() / 2));
        for _ in 0..n {
            items.push(self.str(f)?);
        }
        Ok(items)
    }

    fn frame(&mut self) -> Result<Frame, DecodeError> {
        let f = match self.ty {
            HELLO => Frame::Hello {
                version: self.u16("version")?,
                name: self.str("name")?,
                password: self.str("password")?,
                resume: self.u64("resume")?,
            },
            JOIN => Frame::Join {
                room: self.str("room")?,
                since: self.u64("since")?,
                limit: self.u16("limit")?,
            },
            LEAVE => Frame::Leave { room: self.str("room")? },
            SAY => Frame::Say {
                room: self.str("room")?,
                seq: self.u32("seq")?,
                text: self.str("text")?,
            },
            HISTORY => Frame::History {
                room: self.str("room")?,
                before: self.u64("before")?,
                limit: self.u16("limit")?,
            },
            TYPING => Frame::Typing { room: self.str("room")?, active: self.u8("active")? },
            WHO => Frame::Who { room: self.str("room")? },
            QUIT => Frame::Quit { reason: self.str("reason")? },
            REGISTER => Frame::Register { password: self.str("password")? },
            PING => Frame::Ping { nonce: self.u64("nonce")? },
            PONG => Frame::Pong { nonce: self.u64("nonce")? },
            _ => return self.server_frame(),
        };
        Ok(f)
    }

    fn server_frame(&mut self) -> Result<Frame, DecodeError> {
        let f = match self.ty {
            WELCOME => Frame::Welcome {
                version: self.u16("version")?,
                name: self.str("name")?,
                token: self.u64("token")?,
                resumed: self.u8("resumed")?,
                heartbeat_ms: self.u32("heartbeat_ms")?,
                max_frame: self.u32("max_frame")?,
                max_text: self.u32("max_text")?,
                server: self.str("server")?,
            },
            ERROR => Frame::Error {
                code: self.u16("code")?,
                about: self.u8("about")?,
                seq: self.u32("seq")?,
                detail: self.str("detail")?,
            },
            JOINED => Frame::Joined {
                room: self.str("room")?,
                last_id: self.u64("last_id")?,
                members: self.u32("members")?,
            },
            LEFT => Frame::Left { room: self.str("room")? },
            MSG => Frame::Msg {
                room: self.str("room")?,
                id: self.u64("id")?,
                ts: self.u64("ts")?,
                from: self.str("from")?,
                flags: self.u8("flags")?,
                text: self.str("text")?,
            },
            ACK => Frame::Ack {
                seq: self.u32("seq")?,
                room: self.str("room")?,
                id: self.u64("id")?,
                ts: self.u64("ts")?,
            },
            _ => return self.server_frame2(),
        };
        Ok(f)
    }

    fn server_frame2(&mut self) -> Result<Frame, DecodeError> {
        let f = match self.ty {
            PRESENCE => Frame::Presence {
                room: self.str("room")?,
                name: self.str("name")?,
                event: self.u8("event")?,
                reason: self.str("reason")?,
            },
            USER_TYPING => Frame::UserTyping {
                room: self.str("room")?,
                name: self.str("name")?,
                active: self.u8("active")?,
            },
            ROSTER => Frame::Roster {
                room: self.str("room")?,
                more: self.u8("more")?,
                names: self.list("names")?,
            },
            HISTORY_END => Frame::HistoryEnd {
                room: self.str("room")?,
                count: self.u16("count")?,
                more: self.u8("more")?,
            },
            NOTICE => Frame::Notice { text: self.str("text")? },
            REGISTERED => Frame::Registered { name: self.str("name")? },
            ty => return Err(DecodeError::UnknownType { ty }),
        };
        Ok(f)
    }
}
