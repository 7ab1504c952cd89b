//! From bytes to handlers: splits what a connection sent into frames with
//! `check` (refusing an oversized or zero length from the header alone),
//! keeps a partial frame's bytes for the next read, and routes each frame by
//! the connection's state and the frame's type.
//!
//! Framing errors are fatal; after WELCOME a malformed body or an unknown
//! type is answered and skipped (its length is known).

use crate::conn::{Outcome, Reason, State};
use crate::server::Server;
use banter_proto::{
    check, decode_client, types, ClientFrame, DecodeError, ErrorCode, ServerFrame, HEADER_LEN,
};

impl Server {
    /// Takes newly read bytes of connection `key`.
    pub(crate) fn ingest(&mut self, key: usize, data: &[u8]) {
        let conn = &mut self.conns[key];
        if conn.inbuf.is_empty() {
            let used = self.process(key, data);
            let conn = &mut self.conns[key];
            if !conn.is_closing() && used < data.len() {
                conn.inbuf.extend_from_slice(&data[used..]);
            }
        } else {
            let mut buf = std::mem::take(&mut conn.inbuf);
            buf.extend_from_slice(data);
            self.keep_rest(key, buf);
        }
    }

    /// Processes a connection's held bytes and keeps what is left over.
    fn keep_rest(&mut self, key: usize, mut buf: Vec<u8>) {
        let used = self.process(key, &buf);
        let conn = &mut self.conns[key];
        if conn.is_closing() {
            return;
        }
        buf.drain(..used);
        if !buf.is_empty() {
            buf.shrink_to(buf.len().max(1024));
            conn.inbuf = buf;
        }
    }

    /// After the hasher answered: the input that waited, then more reads.
    pub(crate) fn resume_input(&mut self, key: usize) {
        let buf = std::mem::take(&mut self.conns[key].inbuf);
        if !buf.is_empty() {
            self.keep_rest(key, buf);
        }
        if self.conns.get(key).is_some_and(|c| !c.is_closing()) {
            self.on_readable(key, true); // reads were held back: read to WouldBlock
        }
    }

    /// Handles every complete frame at the front of `data`; returns how
    /// many bytes it consumed.
    fn process(&mut self, key: usize, data: &[u8]) -> usize {
        let mut at = 0;
        loop {
            let conn = &self.conns[key];
            if conn.is_closing() || conn.state == State::Authenticating {
                return at;
            }
            let rest = &data[at..];
            let outcome = match check(rest, conn.max_frame(self.cfg.max_frame)) {
                Ok(n) => {
                    at += n;
                    self.on_frame(key, &rest[..n])
                }
                Err(DecodeError::Incomplete) => return at,
                Err(e @ DecodeError::TooLarge { .. }) => {
                    Outcome::Close(Reason::fatal(ErrorCode::TooLarge, 0, e.to_string()))
                }
                Err(e) => Outcome::Close(Reason::fatal(ErrorCode::BadFrame, 0, e.to_string())),
            };
            if let Outcome::Close(reason) = outcome {
                self.close_conn(key, reason);
                return at;
            }
        }
    }

    fn on_frame(&mut self, key: usize, bytes: &[u8]) -> Outcome {
        let session = match self.conns[key].state {
            State::Active { session } => session,
            _ => return self.on_first_frame(key, bytes),
        };
        let ty = bytes[HEADER_LEN];
        if !types::is_client(ty) {
            let detail = match types::name(ty) {
                "UNKNOWN" => format!("unknown frame type 0x{ty:02x}"),
                name => format!("{name} is a server-to-client frame"),
            };
            self.send_error(key, ErrorCode::UnknownType, ty, 0, &detail);
            return Outcome::Continue;
        }
        match decode_client(bytes) {
            Ok(frame) => self.on_active_frame(key, session, frame),
            Err(e) => {
                let code = e.error_code().unwrap_or(ErrorCode::BadFrame);
                self.send_error(key, code, e.frame_type(), 0, &e.to_string());
                Outcome::Continue
            }
        }
    }

    fn on_active_frame(&mut self, key: usize, s: u32, frame: ClientFrame) -> Outcome {
        log::trace!("#{key} <- {frame:?}");
        match frame {
            ClientFrame::Join { room, since, limit } => self.on_join(key, s, &room, since, limit),
            ClientFrame::Leave { room } => self.on_leave(key, s, &room),
            ClientFrame::Say { room, seq, text, .. } => self.on_say(key, s, &room, seq, text),
            ClientFrame::History { room, before, limit } => {
                self.on_history(key, s, &room, before, limit)
            }
            ClientFrame::Typing { room, active } => self.on_typing(key, s, &room, active),
            ClientFrame::Who { room } => self.on_who(key, s, &room),
            ClientFrame::Quit { reason } => return self.on_quit(s, &reason),
            ClientFrame::Register { password } => self.on_register(key, s, password),
            ClientFrame::Ping { nonce } => self.send(key, &ServerFrame::Pong { nonce }),
            ClientFrame::Pong { .. } => {}
            ClientFrame::Mark { .. }
            | ClientFrame::Upload { .. }
            | ClientFrame::Chunk { .. }
            | ClientFrame::Fetch { .. } => {
                let ty = frame.frame_type();
                let detail = format!("{} is not offered by this server", types::name(ty));
                self.send_error(key, ErrorCode::UnknownType, ty, 0, &detail);
            }
            ClientFrame::Hello { .. } => {
                self.send_error(key, ErrorCode::BadFrame, types::HELLO, 0, "already logged in");
            }
        }
        Outcome::Continue
    }
}
