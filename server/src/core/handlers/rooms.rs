//! Rooms as the users see them: JOIN (with its exact answer order), LEAVE,
//! WHO and ROSTER splitting, QUIT, and PRESENCE to the other members.
//!
//! Messages are in `say`, history pages in `history`, typing in `typing`;
//! what a room holds is in `core::room`.

use crate::core::bounds::NoRoom;
use crate::core::budget::Kind;
use crate::core::peer::{Outcome, Reason};
use crate::core::session::MAX_ROOMS;
use crate::core::{Core, PeerId};
use banter_proto::validate::{clean_reason, is_valid_name, name_key};
use banter_proto::{types, ErrorCode, PresenceEvent, ServerFrame};

impl Core {
    /// The index of an existing room the session is in, or `None`.
    pub(super) fn member_room(&self, s: u32, room: &str) -> Option<u32> {
        if !is_valid_name(room) {
            return None;
        }
        let r = *self.room_ids.get(&*name_key(room))?;
        self.sessions[s as usize].in_room(r).then_some(r)
    }

    /// JOIN/LEAVE tokens a membership change of session `s` in `room` costs:
    /// 1, plus one per 200 members its PRESENCE goes to (at most 25 more),
    /// so a JOIN/LEAVE loop in a big room pays for what it makes the server
    /// send. A JOIN of a room already joined changes nothing: 1.
    fn membership_cost(&self, s: u32, room: &str, joining: bool) -> u32 {
        let Some(&r) = is_valid_name(room).then(|| self.room_ids.get(&*name_key(room))).flatten()
        else {
            return 1;
        };
        let member = self.sessions[s as usize].in_room(r);
        if member == joining {
            return 1;
        }
        let members = self.rooms[r as usize].members.len().min(5000) as u32;
        1 + members / 200
    }

    /// NOT_IN_ROOM about frame type `about`.
    pub(super) fn not_in_room(&mut self, p: PeerId, about: u8, seq: u32, room: &str) {
        let detail = format!("not in room {}", banter_proto::truncate_str(room, 64));
        self.send_error(p, ErrorCode::NotInRoom, about, seq, &detail);
    }

    pub(super) fn on_join(&mut self, p: PeerId, s: u32, room: &str, since: u64, limit: u16) {
        let cost = self.membership_cost(s, room, true);
        if !self.spend_n_or_refuse(p, s, Kind::Room, cost, types::JOIN, 0) {
            return;
        }
        if room.starts_with('@') {
            return self.join_conversation(p, s, room, since, limit);
        }
        if !is_valid_name(room) {
            let detail =
                "room names are 1-32 of A-Z a-z 0-9 _ . - and start with a letter or digit";
            return self.send_error(p, ErrorCode::RoomInvalid, types::JOIN, 0, detail);
        }
        let r = match self.room_or_create(room) {
            Ok(r) => r,
            Err(NoRoom::Full) => {
                let detail = "the server holds too many rooms: try again later";
                return self.send_error(p, ErrorCode::RateLimited, types::JOIN, 0, detail);
            }
            Err(NoRoom::Storage(e)) => {
                let detail = format!("the room could not be opened: {e}");
                return self.send_error(p, ErrorCode::Storage, types::JOIN, 0, &detail);
            }
        };
        let already = self.sessions[s as usize].in_room(r);
        if !already && self.sessions[s as usize].rooms.len() >= MAX_ROOMS {
            self.vacated(r); // created for nothing, perhaps
            let detail = format!("at most {MAX_ROOMS} rooms at once");
            return self.send_error(p, ErrorCode::TooManyRooms, types::JOIN, 0, &detail);
        }
        self.rooms[r as usize].active_at = self.now;
        if self.clustered() {
            return self.c_join(p, s, r, already, since, limit);
        }
        if !already {
            self.sessions[s as usize].rooms.push(r);
            self.rooms[r as usize].members.push(s);
            self.save(s);
        }
        let room = &self.rooms[r as usize];
        let joined = ServerFrame::Joined {
            room: room.name.to_string(),
            last_id: room.last_id,
            members: room.members.len() as u32,
            read: self.sessions[s as usize].mark(&self.rooms[r as usize].name),
        };
        self.send(p, &joined);
        self.send_roster(p, r);
        if limit > 0 {
            self.send_page(p, s, r, since, 0, limit);
        }
        self.members_read(p, s, r);
        if !already {
            let name = self.sessions[s as usize].name.to_string();
            self.presence(r, &name, PresenceEvent::Joined, "", Some(s));
        }
    }

    /// After a JOIN of a room of at most 100 members: the other members'
    /// read markers as READ frames, so "seen by" survives a reload.
    fn members_read(&mut self, p: PeerId, s: u32, r: u32) {
        let room = &self.rooms[r as usize];
        if room.members.len() > super::receipts::READ_MAX_MEMBERS {
            return;
        }
        let key = &*room.name;
        let marks: Vec<(String, u64)> = room
            .members
            .iter()
            .filter(|&&m| m != s)
            .map(|&m| &self.sessions[m as usize])
            .filter(|x| x.mark(key) > 0)
            .map(|x| (x.name.to_string(), x.mark(key)))
            .collect();
        let wire = room.name.to_string();
        for (name, id) in marks {
            self.send(p, &ServerFrame::Read { room: wire.clone(), name, id });
        }
    }

    /// JOIN of `@name`: the conversation's answer (§8), no PRESENCE, no
    /// membership to change; then the other party's receipts.
    fn join_conversation(&mut self, p: PeerId, s: u32, room: &str, since: u64, limit: u16) {
        let Some(r) = self.target(p, s, room, types::JOIN, 0) else { return };
        if self.clustered() {
            return self.c_join_conv(p, s, r, since, limit);
        }
        let key = name_key(&self.sessions[s as usize].name);
        let Some(d) = self.rooms[r as usize].direct.clone() else { return };
        let read = d.party(&key).map_or(0, |i| d.read[i]);
        let wire = self.wire_name(r, s);
        let last_id = self.rooms[r as usize].last_id;
        self.send(p, &ServerFrame::Joined { room: wire.clone(), last_id, members: 2, read });
        let names = d.keys.iter().map(|k| self.display_name(k)).collect();
        self.send(p, &ServerFrame::Roster { room: wire, more: 0, names });
        if limit > 0 {
            self.send_page(p, s, r, since, 0, limit);
        }
        self.conversation_state(p, s, r);
    }

    pub(super) fn on_leave(&mut self, p: PeerId, s: u32, room: &str) {
        let cost = self.membership_cost(s, room, false);
        if !self.spend_n_or_refuse(p, s, Kind::Room, cost, types::LEAVE, 0) {
            return;
        }
        if room.starts_with('@') {
            // A conversation's parties stay its members: LEFT, nothing else.
            if let Some(r) = self.target(p, s, room, types::LEAVE, 0) {
                self.send(p, &ServerFrame::Left { room: self.wire_name(r, s) });
            }
            return;
        }
        let Some(r) = self.member_room(s, room) else {
            return self.not_in_room(p, types::LEAVE, 0, room);
        };
        if self.clustered() {
            return self.c_leave(p, s, r);
        }
        self.stop_typing(s, r);
        self.sessions[s as usize].leave(r);
        self.rooms[r as usize].remove_member(s);
        self.vacated(r);
        self.save(s);
        let name = self.rooms[r as usize].name.to_string();
        self.send(p, &ServerFrame::Left { room: name });
        let who = self.sessions[s as usize].name.to_string();
        self.presence(r, &who, PresenceEvent::Left, "", None);
    }

    pub(super) fn on_who(&mut self, p: PeerId, s: u32, room: &str) {
        if !self.spend_or_refuse(p, s, Kind::Query, types::WHO, 0) {
            return;
        }
        let Some(r) = self.target(p, s, room, types::WHO, 0) else { return };
        match self.rooms[r as usize].direct.clone() {
            Some(d) => {
                let names = d.keys.iter().map(|k| self.display_name(k)).collect();
                self.send(p, &ServerFrame::Roster { room: self.wire_name(r, s), more: 0, names });
            }
            None if self.clustered() => self.c_who(p, s, r),
            None => self.send_roster(p, r),
        }
    }

    /// ROSTER frames of room `r`.
    fn send_roster(&mut self, p: PeerId, r: u32) {
        let room = &self.rooms[r as usize];
        let names = room.members.iter().map(|&m| self.sessions[m as usize].name.to_string());
        let (room, names) = (room.name.to_string(), names.collect());
        self.send_roster_names(p, &room, names);
    }

    /// ROSTER frames of `room` listing `names`, split so none is over the
    /// frame limit.
    pub(in crate::core) fn send_roster_names(&mut self, p: PeerId, room: &str, all: Vec<String>) {
        // type + room str + more + list count
        let base = 1 + 2 + room.len() + 1 + 2;
        let max = self.cfg.max_frame as usize;
        let mut frames = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut size = base;
        for name in all {
            if !names.is_empty()
                && (size + 2 + name.len() > max || names.len() == u16::MAX as usize)
            {
                frames.push(std::mem::take(&mut names));
                size = base;
            }
            size += 2 + name.len();
            names.push(name);
        }
        frames.push(names);
        let last = frames.len() - 1;
        let room = room.to_string();
        for (i, names) in frames.into_iter().enumerate() {
            let more = u8::from(i < last);
            self.send(p, &ServerFrame::Roster { room: room.clone(), more, names });
        }
    }

    pub(super) fn on_quit(&mut self, s: u32, reason: &str) -> Outcome {
        // SAYs of this turn are owed their ACKs before the session ends.
        let _ = self.commit_batch();
        let reason = clean_reason(reason);
        if self.clustered() {
            return self.c_quit(s, &reason);
        }
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
}
