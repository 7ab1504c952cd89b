//! Frames a client sends: [`ClientFrame`], its encoding, and
//! [`decode_client`], which a server uses. PING and PONG travel both ways
//! and appear here and in `server` alike.
//!
//! Neither encoding nor decoding checks what a field *means* (a valid name,
//! a text's characters): that is `validate`'s job, called by whoever acts on
//! a frame.

use crate::framing::{body, DecodeError};
use crate::types::*;
use crate::wire::{Reader, Writer};

/// One frame from a client to a server. Its `Debug` (in `redact`) hides
/// passwords, the resume token and file bytes, so a frame can be logged.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// 0x01: opens a session or resumes one (`resume` = its token, 0: none).
    Hello { version: u16, name: String, password: String, resume: u64 },
    /// 0x02: become a member of `room`, replaying up to `limit` messages after `since`.
    Join { room: String, since: u64, limit: u16 },
    /// 0x03: stop being a member of `room`.
    Leave { room: String },
    /// 0x04: post `text` to `room`; `seq` numbers the session's SAYs 1, 2, 3, …;
    /// `flags` bit 2 marks an action (sent only when not 0).
    Say { room: String, seq: u32, text: String, flags: u8 },
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
    /// 0x0A: the sender has read everything up to `id` in `room`.
    Mark { room: String, id: u64 },
    /// 0x0B: announce a file upload of `size` bytes to `room`.
    Upload { seq: u32, room: String, name: String, size: u64, mime: String },
    /// 0x0C: bytes of the upload numbered `seq`, starting at `offset`.
    Chunk { seq: u32, offset: u64, data: Vec<u8> },
    /// 0x0D: download `file` (its hex SHA-256) from `offset`.
    Fetch { file: String, offset: u64 },
    /// 0x0E: the peer must answer PONG with the same nonce.
    Ping { nonce: u64 },
    /// 0x0F: the answer to PING.
    Pong { nonce: u64 },
}

impl ClientFrame {
    /// The frame's type byte.
    pub fn frame_type(&self) -> u8 {
        match self {
            ClientFrame::Hello { .. } => HELLO,
            ClientFrame::Join { .. } => JOIN,
            ClientFrame::Leave { .. } => LEAVE,
            ClientFrame::Say { .. } => SAY,
            ClientFrame::History { .. } => HISTORY,
            ClientFrame::Typing { .. } => TYPING,
            ClientFrame::Who { .. } => WHO,
            ClientFrame::Quit { .. } => QUIT,
            ClientFrame::Register { .. } => REGISTER,
            ClientFrame::Mark { .. } => MARK,
            ClientFrame::Upload { .. } => UPLOAD,
            ClientFrame::Chunk { .. } => CHUNK,
            ClientFrame::Fetch { .. } => FETCH,
            ClientFrame::Ping { .. } => PING,
            ClientFrame::Pong { .. } => PONG,
        }
    }

    /// The room (or `@name`) the frame names, if it names one.
    pub fn room(&self) -> Option<&str> {
        match self {
            ClientFrame::Join { room, .. }
            | ClientFrame::Leave { room }
            | ClientFrame::Say { room, .. }
            | ClientFrame::History { room, .. }
            | ClientFrame::Typing { room, .. }
            | ClientFrame::Who { room }
            | ClientFrame::Mark { room, .. }
            | ClientFrame::Upload { room, .. } => Some(room),
            _ => None,
        }
    }

    /// The seq an ERROR about this frame carries (a SAY's, an upload's), else 0.
    pub fn seq(&self) -> u32 {
        match self {
            ClientFrame::Say { seq, .. }
            | ClientFrame::Upload { seq, .. }
            | ClientFrame::Chunk { seq, .. } => *seq,
            _ => 0,
        }
    }

    /// Appends this frame, length prefix included, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::begin(out, self.frame_type());
        match self {
            ClientFrame::Hello { version, name, password, resume } => {
                w.u16(*version).str(name).str(password).u64(*resume);
            }
            ClientFrame::Join { room, since, limit } => {
                w.str(room).u64(*since).u16(*limit);
            }
            ClientFrame::Leave { room } | ClientFrame::Who { room } => {
                w.str(room);
            }
            ClientFrame::Say { room, seq, text, flags } => {
                w.str(room).u32(*seq).str(text);
                if *flags != 0 {
                    w.u8(*flags);
                }
            }
            ClientFrame::History { room, before, limit } => {
                w.str(room).u64(*before).u16(*limit);
            }
            ClientFrame::Typing { room, active } => {
                w.str(room).u8(*active);
            }
            ClientFrame::Quit { reason: s } | ClientFrame::Register { password: s } => {
                w.str(s);
            }
            ClientFrame::Mark { room, id } => {
                w.str(room).u64(*id);
            }
            ClientFrame::Upload { seq, room, name, size, mime } => {
                w.u32(*seq).str(room).str(name).u64(*size).str(mime);
            }
            ClientFrame::Chunk { seq, offset, data } => {
                w.u32(*seq).u64(*offset).bytes(data);
            }
            ClientFrame::Fetch { file, offset } => {
                w.str(file).u64(*offset);
            }
            ClientFrame::Ping { nonce } | ClientFrame::Pong { nonce } => {
                w.u64(*nonce);
            }
        }
        w.end();
    }

    /// This frame as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Parses the client frame at the front of `buf` (header included). Bytes
/// after the frame's declared end are not looked at; bytes after the last
/// known field inside it are ignored, as the spec says. Does not apply a
/// size limit: call [`crate::check`] first.
pub fn decode_client(buf: &[u8]) -> Result<ClientFrame, DecodeError> {
    let (ty, rest) = body(buf)?;
    let mut r = Reader { ty, buf: rest };
    let f = match ty {
        HELLO => ClientFrame::Hello {
            version: r.u16("version")?,
            name: r.str("name")?,
            password: r.str("password")?,
            resume: r.u64("resume")?,
        },
        JOIN => ClientFrame::Join {
            room: r.str("room")?,
            since: r.u64("since")?,
            limit: r.u16("limit")?,
        },
        LEAVE => ClientFrame::Leave { room: r.str("room")? },
        SAY => {
            let (room, seq, text) = (r.str("room")?, r.u32("seq")?, r.str("text")?);
            let flags = if r.at_end() { 0 } else { r.u8("flags")? };
            ClientFrame::Say { room, seq, text, flags }
        }
        HISTORY => ClientFrame::History {
            room: r.str("room")?,
            before: r.u64("before")?,
            limit: r.u16("limit")?,
        },
        TYPING => ClientFrame::Typing { room: r.str("room")?, active: r.u8("active")? },
        WHO => ClientFrame::Who { room: r.str("room")? },
        QUIT => ClientFrame::Quit { reason: r.str("reason")? },
        REGISTER => ClientFrame::Register { password: r.str("password")? },
        _ => return decode_rest(r),
    };
    Ok(f)
}

/// The extension frames and PING/PONG.
fn decode_rest(mut r: Reader<'_>) -> Result<ClientFrame, DecodeError> {
    let f = match r.ty {
        MARK => ClientFrame::Mark { room: r.str("room")?, id: r.u64("id")? },
        UPLOAD => ClientFrame::Upload {
            seq: r.u32("seq")?,
            room: r.str("room")?,
            name: r.str("name")?,
            size: r.u64("size")?,
            mime: r.str("mime")?,
        },
        CHUNK => ClientFrame::Chunk {
            seq: r.u32("seq")?,
            offset: r.u64("offset")?,
            data: r.bytes("data")?,
        },
        FETCH => ClientFrame::Fetch { file: r.str("file")?, offset: r.u64("offset")? },
        PING => ClientFrame::Ping { nonce: r.u64("nonce")? },
        PONG => ClientFrame::Pong { nonce: r.u64("nonce")? },
        ty if is_server(ty) => return Err(DecodeError::WrongDirection { ty }),
        ty => return Err(DecodeError::UnknownType { ty }),
    };
    Ok(f)
}

/// Appends a SAY built from borrowed fields: the same bytes as
/// `ClientFrame::Say { .. }.encode(out)`, without building the frame first
/// (the bench sends one per message).
pub fn encode_say(out: &mut Vec<u8>, room: &str, seq: u32, text: &str, flags: u8) {
    let mut w = Writer::begin(out, SAY);
    w.str(room).u32(seq).str(text);
    if flags != 0 {
        w.u8(flags);
    }
    w.end();
}
