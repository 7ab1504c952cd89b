//! File sharing (§10) between the transfers and the connection: what the
//! server offers (WELCOME), the turn of each transfer (an UPLOAD goes out
//! once its room has caught up after a (re)connect, so a replay that shows
//! the file already posted ends it instead; a FETCH from what is written),
//! and which frames are the transfers' (ACK, UPLOAD_READY, FILE_DATA, the
//! ERRORs about UPLOAD, CHUNK and FETCH). After a reconnect each resumes:
//! UPLOAD again with its seq (the server answers with the offset it has),
//! FETCH from what is written. Uploads are `uploads.rs`', downloads
//! `downloads.rs`'.
//!
//! It shows nothing: what happened comes back as events.

use super::Net;
use crate::inbound::code_name;
use crate::session::Event;
use crate::transfer::download::Download;
use crate::transfer::upload::{Phase, Upload};
use banter_proto::{types, ErrorCode, ServerFrame};
use std::time::Instant;

/// Answers out of step tolerated per transfer (each one resyncs).
pub(super) const MAX_RESYNCS: u32 = 3;
/// Why nothing can be shared on this server.
pub(super) const OFF: &str =
    "this server does not offer file sharing (no \"files\" in its features)";

/// ", after N other uploads" (or downloads) when some are ahead.
pub(super) fn after(ahead: usize, what: &str) -> String {
    match ahead {
        0 => String::new(),
        1 => format!(", after another {what}"),
        n => format!(", after {n} other {what}s"),
    }
}

/// Why the server refused a transfer, in words.
pub(super) fn refusal(code: u16, detail: &str) -> String {
    match ErrorCode::from_code(code) {
        Some(ErrorCode::UnknownType) => OFF.to_string(),
        _ => format!("{}: {detail}", code_name(code)),
    }
}

impl Net {
    /// Starts what can start: the first upload's UPLOAD once its room is
    /// caught up, the first download's FETCH.
    pub(super) fn file_turn(&mut self) {
        if !self.online() || self.files.offered != Some(true) {
            return;
        }
        let rooms = &self.session.rooms;
        let upload = self.files.uploads.front_mut().filter(|u| {
            u.phase == Phase::Waiting
                && rooms.get(&u.room).is_none_or(|r| r.catch_up_from.is_none())
        });
        let up = upload.map(Upload::announce);
        let down = self.files.downloads.front_mut().filter(|d| !d.fetching).map(Download::fetch);
        for f in up.iter().chain(down.iter()) {
            self.send(f);
        }
    }

    /// After WELCOME: what the server offers, then resume.
    pub(super) fn files_welcome(
        &mut self,
        features: &[String],
        max_frame: u32,
        ev: &mut Vec<Event>,
    ) {
        let offered = features.iter().any(|f| f == "files");
        self.files.offered = Some(offered);
        self.files.max_frame = max_frame;
        if !offered {
            for u in std::mem::take(&mut self.files.uploads) {
                let (seq, room, name) = (u.seq, u.room.clone(), u.name.clone());
                ev.push(Event::UploadFailed { seq, room, name, why: OFF.into() });
            }
            for d in std::mem::take(&mut self.files.downloads) {
                ev.push(Event::SaveFailed { n: d.n, name: d.name.clone(), why: OFF.into() });
            }
        }
        if let Some(d) = self.files.downloads.front().filter(|d| d.written > 0 && !d.fetching) {
            let (name, done, size) = (d.name.clone(), d.written, d.size);
            ev.push(Event::Resuming { upload: false, name, done, size });
        }
        self.file_turn();
    }

    /// Takes the frames of file transfers; gives back every other frame.
    pub(super) fn file_frame(
        &mut self,
        f: ServerFrame,
        now: Instant,
        ev: &mut Vec<Event>,
    ) -> Option<ServerFrame> {
        match f {
            ServerFrame::UploadReady { seq, offset } => self.on_ready(seq, offset, ev),
            ServerFrame::FileData { file, offset, last, data } => {
                self.on_file_data(&file, offset, last != 0, &data, ev)
            }
            ServerFrame::Ack { seq, room, id, ts } if self.files.upload_mut(seq).is_some() => {
                self.on_upload_ack(seq, room, id, ts, ev)
            }
            ServerFrame::Error { code, about, seq, detail }
                if matches!(about, types::UPLOAD | types::CHUNK)
                    && self.files.upload_mut(seq).is_some() =>
            {
                self.on_upload_error(code, about, seq, &detail, now, ev)
            }
            ServerFrame::Error { code, about: types::FETCH, detail, .. }
                if !self.files.downloads.is_empty() =>
            {
                self.fail_download(refusal(code, &detail), ev);
            }
            f => return Some(f),
        }
        None
    }
}
