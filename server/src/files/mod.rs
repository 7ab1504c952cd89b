//! Shared files on disk (§10, `--files DIR`): where a file lives (under its
//! SHA-256, in fan-out directories `ab/cd/abcd…`), the temporary files of
//! unfinished uploads (`DIR/tmp`, emptied at start, so a crash never leaves
//! a half file under a real name; a cluster node has its own
//! `DIR/tmp/{node}`, since nodes share `DIR`), and the worker threads that do every
//! disk operation off the event loop: appending and hashing chunks as they
//! arrive, syncing and renaming a finished upload into place, and reading
//! the pieces of a download. Results come back through a queue and the
//! poll's waker, as the password hasher's do.
//!
//! What may be uploaded, by whom, and who may fetch what is the core's.

mod worker;

pub use worker::{FileDone, FileJob, FileWorker};

use std::path::{Path, PathBuf};

/// The files directory.
#[derive(Debug, Clone)]
pub struct FileDir {
    /// `--files DIR`.
    root: PathBuf,
    /// Where unfinished uploads are kept.
    tmp: PathBuf,
}

impl FileDir {
    /// Creates `root` and its `tmp` (for cluster node `node`, `tmp/node`)
    /// if needed and removes what unfinished uploads a previous run left
    /// there. The error is one line.
    pub fn open(root: &Path, node: Option<&str>) -> Result<FileDir, String> {
        let tmp = match node {
            Some(n) => root.join("tmp").join(n),
            None => root.join("tmp"),
        };
        std::fs::create_dir_all(&tmp).map_err(|e| format!("--files {}: {e}", root.display()))?;
        let entries =
            std::fs::read_dir(&tmp).map_err(|e| format!("--files {}: {e}", tmp.display()))?;
        let mut left = 0;
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_file()) && std::fs::remove_file(e.path()).is_ok() {
                left += 1;
            }
        }
        if left > 0 {
            log::info!("removed {left} unfinished uploads from {}", tmp.display());
        }
        Ok(FileDir { root: root.to_path_buf(), tmp })
    }

    /// Where the file with lower-case hex SHA-256 `hash` is kept.
    pub fn path_of(&self, hash: &str) -> PathBuf {
        let (a, b) = (hash.get(0..2).unwrap_or("00"), hash.get(2..4).unwrap_or("00"));
        self.root.join(a).join(b).join(hash)
    }

    /// The temporary file of upload `id`.
    pub fn temp_of(&self, id: u64) -> PathBuf {
        self.tmp.join(format!("{id}.part"))
    }
}

/// Whether `s` looks like a file handle: 64 lower-case hex digits.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fan_out_and_hashes_are_checked() {
        let d = FileDir { root: PathBuf::from("/f"), tmp: PathBuf::from("/f/tmp") };
        let h = "ab".repeat(32);
        assert_eq!(d.path_of(&h), PathBuf::from(format!("/f/ab/ab/{h}")));
        assert!(is_hash(&h));
        assert!(
            !is_hash(&"AB".repeat(32))
                && !is_hash("ab")
                && !is_hash(&format!("../{}", "a".repeat(61)))
        );
    }
}
