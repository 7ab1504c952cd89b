//! The Banter wire protocol, version 1 with its extensions: frames, framing
//! and the validation rules of names and text, shared by `banterd`,
//! `banter` and `banter-bench`.
//!
//! This crate does no I/O. A receiver appends what it reads to a buffer, asks
//! [`check`] whether a whole frame is there (which refuses an oversized frame
//! from its 4-byte header alone, before the body arrives), then decodes
//! exactly that many bytes with [`decode_client`] (a server) or
//! [`decode_server`] (a client) and drops them. Frames are split by
//! direction, [`ClientFrame`] and [`ServerFrame`], so each side matches
//! exhaustively on what it may receive. A sender encodes into a `Vec<u8>`
//! it owns and writes that buffer whenever the socket allows.
//!
//! The normative description is `shared/PROTOCOL.md`; the decisions it leaves
//! open are recorded in this crate's `PROTOCOL.md`.

mod client;
mod codes;
mod fields;
mod framing;
mod redact;
mod server;
pub mod types;
pub mod validate;
mod view;
mod wire;

#[cfg(test)]
mod tests;

pub use client::{decode_client, encode_say, ClientFrame};
pub use codes::ErrorCode;
pub use fields::{FileRef, PresenceEvent, FLAG_ACTION, FLAG_FILE, FLAG_REPLAY};
pub use framing::{check, frame_size, frame_type, hello_version, DecodeError};
pub use server::{decode_server, encode_file_data_head, encode_msg, msg_size, MsgRef, ServerFrame};
pub use view::{view_msg, MsgView};
pub use wire::truncate_str;

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
