//! The file workers: one thread for uploads (append and hash chunks; on
//! completion sync, rename under the hash, sync the directory) and one for
//! downloads (read a piece at an offset), so a slow `fsync` never holds a
//! download up, and neither holds the loop. Jobs go in over channels;
//! results come back in a shared queue, with a wake-up of the loop.

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
        self.done.lock().unwrap_or_else(|e| e.into_inner()).push(d);
        if let Err(e) = self.waker.wake() {
            log::error!("cannot wake the event loop: {e}");
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
        std::thread::Builder::new()
            .name("files-up".into())
            .spawn(move || uploads(&d, &up_rx, &o))?;
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

/// An upload being written.
struct Part {
    /// The temporary file, appended to.
    file: File,
    /// SHA-256 of what was written so far.
    hash: Sha256,
}

fn uploads(dir: &FileDir, jobs: &Receiver<FileJob>, out: &Outbox) {
    let mut parts: HashMap<u64, Part> = HashMap::new();
    while let Ok(job) = jobs.recv() {
        let done = match job {
            FileJob::Write { id, offset, data } => write(dir, &mut parts, id, offset, &data),
            FileJob::Finish { id } => finish(dir, &mut parts, id),
            FileJob::Abort { id } => {
                parts.remove(&id);
                let _ = std::fs::remove_file(dir.temp_of(id));
                continue;
            }
            FileJob::Read { .. } => continue,
        };
        if let FileDone::Failed { id, .. } = &done {
            parts.remove(id);
            let _ = std::fs::remove_file(dir.temp_of(*id));
        }
        out.put(done);
    }
}

fn write(
    dir: &FileDir,
    parts: &mut HashMap<u64, Part>,
    id: u64,
    offset: u64,
    data: &[u8],
) -> FileDone {
    let failed = |why: String| FileDone::Failed { id, why };
    if offset == 0 && !parts.contains_key(&id) {
        let opened =
            OpenOptions::new().write(true).create(true).truncate(true).open(dir.temp_of(id));
        match opened {
            Ok(file) => parts.insert(id, Part { file, hash: Sha256::new() }),
            Err(e) => return failed(format!("cannot create the upload's file: {e}")),
        };
    }
    let Some(part) = parts.get_mut(&id) else { return failed("upload not started".into()) };
    if let Err(e) = part.file.write_all(data) {
        return failed(format!("cannot write: {e}"));
    }
    part.hash.update(data);
    FileDone::Written { id, bytes: data.len() as u64 }
}

fn finish(dir: &FileDir, parts: &mut HashMap<u64, Part>, id: u64) -> FileDone {
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

    #[test]
    fn an_upload_is_hashed_stored_under_its_hash_and_read_back() {
        let root = std::env::temp_dir().join(format!("banterd-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::write(root.join("tmp").join("99.part"), b"left by a crash").unwrap();
        let dir = FileDir::open(&root, None).unwrap();
        assert!(!root.join("tmp").join("99.part").exists(), "leftovers removed at start");
        let mut poll = Poll::new().unwrap();
        let w = FileWorker::start(
            dir.clone(),
            Arc::new(Waker::new(poll.registry(), Token(1)).unwrap()),
        )
        .unwrap();
        w.submit(FileJob::Write { id: 1, offset: 0, data: b"hello ".to_vec() });
        w.submit(FileJob::Write { id: 1, offset: 6, data: b"world".to_vec() });
        w.submit(FileJob::Finish { id: 1 });
        let got = collect(&mut poll, &w, 3);
        let want = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"; // sha256("hello world")
        assert_eq!(got[2], FileDone::Finished { id: 1, hash: want.into() });
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
}
