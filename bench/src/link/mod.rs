//! The transport under a connection's protocol: plain TCP, TLS (rustls),
//! WebSocket, or WebSocket over TLS. Reading turns what the socket has into
//! application bytes in the worker's shared read buffer (decrypted, WebSocket
//! frames removed); writing turns queued output into what the socket must
//! carry. WebSocket framing is applied when output is queued (one message
//! per protocol unit, as a browser's `send` does), so `flush` only encrypts.
//!
//! It knows no application protocol, and allocates nothing per connection
//! beyond rustls's own state for TLS and a small decoder for WebSocket.

#[cfg(test)]
pub mod test_pki;
pub mod tls;
mod tls_io;
pub mod ws;

use crate::proto::Proto;
use crate::target::Target;
use mio::net::TcpStream;
use rustls::{ClientConfig, ClientConnection};
use rustls_pki_types::ServerName;
use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use tls::TlsOpts;
use ws::{Control, Masks};

/// The WebSocket subprotocol of Banter (§7).
pub const WS_PROTOCOL: &str = "banter.1";

/// What every connection of a run shares about its transport.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// TLS: the configuration and the name the certificate must match.
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// WebSocket: the upgrade's details.
    pub ws: Option<WsSetup>,
}

impl Setup {
    /// What `target` needs: TLS verified as `opts` says, offering the ALPN
    /// of its protocol, and the WebSocket upgrade with its subprotocol.
    pub fn for_target(target: &Target, opts: &TlsOpts) -> Result<Setup, String> {
        let tls = if target.tls {
            let alpn: &[&[u8]] = match (target.proto, &target.ws_path) {
                (_, Some(_)) => &[tls::ALPN_HTTP],
                (Proto::Banter, None) => &[tls::ALPN_BANTER],
                _ => &[],
            };
            Some((tls::client_config(opts, alpn)?, tls::server_name(&target.host)?))
        } else {
            None
        };
        let ws = target.ws_path.as_ref().map(|path| WsSetup {
            host: format!("{}:{}", target.host, target.addr.port()),
            path: path.clone(),
            protocol: (target.proto == Proto::Banter).then_some(WS_PROTOCOL),
            text: target.proto == Proto::WsBase,
        });
        Ok(Setup { tls, ws })
    }
}

/// The WebSocket upgrade a target asks for.
#[derive(Clone, Debug)]
pub struct WsSetup {
    /// `Host` header value (`host:port`).
    pub host: String,
    /// Request path (`/ws`).
    pub path: String,
    /// Subprotocol required of the server (`banter.1`), if any.
    pub protocol: Option<&'static str>,
    /// Whether messages are text (the baseline) rather than binary (Banter).
    pub text: bool,
}

/// One read's outcome, in application bytes.
pub enum ReadResult {
    /// `scratch[..total]` holds the carried tail and `new` fresh bytes after
    /// it; `drained` when the socket had nothing more.
    Data { total: usize, new: usize, drained: bool },
    /// Nothing more to read now.
    Drained,
    /// The peer closed, or the stream failed (with the reason).
    Closed(String),
}

/// One connection's TLS state.
struct Tls {
    /// The rustls client.
    conn: ClientConnection,
    /// Whether the finished handshake was reported already.
    reported: bool,
}

/// One connection's WebSocket state.
struct Ws {
    /// The frame decoder.
    decoder: ws::Decoder,
    /// The upgrade request's key while the answer is awaited (`None`: open).
    key: Option<String>,
    /// The answer's bytes so far, until its blank line.
    head: Vec<u8>,
    /// The subprotocol asked for.
    protocol: Option<&'static str>,
    /// The opcode of our messages.
    opcode: u8,
    /// Set when the upgrade completes, until the worker takes it.
    just_opened: bool,
    /// Whether our close frame was queued.
    close_sent: bool,
}

/// A connection's transport state.
#[derive(Default)]
pub struct Link {
    /// TLS (boxed: a plain connection pays one pointer).
    tls: Option<Box<Tls>>,
    /// WebSocket.
    ws: Option<Box<Ws>>,
    /// Why the stream ended, once known; the next read reports it, so the
    /// data before the end is handled first.
    ended: Option<String>,
}

impl Link {
    /// A link for a new connection of `setup`.
    pub fn new(setup: &Setup) -> Result<Link, String> {
        let tls = match &setup.tls {
            Some((cfg, name)) => {
                let conn = ClientConnection::new(cfg.clone(), name.clone())
                    .map_err(|e| format!("TLS: {e}"))?;
                Some(Box::new(Tls { conn, reported: false }))
            }
            None => None,
        };
        let ws = setup.ws.as_ref().map(|w| {
            let decoder = ws::Decoder::new(w.text);
            let opcode = if w.text { ws::OP_TEXT } else { ws::OP_BINARY };
            Box::new(Ws {
                decoder,
                key: None,
                head: Vec::new(),
                protocol: w.protocol,
                opcode,
                just_opened: false,
                close_sent: false,
            })
        });
        Ok(Link { tls, ws, ended: None })
    }

    /// The TCP connection is up: queues the WebSocket upgrade request, if
    /// any. `true` when the application protocol may start at once.
    pub fn start(&mut self, setup: &Setup, out: &mut Vec<u8>, masks: &mut Masks) -> bool {
        let (Some(w), Some(s)) = (self.ws.as_mut(), setup.ws.as_ref()) else {
            return true;
        };
        w.key = Some(ws::request(out, &s.host, &s.path, s.protocol, masks));
        false
    }

    /// Whether the WebSocket upgrade has just completed (once).
    pub fn take_opened(&mut self) -> bool {
        self.ws.as_mut().is_some_and(|w| std::mem::take(&mut w.just_opened))
    }

    /// The negotiated TLS parameters, once, when the handshake has just
    /// completed.
    pub fn take_handshake(&mut self) -> Option<String> {
        let t = self.tls.as_mut()?;
        if t.reported || t.conn.is_handshaking() {
            return None;
        }
        t.reported = true;
        Some(tls::summary(&t.conn))
    }

    /// Frames `out[start..]` as one WebSocket message (no-op otherwise).
    pub fn wrap(&self, out: &mut Vec<u8>, start: usize, masks: &mut Masks) {
        if let Some(w) = &self.ws {
            ws::frame(out, start, w.opcode, masks.take::<4>());
        }
    }

    /// Whether TLS has bytes of its own to send (handshake, alerts).
    pub fn wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.conn.wants_write())
    }

    /// Takes the end noted by an earlier read.
    pub fn take_ended(&mut self) -> Option<String> {
        self.ended.take()
    }

    /// Reads into `scratch[carry..]` and leaves application bytes there.
    /// `raw` is the worker's buffer for TLS records.
    pub fn read(&mut self, io: ReadIo<'_>) -> ReadResult {
        let ReadIo { stream, scratch, carry, raw, out, masks } = io;
        let fresh = match &mut self.tls {
            None => read_plain(stream, scratch, carry),
            Some(t) => {
                tls_io::read(&mut t.conn, stream, (&mut scratch[..], carry), raw, &mut self.ended)
            }
        };
        let (end, drained) = match fresh {
            Fresh::Bytes(end, drained) => (end, drained),
            Fresh::Drained => return ReadResult::Drained,
            Fresh::Closed(why) => return ReadResult::Closed(self.why_closed(why)),
        };
        match self.decode_ws(&mut scratch[carry..end], out, masks) {
            Ok(n) => {
                let drained = drained && self.ended.is_none();
                ReadResult::Data { total: carry + n, new: n, drained }
            }
            Err(e) => ReadResult::Closed(e),
        }
    }

    /// Adds what the handshakes had reached to a close's reason.
    fn why_closed(&self, why: String) -> String {
        if self.tls.as_ref().is_some_and(|t| t.conn.is_handshaking()) {
            return format!("{why} during the TLS handshake (does the server speak TLS here?)");
        }
        match &self.ws {
            Some(w) if w.key.is_some() => format!("{why} before the WebSocket upgrade answer"),
            _ => why,
        }
    }

    /// Removes WebSocket framing from `buf` in place; answers pings and
    /// closes into `out`. Returns the application bytes left at its front.
    fn decode_ws(
        &mut self,
        buf: &mut [u8],
        out: &mut Vec<u8>,
        m: &mut Masks,
    ) -> Result<usize, String> {
        let Some(w) = self.ws.as_mut() else {
            return Ok(buf.len());
        };
        let from = match w.key.as_ref() {
            None => 0,
            Some(key) => match ws::upgrade_answer(&mut w.head, buf, key, w.protocol)? {
                Some(from) => {
                    (w.key, w.head, w.just_opened) = (None, Vec::new(), true);
                    from
                }
                None => return Ok(0),
            },
        };
        let mut ctl = Vec::new();
        let n = w.decoder.decode(&mut buf[from..], &mut ctl)?;
        buf.copy_within(from..from + n, 0);
        for c in ctl {
            answer(w, c, out, m, &mut self.ended);
        }
        Ok(n)
    }

    /// Writes `out[*at..]` (through TLS when there is TLS) as far as the
    /// socket takes it; counts write calls in `writes`. `Ok(true)` when all
    /// is written.
    pub fn flush(&mut self, io: FlushIo<'_>) -> Result<bool, String> {
        match &mut self.tls {
            None => flush_plain(io),
            Some(t) => tls_io::flush(&mut t.conn, io),
        }
    }
}

/// Answers a control frame: a pong for a ping; for a close, notes the end
/// and echoes the close (once).
fn answer(w: &mut Ws, c: Control, out: &mut Vec<u8>, m: &mut Masks, ended: &mut Option<String>) {
    let (op, payload) = match c {
        Control::Ping(p) => (ws::OP_PONG, p),
        Control::Close(code, reason) => {
            let code_s = code.map_or("no code".into(), |c| format!("code {c}"));
            *ended = Some(format!("WebSocket closed by the server ({code_s}) {reason}"));
            if std::mem::replace(&mut w.close_sent, true) {
                return;
            }
            (ws::OP_CLOSE, code.map_or(Vec::new(), |c| c.to_be_bytes().to_vec()))
        }
    };
    let start = out.len();
    out.extend_from_slice(&payload);
    ws::frame(out, start, op, m.take::<4>());
}

/// What a read works with.
pub struct ReadIo<'a> {
    /// The socket.
    pub stream: &'a mut TcpStream,
    /// The worker's read buffer; `scratch[..carry]` is a carried tail.
    pub scratch: &'a mut [u8],
    /// Length of the carried tail.
    pub carry: usize,
    /// The worker's buffer for TLS records.
    pub raw: &'a mut [u8],
    /// The connection's output, for WebSocket pongs and close replies.
    pub out: &'a mut Vec<u8>,
    /// Random masks for those frames.
    pub masks: &'a mut Masks,
}

/// What a flush works with.
pub struct FlushIo<'a> {
    /// The socket.
    pub stream: &'a mut TcpStream,
    /// Queued output.
    pub out: &'a [u8],
    /// How much of it is written.
    pub at: &'a mut usize,
    /// Write calls made.
    pub writes: &'a mut u64,
}

/// Raw bytes read: `Bytes(end, drained)` means `scratch[carry..end]`.
pub(crate) enum Fresh {
    Bytes(usize, bool),
    Drained,
    Closed(String),
}

fn read_plain(stream: &mut TcpStream, scratch: &mut [u8], carry: usize) -> Fresh {
    if carry >= scratch.len() {
        return Fresh::Closed("a unit larger than the read buffer".into());
    }
    loop {
        return match stream.read(&mut scratch[carry..]) {
            Ok(0) => Fresh::Closed("closed by the server".into()),
            Ok(n) => Fresh::Bytes(carry + n, carry + n < scratch.len()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Fresh::Drained,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => Fresh::Closed(format!("read: {e}")),
        };
    }
}

fn flush_plain(io: FlushIo<'_>) -> Result<bool, String> {
    let FlushIo { stream, out, at, writes } = io;
    while *at < out.len() {
        *writes += 1;
        match stream.write(&out[*at..]) {
            Ok(0) => return Err("write returned 0".into()),
            Ok(n) => *at += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("write: {e}")),
        }
    }
    Ok(true)
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
