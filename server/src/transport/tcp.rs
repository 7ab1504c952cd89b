//! Plain TCP: the Banter byte stream is the socket's byte stream. Reads go
//! straight into the caller's buffer; writes hand the output queue's
//! segments to one `writev`, so shared buffers reach the kernel uncopied.

use super::Input;
use crate::core::OutQueue;
use mio::net::TcpStream;
use std::io::{self, IoSlice, Read, Write};

/// Most segments handed to one `writev`.
const MAX_SLICES: usize = 64;

/// The plain TCP transport; it keeps no state of its own.
#[derive(Debug, Default)]
pub struct Plain;

impl Plain {
    /// One `read`; a short one means the socket is empty (epoll is
    /// edge-triggered: new bytes raise a new event), which saves the extra
    /// `read` that would only say `WouldBlock`.
    pub fn read(&mut self, sock: &mut TcpStream, buf: &mut [u8]) -> io::Result<Input> {
        match sock.read(buf) {
            Ok(0) => Ok(Input::Eof),
            Ok(n) => Ok(Input::Plain { n, more: n == buf.len() }),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Input::Empty),
            Err(e) => Err(e),
        }
    }

    /// One `writev` of the pending segments.
    pub fn write(&mut self, sock: &mut TcpStream, out: &mut OutQueue) -> io::Result<()> {
        write_queue(sock, out)
    }
}

/// One vectored write of `out` to `w`; `WouldBlock` and `Interrupted` are
/// not errors (the write interest brings us back).
pub fn write_queue(w: &mut impl Write, out: &mut OutQueue) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let mut slices = [IoSlice::new(&[]); MAX_SLICES];
    let n = out.slices(&mut slices);
    match w.write_vectored(&slices[..n]) {
        Ok(written) => {
            out.consume(written);
            Ok(())
        }
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}
