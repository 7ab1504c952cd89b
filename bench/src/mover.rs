//! The files scenario's transfer connection (issue 13): a registered
//! account that, in upload windows, sends the file again and again (UPLOAD,
//! UPLOAD_READY, CHUNKs kept a little ahead of the socket, ACK), and in
//! download windows fetches it again and again (FETCH, FILE_DATA until
//! `last`), checking every byte it gets back against what it sent. It also
//! chats, like every member, through the common open-loop sender.
//!
//! The file is the same each time (the server stores it once, but still
//! receives, hashes, writes and syncs every upload in full), so a run
//! never fills the server's disk. Window kinds follow the window number:
//! idle, upload, download, idle, …

use crate::conn::State;
use crate::content::Content;
use crate::proto::banter_ext;
use crate::shared::Phase;
use crate::worker::Worker;
use banter_proto::types;
use std::sync::atomic::Ordering::Relaxed;

/// Upload seqs start here, far from the chat's 1, 2, 3, … of the same
/// session (the server remembers both in one de-duplication memory).
pub const UPLOAD_SEQ0: u32 = 0x8000_0000;
/// Chunk bytes kept queued ahead of the socket: several in flight, yet a
/// chat message written meanwhile waits behind at most this much.
const AHEAD: usize = 256 << 10;
/// A transfer that moves nothing for this long (ns) has stalled.
const STALL_NS: u64 = 15_000_000_000;

/// What a files window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePhase {
    /// Chat only.
    Idle,
    /// Chat while the file goes up, again and again.
    Upload,
    /// Chat while the file comes down, again and again.
    Download,
}

impl FilePhase {
    /// The kind of window `n` (1, 2, 3, …; 0, before the first: idle).
    pub fn of(n: u32) -> FilePhase {
        match n.checked_sub(1).map(|i| i % 3) {
            Some(1) => FilePhase::Upload,
            Some(2) => FilePhase::Download,
            _ => FilePhase::Idle,
        }
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            FilePhase::Idle => "idle",
            FilePhase::Upload => "upload",
            FilePhase::Download => "download",
        }
    }
}

/// Where the transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Xfer {
    /// Nothing under way.
    Idle,
    /// UPLOAD sent at `t0`, waiting for UPLOAD_READY.
    Asked { seq: u32, t0: u64 },
    /// Sending CHUNKs; `at` is the next offset, `from` where it started.
    Sending { seq: u32, t0: u64, from: u64, at: u64 },
    /// Every CHUNK queued; `wire` is when the last left (0: not yet).
    Sent { seq: u32, t0: u64, from: u64, wire: u64 },
    /// FETCH sent at `t0`; `at` is the next offset expected.
    Fetching { t0: u64, at: u64 },
}

/// The mover's state (one per run, on the worker that has it).
pub struct Mover {
    /// Its connection, once set up.
    key: Option<usize>,
    /// The file.
    content: Content,
    /// Bytes per CHUNK: the server's `max_frame - 128`.
    chunk: usize,
    /// The next upload's seq.
    next_seq: u32,
    /// The transfer under way.
    xfer: Xfer,
    /// Whether an upload finished, so the file may be fetched.
    posted: bool,
    /// Whether a transfer was refused or went wrong: no more are started.
    failed: bool,
    /// When the transfer under way last moved (ns).
    moved: u64,
}

impl Mover {
    /// A mover of a `size`-byte file.
    pub fn new(size: u64) -> Mover {
        Mover {
            key: None,
            content: Content::new(size),
            chunk: 1024,
            next_seq: UPLOAD_SEQ0,
            xfer: Xfer::Idle,
            posted: false,
            failed: false,
            moved: 0,
        }
    }
}

impl Worker {
    fn mover_of(&mut self, key: usize) -> Option<&mut Mover> {
        self.mover.as_deref_mut().filter(|m| m.key.is_none_or(|k| k == key))
    }

    /// Logged in: the name becomes an account (files need one).
    pub(crate) fn mover_welcome(&mut self, key: usize, max_frame: u32) {
        let Some(m) = self.mover_of(key) else {
            return;
        };
        let fits = max_frame.saturating_sub(banter_proto::TEXT_OVERHEAD) as usize;
        m.chunk = fits.clamp(1024, crate::content::PERIOD);
        let password = self.plan.password.clone();
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        c.send(&mut self.masks, |out, _| banter_ext::register(out, &password));
        self.mark_dirty(key);
    }

    /// An account now (or already): join the room.
    pub(crate) fn mover_registered(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(key).filter(|c| c.state == State::LoggingIn) else {
            return;
        };
        c.state = State::Joining;
        c.send(&mut self.masks, |out, spec| banter_ext::join(out, &spec.room));
        self.mark_dirty(key);
        if let Some(m) = self.mover.as_deref_mut() {
            m.key = Some(key);
        }
    }

    /// Each turn: starts a transfer when the window calls for one, and
    /// keeps the upload's CHUNKs a little ahead of the socket.
    pub(crate) fn move_files(&mut self, key: usize) {
        let load = matches!(self.phase, Phase::Warmup | Phase::Measure);
        let phase = FilePhase::of(self.window.0);
        let stalled = self
            .mover
            .as_deref()
            .is_some_and(|m| m.xfer != Xfer::Idle && self.now.saturating_sub(m.moved) > STALL_NS);
        if stalled {
            return self.file_wrong(key, "a file transfer stalled: nothing moved for 15 s");
        }
        let (Some(m), Some(c)) = (self.mover.as_deref_mut(), self.conns.get_mut(key)) else {
            return;
        };
        if m.xfer == Xfer::Idle {
            m.moved = self.now;
        }
        match m.xfer {
            Xfer::Idle if !load || m.failed => {}
            Xfer::Idle if phase == FilePhase::Upload => {
                let (seq, size) = (m.next_seq, m.content.size());
                m.next_seq = m.next_seq.wrapping_add(1).max(UPLOAD_SEQ0);
                m.xfer = Xfer::Asked { seq, t0: self.now };
                let f = |out: &mut Vec<u8>, s: &crate::plan::ConnSpec| {
                    banter_ext::upload(out, seq, &s.room, "banter-bench.bin", size)
                };
                c.send(&mut self.masks, f);
                self.shared.busy.fetch_add(1, Relaxed);
            }
            Xfer::Idle if phase == FilePhase::Download && m.posted => {
                m.xfer = Xfer::Fetching { t0: self.now, at: 0 };
                c.send(&mut self.masks, |out, _| banter_ext::fetch(out, m.content.sha(), 0));
                self.shared.busy.fetch_add(1, Relaxed);
            }
            Xfer::Sending { seq, t0, from, mut at } => {
                while at < m.content.size() && c.pending() < AHEAD {
                    let len = (m.content.size() - at).min(m.chunk as u64) as usize;
                    let data = m.content.piece(at, len);
                    c.send(&mut self.masks, |out, _| banter_ext::chunk(out, seq, at, data));
                    at += len as u64;
                    m.moved = self.now;
                }
                m.xfer = match at == m.content.size() {
                    true => Xfer::Sent { seq, t0, from, wire: 0 },
                    false => Xfer::Sending { seq, t0, from, at },
                };
            }
            _ => return,
        }
        self.mark_dirty(key);
    }

    /// `key`'s output is all written: the upload's last CHUNK has left.
    pub(crate) fn mover_flushed(&mut self, key: usize) {
        let now = self.now;
        if let Some(m) = self.mover.as_deref_mut().filter(|m| m.key == Some(key)) {
            if let Xfer::Sent { wire: wire @ 0, .. } = &mut m.xfer {
                *wire = now.max(1);
            }
        }
    }

    /// UPLOAD_READY: send from `offset`.
    pub(crate) fn on_upload_ready(&mut self, key: usize, seq: u32, offset: u64) {
        let Some(m) = self.mover_of(key) else {
            return;
        };
        match m.xfer {
            Xfer::Asked { seq: s, t0 } if s == seq && offset < m.content.size() => {
                m.xfer = Xfer::Sending { seq, t0, from: offset, at: offset };
                self.move_files(key);
            }
            _ => self.file_wrong(key, "an UPLOAD_READY for no upload asked for (or past its end)"),
        }
    }

    /// The ACK of upload `seq`: the file is stored and posted.
    pub(crate) fn mover_acked(&mut self, key: usize, seq: u32) {
        let Some(m) = self.mover_of(key) else {
            return;
        };
        let Xfer::Sent { seq: s, t0, from, wire } = m.xfer else {
            return self.file_wrong(key, "an upload's ACK before all its CHUNKs were sent");
        };
        if s != seq {
            return self.file_wrong(key, "the ACK of an upload not under way");
        }
        m.posted = true;
        let bytes = m.content.size() - from;
        let wire_ns = if wire > 0 { wire - t0 } else { self.now - t0 };
        self.transfer_done(bytes, self.now - t0, wire_ns);
    }

    /// FILE_DATA: every byte checked against the file uploaded.
    pub(crate) fn on_file_data(&mut self, key: usize, d: (&str, u64, bool, &[u8])) {
        let ((file, offset, last, data), now) = (d, self.now);
        let Some(m) = self.mover_of(key) else {
            return;
        };
        let Xfer::Fetching { t0, at } = m.xfer else {
            return self.file_wrong(key, "FILE_DATA with no download under way");
        };
        let size = m.content.size();
        let why = if file != m.content.sha() {
            Some("FILE_DATA of another file")
        } else if offset != at || at + data.len() as u64 > size {
            Some("FILE_DATA at the wrong offset")
        } else if !m.content.matches(offset, data) {
            Some("downloaded bytes differ from the uploaded ones")
        } else {
            (last && at + data.len() as u64 != size).then_some("a download that ended short")
        };
        if let Some(why) = why {
            return self.file_wrong(key, why);
        }
        m.xfer = Xfer::Fetching { t0, at: at + data.len() as u64 };
        m.moved = now;
        if last {
            self.transfer_done(size, now - t0, 0);
        }
    }

    /// A transfer finished: counted if it finished after the warm-up.
    fn transfer_done(&mut self, bytes: u64, ns: u64, wire_ns: u64) {
        if let Some(m) = self.mover.as_deref_mut() {
            m.xfer = Xfer::Idle;
        }
        self.shared.busy.fetch_sub(1, Relaxed);
        if self.phase != Phase::Warmup {
            let e = &mut self.extra;
            e.transfers += 1;
            e.file_bytes += bytes;
            e.file_ns += ns.max(1);
            e.wire_ns += wire_ns;
        }
    }

    /// The server refused a transfer (`about` UPLOAD, CHUNK or FETCH):
    /// true when this was the mover's, which starts no more.
    pub(crate) fn mover_refused(&mut self, key: usize, about: u8) -> bool {
        let ours = matches!(about, types::UPLOAD | types::CHUNK | types::FETCH);
        if !ours || self.mover_of(key).is_none() {
            return false;
        }
        self.stop_moving();
        true
    }

    /// Something that cannot happen in a correct exchange: counted, noted,
    /// and no more transfers.
    fn file_wrong(&mut self, key: usize, why: &str) {
        if self.mover_of(key).is_none() {
            return;
        }
        self.extra.file_errors += 1;
        self.counts.errors += 1;
        self.shared.note_error(why);
        self.stop_moving();
    }

    /// The mover's connection is gone: a transfer under way failed with it
    /// (unless the run said goodbye).
    pub(crate) fn mover_gone(&mut self, quit: bool) {
        let moving = self.mover.as_deref().is_some_and(|m| m.xfer != Xfer::Idle);
        if moving && !quit {
            self.extra.file_errors += 1;
            self.shared.note_error("the file's connection closed during a transfer");
        }
        self.stop_moving();
    }

    fn stop_moving(&mut self) {
        let Some(m) = self.mover.as_deref_mut() else {
            return;
        };
        if m.xfer != Xfer::Idle {
            self.shared.busy.fetch_sub(1, Relaxed);
        }
        (m.xfer, m.failed) = (Xfer::Idle, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_go_idle_upload_download() {
        let kinds: Vec<_> = (0..8).map(FilePhase::of).collect();
        use FilePhase::*;
        assert_eq!(kinds, [Idle, Idle, Upload, Download, Idle, Upload, Download, Idle]);
        assert_eq!(Download.name(), "download");
    }
}
