//! WebSocket (RFC 6455) carrying the Banter byte stream in binary messages
//! (§7). Frame headers are read and written with tungstenite's frame codec
//! (`FrameHeader::parse` and `format`); messages, fragments, control frames
//! and the limits are handled here, so that outgoing payload goes to the
//! stream straight from the core's shared output segments (server frames
//! are not masked) and incoming payload is unmasked in place and handed on
//! as it arrives, without waiting for a whole message.
//!
//! Refusals follow §7: a text message closes with 1003, a message over
//! `max_frame + 4` bytes with 1009, an unmasked or malformed frame with
//! 1002. A PING is answered with a PONG; a CLOSE is answered and ends the
//! stream like a TCP close.

use super::stream::Stream;
use crate::core::OutQueue;
use mio::net::TcpStream;
use std::io::{self, Cursor, IoSlice};
use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

/// Largest data frame the server sends: big enough for any Banter frame's
/// worth of a burst, small enough that control frames are not held long.
const MAX_OUT_FRAME: usize = 256 * 1024;
/// Close codes the server sends.
pub const NORMAL: u16 = 1000;
pub const GOING_AWAY: u16 = 1001;
const PROTOCOL_ERROR: u16 = 1002;
const UNSUPPORTED: u16 = 1003;
const TOO_BIG: u16 = 1009;
/// Longest header of a frame the server sends: 2 + 8 length bytes, no mask.
const MAX_HEAD: usize = 10;

/// Why the WebSocket ended from the client's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The client sent CLOSE (answered already).
    Closed,
    /// The client broke a rule; a CLOSE with `code` is queued.
    Broke { code: u16, why: &'static str },
}

/// One WebSocket connection's framing state.
pub struct Ws {
    /// Bytes received and not yet parsed, from `raw_pos`.
    raw: Vec<u8>,
    /// Where unparsed bytes start in `raw`.
    raw_pos: usize,
    /// Payload bytes left of the incoming data frame being read.
    frame_left: u64,
    /// That frame's mask, and how far into it the next byte is.
    mask: ([u8; 4], usize),
    /// A binary message is open (a fragment without FIN was read).
    in_message: bool,
    /// Bytes of the open message so far.
    msg_len: u64,
    /// Largest message accepted: `max_frame + 4`.
    max_msg: u64,
    /// The 101 answer, written before anything else (freed once written).
    preamble: Vec<u8>,
    /// Header of the outgoing data frame (at most 10 bytes: server frames
    /// are not masked), inline so an idle connection allocates nothing.
    head: [u8; MAX_HEAD],
    /// Bytes of `head` in use, and how many of them are written.
    head_at: (u8, u8),
    /// Payload bytes left of the outgoing data frame.
    out_left: usize,
    /// Whole control frames to send between data frames (PONG, CLOSE);
    /// freed once written.
    ctrl: Vec<u8>,
    /// A CLOSE was queued: no more data frames.
    closing: bool,
}

impl Ws {
    /// After a 101 answer `preamble`; `leftover` is what followed the
    /// request head.
    pub fn new(preamble: Vec<u8>, leftover: &[u8], max_frame: u32) -> Ws {
        Ws {
            raw: leftover.to_vec(),
            raw_pos: 0,
            frame_left: 0,
            mask: ([0; 4], 0),
            in_message: false,
            msg_len: 0,
            max_msg: u64::from(max_frame) + 4,
            preamble,
            head: [0; MAX_HEAD],
            head_at: (0, 0),
            out_left: 0,
            ctrl: Vec::new(),
            closing: false,
        }
    }

    /// Whether received bytes wait to be parsed.
    pub fn has_input(&self) -> bool {
        self.raw_pos < self.raw.len()
    }

    /// Takes received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.raw_pos == self.raw.len() {
            self.raw.clear();
            self.raw_pos = 0;
        }
        self.raw.extend_from_slice(bytes);
    }

    /// Unmasked payload into `out`: how many bytes, and whether parsed
    /// input is left over (call again).
    pub fn decode(&mut self, out: &mut [u8]) -> Result<(usize, bool), Fault> {
        let mut n = 0;
        loop {
            if self.frame_left > 0 {
                let avail = self.raw.len() - self.raw_pos;
                let k = (self.frame_left.min(avail as u64) as usize).min(out.len() - n);
                if k == 0 {
                    break;
                }
                self.unmask_into(&mut out[n..n + k]);
                n += k;
                continue;
            }
            if !self.next_frame()? {
                break;
            }
        }
        if self.raw_pos == self.raw.len() {
            self.raw = Vec::new(); // an idle connection holds no buffer
            self.raw_pos = 0;
        }
        Ok((n, self.frame_left > 0 && self.has_input()))
    }

    fn unmask_into(&mut self, out: &mut [u8]) {
        let src = &self.raw[self.raw_pos..self.raw_pos + out.len()];
        let (key, mut at) = self.mask;
        for (o, b) in out.iter_mut().zip(src) {
            *o = b ^ key[at & 3];
            at += 1;
        }
        self.mask.1 = at & 3;
        self.raw_pos += out.len();
        self.frame_left -= out.len() as u64;
    }

    /// Reads the next frame header (and a control frame whole); false when
    /// more bytes are needed.
    fn next_frame(&mut self) -> Result<bool, Fault> {
        let parsed = {
            let mut cur = Cursor::new(&self.raw[self.raw_pos..]);
            FrameHeader::parse(&mut cur)
                .map(|r| r.map(|(h, len)| (h, len, cur.position() as usize)))
        };
        let parsed = parsed.map_err(|_| self.broke(PROTOCOL_ERROR, "malformed frame header"))?;
        let Some((h, len, head_len)) = parsed else { return Ok(false) };
        let Some(mask) = h.mask else {
            return Err(self.broke(PROTOCOL_ERROR, "unmasked client frame"));
        };
        if h.rsv1 || h.rsv2 || h.rsv3 {
            return Err(self.broke(PROTOCOL_ERROR, "reserved bits set"));
        }
        match h.opcode {
            OpCode::Data(d) => self.data_frame(d, h.is_final, len)?,
            OpCode::Control(c) => {
                if len > 125 || !h.is_final {
                    return Err(self.broke(PROTOCOL_ERROR, "bad control frame"));
                }
                if self.raw.len() - self.raw_pos < head_len + len as usize {
                    return Ok(false); // wait for the whole control frame
                }
                self.raw_pos += head_len;
                let mut payload = self.raw[self.raw_pos..self.raw_pos + len as usize].to_vec();
                self.raw_pos += len as usize;
                payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= mask[i & 3]);
                self.control(c, &payload)?;
                return Ok(true);
            }
        }
        self.raw_pos += head_len;
        self.mask = (mask, 0);
        self.frame_left = len;
        Ok(true)
    }

    fn data_frame(&mut self, d: Data, fin: bool, len: u64) -> Result<(), Fault> {
        match d {
            Data::Binary if self.in_message => {
                return Err(self.broke(PROTOCOL_ERROR, "new message inside a message"))
            }
            Data::Binary => self.msg_len = 0,
            Data::Continue if !self.in_message => {
                return Err(self.broke(PROTOCOL_ERROR, "continuation of nothing"))
            }
            Data::Continue => {}
            Data::Text => return Err(self.broke(UNSUPPORTED, "text messages are not accepted")),
            Data::Reserved(_) => return Err(self.broke(PROTOCOL_ERROR, "reserved opcode")),
        }
        self.msg_len = self.msg_len.saturating_add(len);
        if self.msg_len > self.max_msg {
            return Err(self.broke(TOO_BIG, "message over max_frame + 4 bytes"));
        }
        self.in_message = !fin;
        Ok(())
    }

    fn control(&mut self, c: Control, payload: &[u8]) -> Result<(), Fault> {
        match c {
            Control::Ping => {
                self.queue_ctrl(Control::Pong, payload);
                Ok(())
            }
            Control::Pong => Ok(()),
            Control::Close => {
                let code = match payload {
                    [a, b, ..] => u16::from_be_bytes([*a, *b]),
                    _ => NORMAL,
                };
                let code = if CloseCode::from(code).is_allowed() { code } else { PROTOCOL_ERROR };
                self.close(code);
                Err(Fault::Closed)
            }
            Control::Reserved(_) => Err(self.broke(PROTOCOL_ERROR, "reserved control opcode")),
        }
    }

    fn broke(&mut self, code: u16, why: &'static str) -> Fault {
        self.close(code);
        Fault::Broke { code, why }
    }

    /// Queues a CLOSE with `code` (once); no data frames start after it.
    pub fn close(&mut self, code: u16) {
        if !self.closing {
            self.closing = true;
            self.queue_ctrl(Control::Close, &code.to_be_bytes());
        }
    }

    fn queue_ctrl(&mut self, c: Control, payload: &[u8]) {
        let h = FrameHeader { opcode: OpCode::Control(c), ..FrameHeader::default() };
        let _ = h.format(payload.len() as u64, &mut self.ctrl);
        self.ctrl.extend_from_slice(payload);
    }

    /// Bytes this layer holds that the core no longer counts.
    pub fn held(&self) -> usize {
        self.preamble.len() + usize::from(self.head_at.0 - self.head_at.1) + self.ctrl.len()
    }

    /// Writes what it can: the 101, the rest of the data frame under way,
    /// control frames, then new data frames from `out`. Stops when the
    /// stream takes less than offered.
    pub fn write(
        &mut self,
        stream: &mut Stream,
        sock: &mut TcpStream,
        out: &mut OutQueue,
    ) -> io::Result<()> {
        if !self.preamble.is_empty() && !self.write_own(stream, sock, Own::Preamble)? {
            return Ok(());
        }
        loop {
            if self.out_left > 0 || self.head_at.1 < self.head_at.0 {
                if !self.write_data(stream, sock, out)? {
                    return Ok(());
                }
            } else if !self.ctrl.is_empty() {
                if !self.write_own(stream, sock, Own::Ctrl)? {
                    return Ok(());
                }
            } else if !out.is_empty() && !self.closing {
                self.out_left = out.pending().min(MAX_OUT_FRAME);
                self.start_frame();
            } else {
                return Ok(());
            }
        }
    }

    /// Formats the header of the next data frame, of `out_left` bytes.
    fn start_frame(&mut self) {
        let h = FrameHeader { opcode: OpCode::Data(Data::Binary), ..FrameHeader::default() };
        let mut cur = Cursor::new(&mut self.head[..]);
        let _ = h.format(self.out_left as u64, &mut cur); // 10 bytes always fit
        self.head_at = (cur.position() as u8, 0);
    }

    /// The frame under way: header rest and payload from `out` in one write.
    fn write_data(
        &mut self,
        stream: &mut Stream,
        sock: &mut TcpStream,
        out: &mut OutQueue,
    ) -> io::Result<bool> {
        let mut slices = [IoSlice::new(&[]); 33];
        let head = &self.head[usize::from(self.head_at.1)..usize::from(self.head_at.0)];
        slices[0] = IoSlice::new(head);
        let n = 1 + out.slices_upto(&mut slices[1..], self.out_left);
        let offered: usize = slices[..n].iter().map(|s| s.len()).sum();
        let took = stream.write(sock, &slices[..n])?;
        let from_head = took.min(head.len());
        self.head_at.1 += from_head as u8;
        out.consume(took - from_head);
        self.out_left -= took - from_head;
        Ok(took == offered)
    }

    fn write_own(
        &mut self,
        stream: &mut Stream,
        sock: &mut TcpStream,
        which: Own,
    ) -> io::Result<bool> {
        let buf = match which {
            Own::Preamble => &mut self.preamble,
            Own::Ctrl => &mut self.ctrl,
        };
        let took = stream.write(sock, &[IoSlice::new(buf)])?;
        buf.drain(..took);
        if buf.is_empty() {
            *buf = Vec::new(); // an idle connection keeps no buffer
        }
        Ok(buf.is_empty())
    }

    /// Whether the CLOSE is queued and everything before it is written.
    pub fn closed_and_flushed(&self) -> bool {
        self.closing && self.held() == 0 && self.out_left == 0
    }
}

/// Which of its own buffers `write_own` writes.
enum Own {
    Preamble,
    Ctrl,
}
