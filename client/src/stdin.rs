//! Reading standard input without ever blocking the event loop and without
//! changing its file flags (which the shell shares): after each `read`, a
//! zero-timeout `poll(2)` says whether more is waiting.
//!
//! It returns raw bytes; decoding keys or lines is the caller's.

use std::io;

/// Reads what stdin has now. Returns the bytes and whether EOF was reached.
pub fn read_available() -> io::Result<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        // SAFETY: reading into a buffer we own, of its exact length.
        let n = unsafe { libc::read(0, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok((out, false)),
                _ => return Err(e),
            }
        }
        if n == 0 {
            return Ok((out, true));
        }
        out.extend_from_slice(&chunk[..n as usize]);
        if !readable_now() {
            return Ok((out, false));
        }
    }
}

/// Whether a read of stdin would not block.
fn readable_now() -> bool {
    let mut p = libc::pollfd { fd: 0, events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd we own, zero timeout.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    r > 0 && p.revents & (libc::POLLIN | libc::POLLHUP) != 0
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}
