//! How the session reacts to frames from the server (everything but the
//! handshake, heartbeats and fatal errors, which `net` handles): dedupe of
//! messages by room and id, ACKs, catch-up after a reconnect and the resend
//! of unacknowledged SAYs with their original seq, and the numbering of
//! file messages shown. Direct conversations' UNREAD and receipts are in
//! `inbound/direct.rs`; the frames of file transfers are `net/files.rs`'s.

use crate::session::{Event, RoomSync, Session, Shared};
use crate::transfer::catalog::Listed;
use banter_proto::validate::{is_direct, same_name};
use banter_proto::{
    types, ClientFrame, ErrorCode, FileRef, PresenceEvent, ServerFrame, FLAG_ACTION, FLAG_REPLAY,
};

/// The fields of a MSG this client uses.
struct Said {
    /// Its room.
    room: String,
    /// Its id in the room.
    id: u64,
    /// Server time, ms.
    ts: u64,
    /// The sender.
    from: String,
    /// MSG flags (replay, action).
    flags: u8,
    /// The text (a file's name).
    text: String,
    /// A file message's file.
    file: Option<FileRef>,
}

/// The spec name of an error code (or its number).
pub fn code_name(code: u16) -> String {
    ErrorCode::from_code(code).map_or_else(|| format!("ERROR_{code}"), |c| c.name().to_string())
}

impl Session {
    /// Handles one frame; frames to send in answer go to `out`.
    pub fn handle(&mut self, f: ServerFrame, out: &mut Vec<ClientFrame>) -> Vec<Event> {
        match f {
            ServerFrame::Msg { room, id, ts, from, flags, text, file } => {
                if is_direct(&room) {
                    // No JOIN is needed to receive: follow it from now on.
                    self.rooms.entry(room.clone()).or_default();
                }
                self.on_msg(Said { room, id, ts, from, flags, text, file })
            }
            ServerFrame::Ack { seq, room, id, ts } => {
                self.mark_seen(&room, id);
                match self.pending.remove(&seq) {
                    Some(p) => {
                        let action = p.flags & FLAG_ACTION != 0;
                        vec![Event::Acked { seq, room, id, ts, text: p.text, action }]
                    }
                    None => vec![],
                }
            }
            ServerFrame::Error { code, about, seq, detail } => {
                self.on_error(code, about, seq, detail)
            }
            ServerFrame::Joined { room, last_id, members, read } => {
                self.on_joined(room, last_id, members, read, out)
            }
            ServerFrame::Unread { room, count, last_id, read } => {
                self.on_unread(room, count, last_id, read, out)
            }
            ServerFrame::HistoryEnd { room, count, more } => {
                if self.rooms.get_mut(&room).is_some_and(|r| std::mem::take(&mut r.reset)) {
                    return vec![];
                }
                self.end_catch_up(&room, out);
                vec![Event::HistoryEnd { room, count, more: more != 0 }]
            }
            other => self.handle_simple(other),
        }
    }

    /// Frames that need no answer and touch little state.
    fn handle_simple(&mut self, f: ServerFrame) -> Vec<Event> {
        match f {
            ServerFrame::Left { room } => {
                self.rooms.remove(&room);
                vec![Event::Left { room }]
            }
            ServerFrame::Roster { room, more, names } => self.on_roster(room, more != 0, names),
            ServerFrame::Presence { room, name, event, reason } => {
                presence(room, name, event, reason)
            }
            ServerFrame::Typing { room, name, active } => {
                vec![Event::Typing { room, name, active: active != 0 }]
            }
            ServerFrame::Notice { text } => vec![Event::Notice(text)],
            ServerFrame::Registered { name } => {
                if let Some(p) = self.registering.take() {
                    self.password = p;
                }
                vec![Event::Registered(name)]
            }
            ServerFrame::Delivered { room, id } => self.on_delivered(room, id),
            ServerFrame::Read { room, name, id } => self.on_read(room, name, id),
            _ => vec![],
        }
    }

    /// JOINED. A room whose newest id is below the last one we saw was
    /// restarted without its history: forget its ids, ignore the replay
    /// this JOIN brings (it is after the wrong id) and JOIN again from 0.
    fn on_joined(
        &mut self,
        room: String,
        last_id: u64,
        members: u32,
        read: u64,
        out: &mut Vec<ClientFrame>,
    ) -> Vec<Event> {
        if let Some(i) = self.joins.iter().position(|r| *r == room) {
            self.joins.remove(i);
        }
        let r = self.rooms.entry(room.clone()).or_default();
        let mut events = Vec::new();
        if last_id < r.last_id {
            *r = RoomSync { reset: true, catch_up_from: Some(0), ..RoomSync::default() };
            out.push(self.join_frame(&room));
            let text = format!("the server lost the history of {room}; showing what it has");
            events.push(Event::Notice(text));
        }
        events.push(Event::Joined { room, members, read });
        events
    }

    fn on_msg(&mut self, m: Said) -> Vec<Event> {
        let Said { room, id, ts, from, flags, text, file } = m;
        let replay = flags & FLAG_REPLAY != 0;
        let action = flags & FLAG_ACTION != 0;
        let catch_up_from = self.rooms.get(&room).and_then(|r| r.catch_up_from);
        if self.rooms.get(&room).is_some_and(|r| r.reset) || !self.mark_seen(&room, id) {
            return vec![];
        }
        // A replayed message of ours stored before its ACK was lost: it
        // acknowledges the pending SAY instead of showing twice.
        let ours = replay && same_name(&from, &self.name) && catch_up_from.is_some_and(|f| id > f);
        if ours && file.is_none() {
            let seq = self
                .pending
                .iter()
                .find(|(_, p)| !p.failed && p.room == room && p.text == text)
                .map(|(s, _)| *s);
            if let Some(seq) = seq {
                let p = self.pending.remove(&seq);
                let action = p.is_some_and(|p| p.flags & FLAG_ACTION != 0);
                return vec![Event::Acked { seq, room, id, ts, text, action }];
            }
        }
        let catch_up = catch_up_from.is_some();
        let file = file.map(|file| self.list_file(&room, &from, &text, file));
        vec![Event::Msg { room, id, ts, from, text, action, replay, catch_up, file }]
    }

    /// Numbers a file message about to be shown.
    pub(crate) fn list_file(&mut self, room: &str, from: &str, name: &str, f: FileRef) -> Shared {
        let listed = Listed {
            room: room.to_string(),
            from: from.to_string(),
            name: name.to_string(),
            file: f.clone(),
        };
        Shared { n: self.files.add(listed), file: f }
    }

    /// The catch-up replay of `room` is complete: resend its pending SAYs.
    fn end_catch_up(&mut self, room: &str, out: &mut Vec<ClientFrame>) {
        let Some(r) = self.rooms.get_mut(room) else {
            return;
        };
        if r.catch_up_from.take().is_none() {
            return;
        }
        let seqs: Vec<u32> = self
            .pending
            .iter()
            .filter(|(_, p)| !p.failed && p.room == room)
            .map(|(s, _)| *s)
            .collect();
        for seq in seqs {
            out.extend(self.say_frame(seq));
        }
    }

    fn on_error(&mut self, code: u16, about: u8, seq: u32, detail: String) -> Vec<Event> {
        let name = code_name(code);
        if about == types::SAY && seq != 0 {
            if let Some(p) = self.pending.get_mut(&seq) {
                if code == ErrorCode::RateLimited.code() {
                    p.held = true;
                    return vec![Event::Throttled { seq }];
                }
                p.failed = true;
                let room = p.room.clone();
                return vec![Event::SayFailed { seq, room, code: name, detail }];
            }
        }
        if about == types::TYPING && code == ErrorCode::RateLimited.code() {
            // A typing notice the server had no room for: nothing to tell.
            return vec![];
        }
        if about == types::MARK {
            // A marker for a room just left: nothing the user can act on.
            return vec![];
        }
        if about == types::JOIN {
            // JOINs are answered in order and an ERROR names no room.
            if let Some(room) = self.joins.pop_front() {
                let forgotten = self.rooms.get(&room).is_none_or(|r| r.last_id == 0);
                if forgotten {
                    self.rooms.remove(&room);
                }
                return vec![Event::JoinFailed { room, code: name, detail, forgotten }];
            }
        }
        if about == types::REGISTER {
            self.registering = None;
        }
        vec![Event::Error { code: name, detail }]
    }

    fn on_roster(&mut self, room: String, more: bool, names: Vec<String>) -> Vec<Event> {
        let acc = self.roster.entry(room.clone()).or_default();
        acc.extend(names);
        if more {
            return vec![];
        }
        let names = self.roster.remove(&room).unwrap_or_default();
        vec![Event::Roster { room, names }]
    }
}

mod direct;

fn presence(room: String, name: String, event: u8, reason: String) -> Vec<Event> {
    let what = match PresenceEvent::from_u8(event) {
        Some(PresenceEvent::Joined) => "joined",
        Some(PresenceEvent::Left) => "left",
        Some(PresenceEvent::Quit) => "quit",
        Some(PresenceEvent::Lost) => "lost",
        None => return vec![],
    };
    vec![Event::Presence { room, name, what, reason }]
}
