//! Reading standard input without ever blocking the event loop and without
//! changing its file flags (which the shell shares): after each `read`, a
//! zero-timeout `poll(2)` says whether more is waiting.
//!
//! It returns raw bytes; decoding keys or lines is the caller's.

use std::io;

/// Bytes asked for per read(2).
const CHUNK: usize = 65536;

/// Reads what stdin has now. Returns the bytes and whether EOF was reached.
/// Reads go straight into the returned buffer's spare room: a keystroke
/// costs no zeroing or copying of a 64 KiB scratch buffer.
pub fn read_available() -> io::Result<(Vec<u8>, bool)> {
    let mut out: Vec<u8> = Vec::new();
    loop {
        out.reserve(CHUNK);
        let spare = out.spare_capacity_mut();
        // SAFETY: read(2) writes at most `spare.len()` bytes into the
        // vector's spare capacity, which we own.
        let n = unsafe { libc::read(0, spare.as_mut_ptr().cast(), spare.len()) };
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
        // SAFETY: the kernel initialised `n` bytes after the current length.
        unsafe { out.set_len(out.len() + n as usize) };
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
