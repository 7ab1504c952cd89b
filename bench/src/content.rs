//! The file the files scenario moves: `size` bytes of a pseudo-random
//! block repeated (its period a prime, so chunk boundaries fall at ever
//! different places in it), with its SHA-256 computed once up front. Any
//! piece of it is a slice of one buffer, so uploading copies nothing extra
//! and checking a download is a memory compare, cheap enough that the
//! harness keeps up with the server.
//!
//! It does no I/O.

use sha2::{Digest, Sha256};

/// The block's length: a prime just under 64 KiB, and at least the
/// largest chunk the harness sends in one piece.
pub const PERIOD: usize = 65_521;

/// The file.
pub struct Content {
    /// Its length.
    size: u64,
    /// The block twice over, so any `PERIOD` bytes from any offset are
    /// one slice.
    twice: Box<[u8]>,
    /// Its SHA-256 in lower-case hex: the name the server stores it under.
    sha: String,
}

impl Content {
    /// A file of `size` bytes.
    pub fn new(size: u64) -> Content {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let block: Vec<u8> = (0..PERIOD)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let twice: Box<[u8]> = [&block[..], &block[..]].concat().into();
        let mut h = Sha256::new();
        let mut at = 0;
        while at < size {
            let n = (size - at).min(PERIOD as u64) as usize;
            h.update(&twice[(at % PERIOD as u64) as usize..][..n]);
            at += n as u64;
        }
        let sha = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Content { size, twice, sha }
    }

    /// Its length in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its SHA-256, hex.
    pub fn sha(&self) -> &str {
        &self.sha
    }

    /// `len` bytes (at most [`PERIOD`]) from `offset`.
    pub fn piece(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % PERIOD as u64) as usize;
        &self.twice[start..start + len.min(PERIOD)]
    }

    /// Whether `data` is what the file holds at `offset`.
    pub fn matches(&self, offset: u64, data: &[u8]) -> bool {
        let mut at = offset;
        data.chunks(PERIOD).all(|part| {
            let same = self.piece(at, part.len()) == part;
            at += part.len() as u64;
            same
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_hash_and_check() {
        let c = Content::new(200_000);
        let mut all = Vec::new();
        let mut at = 0;
        while at < c.size() {
            let n = (c.size() - at).min(65_408) as usize;
            all.extend_from_slice(c.piece(at, n));
            at += n as u64;
        }
        assert_eq!(all.len(), 200_000);
        let sha: String = Sha256::digest(&all).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(c.sha(), sha);
        assert!(c.matches(70_000, &all[70_000..200_000]), "spans the period");
        all[150_000] ^= 1;
        assert!(!c.matches(70_000, &all[70_000..200_000]));
        assert_ne!(all[..PERIOD], all[1..=PERIOD], "not a constant");
    }
}
