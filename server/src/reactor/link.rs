//! A link: one accepted socket, the transport that speaks on it, and the
//! core peer it carries. The link holds only what the socket layer needs
//! (interest, half-closed and failed flags); everything about the protocol
//! is the peer's, in the core.

use crate::core::PeerId;
use crate::transport::Transport;
use mio::net::TcpStream;
use std::net::SocketAddr;

/// One connection as the reactor sees it.
pub struct Link {
    /// The socket, non-blocking, registered under this link's slab key.
    pub sock: TcpStream,
    /// The far end's address, for log lines.
    pub addr: SocketAddr,
    /// What carries the peer's bytes on the socket.
    pub transport: Transport,
    /// The core peer whose bytes this link carries.
    pub peer: PeerId,
    /// Unique per accept: tells this link from a later one in the same slot
    /// (the hot list carries it).
    pub serial: u64,
    /// Registered for WRITABLE as well as READABLE.
    pub want_write: bool,
    /// On the reactor's list of closing links.
    pub closing: bool,
    /// The write side has been shut down (closing, output drained).
    pub shut: bool,
    /// The far end has closed its side (read EOF): nothing more to read.
    pub eof: bool,
    /// The socket failed (reset, broken pipe): nothing more to read or write.
    pub gone: bool,
}

impl Link {
    /// A freshly accepted link.
    pub fn new(
        sock: TcpStream,
        addr: SocketAddr,
        transport: Transport,
        peer: PeerId,
        serial: u64,
    ) -> Link {
        Link {
            sock,
            addr,
            transport,
            peer,
            serial,
            want_write: false,
            closing: false,
            shut: false,
            eof: false,
            gone: false,
        }
    }
}
