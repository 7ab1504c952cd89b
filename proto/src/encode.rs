//! Encoding frames into a byte buffer: the 4-byte length, the type byte, the
//! fields big-endian.
//!
//! Encoding cannot fail. A `str` longer than a `u16` can count is cut at the
//! last character boundary that fits, and a list longer than a `u16` can count
//! keeps its first 65 535 items: callers validate lengths before they build a
//! frame, and this rule only guarantees the output is always a whole,
//! well-formed frame.

use crate::frame::Frame;
use crate::{HEADER_LEN, MAX_STR};

/// Appends fields to a buffer; the length prefix is patched in at the end.
struct Writer<'a> {
    /// The caller's buffer; earlier contents are left alone.
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.out.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        let s = truncate_str(s, MAX_STR);
        self.u16(s.len() as u16);
        self.out.extend_from_slice(s.as_bytes());
        self
    }
    fn list(&mut self, items: &[String]) -> &mut Self {
        let items = &items[..items.len().min(MAX_STR)];
        self.u16(items.len() as u16);
        for s in items {
            self.str(s);
        }
        self
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary.
pub fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Appends a MSG frame built from borrowed fields: the same bytes as
/// `Frame::Msg { .. }.encode(out)`, without building the frame first. The
/// server's fan-out and history replay use it to avoid a copy per message.
pub fn encode_msg(
    out: &mut Vec<u8>,
    room: &str,
    id: u64,
    ts: u64,
    from: &str,
    flags: u8,
    text: &str,
) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    let mut w = Writer { out };
    w.u8(crate::types::MSG).str(room).u64(id).u64(ts).str(from).u8(flags).str(text);
    let len = (w.out.len() - start - HEADER_LEN) as u32;
    w.out[start..start + HEADER_LEN].copy_from_slice(&len.to_be_bytes());
}

impl Frame {
    /// Appends this frame, length prefix included, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_LEN]);
        let mut w = Writer { out };
        w.u8(self.frame_type());
        self.encode_body(&mut w);
        let len = (w.out.len() - start - HEADER_LEN) as u32;
        w.out[start..start + HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    }

    /// This frame as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    fn encode_body(&self, w: &mut Writer<'_>) {
        match self {
            Frame::Hello { version, name, password, resume } => {
                w.u16(*version).str(name).str(password).u64(*resume);
            }
            Frame::Join { room, since, limit } => {
                w.str(room).u64(*since).u16(*limit);
            }
            Frame::Leave { room } | Frame::Who { room } | Frame::Left { room } => {
                w.str(room);
            }
            Frame::Say { room, seq, text } => {
                w.str(room).u32(*seq).str(text);
            }
            Frame::History { room, before, limit } => {
                w.str(room).u64(*before).u16(*limit);
            }
            Frame::Typing { room, active } => {
                w.str(room).u8(*active);
            }
            Frame::Quit { reason } => {
                w.str(reason);
            }
            Frame::Register { password } => {
                w.str(password);
            }
            Frame::Ping { nonce } | Frame::Pong { nonce } => {
                w.u64(*nonce);
            }
            Frame::Welcome { .. } => self.encode_welcome(w),
            Frame::Error { code, about, seq, detail } => {
                w.u16(*code).u8(*about).u32(*seq).str(detail);
            }
            Frame::Joined { room, last_id, members } => {
                w.str(room).u64(*last_id).u32(*members);
            }
            Frame::Msg { room, id, ts, from, flags, text } => {
                w.str(room).u64(*id).u64(*ts).str(from).u8(*flags).str(text);
            }
            Frame::Ack { seq, room, id, ts } => {
                w.u32(*seq).str(room).u64(*id).u64(*ts);
            }
            Frame::Presence { room, name, event, reason } => {
                w.str(room).str(name).u8(*event).str(reason);
            }
            Frame::UserTyping { room, name, active } => {
                w.str(room).str(name).u8(*active);
            }
            Frame::Roster { room, more, names } => {
                w.str(room).u8(*more).list(names);
            }
            Frame::HistoryEnd { room, count, more } => {
                w.str(room).u16(*count).u8(*more);
            }
            Frame::Notice { text } => {
                w.str(text);
            }
            Frame::Registered { name } => {
                w.str(name);
            }
        }
    }

    fn encode_welcome(&self, w: &mut Writer<'_>) {
        if let Frame::Welcome {
            version,
            name,
            token,
            resumed,
            heartbeat_ms,
            max_frame,
            max_text,
            server,
        } = self
        {
            w.u16(*version).str(name).u64(*token).u8(*resumed);
            w.u32(*heartbeat_ms).u32(*max_frame).u32(*max_text).str(server);
        }
    }
}
