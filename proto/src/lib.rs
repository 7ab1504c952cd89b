//! The Banter wire protocol, version 1: frames, framing and the validation
//! rules of names and text, shared by `banterd`, `banter` and `banter-bench`.
//!
//! This crate does no I/O. A receiver appends what it reads to a buffer, asks
//! [`check`] whether a whole frame is there (which refuses an oversized frame
//! from its 4-byte header alone, before the body arrives), then [`decode`]s
//! exactly that many bytes and drops them. A sender [`Frame::encode`]s into a
//! `Vec<u8>` it owns and writes that buffer whenever the socket allows.
//!
//! The normative description is `shared/PROTOCOL.md`; the decisions it leaves
//! open are recorded in this crate's `PROTOCOL.md`.

mod codes;
mod decode;
mod encode;
mod frame;
pub mod validate;

#[cfg(test)]
mod tests;

pub use codes::ErrorCode;
pub use decode::{check, decode, DecodeError};
pub use encode::{encode_msg, truncate_str};
pub use frame::{types, Frame, PresenceEvent, FLAG_REPLAY};

/// The protocol version this crate speaks (`HELLO.version`, `WELCOME.version`).
pub const VERSION: u16 = 1;
/// Bytes of the length prefix in front of every frame.
pub const HEADER_LEN: usize = 4;
/// The server's default frame-size limit, announced in `WELCOME.max_frame`.
pub const DEFAULT_MAX_FRAME: u32 = 65_536;
/// The frame-size limit the server applies before it has sent `WELCOME`.
pub const PRE_WELCOME_MAX_FRAME: u32 = 1024;
/// The default limit on `SAY.text`, announced in `WELCOME.max_text`.
pub const DEFAULT_MAX_TEXT: u32 = 4096;
/// Room reserved in a frame for everything but the text: `max_text` is at
/// most `max_frame - TEXT_OVERHEAD`.
pub const TEXT_OVERHEAD: u32 = 128;
/// Longest value a `str` field can carry (its length is a `u16`).
pub const MAX_STR: usize = u16::MAX as usize;
/// Longest QUIT reason relayed in PRESENCE, in bytes.
pub const MAX_REASON: usize = 256;
