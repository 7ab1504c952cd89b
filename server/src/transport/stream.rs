//! The byte stream under an application protocol: plain TCP, or TLS over
//! it (rustls driven from the readiness loop as in its `tlsserver-mio`
//! example: `read_tls` → `process_new_packets` → plaintext out; plaintext in
//! through the writer → `write_tls`). Reads give plaintext; writes take
//! plaintext slices and report how many bytes were accepted.

use mio::net::TcpStream;
use rustls::ServerConnection;
use std::io::{self, IoSlice, Read, Write};
use std::sync::Arc;

/// TLS output a connection may buffer before its writer pushes back: one
/// record and some. What is not accepted stays in the core's queue.
const TLS_BUFFER: usize = 32 * 1024;

/// What one read of the stream produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    /// `n` plaintext bytes at the front of the buffer; `more` when the
    /// stream may hold more right now.
    Plain { n: usize, more: bool },
    /// Bytes arrived, none of them plaintext yet (a TLS handshake).
    Heard,
    /// The far end closed its side.
    Eof,
    /// Nothing to read now.
    Empty,
}

/// Plain TCP or TLS.
pub enum Stream {
    /// The socket's bytes are the plaintext.
    Tcp,
    /// A TLS connection; its socket is the link's.
    Tls(Box<Tls>),
}

/// One TLS connection.
pub struct Tls {
    /// rustls' state: records in, plaintext out and the reverse.
    conn: ServerConnection,
    /// The handshake has completed (counted once).
    established: bool,
    /// A fatal TLS error happened: only its alert is still sent.
    failed: bool,
}

impl Stream {
    /// Starts TLS with `cfg` on bytes already read (the ClientHello's start).
    pub fn start_tls(cfg: Arc<rustls::ServerConfig>, first: &[u8]) -> io::Result<Stream> {
        let mut conn = ServerConnection::new(cfg).map_err(io::Error::other)?;
        conn.set_buffer_limit(Some(TLS_BUFFER));
        let mut tls = Box::new(Tls { conn, established: false, failed: false });
        let mut rest = first;
        while !rest.is_empty() {
            if tls.conn.read_tls(&mut rest)? == 0 {
                break;
            }
        }
        Ok(Stream::Tls(tls))
    }

    /// Whether bytes travel encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// One read: from the socket for TCP; for TLS, whatever the socket holds
    /// is processed and the plaintext it yields comes out. A TLS error is
    /// returned as `InvalidData` once its alert is queued.
    pub fn read(&mut self, sock: &mut TcpStream, buf: &mut [u8]) -> io::Result<Got> {
        match self {
            Stream::Tcp => match sock.read(buf) {
                Ok(0) => Ok(Got::Eof),
                Ok(n) => Ok(Got::Plain { n, more: n == buf.len() }),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Got::Empty),
                Err(e) => Err(e),
            },
            Stream::Tls(t) => t.read(sock, buf),
        }
    }

    /// Whether the TLS handshake completed in the last read (once).
    pub fn take_established(&mut self) -> bool {
        match self {
            Stream::Tls(t) if !t.established && !t.conn.is_handshaking() && !t.failed => {
                t.established = true;
                true
            }
            _ => false,
        }
    }

    /// Takes plaintext slices: written to the socket (TCP) or encrypted
    /// into the TLS buffer; returns how many bytes were taken.
    pub fn write(&mut self, sock: &mut TcpStream, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        let r = match self {
            Stream::Tcp => sock.write_vectored(slices),
            Stream::Tls(t) if t.failed => return Ok(0),
            Stream::Tls(t) => t.conn.writer().write_vectored(slices),
        };
        match r {
            Err(e)
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) =>
            {
                Ok(0)
            }
            other => other,
        }
    }

    /// Pushes buffered TLS records to the socket until it pushes back.
    pub fn flush(&mut self, sock: &mut TcpStream) -> io::Result<()> {
        let Stream::Tls(t) = self else { return Ok(()) };
        while t.conn.wants_write() {
            match t.conn.write_tls(sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Bytes buffered below the application, at most: TLS records not yet
    /// on the socket (rustls does not count them; its limit bounds them).
    pub fn held(&self) -> usize {
        match self {
            Stream::Tls(t) if t.conn.wants_write() => TLS_BUFFER,
            _ => 0,
        }
    }

    /// Ends the stream: a TLS close_notify, then the TCP write side.
    pub fn shutdown(&mut self, sock: &mut TcpStream) {
        if let Stream::Tls(t) = self {
            if !t.failed {
                t.conn.send_close_notify();
            }
            let _ = self.flush(sock);
        }
        let _ = sock.shutdown(std::net::Shutdown::Write);
    }
}

impl Tls {
    fn read(&mut self, sock: &mut TcpStream, buf: &mut [u8]) -> io::Result<Got> {
        let mut heard = false;
        let mut eof = false;
        if !self.failed {
            match self.conn.read_tls(sock) {
                Ok(0) => eof = true,
                Ok(_) => heard = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        let state = match self.conn.process_new_packets() {
            Ok(state) => state,
            Err(e) => {
                self.failed = true; // its alert is queued: flush, then close
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        };
        let waiting = state.plaintext_bytes_to_read();
        if waiting > 0 {
            let n = self.conn.reader().read(buf)?;
            return Ok(Got::Plain { n, more: waiting > n || heard });
        }
        Ok(match (eof || state.peer_has_closed(), heard) {
            (true, _) => Got::Eof,
            (false, true) => Got::Heard,
            (false, false) => Got::Empty,
        })
    }
}
