//! From plaintext bytes to handlers: splits what a peer sent into frames
//! with `check` (refusing an oversized or zero length from the header
//! alone), keeps a partial frame's bytes for the next call, and routes each
//! frame by the peer's state, with one exhaustive match on [`ClientFrame`]
//! for a logged-in peer.
//!
//! Framing errors are fatal; after WELCOME a malformed body or an unknown
//! type is answered and skipped (its length is known). One file per family
//! of frames: `hello` (HELLO, REGISTER, password checks), `rooms` (JOIN,
//! LEAVE, WHO, QUIT), `typing`, `say` (SAY and the group commit), `history`,
//! `direct` (what `@name` names), `receipts` (MARK, READ, DELIVERED),
//! `files` (UPLOAD, CHUNK) and `fetch` (FETCH).

mod direct;
mod fetch;
mod files;
mod hello;
mod history;
mod receipts;
mod rooms;
mod say;
mod typing;

pub use fetch::Download;
pub use files::Files;
pub(in crate::core) use hello::new_token;
pub use hello::os_random;
pub(in crate::core) use receipts::READ_MAX_MEMBERS;
pub use receipts::{Kind as ReceiptKind, Receipts};
pub use say::Batch;

use super::peer::{Outcome, Reason, State};
use super::{Core, PeerId};
use banter_proto::{check, decode_client, types, ClientFrame, DecodeError, ErrorCode, ServerFrame};

impl Core {
    /// Takes newly arrived plaintext of peer `p`. Frames are handled in
    /// place where they lie whole in `data`; only a frame split across
    /// reads is put together in the peer's buffer, from exactly the bytes
    /// it lacks (a 64 KiB CHUNK is split by nearly every read).
    pub(super) fn ingest(&mut self, p: PeerId, data: &[u8]) {
        let peer = &mut self.peers[p];
        if peer.inbuf.is_empty() {
            return self.ingest_in_place(p, data);
        }
        let mut buf = std::mem::take(&mut peer.inbuf);
        let joins = match banter_proto::frame_size(&buf) {
            Some(total) if total > buf.len() => (total - buf.len()).min(data.len()),
            _ => data.len(), // a header not whole yet, or input held while waiting
        };
        buf.extend_from_slice(&data[..joins]);
        self.keep_rest(p, buf);
        let rest = &data[joins..];
        let peer = &mut self.peers[p];
        if rest.is_empty() || peer.is_closing() {
            return;
        }
        match peer.inbuf.is_empty() {
            true => self.ingest_in_place(p, rest),
            false => peer.inbuf.extend_from_slice(rest), // still waiting: keep it all, in order
        }
    }

    /// Handles the frames at the front of `data` and keeps the rest, with
    /// room for the whole frame it starts when its header says how long.
    fn ingest_in_place(&mut self, p: PeerId, data: &[u8]) {
        let used = self.process(p, data);
        let peer = &mut self.peers[p];
        if !peer.is_closing() && used < data.len() {
            let rest = &data[used..];
            let cap = self.cfg.max_frame as usize + banter_proto::HEADER_LEN;
            let whole = banter_proto::frame_size(rest).filter(|&n| n <= cap).unwrap_or(0);
            peer.inbuf.reserve_exact(whole.max(rest.len()));
            peer.inbuf.extend_from_slice(rest);
        }
    }

    /// Processes a peer's held bytes and keeps what is left over.
    fn keep_rest(&mut self, p: PeerId, mut buf: Vec<u8>) {
        let used = self.process(p, &buf);
        let peer = &mut self.peers[p];
        if peer.is_closing() {
            return;
        }
        buf.drain(..used);
        if !buf.is_empty() {
            buf.shrink_to(buf.len().max(1024));
            peer.inbuf = buf;
        }
    }

    /// After a password check answered: the input that waited, then more
    /// reads (the reactor held them back).
    pub(in crate::core) fn resume_input(&mut self, p: PeerId) {
        let buf = std::mem::take(&mut self.peers[p].inbuf);
        if !buf.is_empty() {
            self.keep_rest(p, buf);
        }
        if self.peers.get(p).is_some_and(|x| !x.is_closing()) {
            self.resume.push(p);
        }
    }

    /// Handles every complete frame at the front of `data`; returns how many
    /// bytes it consumed.
    fn process(&mut self, p: PeerId, data: &[u8]) -> usize {
        let mut at = 0;
        loop {
            let peer = &self.peers[p];
            if peer.is_closing() || peer.state == State::Authenticating || peer.waiting {
                return at;
            }
            let rest = &data[at..];
            let outcome = match check(rest, peer.max_frame(self.cfg.max_frame)) {
                Ok(n) => {
                    self.peers[p].frame_started = None;
                    let outcome = self.on_frame(p, &rest[..n]);
                    if matches!(outcome, Outcome::Retry) {
                        return at;
                    }
                    at += n;
                    self.counters.frames_in += 1;
                    outcome
                }
                Err(DecodeError::Incomplete) => return at,
                Err(e @ DecodeError::TooLarge { .. }) => {
                    Outcome::Close(Reason::fatal(ErrorCode::TooLarge, 0, e.to_string()))
                }
                Err(e) => Outcome::Close(Reason::fatal(ErrorCode::BadFrame, 0, e.to_string())),
            };
            if let Outcome::Close(reason) = outcome {
                self.close(p, reason);
                return at;
            }
        }
    }

    fn on_frame(&mut self, p: PeerId, bytes: &[u8]) -> Outcome {
        let State::Active { session } = self.peers[p].state else {
            return self.on_first_frame(p, bytes);
        };
        match decode_client(bytes) {
            Ok(frame) => {
                log::trace!("#{p} <- {frame:?}"); // secrets redacted by ClientFrame's Debug
                if self.clustered() {
                    match self.c_prefetch(p, session, &frame) {
                        crate::core::cluster::Prefetch::Go => {}
                        crate::core::cluster::Prefetch::Wait => return Outcome::Retry,
                        crate::core::cluster::Prefetch::Skip => return Outcome::Continue,
                    }
                }
                self.on_active_frame(p, session, frame)
            }
            Err(e) => {
                let code = e.error_code().unwrap_or(ErrorCode::BadFrame);
                self.send_error(p, code, e.frame_type(), 0, &e.to_string());
                Outcome::Continue
            }
        }
    }

    fn on_active_frame(&mut self, p: PeerId, s: u32, frame: ClientFrame) -> Outcome {
        match frame {
            ClientFrame::Join { room, since, limit } => self.on_join(p, s, &room, since, limit),
            ClientFrame::Leave { room } => self.on_leave(p, s, &room),
            ClientFrame::Say { room, seq, text, flags } => {
                self.on_say(p, s, &room, seq, text, flags)
            }
            ClientFrame::History { room, before, limit } => {
                self.on_history(p, s, &room, before, limit)
            }
            ClientFrame::Typing { room, active } => self.on_typing(p, s, &room, active),
            ClientFrame::Who { room } => self.on_who(p, s, &room),
            ClientFrame::Quit { reason } => return self.on_quit(s, &reason),
            ClientFrame::Register { password } => return self.on_register(p, s, password),
            ClientFrame::Ping { nonce } => self.send(p, &ServerFrame::Pong { nonce }),
            ClientFrame::Pong { .. } => {}
            ClientFrame::Hello { .. } => {
                self.send_error(p, ErrorCode::BadFrame, types::HELLO, 0, "already logged in");
            }
            ClientFrame::Mark { room, id } => self.on_mark(p, s, &room, id),
            ClientFrame::Upload { seq, room, name, size, mime } => {
                self.on_upload(p, s, (seq, room, name, size, mime))
            }
            ClientFrame::Chunk { seq, offset, data } => self.on_chunk(p, s, seq, offset, data),
            ClientFrame::Fetch { file, offset } => self.on_fetch(p, s, &file, offset),
        }
        Outcome::Continue
    }
}
