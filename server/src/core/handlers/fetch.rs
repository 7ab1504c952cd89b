//! File sharing, downloads (§10): FETCH by a member of a room or a party
//! of a conversation where the file was posted, answered with FILE_DATA
//! frames read by the file worker and queued only while the peer's output
//! is nearly empty, so chat frames go first, a large download never trips
//! the output limit, and a slow reader only slows its own download.

use super::files::Posted;
use crate::core::{Core, PeerId};
use crate::files::FileJob;
use banter_proto::validate::name_key;
use banter_proto::{encode_file_data_head, types, ErrorCode, ServerFrame};

/// File bytes read ahead are asked for only while the peer owes less than this.
const LOW_WATER: usize = 256 * 1024;
/// Reads a download may have at the worker at once.
const READS_AHEAD: u32 = 4;

/// A download under way for one peer.
#[derive(Debug)]
pub struct Download {
    /// Its number for the worker (a newer FETCH gets a new one).
    id: u64,
    /// The file.
    hash: Box<str>,
    /// Its size.
    size: u64,
    /// The next offset to ask the worker for.
    next: u64,
    /// Reads asked for and not yet answered.
    reading: u32,
}

impl Core {
    pub(super) fn on_fetch(&mut self, p: PeerId, s: u32, file: &str, offset: u64) {
        let Some(size) = self.fetchable(s, file) else {
            let detail = "no such file where you are (or file sharing is off)";
            return self.send_error(p, ErrorCode::FileUnknown, types::FETCH, 0, detail);
        };
        if offset > size {
            return self.send_error(
                p,
                ErrorCode::BadFrame,
                types::FETCH,
                0,
                "offset past the end of the file",
            );
        }
        self.cancel_download(p); // a new FETCH replaces the one in progress
        if offset == size {
            let f =
                ServerFrame::FileData { file: file.to_string(), offset, last: 1, data: Vec::new() };
            return self.send(p, &f);
        }
        let files = self.files.as_mut().expect("fetchable");
        files.next_id += 1;
        let id = files.next_id;
        files.downloads.insert(id, p);
        let d = Download { id, hash: file.into(), size, next: offset, reading: 0 };
        self.peers[p].rare_mut().download = Some(Box::new(d));
        self.pump(p);
    }

    /// The size of `file` if session `s` may fetch it.
    fn fetchable(&self, s: u32, file: &str) -> Option<u64> {
        if !crate::files::is_hash(file) {
            return None;
        }
        let Posted { size, rooms } = self.files.as_ref()?.index.get(file)?;
        let session = &self.sessions[s as usize];
        let key = name_key(&session.name);
        let allowed = rooms.iter().any(|room| match crate::core::room::Direct::from_name(room) {
            Some(d) => session.account && d.party(&key).is_some(),
            None => self.room_ids.get(&**room).is_some_and(|&r| session.in_room(r)),
        });
        allowed.then_some(*size)
    }

    /// Drops the download of `p`, if any (its late pieces are ignored).
    pub(in crate::core) fn cancel_download(&mut self, p: PeerId) {
        let Some(peer) = self.peers.get_mut(p) else { return };
        let Some(d) = peer.rare.as_mut().and_then(|r| r.download.take()) else { return };
        peer.tidy();
        if let Some(f) = self.files.as_mut() {
            f.downloads.remove(&d.id);
        }
    }

    /// Asks the worker for more of `p`'s download while its output is low.
    pub(in crate::core) fn pump(&mut self, p: PeerId) {
        let chunk = u64::from(self.cfg.max_frame.saturating_sub(128).max(1024));
        let Some(peer) = self.peers.get_mut(p) else { return };
        let backlog = peer.backlog();
        let Some(d) = peer.rare.as_mut().and_then(|r| r.download.as_mut()) else { return };
        let Some(files) = self.files.as_mut() else { return };
        let ahead = |d: &Download| backlog + d.reading as usize * chunk as usize;
        while d.reading < READS_AHEAD && d.next < d.size && ahead(d) < LOW_WATER {
            let len = chunk.min(d.size - d.next);
            files.jobs.push(FileJob::Read {
                id: d.id,
                hash: d.hash.to_string(),
                offset: d.next,
                len: len as usize,
            });
            d.next += len;
            d.reading += 1;
        }
    }

    /// A piece read: FILE_DATA to its peer, then more.
    pub(super) fn on_file_data(&mut self, id: u64, offset: u64, data: Vec<u8>) {
        let Some(&p) = self.files.as_ref().and_then(|f| f.downloads.get(&id)) else { return };
        let Some(peer) = self.peers.get_mut(p).filter(|x| !x.is_closing()) else { return };
        let Some(d) = peer.rare.as_mut().and_then(|r| r.download.as_mut()).filter(|d| d.id == id)
        else {
            return;
        };
        d.reading -= 1;
        if data.is_empty() {
            return self.on_unreadable(id, "the file is shorter than it was");
        }
        let last = offset + data.len() as u64 >= d.size;
        let hash = d.hash.clone();
        peer.out.push_with(|b| {
            encode_file_data_head(b, &hash, offset, u8::from(last), data.len() as u32);
            b.extend_from_slice(&data);
        });
        self.counters.frames_out += 1;
        if last {
            self.counters.downloads += 1;
            self.cancel_download(p);
        }
        self.after_push(p);
        self.pump(p);
    }

    pub(super) fn on_unreadable(&mut self, id: u64, why: &str) {
        let Some(&p) = self.files.as_ref().and_then(|f| f.downloads.get(&id)) else { return };
        log::error!("download {id} failed: {why}");
        self.cancel_download(p);
        self.send_error(p, ErrorCode::Storage, types::FETCH, 0, "the file could not be read");
    }
}
