//! One TCP connection to the server: non-blocking connect, an output buffer
//! flushed as the socket allows, and framing of the input with
//! `banter_proto::check`/`decode`.
//!
//! It knows nothing of sessions, heartbeats or reconnecting (see `net`).

use banter_proto::{ClientFrame, ServerFrame};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;

mod inbox;
use inbox::Inbox;

/// A connection and its buffers.
#[derive(Debug)]
pub struct Conn {
    /// The socket, registered for reading and writing.
    stream: TcpStream,
    /// Bytes received and not yet decoded.
    inbox: Inbox,
    /// Encoded frames not yet written.
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

impl Conn {
    /// Starts connecting to `addr` and registers the socket under `token`.
    pub fn open(addr: SocketAddr, registry: &Registry, token: Token) -> io::Result<Conn> {
        let mut stream = TcpStream::connect(addr)?;
        registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        Ok(Conn {
            stream,
            inbox: Inbox::default(),
            wbuf: Vec::new(),
            established: false,
            max_frame: banter_proto::DEFAULT_MAX_FRAME,
        })
    }

    /// Removes the socket from the poll (before dropping it).
    pub fn close(mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.stream);
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Appends a frame to the output buffer.
    pub fn queue(&mut self, f: &ClientFrame) {
        f.encode(&mut self.wbuf);
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
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.check_established()? {
            return Ok(());
        }
        while !self.wbuf.is_empty() {
            match self.stream.write(&self.wbuf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.wbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads everything available; `Err` on EOF or a socket error.
    pub fn read(&mut self) -> io::Result<Input> {
        if !self.check_established()? {
            return Ok(Input::Nothing);
        }
        let mut got = false;
        let mut chunk = [0u8; 16384];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed the connection",
                    ))
                }
                Ok(n) => {
                    got = true;
                    self.inbox.extend(&chunk[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(if got { Input::Bytes } else { Input::Nothing })
    }

    /// The next whole frame received, if any. A frame whose body this client
    /// cannot decode (e.g. a newer type) is skipped; a framing error is `Err`.
    pub fn next_frame(&mut self) -> Result<Option<ServerFrame>, String> {
        self.inbox.next_frame(self.max_frame)
    }
}
