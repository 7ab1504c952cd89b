//! One connection to the server, in clear or over TLS: a non-blocking
//! connect, frames queued and written as the socket allows, and the bytes
//! received (decrypted first, over TLS) cut into frames by [`Inbox`]. TLS
//! is a rustls `ClientConnection` driven from the poll loop as `banterd`
//! drives its own: `read_tls` → `process_new_packets` → plaintext out;
//! plaintext in through the writer → `write_tls`.
//!
//! It knows nothing of sessions, heartbeats or reconnecting (see `net`).

use crate::tls::{explain, TlsTarget};
use banter_proto::{ClientFrame, ServerFrame};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::ClientConnection;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

mod inbox;
use inbox::Inbox;

/// A connection and its buffers.
#[derive(Debug)]
pub struct Conn {
    /// The socket, registered for reading and writing.
    stream: TcpStream,
    /// The TLS state, when the connection is encrypted.
    tls: Option<Box<ClientConnection>>,
    /// The host, for messages about its certificate.
    host: String,
    /// Bytes received (plaintext) and not yet decoded.
    inbox: Inbox,
    /// Encoded frames not yet written (or handed to TLS).
    wbuf: Vec<u8>,
    /// Whether the non-blocking connect has completed.
    established: bool,
    /// Largest frame accepted from the server (its `max_frame` once known).
    pub max_frame: u32,
}

/// What reading found.
pub enum Input {
    /// Some bytes arrived (possibly no whole frame yet).
    Bytes,
    /// Nothing to read now.
    Nothing,
}

/// Why a connection ended.
#[derive(Debug)]
pub enum Broken {
    /// The network or the server ended it: worth trying again.
    Lost(String),
    /// The server's certificate was refused: trying again cannot help.
    Certificate(String),
}

impl From<io::Error> for Broken {
    fn from(e: io::Error) -> Broken {
        Broken::Lost(plain(&e))
    }
}

/// An I/O error as words: "connection refused", without "(os error 111)".
pub fn plain(e: &io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s);
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_lowercase().chain(c).collect())
}

impl Conn {
    /// Starts connecting to `addr` (with TLS to `tls` if given) and
    /// registers the socket under `token`; `host` names the server in
    /// messages.
    pub fn open(
        addr: SocketAddr,
        host: &str,
        tls: Option<&TlsTarget>,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Conn> {
        let tls = match tls {
            Some(t) => Some(Box::new(
                ClientConnection::new(t.config.clone(), t.name.clone())
                    .map_err(io::Error::other)?,
            )),
            None => None,
        };
        let mut stream = TcpStream::connect(addr)?;
        registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        Ok(Conn {
            stream,
            host: host.to_string(),
            tls,
            inbox: Inbox::default(),
            wbuf: Vec::new(),
            established: false,
            max_frame: banter_proto::DEFAULT_MAX_FRAME,
        })
    }

    /// Removes the socket from the poll (before dropping it); over TLS,
    /// says goodbye first if the socket takes it.
    pub fn close(mut self, registry: &Registry) {
        if let Some(t) = self.tls.as_mut().filter(|_| self.established) {
            t.send_close_notify();
            let _ = t.write_tls(&mut self.stream);
        }
        let _ = registry.deregister(&mut self.stream);
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Appends a frame to the output buffer.
    pub fn queue(&mut self, f: &ClientFrame) {
        f.encode(&mut self.wbuf);
    }

    /// Whether everything queued went to the socket: bulk data (file
    /// chunks) may be queued now without holding up anything else.
    pub fn drained(&self) -> bool {
        self.established
            && self.wbuf.is_empty()
            && self.tls.as_ref().is_none_or(|t| !t.wants_write())
    }

    /// Bytes queued and not yet handed to the socket.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.wbuf.len()
    }

    /// Checks a pending connect; `Ok(false)` while still in progress.
    fn check_established(&mut self) -> io::Result<bool> {
        if self.established {
            return Ok(true);
        }
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        match self.stream.peer_addr() {
            Ok(_) => {
                self.established = true;
                let _ = self.stream.set_nodelay(true);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes as much buffered output as the socket takes.
    pub fn flush(&mut self) -> Result<(), Broken> {
        if !self.check_established()? {
            return Ok(());
        }
        let Some(tls) = self.tls.as_mut() else {
            let n = write_some(&mut self.stream, &self.wbuf)?;
            self.wbuf.drain(..n);
            return Ok(());
        };
        loop {
            if !self.wbuf.is_empty() {
                let n = tls.writer().write(&self.wbuf)?;
                self.wbuf.drain(..n);
            }
            if !tls.wants_write() {
                return Ok(());
            }
            match tls.write_tls(&mut self.stream) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reads everything available; `Err` on EOF, a socket error or a TLS
    /// failure (whatever arrived before it is decoded first).
    pub fn read(&mut self) -> Result<Input, Broken> {
        if !self.check_established()? {
            return Ok(Input::Nothing);
        }
        let mut got = false;
        let mut chunk = [0u8; 16384];
        loop {
            let n = match self.tls.as_mut() {
                Some(t) => t.read_tls(&mut self.stream),
                None => self.stream.read(&mut chunk),
            };
            let eof = match n {
                Ok(0) => true,
                Ok(n) => {
                    got = true;
                    if self.tls.is_none() {
                        self.inbox.extend(&chunk[..n]);
                    }
                    false
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            let closed = self.decrypt(&mut chunk)?;
            if eof || closed {
                return Err(Broken::Lost(self.eof_reason()));
            }
        }
        Ok(if got { Input::Bytes } else { Input::Nothing })
    }

    /// Over TLS: processes the records read and moves their plaintext to
    /// the inbox; `Ok(true)` when the server closed the TLS session.
    fn decrypt(&mut self, chunk: &mut [u8]) -> Result<bool, Broken> {
        let Some(t) = self.tls.as_mut() else { return Ok(false) };
        if let Err(e) = t.process_new_packets() {
            let _ = t.write_tls(&mut self.stream); // the alert, if it fits
            return Err(match e {
                rustls::Error::InvalidCertificate(c) => {
                    Broken::Certificate(explain(&c, &self.host))
                }
                e => Broken::Lost(format!("TLS: {e}")),
            });
        }
        loop {
            match t.reader().read(chunk) {
                Ok(0) => return Ok(true),
                Ok(n) => self.inbox.extend(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(true),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Why the stream ended, as the user should read it.
    fn eof_reason(&self) -> String {
        match &self.tls {
            Some(t) if t.is_handshaking() => "the server closed the connection during the TLS \
                                              handshake (does it have a certificate?)"
                .into(),
            _ => "server closed the connection".into(),
        }
    }

    /// The next whole frame received, if any. A frame whose body this client
    /// cannot decode (e.g. a newer type) is skipped; a framing error is `Err`.
    pub fn next_frame(&mut self) -> Result<Option<ServerFrame>, String> {
        self.inbox.next_frame(self.max_frame)
    }
}

/// Writes what the socket takes of `buf`; how much it took.
fn write_some(stream: &mut TcpStream, buf: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match stream.write(&buf[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
