//! File sharing as this client does it (§10): the uploads and downloads of
//! this run, each kind one at a time in the order asked (the server keeps
//! one download per connection, and one upload at a time keeps the
//! others' order), how they stand across reconnects, and the status-bar
//! text of the ones under way. The numbering of files shown is
//! `catalog`'s (kept by the session); names, sizes and types are in
//! `names`.
//!
//! It holds the transfers; what frames go out when is `net/files.rs`'s.

pub mod catalog;
pub mod download;
pub mod names;
pub mod upload;

use crate::sanitize::sanitize_line;
use crate::width::{str_width, truncate};
use download::Download;
use std::collections::VecDeque;
use upload::{Phase, Upload};

/// The largest CHUNK payload: frames stay within 64 KiB whatever the
/// server's limit, so a chat frame never waits behind a large one.
pub const MAX_CHUNK: usize = 65_536 - 128;
/// File names in the status bar are cut to this many cells.
const STATUS_NAME: usize = 24;

/// The transfers of this run.
#[derive(Debug, Default)]
pub struct Transfers {
    /// Whether the server offers files (`features` of the last WELCOME;
    /// `None` before the first).
    pub offered: Option<bool>,
    /// The server's `max_frame` (from WELCOME).
    pub max_frame: u32,
    /// Uploads in order; the first is the one under way.
    pub uploads: VecDeque<Upload>,
    /// Downloads in order; the first is the one under way.
    pub downloads: VecDeque<Download>,
}

impl Transfers {
    /// Bytes per CHUNK: `max_frame - 128` (room for the frame's fields),
    /// at most [`MAX_CHUNK`].
    pub fn chunk_size(&self) -> usize {
        let frame = if self.max_frame == 0 { 65_536 } else { self.max_frame as usize };
        frame.saturating_sub(128).clamp(512, MAX_CHUNK)
    }

    /// The upload numbered `seq`, if it is ours.
    pub fn upload_mut(&mut self, seq: u32) -> Option<&mut Upload> {
        self.uploads.iter_mut().find(|u| u.seq == seq)
    }

    /// Takes the upload numbered `seq` out.
    pub fn take_upload(&mut self, seq: u32) -> Option<Upload> {
        let i = self.uploads.iter().position(|u| u.seq == seq)?;
        self.uploads.remove(i)
    }

    /// The connection is gone: what was under way starts again (from
    /// where the server is) on the next one.
    pub fn on_disconnect(&mut self) {
        for u in &mut self.uploads {
            if u.phase != Phase::Held {
                u.phase = Phase::Waiting;
            }
        }
        for d in &mut self.downloads {
            d.fetching = false;
        }
    }

    /// The status-bar text: "↑ report.pdf 45%", "↓ photo.png 3% (+2)".
    pub fn status(&self) -> Option<String> {
        let up = self.uploads.front().map(|u| {
            let done = match u.phase {
                Phase::Sent => "storing".to_string(),
                _ => percent(u.next, u.size),
            };
            (format!("\u{2191} {}", short(&u.name)), done, self.uploads.len() - 1)
        });
        let down = self.downloads.front().map(|d| {
            let name = format!("\u{2193} {}", short(&d.name));
            (name, percent(d.written, d.size), self.downloads.len() - 1)
        });
        let parts: Vec<String> = [up, down]
            .into_iter()
            .flatten()
            .map(|(name, done, queued)| match queued {
                0 => format!("{name} {done}"),
                q => format!("{name} {done} (+{q})"),
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// "45%" of `of`, rounded down (100% only when complete).
fn percent(done: u64, of: u64) -> String {
    let p = if of == 0 { 100 } else { (u128::from(done) * 100 / u128::from(of)) as u64 };
    format!("{p}%")
}

/// A file name for the status bar: sanitised and cut.
fn short(name: &str) -> String {
    let s = sanitize_line(name);
    match str_width(&s) > STATUS_NAME {
        true => format!("{}\u{2026}", truncate(&s, STATUS_NAME - 1)),
        false => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_shows_what_moves() {
        let mut t = Transfers::default();
        assert_eq!(t.status(), None);
        assert_eq!(t.chunk_size(), MAX_CHUNK);
        t.max_frame = 4096;
        assert_eq!(t.chunk_size(), 4096 - 128);
        let p = std::env::temp_dir().join(format!("banter-status-{}", std::process::id()));
        std::fs::write(&p, vec![7u8; 1000]).unwrap();
        for seq in [1, 2] {
            let u = Upload::open(&p, "f", "lobby", seq).unwrap();
            t.uploads.push_back(u);
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        t.uploads[0].ready(450).unwrap();
        assert_eq!(t.status(), Some(format!("\u{2191} {name} 45% (+1)")));
        t.uploads[0].ready(1000).unwrap();
        assert_eq!(t.status(), Some(format!("\u{2191} {name} storing (+1)")));
        std::fs::remove_file(&p).unwrap();
        assert_eq!(short(&"x\u{1b}".repeat(40)).chars().count(), STATUS_NAME);
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(u64::MAX - 1, u64::MAX), "99%");
    }
}
