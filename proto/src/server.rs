//! Frames a server sends: [`ServerFrame`], its encoding, [`decode_server`]
//! (which clients use), and allocation-free encoders of the frames a server
//! sends most ([`encode_msg`]) with their exact sizes ([`msg_size`]).
//!
//! Trailing fields added by the extensions (`WELCOME.features`,
//! `JOINED.read`, the file fields of MSG) are always encoded and decode to
//! their defaults when an older server left them out.

use crate::fields::*;
use crate::framing::{body, DecodeError};
use crate::types::*;
use crate::wire::{truncate_str, Reader, Writer};
use crate::{ErrorCode, HEADER_LEN, MAX_STR};

/// One frame from a server to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFrame {
    /// 0x21: the handshake succeeded; `features` names the extensions offered.
    Welcome {
        version: u16,
        name: String,
        token: u64,
        resumed: u8,
        heartbeat_ms: u32,
        max_frame: u32,
        max_text: u32,
        server: String,
        features: Vec<String>,
    },
    /// 0x22: a refusal; `about` is the type answered (0: none), `seq` the SAY's.
    Error { code: u16, about: u8, seq: u32, detail: String },
    /// 0x23: the JOIN succeeded; `read` is the joiner's read marker (0: none).
    Joined { room: String, last_id: u64, members: u32, read: u64 },
    /// 0x24: the LEAVE succeeded.
    Left { room: String },
    /// 0x25: a chat message (live, replayed or history, see `flags`). The
    /// encoder sets or clears [`FLAG_FILE`] from `file`.
    Msg {
        room: String,
        id: u64,
        ts: u64,
        from: String,
        flags: u8,
        text: String,
        file: Option<FileRef>,
    },
    /// 0x26: the SAY (or UPLOAD) numbered `seq` was stored as `id` at `ts`.
    Ack { seq: u32, room: String, id: u64, ts: u64 },
    /// 0x27: `name` joined, left, quit or was lost from `room`.
    Presence { room: String, name: String, event: u8, reason: String },
    /// 0x28: `name` started or stopped typing in `room`.
    Typing { room: String, name: String, active: u8 },
    /// 0x29: members of `room`; `more` = 1 when another ROSTER follows.
    Roster { room: String, more: u8, names: Vec<String> },
    /// 0x2A: the end of a history answer of `count` MSG frames.
    HistoryEnd { room: String, count: u16, more: u8 },
    /// 0x2B: text from the server for the user.
    Notice { text: String },
    /// 0x2C: the REGISTER succeeded.
    Registered { name: String },
    /// 0x2D: `name` has read `room` up to `id`.
    Read { room: String, name: String, id: u64 },
    /// 0x2E: direct message `id` of `room` reached the other party.
    Delivered { room: String, id: u64 },
    /// 0x2F: `count` unread messages in conversation `room`.
    Unread { room: String, count: u32, last_id: u64, read: u64 },
    /// 0x30: send the upload `seq` from `offset`.
    UploadReady { seq: u32, offset: u64 },
    /// 0x31: bytes of `file` from `offset`; `last` = 1 on the final one.
    FileData { file: String, offset: u64, last: u8, data: Vec<u8> },
    /// 0x0E: the peer must answer PONG with the same nonce.
    Ping { nonce: u64 },
    /// 0x0F: the answer to PING.
    Pong { nonce: u64 },
}

impl ServerFrame {
    /// The frame's type byte.
    pub fn frame_type(&self) -> u8 {
        use ServerFrame as S;
        match self {
            S::Welcome { .. } => WELCOME,
            S::Error { .. } => ERROR,
            S::Joined { .. } => JOINED,
            S::Left { .. } => LEFT,
            S::Msg { .. } => MSG,
            S::Ack { .. } => ACK,
            S::Presence { .. } => PRESENCE,
            S::Typing { .. } => USER_TYPING,
            S::Roster { .. } => ROSTER,
            S::HistoryEnd { .. } => HISTORY_END,
            S::Notice { .. } => NOTICE,
            S::Registered { .. } => REGISTERED,
            S::Read { .. } => READ,
            S::Delivered { .. } => DELIVERED,
            S::Unread { .. } => UNREAD,
            S::UploadReady { .. } => UPLOAD_READY,
            S::FileData { .. } => FILE_DATA,
            S::Ping { .. } => PING,
            S::Pong { .. } => PONG,
        }
    }

    /// An ERROR frame built from a code.
    pub fn error(code: ErrorCode, about: u8, seq: u32, detail: impl Into<String>) -> ServerFrame {
        ServerFrame::Error { code: code.code(), about, seq, detail: detail.into() }
    }

    /// This frame as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Appends this frame, length prefix included, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        use ServerFrame as S;
        if let S::Msg { room, id, ts, from, flags, text, file } = self {
            return encode_msg(
                out,
                &MsgRef { room, id: *id, ts: *ts, from, flags: *flags, text, file: file.as_ref() },
            );
        }
        let mut w = Writer::begin(out, self.frame_type());
        match self {
            S::Welcome { .. } => self.encode_welcome(&mut w),
            S::Error { code, about, seq, detail } => {
                w.u16(*code).u8(*about).u32(*seq).str(detail);
            }
            S::Joined { room, last_id, members, read } => {
                w.str(room).u64(*last_id).u32(*members).u64(*read);
            }
            S::Left { room } => {
                w.str(room);
            }
            S::Ack { seq, room, id, ts } => {
                w.u32(*seq).str(room).u64(*id).u64(*ts);
            }
            S::Presence { room, name, event, reason } => {
                w.str(room).str(name).u8(*event).str(reason);
            }
            S::Typing { room, name, active } => {
                w.str(room).str(name).u8(*active);
            }
            S::Roster { room, more, names } => {
                w.str(room).u8(*more).list(names);
            }
            S::HistoryEnd { room, count, more } => {
                w.str(room).u16(*count).u8(*more);
            }
            S::Notice { text: s } | S::Registered { name: s } => {
                w.str(s);
            }
            _ => self.encode_extension(&mut w),
        }
        w.end();
    }

    fn encode_welcome(&self, w: &mut Writer<'_>) {
        if let ServerFrame::Welcome {
            version,
            name,
            token,
            resumed,
            heartbeat_ms,
            max_frame,
            max_text,
            server,
            features,
        } = self
        {
            w.u16(*version).str(name).u64(*token).u8(*resumed);
            w.u32(*heartbeat_ms).u32(*max_frame).u32(*max_text).str(server).list(features);
        }
    }

    fn encode_extension(&self, w: &mut Writer<'_>) {
        use ServerFrame as S;
        match self {
            S::Read { room, name, id } => {
                w.str(room).str(name).u64(*id);
            }
            S::Delivered { room, id } => {
                w.str(room).u64(*id);
            }
            S::Unread { room, count, last_id, read } => {
                w.str(room).u32(*count).u64(*last_id).u64(*read);
            }
            S::UploadReady { seq, offset } => {
                w.u32(*seq).u64(*offset);
            }
            S::FileData { file, offset, last, data } => {
                w.str(file).u64(*offset).u8(*last).bytes(data);
            }
            S::Ping { nonce } | S::Pong { nonce } => {
                w.u64(*nonce);
            }
            _ => unreachable!("encoded by ServerFrame::encode"),
        }
    }
}

/// Parses the server frame at the front of `buf` (header included), as
/// [`crate::decode_client`] does for the other direction.
pub fn decode_server(buf: &[u8]) -> Result<ServerFrame, DecodeError> {
    let (ty, rest) = body(buf)?;
    let mut r = Reader { ty, buf: rest };
    let f = match ty {
        WELCOME => ServerFrame::Welcome {
            version: r.u16("version")?,
            name: r.str("name")?,
            token: r.u64("token")?,
            resumed: r.u8("resumed")?,
            heartbeat_ms: r.u32("heartbeat_ms")?,
            max_frame: r.u32("max_frame")?,
            max_text: r.u32("max_text")?,
            server: r.str("server")?,
            features: if r.at_end() { Vec::new() } else { r.list("features")? },
        },
        ERROR => ServerFrame::Error {
            code: r.u16("code")?,
            about: r.u8("about")?,
            seq: r.u32("seq")?,
            detail: r.str("detail")?,
        },
        JOINED => ServerFrame::Joined {
            room: r.str("room")?,
            last_id: r.u64("last_id")?,
            members: r.u32("members")?,
            read: if r.at_end() { 0 } else { r.u64("read")? },
        },
        LEFT => ServerFrame::Left { room: r.str("room")? },
        MSG => decode_msg(&mut r)?,
        ACK => ServerFrame::Ack {
            seq: r.u32("seq")?,
            room: r.str("room")?,
            id: r.u64("id")?,
            ts: r.u64("ts")?,
        },
        _ => return decode_rest(r),
    };
    Ok(f)
}

fn decode_msg(r: &mut Reader<'_>) -> Result<ServerFrame, DecodeError> {
    let (room, id, ts, from) = (r.str("room")?, r.u64("id")?, r.u64("ts")?, r.str("from")?);
    let (flags, text) = (r.u8("flags")?, r.str("text")?);
    let file = if flags & FLAG_FILE != 0 {
        Some(FileRef { file: r.str("file")?, size: r.u64("size")?, mime: r.str("mime")? })
    } else {
        None
    };
    Ok(ServerFrame::Msg { room, id, ts, from, flags, text, file })
}

fn decode_rest(mut r: Reader<'_>) -> Result<ServerFrame, DecodeError> {
    use ServerFrame as S;
    let f = match r.ty {
        PRESENCE => S::Presence {
            room: r.str("room")?,
            name: r.str("name")?,
            event: r.u8("event")?,
            reason: r.str("reason")?,
        },
        USER_TYPING => {
            S::Typing { room: r.str("room")?, name: r.str("name")?, active: r.u8("active")? }
        }
        ROSTER => S::Roster { room: r.str("room")?, more: r.u8("more")?, names: r.list("names")? },
        HISTORY_END => {
            S::HistoryEnd { room: r.str("room")?, count: r.u16("count")?, more: r.u8("more")? }
        }
        NOTICE => S::Notice { text: r.str("text")? },
        REGISTERED => S::Registered { name: r.str("name")? },
        READ => S::Read { room: r.str("room")?, name: r.str("name")?, id: r.u64("id")? },
        DELIVERED => S::Delivered { room: r.str("room")?, id: r.u64("id")? },
        UNREAD => S::Unread {
            room: r.str("room")?,
            count: r.u32("count")?,
            last_id: r.u64("last_id")?,
            read: r.u64("read")?,
        },
        UPLOAD_READY => S::UploadReady { seq: r.u32("seq")?, offset: r.u64("offset")? },
        FILE_DATA => S::FileData {
            file: r.str("file")?,
            offset: r.u64("offset")?,
            last: r.u8("last")?,
            data: r.bytes("data")?,
        },
        PING => S::Ping { nonce: r.u64("nonce")? },
        PONG => S::Pong { nonce: r.u64("nonce")? },
        ty if is_client(ty) => return Err(DecodeError::WrongDirection { ty }),
        ty => return Err(DecodeError::UnknownType { ty }),
    };
    Ok(f)
}

/// A MSG's fields, borrowed: what [`encode_msg`] and [`msg_size`] take.
#[derive(Debug, Clone, Copy)]
pub struct MsgRef<'a> {
    pub room: &'a str,
    pub id: u64,
    pub ts: u64,
    pub from: &'a str,
    /// Bits 0 and 2 as given; bit 1 follows `file`.
    pub flags: u8,
    pub text: &'a str,
    pub file: Option<&'a FileRef>,
}

/// Appends a MSG frame built from borrowed fields: the same bytes as
/// `ServerFrame::Msg { .. }.encode(out)`, without building the frame first.
/// The server's fan-out and history replay use it.
pub fn encode_msg(out: &mut Vec<u8>, m: &MsgRef<'_>) {
    let flags = (m.flags & !FLAG_FILE) | if m.file.is_some() { FLAG_FILE } else { 0 };
    let mut w = Writer::begin(out, MSG);
    w.str(m.room).u64(m.id).u64(m.ts).str(m.from).u8(flags).str(m.text);
    if let Some(f) = m.file {
        w.str(&f.file).u64(f.size).str(&f.mime);
    }
    w.end();
}

/// The bytes [`encode_msg`] appends for `m`, header included.
pub fn msg_size(m: &MsgRef<'_>) -> usize {
    let s = |x: &str| 2 + truncate_str(x, MAX_STR).len();
    let file = m.file.map_or(0, |f| s(&f.file) + 8 + s(&f.mime));
    HEADER_LEN + 1 + s(m.room) + 8 + 8 + s(m.from) + 1 + s(m.text) + file
}

/// Appends the start of a FILE_DATA frame whose `data` is `len` bytes the
/// caller appends right after: the file server reads a file straight into
/// its output this way, with no copy in between.
pub fn encode_file_data_head(out: &mut Vec<u8>, file: &str, offset: u64, last: u8, len: u32) {
    let file = truncate_str(file, MAX_STR);
    let total = 1 + 2 + file.len() + 8 + 1 + 4 + len as usize;
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.push(FILE_DATA);
    out.extend_from_slice(&(file.len() as u16).to_be_bytes());
    out.extend_from_slice(file.as_bytes());
    out.extend_from_slice(&offset.to_be_bytes());
    out.push(last);
    out.extend_from_slice(&len.to_be_bytes());
}
