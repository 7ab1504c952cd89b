//! TLS record I/O for a link: one large socket read fed to rustls and
//! decrypted into the worker's read buffer, and queued output handed to
//! rustls and written as records. Nothing here knows WebSocket or the
//! application protocol.

use super::{FlushIo, Fresh};
use mio::net::TcpStream;
use rustls::ClientConnection;
use std::io::{ErrorKind, Read, Write};

/// Room kept free in the read buffer beyond what a TLS read may decrypt:
/// a record begun in an earlier read can complete and add up to 16 KiB.
const TLS_SLACK: usize = 32 * 1024;

/// Reads TLS records into `raw` (one large read), decrypts them into
/// `scratch[carry..]`; plaintext rustls still holds is handed out first.
pub(super) fn read(
    c: &mut ClientConnection,
    stream: &mut TcpStream,
    (scratch, carry): (&mut [u8], usize),
    raw: &mut [u8],
    ended: &mut Option<String>,
) -> Fresh {
    // Plaintext is never longer than the records it came in, plus a record
    // begun in an earlier read: reading at most `room` leaves it space.
    let room = scratch.len().saturating_sub(carry + TLS_SLACK);
    if room == 0 {
        return Fresh::Closed("a unit larger than the read buffer".into());
    }
    let dst = scratch;
    match drain(c, &mut dst[carry..], ended) {
        Ok(0) => {}
        Ok(n) => return Fresh::Bytes(carry + n, false),
        Err(e) => return Fresh::Closed(e),
    }
    let want = room.min(raw.len());
    let n = loop {
        match stream.read(&mut raw[..want]) {
            Ok(0) => return Fresh::Closed("closed by the server".into()),
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Fresh::Drained,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Fresh::Closed(format!("read: {e}")),
        }
    };
    match feed(c, stream, &raw[..n], dst, carry, ended) {
        Ok(end) => Fresh::Bytes(end, n < want),
        Err(e) => Fresh::Closed(e),
    }
}

/// Hands `bytes` (TLS records as read) to rustls and moves what they
/// decrypt to `dst[end..]`; returns the new end.
fn feed(
    c: &mut ClientConnection,
    stream: &mut TcpStream,
    mut bytes: &[u8],
    dst: &mut [u8],
    mut end: usize,
    ended: &mut Option<String>,
) -> Result<usize, String> {
    while !bytes.is_empty() {
        let fed = c.read_tls(&mut bytes).map_err(|e| format!("TLS: {e}"))?;
        if let Err(e) = c.process_new_packets() {
            let _ = c.write_tls(stream); // the alert, if it fits
            return Err(format!("TLS: {e}"));
        }
        end += drain(c, &mut dst[end..], ended)?;
        if fed == 0 {
            break; // close_notify: rustls takes nothing more
        }
    }
    Ok(end)
}

/// Moves decrypted bytes out of rustls into `dst`; notes a close_notify.
fn drain(
    c: &mut ClientConnection,
    dst: &mut [u8],
    ended: &mut Option<String>,
) -> Result<usize, String> {
    let mut got = 0;
    while got < dst.len() {
        match c.reader().read(&mut dst[got..]) {
            Ok(0) => {
                *ended = Some("closed by the server (TLS close_notify)".into());
                break;
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Err(format!("TLS: {e}")),
        }
    }
    Ok(got)
}

/// Hands `out[*at..]` to rustls (which buffers it until the handshake is
/// done) and writes the records it makes.
pub(super) fn flush(c: &mut ClientConnection, io: FlushIo<'_>) -> Result<bool, String> {
    let FlushIo { stream, out, at, writes } = io;
    loop {
        if *at < out.len() {
            *at += c.writer().write(&out[*at..]).map_err(|e| format!("TLS: {e}"))?;
        }
        if !c.wants_write() {
            return Ok(*at == out.len());
        }
        *writes += 1;
        match c.write_tls(stream) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("write: {e}")),
        }
    }
}
