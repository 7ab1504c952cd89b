//! One file going up (§10): the local file opened and checked at `/send`,
//! the UPLOAD that announces it, and its CHUNKs read from the offset the
//! server gave (UPLOAD_READY), one at a time. Bytes are hashed (SHA-256)
//! as they are first read, so the file message of an upload is known
//! without reading the file twice, also after a resume.
//!
//! It reads the local file only; when a chunk may go out is the caller's
//! (`net/files.rs` sends one only when the socket took everything else).

use super::names::{guess_mime, upload_name};
use banter_proto::ClientFrame;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Where an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not announced on this connection yet (queued, or after a reconnect).
    Waiting,
    /// UPLOAD sent; waiting for UPLOAD_READY.
    Announced,
    /// Sending chunks.
    Sending,
    /// Every byte sent; waiting for the ACK (the server stores the file).
    Sent,
    /// Refused as RATE_LIMITED: announced again after a pause.
    Held,
}

/// An upload of ours.
#[derive(Debug)]
pub struct Upload {
    /// Its seq (shared with SAYs: the server de-duplicates by it).
    pub seq: u32,
    /// The room or conversation it goes to.
    pub room: String,
    /// The name it is shared under.
    pub name: String,
    /// Its size when opened: what UPLOAD declares and CHUNKs carry.
    pub size: u64,
    /// The media type announced.
    pub mime: String,
    /// The path as the user gave it, for messages.
    pub path: String,
    /// The open file (read at offsets, so nothing else moves its cursor).
    file: File,
    /// The offset of the next chunk.
    pub next: u64,
    /// The hash of the bytes before `hashed`.
    hasher: Sha256,
    /// How many bytes are hashed (the hash is complete at `size`).
    hashed: u64,
    /// The finished hash, once every byte was read.
    digest: Option<String>,
    /// Where it is.
    pub phase: Phase,
    /// CHUNKs refused as out of order so far (a resync each).
    pub resyncs: u32,
}

/// The text of `e` without "(os error N)".
fn words(e: &std::io::Error) -> String {
    crate::conn::plain(e)
}

impl Upload {
    /// Opens `path` (`shown`: as the user typed it) for an upload to
    /// `room` numbered `seq`; a clear error when it cannot be shared.
    pub fn open(path: &Path, shown: &str, room: &str, seq: u32) -> Result<Upload, String> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{shown}: no such file"),
            _ => format!("{shown}: {}", words(&e)),
        })?;
        if meta.is_dir() {
            return Err(format!("{shown} is a directory: send a file (an archive of it, say)"));
        }
        if !meta.is_file() {
            return Err(format!("{shown} is not a regular file"));
        }
        if meta.len() == 0 {
            return Err(format!("{shown} is empty: a shared file has at least one byte"));
        }
        let file = File::open(path).map_err(|e| format!("cannot read {shown}: {}", words(&e)))?;
        let local = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = upload_name(&local.ok_or_else(|| format!("{shown} names no file"))?);
        Ok(Upload {
            seq,
            room: room.to_string(),
            mime: guess_mime(&name).to_string(),
            name,
            size: meta.len(),
            path: shown.to_string(),
            file,
            next: 0,
            hasher: Sha256::new(),
            hashed: 0,
            digest: None,
            phase: Phase::Waiting,
            resyncs: 0,
        })
    }

    /// The UPLOAD frame (the same every time: a resume repeats it).
    pub fn announce(&mut self) -> ClientFrame {
        self.phase = Phase::Announced;
        ClientFrame::Upload {
            seq: self.seq,
            room: self.room.clone(),
            name: self.name.clone(),
            size: self.size,
            mime: self.mime.clone(),
        }
    }

    /// UPLOAD_READY: send from `offset` (how much the server has).
    pub fn ready(&mut self, offset: u64) -> Result<(), String> {
        if offset > self.size {
            return Err(format!("the server asked for offset {offset} of {} bytes", self.size));
        }
        self.next = offset;
        self.hash_up_to(offset)?;
        self.phase = if offset == self.size { Phase::Sent } else { Phase::Sending };
        Ok(())
    }

    /// The next CHUNK of at most `max` bytes, or `None` when every byte
    /// was sent (the upload then waits for its ACK).
    pub fn chunk(&mut self, max: usize) -> Result<Option<ClientFrame>, String> {
        if self.phase != Phase::Sending {
            return Ok(None);
        }
        let len = (self.size - self.next).min(max as u64) as usize;
        let mut data = vec![0; len];
        self.read(self.next, &mut data)?;
        self.hash(self.next, &data);
        let offset = self.next;
        self.next += len as u64;
        if self.next == self.size {
            self.phase = Phase::Sent;
        }
        Ok(Some(ClientFrame::Chunk { seq: self.seq, offset, data }))
    }

    /// Reads `buf.len()` bytes at `offset`; the file must not have shrunk.
    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        self.file.read_exact_at(buf, offset).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                format!("{} got shorter while it was being sent", self.path)
            }
            _ => format!("cannot read {}: {}", self.path, words(&e)),
        })
    }

    /// Adds what of `data` (at `offset`) is not hashed yet.
    fn hash(&mut self, offset: u64, data: &[u8]) {
        let end = offset + data.len() as u64;
        if offset <= self.hashed && end > self.hashed {
            self.hasher.update(&data[(self.hashed - offset) as usize..]);
            self.hashed = end;
        }
        if self.hashed == self.size && self.digest.is_none() {
            let d = std::mem::take(&mut self.hasher).finalize();
            self.digest = Some(d.iter().map(|b| format!("{b:02x}")).collect());
        }
    }

    /// Hashes the bytes before `offset` not hashed yet (a server that has
    /// more than this run sent: read them once more, for the hash only).
    fn hash_up_to(&mut self, offset: u64) -> Result<(), String> {
        while self.hashed < offset {
            let len = (offset - self.hashed).min(1 << 20) as usize;
            let mut buf = vec![0; len];
            self.read(self.hashed, &mut buf)?;
            self.hash(self.hashed, &buf);
        }
        Ok(())
    }

    /// The file's SHA-256 (lower-case hex), once every byte was read.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str, data: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("banter-up-{tag}-{}", std::process::id()));
        std::fs::write(&p, data).unwrap();
        p
    }

    fn chunks(u: &mut Upload, max: usize) -> Vec<(u64, usize)> {
        let mut got = Vec::new();
        while let Some(ClientFrame::Chunk { offset, data, .. }) = u.chunk(max).unwrap() {
            got.push((offset, data.len()));
        }
        got
    }

    #[test]
    fn chunks_cover_the_file_and_a_resume_keeps_the_hash() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let p = temp("resume", &data);
        let want: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        let mut u = Upload::open(&p, "x", "lobby", 7).unwrap();
        assert!(matches!(u.announce(), ClientFrame::Upload { seq: 7, size: 10_000, .. }));
        u.ready(0).unwrap();
        assert_eq!(u.chunk(4000).unwrap().map(|_| u.next), Some(4000));
        // The connection drops; the server kept 2 000 bytes of them.
        u.ready(2000).unwrap();
        assert_eq!(chunks(&mut u, 4000), vec![(2000, 4000), (6000, 4000)]);
        assert_eq!((u.phase, u.digest()), (Phase::Sent, Some(want.as_str())));
        // A server that has more than this run sent (another run's bytes).
        let mut u = Upload::open(&p, "x", "lobby", 8).unwrap();
        u.ready(9999).unwrap();
        assert_eq!(chunks(&mut u, 4000), vec![(9999, 1)]);
        assert_eq!(u.digest(), Some(want.as_str()));
        assert!(u.ready(10_001).is_err(), "past the end");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn what_cannot_be_sent_is_said_clearly() {
        let dir = std::env::temp_dir();
        let err = |p: &Path| Upload::open(p, "P", "lobby", 1).unwrap_err();
        assert_eq!(err(&dir.join("banter-no-such-file")), "P: no such file");
        assert!(err(&dir).contains("is a directory"));
        assert!(err(Path::new("/dev/null")).contains("not a regular file"));
        let empty = temp("empty", b"");
        assert!(err(&empty).contains("is empty"));
        let p = temp("shrinks", b"0123456789");
        let mut u = Upload::open(&p, "P", "lobby", 1).unwrap();
        u.ready(0).unwrap();
        std::fs::write(&p, b"01").unwrap();
        assert_eq!(u.chunk(100).unwrap_err(), "P got shorter while it was being sent");
        std::fs::remove_file(&p).unwrap();
        std::fs::remove_file(&empty).unwrap();
    }
}
