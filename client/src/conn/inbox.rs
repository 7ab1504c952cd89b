//! The bytes received from the server and not yet decoded, cut into
//! frames with `banter_proto::check` and `decode_server`. Decoded frames
//! are stepped over, not removed one by one: only the rest of a frame
//! still arriving is moved to the front, so a catch-up of thousands of
//! frames in one read is decoded in time linear in its size.
//!
//! It neither reads sockets nor acts on frames (see `conn` and `net`).

use banter_proto::{check, decode_server, DecodeError, ServerFrame};

/// Received bytes waiting to be decoded.
#[derive(Debug, Default)]
pub struct Inbox {
    /// The bytes; those before `start` are decoded already.
    buf: Vec<u8>,
    /// Where the next frame starts in `buf`.
    start: usize,
    /// Bytes moved to the front of `buf` so far (what decoding costs).
    #[cfg(test)]
    moved: usize,
}

impl Inbox {
    /// Appends bytes just received.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if any. A frame whose body this client cannot
    /// decode (e.g. a newer type) is skipped; a framing error is `Err`.
    pub fn next_frame(&mut self, max_frame: u32) -> Result<Option<ServerFrame>, String> {
        loop {
            let rest = &self.buf[self.start..];
            let n = match check(rest, max_frame) {
                Ok(n) => n,
                Err(DecodeError::Incomplete) => {
                    self.compact();
                    return Ok(None);
                }
                Err(e) => return Err(format!("bad framing from the server: {e}")),
            };
            let result = decode_server(&rest[..n]);
            self.start += n;
            if let Ok(f) = result {
                return Ok(Some(f));
            }
        }
    }

    /// Drops the decoded bytes: what remains (part of one frame) moves to
    /// the front.
    fn compact(&mut self) {
        #[cfg(test)]
        {
            self.moved += self.buf.len() - self.start;
        }
        self.buf.drain(..self.start);
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use banter_proto::ServerFrame::Pong;

    #[test]
    fn a_long_backlog_is_decoded_in_linear_time() {
        let mut inbox = Inbox::default();
        let mut bytes = Vec::new();
        for nonce in 0..20_000 {
            Pong { nonce }.encode(&mut bytes);
        }
        // Arriving in reads that end inside frames.
        for chunk in bytes.chunks(16_384) {
            inbox.extend(chunk);
            while inbox.next_frame(65_536).expect("frames").is_some() {}
        }
        assert!(inbox.buf.is_empty());
        assert!(inbox.moved <= bytes.len(), "{} bytes moved for {}", inbox.moved, bytes.len());
    }

    #[test]
    fn split_and_undecodable_frames() {
        let mut inbox = Inbox::default();
        let mut bytes = vec![0, 0, 0, 2, 0x7e, 0]; // a type from the future: skipped
        Pong { nonce: 9 }.encode(&mut bytes);
        inbox.extend(&bytes[..8]);
        assert_eq!(inbox.next_frame(65_536), Ok(None));
        inbox.extend(&bytes[8..]);
        assert_eq!(inbox.next_frame(65_536), Ok(Some(Pong { nonce: 9 })));
        assert_eq!(inbox.next_frame(65_536), Ok(None));
        inbox.extend(&[0, 0, 0, 0]);
        assert!(inbox.next_frame(65_536).unwrap_err().contains("bad framing"));
    }
}
