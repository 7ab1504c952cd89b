//! File sharing, uploads (§10): UPLOAD with its checks in the spec's order
//! (or, for a seq already under way, the offset to resume from), CHUNKs in
//! order, handed to the file workers as they come (which append and hash
//! them off the loop), and on completion the file message, committed with
//! the turn like a SAY and acknowledged with the upload's seq. An
//! unfinished upload ends with its session or ten minutes after its last
//! CHUNK. Downloads are in `fetch`.
//!
//! A peer whose chunks the disk has not caught up with (over 4 MiB, or any
//! once all uploads together hold 32 MiB) is not read until it has: flow
//! control, so uploads can never fill memory.

use crate::core::budget::Kind;
use crate::core::{Core, PeerId, Timer};
use crate::files::{FileDone, FileJob};
use banter_proto::validate::{is_valid_file_name, name_key};
use banter_proto::{types, ErrorCode, FileRef, ServerFrame};
use std::collections::HashMap;

/// Unfinished uploads a session may have.
const MAX_UNFINISHED: usize = 4;
/// An unfinished upload ends this long after its last CHUNK.
const UPLOAD_IDLE_MS: u64 = 10 * 60 * 1000;
/// Chunk bytes received but not yet on disk before a peer is not read:
/// enough to keep the disk busy between two answers of its worker (1 MiB
/// held uploads to half the speed of 4 MiB on loopback).
pub const UPLOAD_INFLIGHT: u64 = 4 << 20;
/// All sessions' chunk bytes not yet on disk, together: past this, every
/// uploader waits, however many connections a host opens.
pub const UPLOAD_INFLIGHT_ALL: u64 = 32 << 20;

/// One upload under way.
#[derive(Debug)]
struct Upload {
    /// Its number for the file workers.
    id: u64,
    /// The uploading session.
    session: u32,
    /// Room (or conversation) it goes to.
    room: u32,
    /// The file's name, checked.
    name: Box<str>,
    /// Declared size.
    size: u64,
    /// Declared type.
    mime: Box<str>,
    /// Bytes accepted so far (the offset the next CHUNK must have).
    received: u64,
    /// Bytes the worker has written.
    written: u64,
    /// When the last CHUNK came (loop ms).
    last: u64,
    /// Finish was asked of the worker.
    finishing: bool,
}

/// Where a stored file was posted.
#[derive(Debug, Default)]
pub(super) struct Posted {
    /// Its size.
    pub size: u64,
    /// Rooms and conversations it was posted in, by name (a room may leave
    /// memory and come back in another slot).
    pub rooms: Vec<Box<str>>,
}

/// File sharing's state (present only with `--files`).
#[derive(Debug)]
pub struct Files {
    /// `--max-file`.
    max_file: u64,
    /// `--file-quota`.
    quota: u64,
    /// Uploads under way by (session uid, seq).
    uploads: HashMap<(u64, u32), Upload>,
    /// Upload key by worker id.
    by_id: HashMap<u64, (u64, u32)>,
    /// Next worker id (uploads and downloads).
    pub(super) next_id: u64,
    /// Chunk bytes not yet on disk, by session uid.
    inflight: HashMap<u64, u64>,
    /// Chunk bytes not yet on disk, all sessions together.
    total: u64,
    /// Stored files by hash.
    pub(super) index: HashMap<Box<str>, Posted>,
    /// Bytes of finished uploads by account key.
    used: HashMap<Box<str>, u64>,
    /// Jobs for the workers.
    pub(super) jobs: Vec<FileJob>,
    /// Download id -> the peer it is for.
    pub(super) downloads: HashMap<u64, PeerId>,
}

impl Files {
    /// Sharing with these limits; the index is filled by the core.
    pub fn new(max_file: u64, quota: u64) -> Files {
        let (uploads, by_id, inflight) = (HashMap::new(), HashMap::new(), HashMap::new());
        let (index, used, downloads) = (HashMap::new(), HashMap::new(), HashMap::new());
        Files {
            max_file,
            quota,
            uploads,
            by_id,
            next_id: 0,
            inflight,
            total: 0,
            index,
            used,
            jobs: Vec::new(),
            downloads,
        }
    }
}

impl Files {
    /// What a cluster's Redis says of file `hash` (size and rooms, if it
    /// was posted) and of account `key`'s stored bytes.
    pub(in crate::core) fn learn(
        &mut self,
        hash: &str,
        posted: Option<(u64, Vec<Box<str>>)>,
        key: &str,
        used: u64,
    ) {
        if let Some((size, rooms)) = posted.filter(|(_, rooms)| !rooms.is_empty()) {
            self.index.insert(hash.into(), Posted { size, rooms });
        }
        self.used.insert(key.into(), used);
    }
}

impl Core {
    /// UPLOAD: checks (after a repeated seq and the rate limit), then
    /// UPLOAD_READY with the offset to send from.
    pub(super) fn on_upload(&mut self, p: PeerId, s: u32, up: (u32, String, String, u64, String)) {
        let (seq, room, name, size, mime) = up;
        let about = types::UPLOAD;
        if let Some(a) = self.sessions[s as usize].acks.find(seq) {
            return self.send_ack(p, &a);
        }
        let uid = self.sessions[s as usize].uid;
        if let Some(u) = self.files.as_ref().and_then(|f| f.uploads.get(&(uid, seq))) {
            let offset = u.received;
            return self.send(p, &ServerFrame::UploadReady { seq, offset });
        }
        if !self.spend_or_refuse(p, s, Kind::Say, about, seq) {
            return; // UPLOAD counts like SAY (§10)
        }
        if let Err(why) = self.upload_allowed(s, &name, size) {
            self.counters.file_refusals += 1;
            return self.send_error(p, ErrorCode::FileRefused, about, seq, &why);
        }
        let Some(r) = self.target(p, s, &room, about, seq) else { return };
        let files = self.files.as_mut().expect("checked");
        files.next_id += 1;
        let id = files.next_id;
        let (name, mime) = (name.into(), mime.into());
        let u = Upload {
            id,
            session: s,
            room: r,
            name,
            size,
            mime,
            received: 0,
            written: 0,
            last: self.now,
            finishing: false,
        };
        files.uploads.insert((uid, seq), u);
        files.by_id.insert(id, (uid, seq));
        self.wheel.insert(self.now + UPLOAD_IDLE_MS, Timer::Upload { id });
        self.send(p, &ServerFrame::UploadReady { seq, offset: 0 });
    }

    /// The FILE_REFUSED checks, in §10's order; the error is the detail.
    fn upload_allowed(&self, s: u32, name: &str, size: u64) -> Result<(), String> {
        let Some(files) = &self.files else {
            return Err("file sharing is off on this server".into());
        };
        let session = &self.sessions[s as usize];
        if !session.account {
            return Err("files need an account: sign in with your password or /register".into());
        }
        let mine: Vec<&Upload> = files.uploads.values().filter(|u| u.session == s).collect();
        if mine.len() >= MAX_UNFINISHED {
            return Err(format!("{MAX_UNFINISHED} uploads are unfinished already"));
        }
        if !is_valid_file_name(name) {
            return Err("a file name is 1-255 bytes with no / and no control characters".into());
        }
        if size == 0 {
            return Err("a file has at least one byte".into());
        }
        if size > files.max_file {
            return Err(format!(
                "the file is over the server's limit of {} bytes (--max-file)",
                files.max_file
            ));
        }
        let used = files.used.get(&*name_key(&session.name)).copied().unwrap_or(0);
        let pending: u64 = mine.iter().map(|u| u.size).sum();
        if used.saturating_add(pending).saturating_add(size) > files.quota {
            return Err(format!(
                "your files would pass your quota of {} bytes (--file-quota)",
                files.quota
            ));
        }
        Ok(())
    }

    /// CHUNK: in order, within the declared size, for an upload under way;
    /// anything else is BAD_FRAME with the seq and dropped.
    pub(super) fn on_chunk(&mut self, p: PeerId, s: u32, seq: u32, offset: u64, data: Vec<u8>) {
        let uid = self.sessions[s as usize].uid;
        let now = self.now;
        let found = self.files.as_mut().and_then(|f| f.uploads.get_mut(&(uid, seq)));
        let why = match found {
            None => format!("no upload with seq {seq}"),
            Some(u) if offset != u.received => {
                format!("expected offset {}, not {offset}", u.received)
            }
            Some(u) if data.len() as u64 > u.size - u.received => {
                "past the declared size".to_string()
            }
            Some(u) => {
                u.received += data.len() as u64;
                u.last = now;
                let (id, done) = (u.id, u.received == u.size);
                let files = self.files.as_mut().expect("found above");
                *files.inflight.entry(uid).or_default() += data.len() as u64;
                files.total += data.len() as u64;
                files.jobs.push(FileJob::Write { id, offset, data });
                if done {
                    self.try_finish(uid, seq);
                }
                return;
            }
        };
        self.send_error(p, ErrorCode::BadFrame, types::CHUNK, seq, &why);
    }

    /// Asks the worker to store the upload once every byte is written.
    fn try_finish(&mut self, uid: u64, seq: u32) {
        let Some(files) = self.files.as_mut() else { return };
        let Some(u) = files.uploads.get_mut(&(uid, seq)) else { return };
        if u.received == u.size && u.written == u.size && !u.finishing {
            u.finishing = true;
            let id = u.id;
            files.jobs.push(FileJob::Finish { id });
        }
    }

    /// Whether session `uid` has sent more chunk bytes than the disk took,
    /// or has any on the way while all uploads together are over budget.
    pub(in crate::core) fn upload_backlogged(&self, uid: u64) -> bool {
        self.files.as_ref().is_some_and(|f| {
            let mine = f.inflight.get(&uid).copied().unwrap_or(0);
            mine > UPLOAD_INFLIGHT || (mine > 0 && f.total > UPLOAD_INFLIGHT_ALL)
        })
    }

    /// Jobs for the file workers, queued since the last call.
    pub fn take_file_jobs(&mut self, out: &mut Vec<FileJob>) {
        if let Some(f) = self.files.as_mut() {
            out.append(&mut f.jobs);
        }
    }

    /// A file worker answered.
    pub fn file_done(&mut self, d: FileDone) {
        match d {
            FileDone::Written { id, bytes } => self.on_written(id, bytes),
            FileDone::Finished { id, hash } => self.on_stored(id, hash),
            FileDone::Failed { id, why } => self.on_upload_failed(id, &why),
            FileDone::Data { id, offset, data } => self.on_file_data(id, offset, data),
            FileDone::Unreadable { id, why } => self.on_unreadable(id, &why),
        }
        self.settle();
    }

    fn on_written(&mut self, id: u64, bytes: u64) {
        let Some(files) = self.files.as_mut() else { return };
        let Some(&(uid, seq)) = files.by_id.get(&id) else { return };
        let was = files.inflight.get(&uid).copied().unwrap_or(0);
        let now = was.saturating_sub(bytes);
        files.inflight.insert(uid, now);
        let all_was = files.total;
        files.total = all_was.saturating_sub(bytes);
        let Some(u) = files.uploads.get_mut(&(uid, seq)) else { return };
        u.written += bytes;
        let s = u.session;
        if all_was > UPLOAD_INFLIGHT_ALL && files.total <= UPLOAD_INFLIGHT_ALL {
            self.resume_uploaders(); // every uploader may have waited
        } else if was > UPLOAD_INFLIGHT && now <= UPLOAD_INFLIGHT {
            self.resume_session(s);
        }
        self.try_finish(uid, seq);
    }

    /// The reactor reads session `s`'s peer again (its input was held).
    fn resume_session(&mut self, s: u32) {
        let peer = self.sessions.get(s as usize).map(|x| x.peer);
        if let Some(p) = peer.filter(|&p| p != crate::core::session::NO_PEER) {
            if !self.resume.contains(&(p as usize)) {
                self.resume.push(p as usize);
            }
        }
    }

    /// Every session with an upload under way is read again.
    fn resume_uploaders(&mut self) {
        let Some(files) = self.files.as_ref() else { return };
        let mut sessions: Vec<u32> = files.uploads.values().map(|u| u.session).collect();
        sessions.dedup();
        sessions.into_iter().for_each(|s| self.resume_session(s));
    }

    /// Removes upload `id`'s records; returns it with its seq and uid.
    fn take_upload(&mut self, id: u64) -> Option<(Upload, u64, u32)> {
        let files = self.files.as_mut()?;
        let (uid, seq) = files.by_id.remove(&id)?;
        let u = files.uploads.remove(&(uid, seq))?;
        // Its bytes still with the worker will not be reported any more.
        let unwritten = u.received - u.written;
        files.total = files.total.saturating_sub(unwritten);
        if let Some(x) = files.inflight.get_mut(&uid) {
            *x = x.saturating_sub(unwritten);
        }
        if files.uploads.keys().all(|k| k.0 != uid) {
            files.inflight.remove(&uid);
        }
        Some((u, uid, seq))
    }

    /// Stored and synced: the file message goes to the turn's commit.
    fn on_stored(&mut self, id: u64, hash: String) {
        let Some((u, uid, seq)) = self.take_upload(id) else { return };
        if self.sessions.get(u.session as usize).is_none_or(|x| x.uid != uid) {
            return; // the session ended meanwhile: nobody to post for
        }
        self.counters.file_bytes += u.size;
        self.counters.uploads += 1;
        let file = FileRef { file: hash, size: u.size, mime: u.mime.into() };
        self.accept_message(u.session, seq, u.room, u.name, 0, Some(Box::new(file)));
    }

    fn on_upload_failed(&mut self, id: u64, why: &str) {
        let Some((u, uid, seq)) = self.take_upload(id) else { return };
        log::error!("upload {id} failed: {why}");
        let live = self.sessions.get(u.session as usize).filter(|x| x.uid == uid).map(|x| x.peer);
        if let Some(p) = live.filter(|&p| p != crate::core::session::NO_PEER) {
            self.send_error(
                p as usize,
                ErrorCode::Storage,
                types::UPLOAD,
                seq,
                &format!("file not stored: {why}"),
            );
        }
    }

    /// A committed file message: its room may now fetch it, and it counts
    /// toward its sender's quota.
    pub(in crate::core) fn file_posted(&mut self, room: &str, file: &FileRef, from: &str) {
        let Some(files) = self.files.as_mut() else { return };
        let posted = files.index.entry(file.file.as_str().into()).or_default();
        posted.size = file.size;
        if !posted.rooms.iter().any(|r| **r == *room) {
            posted.rooms.push(room.into());
        }
        *files.used.entry(name_key(from).into()).or_default() += file.size;
    }

    /// Ends every upload of session `s` (its session ended).
    pub(in crate::core) fn abort_uploads(&mut self, s: u32) {
        let Some(files) = self.files.as_mut() else { return };
        let ids: Vec<u64> =
            files.uploads.values().filter(|u| u.session == s).map(|u| u.id).collect();
        for id in ids {
            self.abort_upload(id);
        }
    }

    fn abort_upload(&mut self, id: u64) {
        if self.take_upload(id).is_some() {
            if let Some(f) = self.files.as_mut() {
                f.jobs.push(FileJob::Abort { id });
            }
        }
    }

    /// Ten minutes without a CHUNK end an upload.
    pub(in crate::core) fn on_upload_timer(&mut self, id: u64) {
        let Some(files) = self.files.as_ref() else { return };
        let Some(key) = files.by_id.get(&id) else { return };
        let last = files.uploads.get(key).map_or(0, |u| u.last);
        if self.now >= last + UPLOAD_IDLE_MS {
            log::debug!("upload {id} expired");
            self.abort_upload(id);
        } else {
            self.wheel.insert(last + UPLOAD_IDLE_MS, Timer::Upload { id });
        }
    }
}
