//! The client side of RFC 6455, as the harness needs it: the upgrade
//! request and the check of its `101` answer (accept key, subprotocol),
//! masked client frames, and an in-place decoder of server frames that
//! leaves only the concatenated message payloads (the application byte
//! stream) in the buffer, answers pings and notes a close.
//!
//! Written here rather than taken from `tungstenite` because the engine
//! decodes in its one shared read buffer (no per-connection buffers for
//! 10 000 idle connections) and layers over its own TLS state; the tests
//! check it against tungstenite's codec. It does no I/O and offers no
//! extensions (no compression): every frame is RSV-clean.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// Continuation, text, binary, close, ping, pong.
pub const OP_CONT: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// The GUID of RFC 6455 §1.3.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Random bytes for masks and keys, drawn from the operating system 4 KiB
/// at a time (RFC 6455 wants unpredictable masks; one syscall per 1 024).
pub struct Masks {
    /// The current block of random bytes.
    buf: Box<[u8; 4096]>,
    /// How much of `buf` is used.
    at: usize,
}

impl Default for Masks {
    fn default() -> Masks {
        Masks { buf: Box::new([0; 4096]), at: 4096 }
    }
}

impl Masks {
    /// `N` fresh random bytes.
    pub fn take<const N: usize>(&mut self) -> [u8; N] {
        if self.at + N > self.buf.len() {
            if getrandom::getrandom(&mut self.buf[..]).is_err() {
                // No OS randomness: still mask (a benchmark client), with
                // the clock mixed by a multiplier rather than nothing.
                let mut x = crate::net::now_ns() | 1;
                for b in self.buf.iter_mut() {
                    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
                    *b = (x >> 56) as u8;
                }
            }
            self.at = 0;
        }
        let mut out = [0; N];
        out.copy_from_slice(&self.buf[self.at..self.at + N]);
        self.at += N;
        out
    }
}

/// The `Sec-WebSocket-Accept` value that answers `key`.
pub fn accept_key(key: &str) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    B64.encode(h.digest().bytes())
}

/// Appends the upgrade request; returns the key it sent.
pub fn request(
    out: &mut Vec<u8>,
    host: &str,
    path: &str,
    proto: Option<&str>,
    m: &mut Masks,
) -> String {
    let key = B64.encode(m.take::<16>());
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(p) = proto {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    r.push_str("\r\n");
    out.extend_from_slice(r.as_bytes());
    key
}

/// Checks a complete upgrade answer (`head` ends with the blank line).
pub fn check_answer(head: &[u8], key: &str, proto: Option<&str>) -> Result<(), String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    let shown = || String::from_utf8_lossy(&head[..head.len().min(60)]).into_owned();
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(format!("WebSocket upgrade: the answer is not HTTP ({:?})", shown())),
    }
    let code = resp.code.unwrap_or(0);
    if code != 101 {
        let reason = resp.reason.unwrap_or("");
        return Err(format!("WebSocket upgrade refused: HTTP {code} {reason}"));
    }
    let get = |name: &str| {
        let h = resp.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name));
        h.map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let has_token = |v: Option<String>, t: &str| {
        v.is_some_and(|v| v.split(',').any(|x| x.trim().eq_ignore_ascii_case(t)))
    };
    if !has_token(get("upgrade"), "websocket") || !has_token(get("connection"), "upgrade") {
        return Err("WebSocket upgrade: 101 without Upgrade: websocket".into());
    }
    if get("sec-websocket-accept").as_deref() != Some(&accept_key(key)) {
        return Err("WebSocket upgrade: wrong Sec-WebSocket-Accept".into());
    }
    if get("sec-websocket-protocol").as_deref() != proto {
        let want = proto.unwrap_or("none");
        return Err(format!("WebSocket upgrade: the server did not agree to subprotocol {want}"));
    }
    if get("sec-websocket-extensions").is_some() {
        return Err("WebSocket upgrade: the server chose an extension none was offered".into());
    }
    Ok(())
}

/// Longest upgrade answer accepted.
const MAX_HEAD: usize = 8192;

/// The WebSocket upgrade answer so far (`head`) plus `buf`: `Some(i)` once
/// it is whole and good, `buf[i..]` being the first frames.
pub fn upgrade_answer(
    head: &mut Vec<u8>,
    buf: &[u8],
    key: &str,
    protocol: Option<&str>,
) -> Result<Option<usize>, String> {
    let before = head.len();
    head.extend_from_slice(buf);
    let n = head.len().min(5);
    if head[..n] != b"HTTP/"[..n] {
        let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Err(format!(
            "WebSocket upgrade: the answer is not HTTP (starts {}): does the server speak WebSocket?",
            hex.join(" ")
        ));
    }
    let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
        if head.len() > MAX_HEAD {
            return Err("WebSocket upgrade: an answer over 8 KiB".into());
        }
        return Ok(None);
    };
    check_answer(&head[..i + 4], key, protocol)?;
    Ok(Some(i + 4 - before))
}

/// Wraps `out[start..]` as one masked client frame (FIN set) of `opcode`.
pub fn frame(out: &mut Vec<u8>, start: usize, opcode: u8, mask: [u8; 4]) {
    let n = out.len() - start;
    let mut head = [0u8; 14];
    head[0] = 0x80 | opcode;
    let len_bytes = match n {
        0..=125 => {
            head[1] = 0x80 | n as u8;
            0
        }
        126..=0xffff => {
            head[1] = 0x80 | 126;
            head[2..4].copy_from_slice(&(n as u16).to_be_bytes());
            2
        }
        _ => {
            head[1] = 0x80 | 127;
            head[2..10].copy_from_slice(&(n as u64).to_be_bytes());
            8
        }
    };
    head[2 + len_bytes..6 + len_bytes].copy_from_slice(&mask);
    let h = 6 + len_bytes;
    out.resize(out.len() + h, 0);
    out.copy_within(start..start + n, start + h);
    out[start..start + h].copy_from_slice(&head[..h]);
    apply_mask(&mut out[start + h..], mask);
}

/// XORs `data` with the repeating 4-byte mask.
pub fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = data.chunks_exact_mut(4);
    for c in &mut chunks {
        let v = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) ^ word;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(mask) {
        *b ^= m;
    }
}

/// The decoder's state between reads.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Header bytes of the frame being read, while it is incomplete.
    hdr: [u8; 14],
    /// How many of `hdr` are filled (0 while a payload is being read).
    hdr_len: usize,
    /// Payload bytes of the current frame still to come.
    left: u64,
    /// The current frame's opcode; `None` between frames.
    op: Option<u8>,
    /// A data message is open (its next frame must be a continuation).
    in_message: bool,
    /// The payload of the control frame being read (at most 125 bytes).
    ctrl: Vec<u8>,
    /// Whether text messages are allowed (the baseline speaks text; Banter
    /// is binary only).
    text_ok: bool,
}

/// What a decoded control frame asks of the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Control {
    /// Answer with a pong carrying this payload.
    Ping(Vec<u8>),
    /// The server closed: the status code (if any) and reason.
    Close(Option<u16>, String),
}

/// Bytes of header a frame needs, once its first two bytes are known.
fn header_len(b1: u8) -> usize {
    match b1 & 0x7f {
        126 => 4,
        127 => 10,
        _ => 2,
    }
}

impl Decoder {
    /// A decoder; `text_ok` allows text messages.
    pub fn new(text_ok: bool) -> Decoder {
        Decoder { text_ok, ..Decoder::default() }
    }

    /// Decodes the frames in `buf` in place: on return `buf[..n]` holds the
    /// data payloads in order; control frames are returned (decoding stops
    /// at a close). An error means the server broke the protocol.
    pub fn decode(&mut self, buf: &mut [u8], ctl: &mut Vec<Control>) -> Result<usize, String> {
        let (mut r, mut w) = (0, 0);
        while r < buf.len() {
            match self.op {
                None => {
                    self.header_byte(buf[r])?;
                    r += 1;
                }
                Some(op) => {
                    let take = (self.left.min((buf.len() - r) as u64)) as usize;
                    if op >= OP_CLOSE {
                        self.ctrl.extend_from_slice(&buf[r..r + take]);
                    } else {
                        buf.copy_within(r..r + take, w);
                        w += take;
                    }
                    r += take;
                    self.left -= take as u64;
                }
            }
            if self.op.is_some() && self.left == 0 && self.end_frame(ctl) {
                break;
            }
        }
        Ok(w)
    }

    /// Takes one header byte; starts the frame once its header is whole.
    fn header_byte(&mut self, b: u8) -> Result<(), String> {
        self.hdr[self.hdr_len] = b;
        self.hdr_len += 1;
        if self.hdr_len < 2 || self.hdr_len < header_len(self.hdr[1]) {
            return Ok(());
        }
        self.start_frame()
    }

    /// The header is whole: checks it and starts the payload.
    fn start_frame(&mut self) -> Result<(), String> {
        let (b0, b1) = (self.hdr[0], self.hdr[1]);
        let h = &self.hdr[..self.hdr_len];
        let len = match b1 & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
            n => u64::from(n),
        };
        self.hdr_len = 0;
        let (fin, op) = (b0 & 0x80 != 0, b0 & 0x0f);
        if b0 & 0x70 != 0 {
            return Err("WebSocket: a frame with RSV bits (no extension was agreed)".into());
        }
        if b1 & 0x80 != 0 {
            return Err("WebSocket: a masked frame from the server".into());
        }
        if len >> 63 != 0 {
            return Err("WebSocket: a frame length with its top bit set".into());
        }
        match op {
            OP_CLOSE | OP_PING | OP_PONG if !fin || len > 125 => {
                return Err("WebSocket: a fragmented or long control frame".into())
            }
            OP_CLOSE | OP_PING | OP_PONG => self.ctrl.clear(),
            OP_CONT if !self.in_message => {
                return Err("WebSocket: a continuation frame outside a message".into())
            }
            OP_TEXT | OP_BINARY if self.in_message => {
                return Err("WebSocket: a new message before the last one ended".into())
            }
            OP_TEXT if !self.text_ok => {
                return Err("WebSocket: a text message (Banter speaks binary only)".into())
            }
            OP_CONT | OP_TEXT | OP_BINARY => self.in_message = !fin,
            _ => return Err(format!("WebSocket: unknown opcode {op}")),
        }
        self.op = Some(op);
        self.left = len;
        Ok(())
    }

    /// The current frame's payload is complete; `true` on a close.
    fn end_frame(&mut self, ctl: &mut Vec<Control>) -> bool {
        let op = self.op.take();
        match op {
            Some(OP_PING) => ctl.push(Control::Ping(std::mem::take(&mut self.ctrl))),
            Some(OP_CLOSE) => {
                let c = &self.ctrl;
                let code = (c.len() >= 2).then(|| u16::from_be_bytes([c[0], c[1]]));
                let reason = String::from_utf8_lossy(c.get(2..).unwrap_or(&[])).into_owned();
                ctl.push(Control::Close(code, reason));
                return true;
            }
            _ => {}
        }
        false
    }
}

#[cfg(test)]
#[path = "ws_tests.rs"]
mod tests;
