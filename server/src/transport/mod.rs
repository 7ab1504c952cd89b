//! Transports: what carries a peer's Banter bytes between its socket and
//! the protocol core (after sozu's `SocketHandler` and rustls'
//! `tlsserver-mio`). Two layers: a byte [`stream`] (plain TCP, or TLS over
//! it) and, on its plaintext, an application protocol told by the first
//! byte (§7): Banter frames as they are, an HTTP/1.1 request (answered by
//! the reactor, or upgraded to a WebSocket whose binary messages carry the
//! Banter stream). `0x16` first starts TLS, and inside TLS the first
//! decrypted byte is told the same way.
//!
//! The core never learns which transport a peer uses: it gets plaintext
//! Banter bytes and its output queue is drained by [`Transport::write`].
//! What a transport holds below the core counts toward the output limit.

pub mod http;
pub mod proxy;
pub mod stream;
pub mod tls;
pub mod ws;

use crate::core::OutQueue;
use banter_proto::ErrorCode;
use mio::net::TcpStream;
use std::io::{self, IoSlice};
use std::sync::Arc;
use stream::{Got, Stream};
use ws::{Fault, Ws};

/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// What one read of a transport produced, for the reactor.
#[derive(Debug)]
pub enum Input {
    /// `n` Banter bytes at the front of the caller's buffer; `more` when
    /// the transport may have more right now.
    Plain { n: usize, more: bool },
    /// Bytes arrived, nothing for the core yet (a handshake, part of a
    /// request or of a frame header).
    Heard,
    /// A whole HTTP request head, to answer with [`Transport::reply`] or
    /// [`Transport::accept_ws`].
    Request(Box<http::Request>),
    /// The transport ends the connection itself (an HTTP answer to a bad
    /// request is queued, a WebSocket CLOSE is exchanged or queued, a TLS
    /// alert is queued): close the peer without a Banter ERROR.
    Ended(String),
    /// The far end closed its side.
    Eof,
    /// Nothing to read now.
    Empty,
}

/// The application protocol on the stream's plaintext.
enum App {
    /// Nothing received yet: the first byte decides.
    Sniff,
    /// Banter frames.
    Banter,
    /// Reading an HTTP request head.
    Http(Vec<u8>),
    /// Writing an HTTP response, then closing; Banter output is dropped.
    Reply(Vec<u8>),
    /// Banter in WebSocket binary messages.
    Ws(Box<Ws>),
}

/// How a peer's bytes travel.
pub struct Transport {
    /// Plain TCP or TLS.
    stream: Stream,
    /// What runs on the stream's plaintext.
    app: App,
    /// The TLS config to start TLS with, when a certificate is loaded.
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Transport {
    /// A new connection; `tls` when the server has a certificate.
    pub fn new(tls: Option<Arc<rustls::ServerConfig>>) -> Transport {
        Transport { stream: Stream::Tcp, app: App::Sniff, tls }
    }

    /// Whether the bytes travel encrypted.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// Whether a WebSocket carries the Banter stream.
    pub fn is_ws(&self) -> bool {
        matches!(self.app, App::Ws(_))
    }

    /// Whether this is an HTTP request being read or answered.
    pub fn is_http(&self) -> bool {
        matches!(self.app, App::Http(_) | App::Reply(_))
    }

    /// Whether the TLS handshake just completed (true once).
    pub fn take_established(&mut self) -> bool {
        self.stream.take_established()
    }

    /// Reads once from `sock`; Banter bytes come out in `buf`.
    pub fn read(&mut self, sock: &mut TcpStream, buf: &mut [u8]) -> io::Result<Input> {
        if let App::Ws(ws) = &mut self.app {
            if ws.has_input() {
                match ws_decode(ws, buf) {
                    // Only part of a frame header waits: read the socket for the rest.
                    Input::Heard if ws.has_input() => {}
                    got => return Ok(got),
                }
            }
        }
        let got = match self.stream.read(sock, buf) {
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Ok(Input::Ended(format!("TLS: {e}")))
            }
            other => other?,
        };
        match got {
            Got::Plain { n, more } => Ok(self.on_plain(buf, n, more)),
            Got::Heard => Ok(Input::Heard),
            Got::Eof => Ok(Input::Eof),
            Got::Empty => Ok(Input::Empty),
        }
    }

    /// The application layer's share of `n` plaintext bytes in `buf`.
    fn on_plain(&mut self, buf: &mut [u8], n: usize, more: bool) -> Input {
        if let App::Sniff = self.app {
            match buf[0] {
                0x16 if !self.stream.is_tls() => return self.start_tls(&buf[..n]),
                b'A'..=b'Z' => self.app = App::Http(Vec::new()),
                _ => self.app = App::Banter,
            }
        }
        match &mut self.app {
            App::Sniff => unreachable!("decided above"),
            App::Banter => Input::Plain { n, more },
            App::Http(head) => {
                head.extend_from_slice(&buf[..n]);
                self.on_head()
            }
            App::Reply(_) => Input::Heard, // a client talking over our answer
            App::Ws(ws) => {
                ws.feed(&buf[..n]);
                match ws_decode(ws, buf) {
                    // The socket may hold more even when this read decoded whole.
                    Input::Plain { n, more: m } => Input::Plain { n, more: more || m },
                    other => other,
                }
            }
        }
    }

    fn start_tls(&mut self, first: &[u8]) -> Input {
        let Some(cfg) = self.tls.clone() else {
            return Input::Ended("TLS asked of a server without a certificate".into());
        };
        match Stream::start_tls(cfg, first) {
            Ok(s) => {
                self.stream = s;
                Input::Heard
            }
            Err(e) => Input::Ended(format!("TLS: {e}")),
        }
    }

    fn on_head(&mut self) -> Input {
        let App::Http(head) = &self.app else { unreachable!("called for HTTP") };
        match http::parse(head) {
            http::Parsed::Partial => Input::Heard,
            http::Parsed::Done(req, _) => Input::Request(Box::new(req)),
            http::Parsed::TooLarge => self.refuse(431, "request headers over 8 KiB"),
            http::Parsed::Malformed => self.refuse(400, "malformed HTTP request"),
        }
    }

    fn refuse(&mut self, status: u16, why: &str) -> Input {
        self.reply(http::response(
            status,
            "text/plain; charset=utf-8",
            "",
            format!("{why}\n").as_bytes(),
        ));
        Input::Ended(format!("HTTP {status}: {why}"))
    }

    /// Answers the HTTP request with a whole response, then closes.
    pub fn reply(&mut self, response: Vec<u8>) {
        self.app = App::Reply(response);
    }

    /// Upgrades the HTTP request to a WebSocket: `preamble` is the 101
    /// answer; bytes after the request head are its first input.
    pub fn accept_ws(&mut self, preamble: Vec<u8>, max_frame: u32) {
        let App::Http(head) = &self.app else { return };
        let used = match http::parse(head) {
            http::Parsed::Done(_, n) => n,
            _ => head.len(),
        };
        self.app = App::Ws(Box::new(Ws::new(preamble, &head[used..], max_frame)));
    }

    /// Whether decoded input waits without a socket read (after an upgrade).
    pub fn has_input(&self) -> bool {
        matches!(&self.app, App::Ws(ws) if ws.has_input())
    }

    /// Moves what it can of `out` toward the socket.
    pub fn write(&mut self, sock: &mut TcpStream, out: &mut OutQueue) -> io::Result<()> {
        // One pass writes at most MAX_SLICES segments (or a TLS buffer's
        // worth): go on while the socket takes everything, or the rest
        // would wait for a WRITABLE edge that never comes (the socket never
        // filled). Stop at the first pass the socket pushes back on.
        loop {
            let before = out.pending();
            self.write_pass(sock, out)?;
            let moved = out.pending() < before;
            if out.is_empty() || !moved || self.stream.held() > 0 {
                return Ok(());
            }
        }
    }

    fn write_pass(&mut self, sock: &mut TcpStream, out: &mut OutQueue) -> io::Result<()> {
        match &mut self.app {
            App::Sniff | App::Banter => write_queue(&mut self.stream, sock, out)?,
            App::Http(_) => out.consume(out.pending()), // nothing but HTTP goes to an HTTP client
            App::Reply(resp) => {
                out.consume(out.pending());
                let took = self.stream.write(sock, &[IoSlice::new(resp)])?;
                resp.drain(..took);
            }
            App::Ws(ws) => {
                ws.write(&mut self.stream, sock, out)?;
                if ws.closed_and_flushed() {
                    out.consume(out.pending()); // after our CLOSE nothing more is sent
                }
            }
        }
        self.stream.flush(sock)
    }

    /// Bytes taken from the output queue but not yet on the socket.
    pub fn held(&self) -> usize {
        let app = match &self.app {
            App::Reply(resp) => resp.len(),
            App::Ws(ws) => ws.held(),
            _ => 0,
        };
        app + self.stream.held()
    }

    /// Ends the stream once the core's output is written: a WebSocket CLOSE
    /// (1001 on shutdown, else 1000) first, then TLS close_notify and the
    /// TCP write side. `code` is the fatal ERROR the peer was closed with.
    /// Returns false while the goodbye is still being written.
    pub fn shutdown(&mut self, sock: &mut TcpStream, code: Option<ErrorCode>) -> io::Result<bool> {
        if let App::Ws(ws) = &mut self.app {
            let wscode =
                if code == Some(ErrorCode::ShuttingDown) { ws::GOING_AWAY } else { ws::NORMAL };
            ws.close(wscode);
            ws.write(&mut self.stream, sock, &mut OutQueue::default())?;
            self.stream.flush(sock)?;
            if !ws.closed_and_flushed() {
                return Ok(false);
            }
        }
        self.stream.shutdown(sock);
        Ok(true)
    }
}

/// Decoded WebSocket payload, or how the WebSocket ended.
fn ws_decode(ws: &mut Ws, buf: &mut [u8]) -> Input {
    match ws.decode(buf) {
        Ok((0, _)) => Input::Heard,
        Ok((n, more)) => Input::Plain { n, more },
        Err(Fault::Closed) => Input::Ended("WebSocket closed by the client".into()),
        Err(Fault::Broke { code, why }) => Input::Ended(format!("WebSocket {code}: {why}")),
    }
}

/// One vectored write of `out` to the stream.
fn write_queue(stream: &mut Stream, sock: &mut TcpStream, out: &mut OutQueue) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let mut slices = [IoSlice::new(&[]); MAX_SLICES];
    let n = out.slices(&mut slices);
    let took = stream.write(sock, &slices[..n])?;
    out.consume(took);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A queue of more segments than one vectored write takes, to a socket
    /// with room for all of it, goes out in one call: nothing waits for a
    /// WRITABLE edge that would never come.
    #[test]
    fn one_write_call_drains_more_segments_than_one_pass_takes() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let mut sock = TcpStream::from_std(server);
        let mut out = OutQueue::default();
        let segments = MAX_SLICES * 4;
        for i in 0..segments {
            out.push_shared(bytes::Bytes::from(vec![i as u8; 100]));
        }
        let mut t = Transport::new(None);
        t.app = App::Banter;
        t.write(&mut sock, &mut out).unwrap();
        assert!(out.is_empty(), "{} bytes left after one write call", out.pending());
        let mut got = vec![0u8; segments * 100];
        client.read_exact(&mut got).unwrap();
        assert!(got.chunks(100).enumerate().all(|(i, c)| c.iter().all(|&b| b == i as u8)));
    }
}
