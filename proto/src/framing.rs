//! Framing, after mini-redis: [`check`] reads only the 4-byte header and
//! says whether a whole frame is buffered (refusing a zero or oversized
//! length at once, before the body arrives); then `decode_client` or
//! `decode_server` parses exactly that frame. One [`DecodeError`] covers
//! both steps.
//!
//! Also the few header-level helpers other layers need so that no one else
//! reads frame bytes by offset: [`frame_size`] for walking a buffer of
//! whole frames and [`hello_version`] for the handshake's first check.

use crate::types::{self, HELLO};
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
    /// Body: a type the other direction sends (a server-to-client type
    /// reaching a server, or the reverse).
    WrongDirection { ty: u8 },
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
            | DecodeError::UnknownType { ty }
            | DecodeError::WrongDirection { ty } => *ty,
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
            DecodeError::UnknownType { .. } | DecodeError::WrongDirection { .. } => {
                Some(UnknownType)
            }
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = types::name;
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
            DecodeError::WrongDirection { ty } if types::is_server(*ty) => {
                write!(f, "{} is a server-to-client frame", name(*ty))
            }
            DecodeError::WrongDirection { ty } => {
                write!(f, "{} is a client-to-server frame", name(*ty))
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Reads the header at the front of `buf`: the whole frame's size in bytes
/// (header included) when all of it is buffered, `Incomplete` when not, and
/// a framing error when the length is 0 or over `max_len`, even if only the
/// header has arrived.
pub fn check(buf: &[u8], max_len: u32) -> Result<usize, DecodeError> {
    let Some(total) = frame_size(buf) else {
        return Err(DecodeError::Incomplete);
    };
    let len = (total - HEADER_LEN) as u32;
    if len == 0 {
        return Err(DecodeError::ZeroLength);
    }
    if len > max_len {
        return Err(DecodeError::TooLarge { len, max: max_len });
    }
    if buf.len() < total {
        return Err(DecodeError::Incomplete);
    }
    Ok(total)
}

/// The size (header included) of the frame whose header starts `buf`, from
/// the header alone; `None` when fewer than four bytes are there. For
/// walking a buffer of frames already checked (an output queue).
pub fn frame_size(buf: &[u8]) -> Option<usize> {
    let h = buf.get(..HEADER_LEN)?;
    Some(HEADER_LEN + u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize)
}

/// The body of a whole frame (type byte first) and its type: the frame must
/// have passed [`check`].
pub(crate) fn body(buf: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    let total = check(buf, u32::MAX)?;
    let body = &buf[HEADER_LEN..total];
    Ok((body[0], &body[1..]))
}

/// `HELLO.version` of a whole frame, read before anything else in it (the
/// spec checks the version first, whatever follows): `None` when the frame
/// is not a HELLO or too short to hold a version.
pub fn hello_version(frame: &[u8]) -> Option<u16> {
    let (ty, rest) = body(frame).ok()?;
    let v = rest.get(..2).filter(|_| ty == HELLO)?;
    Some(u16::from_be_bytes([v[0], v[1]]))
}

/// The type byte of a whole frame.
pub fn frame_type(frame: &[u8]) -> Option<u8> {
    frame.get(HEADER_LEN).copied()
}
