//! Transports: what carries a peer's bytes between its socket and the
//! protocol core (after sozu's `SocketHandler` and rustls' `tlsserver-mio`).
//! A transport reads the socket and yields plaintext Banter bytes; it takes
//! Banter bytes from the core's output queue and puts them on the socket in
//! its own form; it says what it still holds (for the output limit and the
//! write interest); and it closes in its own way. The core never learns
//! which transport a peer uses, and no handler changes when one is added.
//!
//! Plain TCP is the only transport so far.

pub mod tcp;

use crate::core::OutQueue;
use banter_proto::ErrorCode;
use mio::net::TcpStream;
use std::io;

/// What one read of a transport produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `n` plaintext bytes at the front of the caller's buffer; `more` when
    /// the socket may hold more (the read filled the buffer).
    Plain { n: usize, more: bool },
    /// The far end closed its side.
    Eof,
    /// Nothing to read now.
    Empty,
}

/// A peer's transport.
pub enum Transport {
    /// Banter frames straight on TCP.
    Tcp(tcp::Plain),
}

impl Transport {
    /// Reads once from `sock` into `buf`.
    pub fn read(&mut self, sock: &mut TcpStream, buf: &mut [u8]) -> io::Result<Input> {
        match self {
            Transport::Tcp(t) => t.read(sock, buf),
        }
    }

    /// Moves what it can of `out` to the socket (one write).
    pub fn write(&mut self, sock: &mut TcpStream, out: &mut OutQueue) -> io::Result<()> {
        match self {
            Transport::Tcp(t) => t.write(sock, out),
        }
    }

    /// Bytes taken from the output queue but not yet on the socket.
    pub fn held(&self) -> usize {
        match self {
            Transport::Tcp(_) => 0,
        }
    }

    /// Ends the stream once everything is written: `code` is the fatal
    /// ERROR the peer was closed with, if any (a WebSocket close code
    /// follows from it). Returns once the close is on its way.
    pub fn shutdown(&mut self, sock: &mut TcpStream, _code: Option<ErrorCode>) {
        match self {
            Transport::Tcp(_) => {
                let _ = sock.shutdown(std::net::Shutdown::Write);
            }
        }
    }
}
