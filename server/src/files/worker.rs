//! The file workers: one thread for uploads (append and hash chunks,
//! starting the writeback of every few MiB so the final sync has little
//! left to wait for; on completion sync, rename under the hash, sync the
//! directory), one for downloads (read a piece at an offset), so a slow
//! `fsync` never holds a download up, and neither holds the loop, and one
//! that closes finished uploads' files (slow for a removed duplicate). Jobs go
//! in over channels; results come back in a shared queue, with a wake-up
//! of the loop only when that queue was empty (the loop drains it whole
//! on each wake-up), and the upload thread answers the chunks it took
//! together, up to `ANSWER_EVERY` bytes at a time.

use super::FileDir;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// Work for the file threads.
#[derive(Debug)]
pub enum FileJob {
    /// Append `data` (which starts at `offset`) to upload `id`, hashing it.
    Write { id: u64, offset: u64, data: Vec<u8> },
    /// Upload `id` has all its bytes: sync it and move it under its hash.
    Finish { id: u64 },
    /// Upload `id` is abandoned: remove its temporary file.
    Abort { id: u64 },
    /// Read up to `len` bytes of file `hash` at `offset`, for download `id`.
    Read { id: u64, hash: String, offset: u64, len: usize },
}

/// What a job came to.
#[derive(Debug, PartialEq, Eq)]
pub enum FileDone {
    /// `bytes` more of upload `id` are written.
    Written { id: u64, bytes: u64 },
    /// Upload `id` is stored, synced, under `hash`.
    Finished { id: u64, hash: String },
    /// Upload `id` failed on disk; it is abandoned.
    Failed { id: u64, why: String },
    /// A piece of download `id`.
    Data { id: u64, offset: u64, data: Vec<u8> },
    /// Download `id` could not be read.
    Unreadable { id: u64, why: String },
}

/// Results and the loop's waker, shared by the threads.
#[derive(Clone)]
struct Outbox {
    /// Results not yet drained by the loop.
    done: Arc<Mutex<Vec<FileDone>>>,
    /// Wakes the loop.
    waker: Arc<mio::Waker>,
}

impl Outbox {
    fn put(&self, d: FileDone) {
        self.put_all(&mut vec![d]);
    }

    /// Moves `ds` into the queue. Wakes the loop only if the queue was
    /// empty: otherwise a wake-up is already owed for what it holds, and
    /// the loop drains everything on it.
    fn put_all(&self, ds: &mut Vec<FileDone>) {
        if ds.is_empty() {
            return;
        }
        let was_empty = {
            let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            let was_empty = done.is_empty();
            done.append(ds);
            was_empty
        };
        if was_empty {
            if let Err(e) = self.waker.wake() {
                log::error!("cannot wake the event loop: {e}");
            }
        }
    }
}

/// The loop's handle on the file threads.
pub struct FileWorker {
    /// Upload jobs.
    uploads: Sender<FileJob>,
    /// Download jobs.
    downloads: Sender<FileJob>,
    /// Where results arrive.
    out: Outbox,
}

impl FileWorker {
    /// Starts both threads.
    pub fn start(dir: FileDir, waker: Arc<mio::Waker>) -> std::io::Result<FileWorker> {
        let out = Outbox { done: Arc::new(Mutex::new(Vec::new())), waker };
        let (up_tx, up_rx) = channel();
        let (down_tx, down_rx) = channel();
        let (d, o) = (dir.clone(), out.clone());
        let (close_tx, close_rx) = channel::<File>();
        std::thread::Builder::new()
            .name("files-close".into())
            .spawn(move || close_rx.iter().for_each(drop))?;
        std::thread::Builder::new()
            .name("files-up".into())
            .spawn(move || uploads(&d, &up_rx, &o, close_tx))?;
        let o = out.clone();
        std::thread::Builder::new()
            .name("files-down".into())
            .spawn(move || downloads(&dir, &down_rx, &o))?;
        Ok(FileWorker { uploads: up_tx, downloads: down_tx, out })
    }

    /// Queues a job on the right thread.
    pub fn submit(&self, job: FileJob) {
        let to = if matches!(job, FileJob::Read { .. }) { &self.downloads } else { &self.uploads };
        if to.send(job).is_err() {
            log::error!("a file thread has stopped");
        }
    }

    /// Moves every result into `out`.
    pub fn drain(&self, out: &mut Vec<FileDone>) {
        out.append(&mut self.out.done.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Chunk bytes the upload thread writes before it answers for them, if
/// more jobs are waiting: one answer and one wake-up per MiB instead of
/// per 64 KiB chunk, yet a quarter of the loop's window (4 MiB,
/// `UPLOAD_INFLIGHT`), so reading never waits for a whole window to be
/// answered.
const ANSWER_EVERY: u64 = 1 << 20;
/// Bytes of an upload written before their writeback is started
/// (`sync_file_range`), so the sync at the end waits for the tail only:
/// on this project's test machine, 64 MiB uploads of new files went from
/// about 380 to 480 MB/s (2, 4 and 8 MiB alike; 16 MiB gained nothing).
const WRITEBACK_EVERY: u64 = 8 << 20;

/// An upload being written.
struct Part {
    /// The temporary file, appended to.
    file: File,
    /// SHA-256 of what was written so far.
    hash: Sha256,
    /// Bytes written.
    written: u64,
    /// Bytes whose writeback was started.
    started: u64,
}

/// The upload thread's state between jobs.
struct Uploads {
    /// Uploads being written, by id.
    parts: HashMap<u64, Part>,
    /// Answers not yet given.
    done: Vec<FileDone>,
    /// Chunk bytes written since the last answer.
    unanswered: u64,
    /// An answer other than `Written` waits: it goes out now.
    urgent: bool,
    /// Where finished uploads' files go to be closed: closing a removed
    /// duplicate frees all its pages and blocks (tens of ms for 64 MiB),
    /// which must hold up neither its answer nor the next upload's chunks.
    closer: Sender<File>,
}

fn uploads(dir: &FileDir, jobs: &Receiver<FileJob>, out: &Outbox, closer: Sender<File>) {
    let mut up =
        Uploads { parts: HashMap::new(), done: Vec::new(), unanswered: 0, urgent: false, closer };
    while let Ok(first) = jobs.recv() {
        let mut job = Some(first);
        while let Some(j) = job.take() {
            up.run(dir, j);
            job = jobs.try_recv().ok();
            if job.is_none() || up.unanswered >= ANSWER_EVERY || up.urgent {
                (up.unanswered, up.urgent) = (0, false);
                out.put_all(&mut up.done);
            }
        }
    }
}

impl Uploads {
    fn run(&mut self, dir: &FileDir, job: FileJob) {
        let done = match job {
            FileJob::Write { id, offset, data } => self.write(dir, id, offset, &data),
            FileJob::Finish { id } => finish(dir, &mut self.parts, id, &self.closer),
            FileJob::Abort { id } => {
                self.parts.remove(&id);
                let _ = std::fs::remove_file(dir.temp_of(id));
                return;
            }
            FileJob::Read { .. } => return,
        };
        if let FileDone::Failed { id, .. } = &done {
            self.parts.remove(id);
            let _ = std::fs::remove_file(dir.temp_of(*id));
        }
        match (self.done.last_mut(), done) {
            (Some(FileDone::Written { id, bytes }), FileDone::Written { id: i, bytes: b })
                if *id == i =>
            {
                *bytes += b; // one answer for the chunks of one upload in a row
            }
            (_, d) => {
                self.urgent |= !matches!(d, FileDone::Written { .. });
                self.done.push(d);
            }
        }
    }

    fn write(&mut self, dir: &FileDir, id: u64, offset: u64, data: &[u8]) -> FileDone {
        let failed = |why: String| FileDone::Failed { id, why };
        if offset == 0 && !self.parts.contains_key(&id) {
            let opened =
                OpenOptions::new().write(true).create(true).truncate(true).open(dir.temp_of(id));
            match opened {
                Ok(file) => {
                    let part = Part { file, hash: Sha256::new(), written: 0, started: 0 };
                    self.parts.insert(id, part)
                }
                Err(e) => return failed(format!("cannot create the upload's file: {e}")),
            };
        }
        let Some(part) = self.parts.get_mut(&id) else {
            return failed("upload not started".into());
        };
        if let Err(e) = part.file.write_all(data) {
            return failed(format!("cannot write: {e}"));
        }
        part.hash.update(data);
        part.written += data.len() as u64;
        if part.written - part.started >= WRITEBACK_EVERY {
            start_writeback(&part.file, part.started, part.written - part.started);
            part.started = part.written;
        }
        self.unanswered += data.len() as u64;
        FileDone::Written { id, bytes: data.len() as u64 }
    }
}

/// Asks the kernel to start writing `len` bytes at `from` to disk, without
/// waiting: only a head start for the final `fsync`, which alone makes
/// the file durable, so a failure here is not an error.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, from: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (from, len) = (from.min(i64::MAX as u64) as i64, len.min(i64::MAX as u64) as i64);
    // SAFETY: sync_file_range takes a descriptor we own and integers.
    let r =
        unsafe { libc::sync_file_range(file.as_raw_fd(), from, len, libc::SYNC_FILE_RANGE_WRITE) };
    if r != 0 {
        log::debug!("sync_file_range: {}", std::io::Error::last_os_error());
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _from: u64, _len: u64) {}

fn finish(
    dir: &FileDir,
    parts: &mut HashMap<u64, Part>,
    id: u64,
    closer: &Sender<File>,
) -> FileDone {
    let Some(part) = parts.remove(&id) else {
        return FileDone::Failed { id, why: "upload not started".into() };
    };
    let hash: String = part.hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let target = dir.path_of(&hash);
    let placed = part
        .file
        .sync_all()
        .and_then(|()| std::fs::create_dir_all(target.parent().expect("fan-out dir")))
        .and_then(|()| match target.exists() {
            true => std::fs::remove_file(dir.temp_of(id)), // the same bytes are stored already
            false => std::fs::rename(dir.temp_of(id), &target),
        })
        .and_then(|()| File::open(target.parent().expect("fan-out dir"))?.sync_all());
    let _ = closer.send(part.file); // if that thread is gone, the file is closed here
    match placed {
        Ok(()) => FileDone::Finished { id, hash },
        Err(e) => FileDone::Failed { id, why: format!("cannot store the file: {e}") },
    }
}

fn downloads(dir: &FileDir, jobs: &Receiver<FileJob>, out: &Outbox) {
    while let Ok(job) = jobs.recv() {
        let FileJob::Read { id, hash, offset, len } = job else { continue };
        let mut data = vec![0; len];
        let read = File::open(dir.path_of(&hash)).and_then(|f| {
            let mut got = 0;
            while got < len {
                match f.read_at(&mut data[got..], offset + got as u64)? {
                    0 => break,
                    n => got += n,
                }
            }
            Ok(got)
        });
        out.put(match read {
            Ok(n) => {
                data.truncate(n);
                FileDone::Data { id, offset, data }
            }
            Err(e) => FileDone::Unreadable { id, why: e.to_string() },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::{Events, Poll, Token, Waker};
    use std::time::Duration;

    fn collect(poll: &mut Poll, w: &FileWorker, n: usize) -> Vec<FileDone> {
        let mut got = Vec::new();
        let mut events = Events::with_capacity(4);
        let end = std::time::Instant::now() + Duration::from_secs(10);
        while got.len() < n {
            assert!(std::time::Instant::now() < end, "only {got:?}");
            poll.poll(&mut events, Some(Duration::from_millis(100))).unwrap();
            w.drain(&mut got);
        }
        got
    }

    /// Answers until upload `id` is stored: the bytes answered for as
    /// written (in one answer or several) and the stored file's hash.
    fn until_stored(poll: &mut Poll, w: &FileWorker, id: u64) -> (u64, String) {
        let mut written = 0;
        loop {
            for d in collect(poll, w, 1) {
                match d {
                    FileDone::Written { id: i, bytes } if i == id => written += bytes,
                    FileDone::Finished { id: i, hash } if i == id => return (written, hash),
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    fn start(name: &str) -> (std::path::PathBuf, FileDir, Poll, FileWorker) {
        let root = std::env::temp_dir().join(format!("banterd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::write(root.join("tmp").join("99.part"), b"left by a crash").unwrap();
        let dir = FileDir::open(&root, None).unwrap();
        assert!(!root.join("tmp").join("99.part").exists(), "leftovers removed at start");
        let poll = Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), Token(1)).unwrap());
        let w = FileWorker::start(dir.clone(), waker).unwrap();
        (root, dir, poll, w)
    }

    #[test]
    fn an_upload_is_hashed_stored_under_its_hash_and_read_back() {
        let (root, dir, mut poll, w) = start("files");
        w.submit(FileJob::Write { id: 1, offset: 0, data: b"hello ".to_vec() });
        w.submit(FileJob::Write { id: 1, offset: 6, data: b"world".to_vec() });
        w.submit(FileJob::Finish { id: 1 });
        let want = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"; // sha256("hello world")
        assert_eq!(until_stored(&mut poll, &w, 1), (11, want.to_string()));
        assert_eq!(std::fs::read(dir.path_of(want)).unwrap(), b"hello world");
        assert!(!dir.temp_of(1).exists(), "no temporary file left");
        w.submit(FileJob::Read { id: 7, hash: want.into(), offset: 6, len: 100 });
        assert_eq!(
            collect(&mut poll, &w, 1),
            [FileDone::Data { id: 7, offset: 6, data: b"world".to_vec() }]
        );
        w.submit(FileJob::Read { id: 8, hash: "00".repeat(32), offset: 0, len: 1 });
        assert!(matches!(collect(&mut poll, &w, 1)[0], FileDone::Unreadable { id: 8, .. }));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_large_upload_and_its_duplicate_are_stored_once_whole() {
        let (root, dir, mut poll, w) = start("large");
        let data: Vec<u8> = (0..WRITEBACK_EVERY * 2 + 12_345).map(|i| (i % 253) as u8).collect();
        let want: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        for id in [1, 2] {
            for (k, piece) in data.chunks(65_408).enumerate() {
                let offset = (k * 65_408) as u64;
                w.submit(FileJob::Write { id, offset, data: piece.to_vec() });
            }
            w.submit(FileJob::Finish { id });
            assert_eq!(until_stored(&mut poll, &w, id), (data.len() as u64, want.clone()));
            assert!(!dir.temp_of(id).exists(), "no temporary file left by upload {id}");
        }
        assert!(std::fs::read(dir.path_of(&want)).unwrap() == data, "the stored bytes");
        let _ = std::fs::remove_dir_all(&root);
    }
}
