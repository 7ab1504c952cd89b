//! A connection's output: whole encoded frames waiting for the socket.
//!
//! The buffer owns memory only while it holds bytes, and its front is always
//! the start of a frame, so that when a slow consumer is dropped the server
//! can discard everything not yet handed to the OS except the rest of the
//! one frame partway written, and the stream stays whole. It does no I/O of
//! its own beyond the single `write` it is asked to make.

use banter_proto::{ServerFrame, HEADER_LEN};
use std::io::{self, Write};

/// Bytes a buffer may have written before it is worth moving the rest down.
const COMPACT_AT: usize = 64 * 1024;

/// Pending output of one connection.
#[derive(Default)]
pub struct OutBuf {
    /// Encoded frames; index 0 is a frame boundary.
    buf: Vec<u8>,
    /// How many bytes at the front the OS has taken already.
    pos: usize,
}

impl OutBuf {
    /// Bytes still owed to the peer.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether nothing is owed.
    pub fn is_empty(&self) -> bool {
        self.pending() == 0
    }

    /// Heap bytes held.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends encoded frames (whole frames only).
    pub fn push_bytes(&mut self, frames: &[u8]) {
        self.buf.extend_from_slice(frames);
    }

    /// Appends one frame.
    pub fn push(&mut self, f: &ServerFrame) {
        f.encode(&mut self.buf);
    }

    /// Makes one `write` of the pending bytes. `Ok(n)` is what the OS took;
    /// `WouldBlock` and other errors are returned as they are.
    pub fn write_to(&mut self, w: &mut impl Write) -> io::Result<usize> {
        let n = w.write(&self.buf[self.pos..])?;
        self.pos += n;
        if self.pos == self.buf.len() {
            // The burst is over: give the memory back.
            self.buf = Vec::new();
            self.pos = 0;
        } else if self.pos >= COMPACT_AT && self.pos * 2 >= self.buf.len() {
            let cut = self.boundary_at_or_before(self.pos);
            self.buf.drain(..cut);
            self.pos -= cut;
        }
        Ok(n)
    }

    /// Drops every byte not yet handed to the OS, except the rest of the
    /// frame partway written. Returns how many bytes were dropped.
    pub fn discard_unsent(&mut self) -> usize {
        let keep = self.boundary_at_or_after(self.pos);
        let dropped = self.buf.len() - keep;
        self.buf.truncate(keep);
        if self.is_empty() {
            self.buf = Vec::new();
            self.pos = 0;
        }
        dropped
    }

    /// Frame boundaries from the front: calls `stop(boundary)` for each
    /// until it returns true, returning that boundary (or the end).
    fn walk(&self, mut stop: impl FnMut(usize, usize) -> bool) -> usize {
        let mut at = 0;
        while at + HEADER_LEN <= self.buf.len() {
            let h = &self.buf[at..at + HEADER_LEN];
            let next = at + HEADER_LEN + u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
            if stop(at, next) {
                return at;
            }
            at = next;
        }
        at.min(self.buf.len())
    }

    fn boundary_at_or_before(&self, pos: usize) -> usize {
        self.walk(|_, next| next > pos)
    }

    fn boundary_at_or_after(&self, pos: usize) -> usize {
        let start = self.boundary_at_or_before(pos);
        if start == pos {
            return pos;
        }
        self.walk(|at, _| at > pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use banter_proto::{check, decode_server};

    /// A writer that takes at most `cap` bytes per call.
    struct Trickle {
        cap: usize,
        got: Vec<u8>,
    }
    impl Write for Trickle {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let n = b.len().min(self.cap);
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.got.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn frames(bytes: &[u8]) -> Vec<ServerFrame> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let n = check(&bytes[at..], u32::MAX).unwrap();
            out.push(decode_server(&bytes[at..at + n]).unwrap());
            at += n;
        }
        out
    }

    #[test]
    fn writes_everything_and_frees_memory() {
        let mut o = OutBuf::default();
        for nonce in 0..10 {
            o.push(&ServerFrame::Ping { nonce });
        }
        let mut w = Trickle { cap: 7, got: Vec::new() };
        while !o.is_empty() {
            o.write_to(&mut w).unwrap();
        }
        assert_eq!(o.capacity(), 0);
        assert_eq!(frames(&w.got).len(), 10);
    }

    #[test]
    fn discard_keeps_the_frame_partway_written() {
        let mut o = OutBuf::default();
        for nonce in 0..5 {
            o.push(&ServerFrame::Ping { nonce });
        }
        let mut w = Trickle { cap: 15, got: Vec::new() }; // frame = 13 bytes
        o.write_to(&mut w).unwrap();
        assert_eq!(o.discard_unsent(), 13 * 3);
        o.push(&ServerFrame::Pong { nonce: 99 });
        w.cap = 1000;
        o.write_to(&mut w).unwrap();
        assert_eq!(
            frames(&w.got),
            vec![
                ServerFrame::Ping { nonce: 0 },
                ServerFrame::Ping { nonce: 1 },
                ServerFrame::Pong { nonce: 99 }
            ]
        );
    }

    #[test]
    fn discard_at_a_boundary_keeps_nothing() {
        let mut o = OutBuf::default();
        o.push(&ServerFrame::Ping { nonce: 1 });
        o.push(&ServerFrame::Ping { nonce: 2 });
        let mut w = Trickle { cap: 13, got: Vec::new() };
        o.write_to(&mut w).unwrap();
        assert_eq!(o.discard_unsent(), 13);
        assert!(o.is_empty());
        assert_eq!(o.capacity(), 0);
    }

    #[test]
    fn compaction_keeps_the_stream_whole() {
        let mut o = OutBuf::default();
        let text = "x".repeat(1000);
        for id in 0..200 {
            let (room, from, text) = ("r".into(), "a".into(), text.clone());
            o.push(&ServerFrame::Msg { file: None, room, id, ts: 0, from, flags: 0, text });
        }
        let mut w = Trickle { cap: 3001, got: Vec::new() };
        while !o.is_empty() {
            o.write_to(&mut w).unwrap();
            assert!(o.pending() == 0 || o.boundary_at_or_before(0) == 0);
        }
        let got = frames(&w.got);
        assert_eq!(got.len(), 200);
        assert!(matches!(got[199], ServerFrame::Msg { id: 199, .. }));
    }
}
