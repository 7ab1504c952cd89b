//! Our downloads on the connection (§10, FETCH/FILE_DATA): `/get N
//! [PATH]` after the local checks (files offered, a number shown, a
//! directory that takes it), the FILE_DATA pieces written as they come
//! (those of a FETCH replaced ignored, a gap answered with a FETCH from
//! what is written), and the end: the file checked and kept, or the
//! reason it was not.
//!
//! It shows nothing: what happened comes back as events.

use super::files::{after, MAX_RESYNCS, OFF};
use super::Net;
use crate::session::Event;
use crate::transfer::download::{destination, Download, Step};
use crate::transfer::names::human_size;
use banter_proto::FileRef;

/// A download just asked for, for the UI to tell.
#[derive(Debug, PartialEq, Eq)]
pub struct Fetching {
    /// The file's number.
    pub n: usize,
    /// Its name as posted.
    pub name: String,
    /// Its size.
    pub size: u64,
    /// The directory it goes to.
    pub dir: String,
    /// A download of the same file was under way or queued: this one replaces it.
    pub replaced: bool,
    /// Downloads ahead of it.
    pub ahead: usize,
}

impl Fetching {
    /// What the UIs say: "fetching [file 3] notes.txt (1.2 KiB) into /home/ada".
    pub fn text(&self) -> String {
        let again = if self.replaced { " (again: the download under way stops)" } else { "" };
        format!(
            "fetching [file {}] {} ({}) into {}{again}{}",
            self.n,
            self.name,
            human_size(self.size),
            self.dir,
            after(self.ahead, "download")
        )
    }
}

impl Net {
    /// `/get N [PATH]`: queues the download of file `n` (replacing one of
    /// the same file under way: the new FETCH replaces the old).
    pub fn get_file(&mut self, n: usize, path: Option<&str>) -> Result<Fetching, String> {
        if self.files.offered == Some(false) {
            return Err(OFF.into());
        }
        let listed = self.session.files.get(n)?.clone();
        let (dir, want) = destination(path, &listed.name)?;
        let FileRef { file: hash, size, .. } = &listed.file;
        let d = Download::start(n, (hash, &listed.name, *size), dir, want)?;
        let dir = d.dir().display().to_string();
        let old = self.files.downloads.iter().position(|x| x.hash == *hash);
        let replaced = old.is_some();
        let ahead = match old {
            Some(i) => {
                self.files.downloads.remove(i); // its temporary file goes with it
                self.files.downloads.insert(i, d);
                i
            }
            None => {
                self.files.downloads.push_back(d);
                self.files.downloads.len() - 1
            }
        };
        self.file_turn();
        Ok(Fetching { n, name: listed.name, size: *size, dir, replaced, ahead })
    }

    pub(super) fn on_file_data(
        &mut self,
        file: &str,
        offset: u64,
        last: bool,
        data: &[u8],
        ev: &mut Vec<Event>,
    ) {
        let front = self.files.downloads.front_mut();
        let Some(d) = front.filter(|d| d.fetching && d.hash == file) else {
            return; // the rest of a download replaced or ended: not ours now
        };
        match d.data(offset, last, data) {
            Ok(Step::More) => {}
            Ok(Step::Refetch) if d.resyncs < MAX_RESYNCS => {
                let f = d.refetch();
                self.send(&f);
            }
            Ok(Step::Refetch) => {
                self.fail_download("the server's answer kept missing bytes".into(), ev)
            }
            Ok(Step::Done) => match d.finish() {
                Ok(path) => {
                    let (n, size) = (d.n, d.size);
                    self.files.downloads.pop_front();
                    ev.push(Event::Saved { n, path: path.display().to_string(), size });
                    self.file_turn();
                }
                Err(why) => self.fail_download(why, ev),
            },
            Err(why) => self.fail_download(why, ev),
        }
    }

    /// The download under way failed: its temporary file goes, the next starts.
    pub(super) fn fail_download(&mut self, why: String, ev: &mut Vec<Event>) {
        if let Some(d) = self.files.downloads.pop_front() {
            ev.push(Event::SaveFailed { n: d.n, name: d.name.clone(), why });
        }
        self.file_turn();
    }
}
