//! Rooms as the users see them: JOIN (with its exact answer order), LEAVE,
//! WHO and ROSTER splitting, TYPING and its automatic stops, QUIT, and
//! sending one frame to every member of a room.
//!
//! Messages and history are in `chat`; what a room stores is in `room`.

use crate::conn::{Outcome, Reason};
use crate::room::Room;
use crate::server::Server;
use crate::session::{MAX_ROOMS, NO_CONN};
use banter_proto::validate::{clean_reason, is_valid_name, name_key};
use banter_proto::{types, ErrorCode, PresenceEvent, ServerFrame};

impl Server {
    /// The index of an existing room the session is in, or `None`.
    pub(crate) fn member_room(&self, s: u32, room: &str) -> Option<u32> {
        if !is_valid_name(room) {
            return None;
        }
        let r = *self.room_ids.get(&*name_key(room))?;
        self.sessions[s as usize].in_room(r).then_some(r)
    }

    /// NOT_IN_ROOM about frame type `about`.
    pub(crate) fn not_in_room(&mut self, key: usize, about: u8, seq: u32, room: &str) {
        let detail = format!("not in room {}", banter_proto::truncate_str(room, 64));
        self.send_error(key, ErrorCode::NotInRoom, about, seq, &detail);
    }

    fn room_or_create(&mut self, name: &str) -> u32 {
        let key = name_key(name);
        if let Some(&r) = self.room_ids.get(&*key) {
            return r;
        }
        let r = self.rooms.len() as u32;
        self.rooms.push(Room::new(&key, 0));
        self.room_ids.insert(key.into(), r);
        r
    }

    pub(crate) fn on_join(&mut self, key: usize, s: u32, room: &str, since: u64, limit: u16) {
        if !is_valid_name(room) {
            let detail =
                "room names are 1-32 of A-Z a-z 0-9 _ . - and start with a letter or digit";
            return self.send_error(key, ErrorCode::RoomInvalid, types::JOIN, 0, detail);
        }
        let r = self.room_or_create(room);
        let already = self.sessions[s as usize].in_room(r);
        if !already && self.sessions[s as usize].rooms.len() >= MAX_ROOMS {
            let detail = format!("at most {MAX_ROOMS} rooms at once");
            return self.send_error(key, ErrorCode::TooManyRooms, types::JOIN, 0, &detail);
        }
        if !already {
            self.sessions[s as usize].rooms.push(r);
            self.rooms[r as usize].members.push(s);
        }
        let room = &self.rooms[r as usize];
        let joined = ServerFrame::Joined {
            read: 0,
            room: room.name.to_string(),
            last_id: room.last_id,
            members: room.members.len() as u32,
        };
        self.send(key, &joined);
        self.send_roster(key, r);
        if limit > 0 {
            self.send_page(key, r, since, 0, limit);
        }
        if !already {
            let name = self.sessions[s as usize].name.to_string();
            self.presence(r, &name, PresenceEvent::Joined, "", Some(s));
        }
    }

    pub(crate) fn on_leave(&mut self, key: usize, s: u32, room: &str) {
        let Some(r) = self.member_room(s, room) else {
            return self.not_in_room(key, types::LEAVE, 0, room);
        };
        self.stop_typing(s, r);
        self.sessions[s as usize].leave(r);
        self.rooms[r as usize].remove_member(s);
        let name = self.rooms[r as usize].name.to_string();
        self.send(key, &ServerFrame::Left { room: name });
        let who = self.sessions[s as usize].name.to_string();
        self.presence(r, &who, PresenceEvent::Left, "", None);
    }

    pub(crate) fn on_who(&mut self, key: usize, s: u32, room: &str) {
        match self.member_room(s, room) {
            Some(r) => self.send_roster(key, r),
            None => self.not_in_room(key, types::WHO, 0, room),
        }
    }

    /// ROSTER frames of room `r`, split so none is over the frame limit.
    fn send_roster(&mut self, key: usize, r: u32) {
        let room = &self.rooms[r as usize];
        // type + room str + more + list count
        let base = 1 + 2 + room.name.len() + 1 + 2;
        let max = self.cfg.max_frame as usize;
        let mut frames = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut size = base;
        for &m in &room.members {
            let name = &self.sessions[m as usize].name;
            if !names.is_empty()
                && (size + 2 + name.len() > max || names.len() == u16::MAX as usize)
            {
                frames.push(std::mem::take(&mut names));
                size = base;
            }
            size += 2 + name.len();
            names.push(name.to_string());
        }
        frames.push(names);
        let last = frames.len() - 1;
        let room = room.name.to_string();
        for (i, names) in frames.into_iter().enumerate() {
            let more = u8::from(i < last);
            self.send(key, &ServerFrame::Roster { room: room.clone(), more, names });
        }
    }

    pub(crate) fn on_typing(&mut self, key: usize, s: u32, room: &str, active: u8) {
        if !self.conns[key].bucket.take(self.cfg.rate, self.now) {
            return self.send_error(
                key,
                ErrorCode::RateLimited,
                types::TYPING,
                0,
                "too many SAY/TYPING frames",
            );
        }
        let Some(r) = self.member_room(s, room) else {
            return self.not_in_room(key, types::TYPING, 0, room);
        };
        let session = &mut self.sessions[s as usize];
        let active = u8::from(active != 0);
        if active == 1 && !session.typing.contains(&r) {
            session.typing.push(r);
        } else if active == 0 {
            session.stop_typing(r);
        }
        self.typing_frame(s, r, active);
    }

    fn typing_frame(&mut self, s: u32, r: u32, active: u8) {
        let f = ServerFrame::Typing {
            room: self.rooms[r as usize].name.to_string(),
            name: self.sessions[s as usize].name.to_string(),
            active,
        };
        self.broadcast(r, &f, Some(s));
    }

    /// Sends TYPING `active = 0` for `s` in `r` if it was typing there.
    pub(crate) fn stop_typing(&mut self, s: u32, r: u32) {
        if self.sessions[s as usize].stop_typing(r) {
            self.typing_frame(s, r, 0);
        }
    }

    /// Stops every typing state of `s`.
    pub(crate) fn stop_all_typing(&mut self, s: u32) {
        let Some(session) = self.sessions.get(s as usize) else {
            return;
        };
        for r in session.typing.clone() {
            self.stop_typing(s, r);
        }
    }

    pub(crate) fn on_quit(&mut self, s: u32, reason: &str) -> Outcome {
        // SAYs of this iteration are owed their ACKs before the session ends.
        self.commit_batch();
        let reason = clean_reason(reason);
        self.end_session(s, PresenceEvent::Quit, &reason);
        Outcome::Close(Reason::quiet(format!("quit: {reason}")))
    }

    fn presence(
        &mut self,
        r: u32,
        name: &str,
        event: PresenceEvent,
        reason: &str,
        except: Option<u32>,
    ) {
        let room = self.rooms[r as usize].name.to_string();
        let f = ServerFrame::Presence {
            room,
            name: name.to_string(),
            event: event as u8,
            reason: reason.to_string(),
        };
        self.broadcast(r, &f, except);
    }

    /// Sends `f` (encoded once) to every connected member of room `r` but `except`.
    pub(crate) fn broadcast(&mut self, r: u32, f: &ServerFrame, except: Option<u32>) {
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        f.encode(&mut bytes);
        self.send_to_members(r, &bytes, except);
        self.scratch = bytes;
    }

    /// Appends encoded frames to every connected member of room `r` but `except`.
    pub(crate) fn send_to_members(&mut self, r: u32, bytes: &[u8], except: Option<u32>) {
        let members = std::mem::take(&mut self.rooms[r as usize].members);
        for &m in &members {
            if Some(m) == except {
                continue;
            }
            let conn = self.sessions[m as usize].conn;
            if conn != NO_CONN {
                self.send_bytes(conn as usize, bytes);
            }
        }
        self.rooms[r as usize].members = members;
    }
}
