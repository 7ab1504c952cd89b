//! What carries a test connection's Banter bytes: plain TCP, TLS (rustls,
//! trusting the test CA), and a WebSocket over either, so the same frame
//! helpers test every transport of §7. The WebSocket side is a minimal RFC
//! 6455 client (masked binary frames out, server frames in, PING answered)
//! with tungstenite's frame header codec; raw helpers let tests send
//! malformed frames too.

use rustls::pki_types::ServerName;
use rustls::ClientConnection;
use std::io::{self, Cursor, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

/// Encryption under the bytes.
enum Sec {
    /// None.
    Plain,
    /// A TLS client connection over the socket.
    Tls(Box<ClientConnection>),
}

/// WebSocket framing state of a client.
#[derive(Default)]
struct WsClient {
    /// Bytes from the server not yet parsed.
    raw: Vec<u8>,
    /// Payload parsed but not yet returned.
    ready: Vec<u8>,
    /// The close code the server sent, once it did.
    closed: Option<u16>,
    /// Payloads of the PONGs the server sent.
    pongs: Vec<Vec<u8>>,
}

/// A connection's transport, as the test client sees it.
pub struct Wire {
    /// TLS or not.
    sec: Sec,
    /// WebSocket framing, once upgraded.
    ws: Option<WsClient>,
}

impl Wire {
    /// Plain TCP.
    pub fn plain() -> Wire {
        Wire { sec: Sec::Plain, ws: None }
    }

    /// TLS over `sock` with `cfg`, handshake completed (bounded by the
    /// socket's timeouts). The error is rustls's, as a client would show it.
    pub fn tls(
        sock: &mut TcpStream,
        cfg: Arc<rustls::ClientConfig>,
        host: &str,
    ) -> io::Result<Wire> {
        let name = ServerName::try_from(host.to_string()).map_err(io::Error::other)?;
        let mut c = ClientConnection::new(cfg, name).map_err(io::Error::other)?;
        while c.is_handshaking() {
            c.complete_io(sock)?;
        }
        Ok(Wire { sec: Sec::Tls(Box::new(c)), ws: None })
    }

    /// TLS with a connection whose handshake the caller completed.
    pub fn from_tls(c: ClientConnection) -> Wire {
        Wire { sec: Sec::Tls(Box::new(c)), ws: None }
    }

    /// From now on, Banter bytes travel in WebSocket binary messages.
    pub fn upgraded(mut self, leftover: &[u8]) -> Wire {
        self.ws = Some(WsClient { raw: leftover.to_vec(), ..WsClient::default() });
        self
    }

    /// The ALPN protocol the TLS handshake agreed on.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        match &self.sec {
            Sec::Tls(c) => c.alpn_protocol().map(<[u8]>::to_vec),
            Sec::Plain => None,
        }
    }

    /// Sends Banter bytes (one binary message when upgraded).
    pub fn send(&mut self, sock: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
        match self.ws.is_some() {
            true => self.send_bytes(sock, &ws_frame(OpCode::Data(Data::Binary), true, bytes)),
            false => self.send_bytes(sock, bytes),
        }
    }

    /// Sends bytes below the WebSocket layer (raw frames, HTTP).
    pub fn send_bytes(&mut self, sock: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
        match &mut self.sec {
            Sec::Plain => sock.write_all(bytes),
            Sec::Tls(c) => {
                c.writer().write_all(bytes)?;
                while c.wants_write() {
                    c.write_tls(sock)?;
                }
                Ok(())
            }
        }
    }

    /// Reads Banter bytes; 0 when the server closed (a WebSocket CLOSE too).
    pub fn read(&mut self, sock: &mut TcpStream, out: &mut [u8]) -> io::Result<usize> {
        if self.ws.is_none() {
            return self.read_bytes(sock, out);
        }
        loop {
            let ws = self.ws.as_mut().expect("upgraded");
            if !ws.ready.is_empty() {
                let n = ws.ready.len().min(out.len());
                out[..n].copy_from_slice(&ws.ready[..n]);
                ws.ready.drain(..n);
                return Ok(n);
            }
            if let Some(pong) = ws.parse() {
                self.send_bytes(sock, &pong)?;
                continue;
            }
            if !ws.ready.is_empty() {
                continue;
            }
            if ws.closed.is_some() {
                return Ok(0);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.read_bytes(sock, &mut chunk)?;
            if n == 0 {
                return Ok(0);
            }
            self.ws.as_mut().expect("upgraded").raw.extend_from_slice(&chunk[..n]);
        }
    }

    /// Payloads of the WebSocket PONGs received so far.
    pub fn pongs(&self) -> Vec<Vec<u8>> {
        self.ws.as_ref().map(|w| w.pongs.clone()).unwrap_or_default()
    }

    /// The close code the server's WebSocket CLOSE carried.
    pub fn close_code(&self) -> Option<u16> {
        self.ws.as_ref().and_then(|w| w.closed)
    }

    /// Reads bytes below the WebSocket layer.
    pub fn read_bytes(&mut self, sock: &mut TcpStream, out: &mut [u8]) -> io::Result<usize> {
        let Sec::Tls(c) = &mut self.sec else { return sock.read(out) };
        loop {
            match c.reader().read(out) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if c.read_tls(sock)? == 0 {
                return Ok(0);
            }
            c.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
    }
}

impl WsClient {
    /// Parses whole frames from `raw`: payload into `ready`; returns a PONG
    /// to send when a PING came.
    fn parse(&mut self) -> Option<Vec<u8>> {
        while self.closed.is_none() {
            let mut cur = Cursor::new(&self.raw[..]);
            let (h, len) = FrameHeader::parse(&mut cur).expect("server frame header")?;
            let at = cur.position() as usize;
            let end = at + len as usize;
            if self.raw.len() < end {
                return None;
            }
            assert!(h.mask.is_none(), "server frames are never masked");
            let payload: Vec<u8> = self.raw[at..end].to_vec();
            self.raw.drain(..end);
            match h.opcode {
                OpCode::Data(Data::Binary | Data::Continue) => {
                    self.ready.extend_from_slice(&payload)
                }
                OpCode::Control(Control::Ping) => {
                    return Some(ws_frame(OpCode::Control(Control::Pong), true, &payload))
                }
                OpCode::Control(Control::Pong) => self.pongs.push(payload),
                OpCode::Control(Control::Close) => {
                    self.closed =
                        Some(payload.get(..2).map_or(1005, |b| u16::from_be_bytes([b[0], b[1]])));
                }
                other => panic!("unexpected server frame {other:?}"),
            }
        }
        None
    }
}

/// A masked client frame.
pub fn ws_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let h = FrameHeader { is_final: fin, opcode, mask: Some(mask), ..FrameHeader::default() };
    let mut out = Vec::new();
    h.format(payload.len() as u64, &mut out).expect("header");
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
    out
}

/// An unmasked frame (which a server must refuse).
pub fn ws_frame_unmasked(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let h = FrameHeader { opcode, ..FrameHeader::default() };
    let mut out = Vec::new();
    h.format(payload.len() as u64, &mut out).expect("header");
    out.extend_from_slice(payload);
    out
}
