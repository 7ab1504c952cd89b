//! One file coming down (§10): where `/get N [PATH]` saves it, the
//! temporary file (hidden, created afresh, in the same directory) that the
//! FILE_DATA bytes are written to as they come, and at the end the SHA-256
//! check against the file's hash, a sync, and a rename to the first free
//! name ("notes.txt", "notes (1).txt", …) that never replaces anything. A
//! download dropped unfinished removes its temporary file.
//!
//! It writes files; when to FETCH is the caller's (`net/files.rs`).

use super::names::{numbered, safe_name};
use crate::conn::plain;
use banter_proto::ClientFrame;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// How many numbered names are tried before giving up.
const MAX_TRIES: u32 = 1000;

/// What the bytes of one FILE_DATA did.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Written (or already had); more to come.
    More,
    /// Every byte is here: finish it.
    Done,
    /// A gap before these bytes: FETCH again from what is written.
    Refetch,
}

/// A download of ours.
#[derive(Debug)]
pub struct Download {
    /// The file's number on screen.
    pub n: usize,
    /// Its hash: what FETCH names and the bytes must match.
    pub hash: String,
    /// Its name as posted (for messages).
    pub name: String,
    /// Its size as posted.
    pub size: u64,
    /// The directory it goes to.
    dir: PathBuf,
    /// The name it is saved under (made safe; numbered if taken).
    want: String,
    /// The temporary file and its path; `None` once kept or removed.
    temp: Option<(PathBuf, File)>,
    /// Bytes written, from 0: a FETCH resumes here.
    pub written: u64,
    /// The hash of the bytes written.
    hasher: Sha256,
    /// FETCH sent on this connection.
    pub fetching: bool,
    /// A FETCH went out and its answer has not started: pieces past a
    /// gap are the rest of an earlier answer (replaced), not a fault.
    restarting: bool,
    /// FETCHes sent again after gaps.
    pub resyncs: u32,
}

/// Where `/get` saves a file named `remote`: `path` as the user typed it
/// (a directory, or a file name in an existing one; `~/` is `$HOME`), or
/// the current directory. Returns the directory and the safe name.
pub fn destination(path: Option<&str>, remote: &str) -> Result<(PathBuf, String), String> {
    let Some(p) = path else {
        let cwd = std::env::current_dir()
            .map_err(|e| format!("cannot tell the current directory: {}", plain(&e)))?;
        return Ok((cwd, safe_name(remote)));
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let full = match (p, p.strip_prefix("~/"), home) {
        ("~", _, Some(h)) => h,
        (_, Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    };
    if full.is_dir() {
        return Ok((full, safe_name(remote)));
    }
    let (parent, name) = match (full.parent(), full.file_name()) {
        (Some(d), Some(n)) if !p.ends_with('/') => (d, n.to_string_lossy().into_owned()),
        _ => return Err(format!("{p}: no such directory")),
    };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    if !parent.is_dir() {
        return Err(format!("{}: no such directory", parent.display()));
    }
    Ok((parent.to_path_buf(), safe_name(&name)))
}

/// Why writing `what` failed, as the user should read it: a full disk
/// is said so.
pub fn write_error(what: &Path, e: &io::Error) -> String {
    let full = matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT));
    match full {
        true => format!("the disk is full: could not write {}", what.display()),
        false => format!("could not write {}: {}", what.display(), plain(e)),
    }
}

impl Download {
    /// A download of file `n` into `dir` as `want`; its temporary file
    /// is created now, so a directory that cannot take it says so at once.
    pub fn start(
        n: usize,
        (hash, name, size): (&str, &str, u64),
        dir: PathBuf,
        want: String,
    ) -> Result<Download, String> {
        let temp = create_temp(&dir, hash)?;
        Ok(Download {
            n,
            hash: hash.to_string(),
            name: name.to_string(),
            size,
            dir,
            want,
            temp: Some(temp),
            written: 0,
            hasher: Sha256::new(),
            fetching: false,
            restarting: false,
            resyncs: 0,
        })
    }

    /// The directory it goes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The FETCH that asks for the bytes not written yet.
    pub fn fetch(&mut self) -> ClientFrame {
        self.fetching = true;
        self.restarting = true;
        ClientFrame::Fetch { file: self.hash.clone(), offset: self.written }
    }

    /// A FETCH again after a gap.
    pub fn refetch(&mut self) -> ClientFrame {
        self.resyncs += 1;
        self.fetch()
    }

    /// FILE_DATA of this file: writes the bytes not written yet. Pieces
    /// of an earlier answer (a FETCH replaced) overlap; the bytes are the
    /// same (the hash names them), so only what is new is written.
    pub fn data(&mut self, offset: u64, last: bool, data: &[u8]) -> Result<Step, String> {
        let end = offset.checked_add(data.len() as u64).filter(|&e| e <= self.size);
        let Some(end) = end else {
            return Err("the server sent more bytes than the file has".into());
        };
        if offset > self.written {
            return Ok(if self.restarting { Step::More } else { Step::Refetch });
        }
        self.restarting = false;
        let new = usize::try_from(self.written - offset).map_or(&[][..], |skip| {
            data.get(skip..).unwrap_or_default() // a piece we have whole: nothing new
        });
        if let Some((path, file)) = &self.temp {
            file.write_all_at(new, self.written).map_err(|e| write_error(path, &e))?;
        }
        self.hasher.update(new);
        self.written += new.len() as u64;
        if self.written == self.size {
            return Ok(Step::Done);
        }
        if last {
            return Err(format!("the server ended the file at {end} of {} bytes", self.size));
        }
        Ok(Step::More)
    }

    /// Every byte is here: checks the hash, syncs, and moves the file to
    /// the first free name; the path it was saved at.
    pub fn finish(&mut self) -> Result<PathBuf, String> {
        let (temp, file) = self.temp.as_ref().ok_or("the download was already closed")?;
        let got: String = std::mem::take(&mut self.hasher)
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if got != self.hash {
            return Err(
                "the file arrived damaged (its SHA-256 does not match); nothing was kept".into()
            );
        }
        file.sync_all().map_err(|e| write_error(temp, &e))?;
        for k in 0..MAX_TRIES {
            let to = self.dir.join(numbered(&self.want, k));
            match rename_new(temp, &to) {
                Ok(()) => {
                    self.temp = None;
                    return Ok(to);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("could not save {}: {}", to.display(), plain(&e))),
            }
        }
        Err(format!("{} and {MAX_TRIES} numbered names are all taken", self.want))
    }
}

impl Drop for Download {
    /// An unfinished (or refused) download leaves nothing behind.
    fn drop(&mut self) {
        if let Some((path, _)) = self.temp.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A new hidden file in `dir` for the bytes of `hash`, never an existing one.
fn create_temp(dir: &Path, hash: &str) -> Result<(PathBuf, File), String> {
    let short: String = hash.chars().filter(char::is_ascii_hexdigit).take(12).collect();
    for k in 0..MAX_TRIES {
        let path = dir.join(format!(".banter-{short}-{}-{k}.part", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(write_error(&path, &e)),
        }
    }
    Err(format!("could not create a temporary file in {}", dir.display()))
}

/// Renames `from` to `to` unless `to` exists (then `AlreadyExists`),
/// atomically: `renameat2(RENAME_NOREPLACE)` where the system has it,
/// else a hard link and an unlink.
fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    match rename_noreplace(from, to) {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            std::fs::hard_link(from, to)?;
            let _ = std::fs::remove_file(from);
            Ok(())
        }
        r => r,
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let from = CString::new(from.as_os_str().as_bytes())?;
    let to = CString::new(to.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn rename_noreplace(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

#[cfg(test)]
mod tests;
