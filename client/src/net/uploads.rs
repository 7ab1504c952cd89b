//! Our uploads on the connection (§10, UPLOAD/CHUNK): `/send` after the
//! local checks (files offered, an account, a readable file), the
//! UPLOAD_READY that says where to send from, CHUNKs only while the socket
//! has taken everything queued before them (chat frames go first) and at
//! most [`TURN_CHUNKS`] per loop turn, and the end: the ACK (the file
//! message is shown from what we sent), a replay that shows it already
//! posted, or a refusal.
//!
//! It shows nothing: what happened comes back as events.

use super::files::{after, refusal, MAX_RESYNCS, OFF};
use super::{Net, THROTTLE_PAUSE};
use crate::session::Event;
use crate::transfer::names::describe;
use crate::transfer::upload::{Phase, Upload};
use banter_proto::{types, ErrorCode, FileRef};
use mio::Registry;
use std::path::PathBuf;
use std::time::Instant;

/// CHUNKs sent per loop turn at most; then keys and timers come first.
const TURN_CHUNKS: usize = 16;

/// An upload just asked for, for the UI to tell.
#[derive(Debug, PartialEq, Eq)]
pub struct Sending {
    /// Its seq.
    pub seq: u32,
    /// Where it goes.
    pub room: String,
    /// The name it is shared under.
    pub name: String,
    /// Its size.
    pub size: u64,
    /// The type announced.
    pub mime: String,
    /// Uploads ahead of it.
    pub ahead: usize,
}

impl Sending {
    /// What the UIs say: "sending notes.txt (1.2 KiB, text/plain) to lobby".
    pub fn text(&self) -> String {
        let what = describe(&self.name, self.size, &self.mime);
        format!("sending {what} to {}{}", self.room, after(self.ahead, "upload"))
    }
}

/// `~/x` under `$HOME`.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

impl Net {
    /// `/send PATH` to `room`: opens the file and queues its upload.
    pub fn send_file(&mut self, path: &str, room: &str) -> Result<Sending, String> {
        if self.files.offered == Some(false) {
            return Err(OFF.into());
        }
        if !self.session.is_account() {
            return Err("files need an account: /register PASSWORD, \
                        or sign in with your name's password"
                .into());
        }
        let mut u = Upload::open(&expand_home(path), path, room, 0)?;
        u.seq = self.session.take_seq();
        let (name, size, mime) = (u.name.clone(), u.size, u.mime.clone());
        let s = Sending { seq: u.seq, room: room.into(), name, size, mime, ahead: 0 };
        let s = Sending { ahead: self.files.uploads.len(), ..s };
        self.files.uploads.push_back(u);
        self.file_turn();
        Ok(s)
    }

    pub(super) fn on_ready(&mut self, seq: u32, offset: u64, ev: &mut Vec<Event>) {
        let Some(u) = self.files.upload_mut(seq).filter(|u| u.phase == Phase::Announced) else {
            return;
        };
        match u.ready(offset) {
            Ok(()) if offset > 0 => {
                let (name, size) = (u.name.clone(), u.size);
                ev.push(Event::Resuming { upload: true, name, done: offset, size });
            }
            Ok(()) => {}
            Err(why) => self.fail_upload(seq, why, ev),
        }
    }

    /// The ACK of an upload: its file message is shown (unless a replay
    /// showed it already) and the next upload starts.
    pub(super) fn on_upload_ack(
        &mut self,
        seq: u32,
        room: String,
        id: u64,
        ts: u64,
        ev: &mut Vec<Event>,
    ) {
        let Some(u) = self.files.take_upload(seq) else { return };
        if self.session.mark_seen(&room, id) {
            if let Some(hash) = u.digest() {
                let file = FileRef { file: hash.to_string(), size: u.size, mime: u.mime.clone() };
                let from = self.session.name.clone();
                let shared = self.session.list_file(&room, &from, &u.name, file);
                ev.push(Event::Msg {
                    room: room.clone(),
                    id,
                    ts,
                    from,
                    text: u.name.clone(),
                    action: false,
                    replay: false,
                    catch_up: false,
                    file: Some(shared),
                });
            }
        }
        ev.push(Event::UploadDone { seq, room, id });
        self.file_turn();
    }

    pub(super) fn on_upload_error(
        &mut self,
        code: u16,
        about: u8,
        seq: u32,
        detail: &str,
        now: Instant,
        ev: &mut Vec<Event>,
    ) {
        let Some(u) = self.files.upload_mut(seq) else { return };
        if about == types::CHUNK {
            // Out of step with the server: ask it where it is (once; the
            // errors of the chunks already on their way follow).
            if u.phase == Phase::Announced {
                return;
            }
            if u.resyncs < MAX_RESYNCS {
                u.resyncs += 1;
                let f = u.announce();
                return self.send(&f);
            }
            return self.fail_upload(seq, format!("the server refused its chunks: {detail}"), ev);
        }
        if code == ErrorCode::RateLimited.code() {
            u.phase = Phase::Held;
            self.throttle_until.get_or_insert(now + THROTTLE_PAUSE);
            return;
        }
        self.fail_upload(seq, refusal(code, detail), ev);
    }

    /// Rate-limited uploads may go again.
    pub(super) fn release_held_uploads(&mut self) {
        for u in self.files.uploads.iter_mut().filter(|u| u.phase == Phase::Held) {
            u.phase = Phase::Waiting;
        }
        self.file_turn();
    }

    pub(super) fn fail_upload(&mut self, seq: u32, why: String, ev: &mut Vec<Event>) {
        if let Some(u) = self.files.take_upload(seq) {
            ev.push(Event::UploadFailed { seq, room: u.room.clone(), name: u.name.clone(), why });
        }
        self.file_turn();
    }
    /// A replayed file message of ours that the first upload was waiting
    /// to hear about (the ACK was lost with the connection): it is done.
    pub(super) fn replayed_uploads(&mut self, new: &mut Vec<Event>) {
        let me = self.session.name.clone();
        let mut done = Vec::new();
        for e in new.iter() {
            let Event::Msg { room, id, from, text, file: Some(s), catch_up: true, .. } = e else {
                continue;
            };
            let ours = banter_proto::validate::same_name(from, &me);
            let u = self.files.uploads.front().filter(|u| {
                ours && u.room == *room && u.name == *text && u.digest() == Some(&s.file.file)
            });
            if let Some(u) = u {
                done.push(Event::UploadDone { seq: u.seq, room: room.clone(), id: *id });
                self.files.uploads.pop_front();
            }
        }
        new.extend(done);
    }

    /// Sends CHUNKs of the first upload while the socket takes them all;
    /// past a turn's worth, asks to be called again at once.
    pub(super) fn pump(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        self.chunks_due = None;
        let max = self.files.chunk_size();
        for _ in 0..TURN_CHUNKS {
            let Some(c) = self.conn.as_mut().filter(|c| self.welcomed && c.drained()) else {
                return; // the socket's next writable event calls again
            };
            let Some(u) = self.files.uploads.front_mut() else { return };
            match u.chunk(max) {
                Ok(Some(frame)) => c.queue(&frame),
                Ok(None) => return,
                Err(why) => {
                    let seq = u.seq;
                    return self.fail_upload(seq, why, ev);
                }
            }
            if let Err(b) = c.flush() {
                return self.broken(b, reg, now, ev);
            }
        }
        self.chunks_due = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Conn;
    use crate::net::SOCKET;
    use banter_proto::ClientFrame;

    #[test]
    fn chunks_wait_for_the_socket_and_chat_goes_out_before_them() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let poll = mio::Poll::new().expect("poll");
        let now = Instant::now();
        let mut net = Net::new("127.0.0.1", addr.port(), None, 3, now);
        let conn = Conn::open(addr, "127.0.0.1", None, poll.registry(), SOCKET).expect("open");
        let (_peer, _) = listener.accept().expect("accept"); // it never reads
        net.conn = Some(conn);
        net.welcomed = true;
        let path = std::env::temp_dir().join(format!("banter-pace-{}", std::process::id()));
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(256 << 20).expect("a sparse 256 MiB file");
        let mut u = Upload::open(&path, "big", "lobby", 1).expect("open");
        u.ready(0).expect("ready");
        net.files.uploads.push_back(u);
        for _ in 0..1000 {
            let Some(c) = net.conn.as_mut().filter(|c| !c.drained()) else { break };
            assert!(c.flush().is_ok(), "the connection failed");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut ev = Vec::new();
        for _ in 0..100_000 {
            net.pump(poll.registry(), now, &mut ev);
            if net.chunks_due.is_none() {
                break;
            }
        }
        assert!(ev.is_empty(), "{ev:?}");
        let sent = net.files.uploads[0].next;
        assert!(sent < 256 << 20, "the socket cannot have taken it all");
        let queued = net.conn.as_ref().map_or(0, Conn::queued);
        assert!(queued <= net.files.chunk_size() + 64, "one chunk at most waits: {queued}");
        let say = ClientFrame::Say { room: "lobby".into(), seq: 2, text: "hi".into(), flags: 0 };
        net.send(&say);
        net.pump(poll.registry(), now, &mut ev);
        let after = net.conn.as_ref().map_or(0, Conn::queued);
        assert_eq!(
            after,
            queued + say.to_bytes().len(),
            "the chat line is next, no chunk before it"
        );
        assert_eq!(
            net.files.uploads[0].next, sent,
            "nothing more was read while the socket is full"
        );
        std::fs::remove_file(&path).expect("remove");
    }
}
