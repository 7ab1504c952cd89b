//! Direct conversations (§8): what `@name` names for a session, the checks
//! (a signed-in account on both sides, not oneself), the conversation
//! created on first use, its name as each party sees it, frames to its
//! parties, and the UNREAD counts sent after every WELCOME.
//!
//! A conversation is a room with an internal name (`@a|b`, see
//! `room::direct_name`) and no member list: its two parties are its
//! members, connected or not.

use crate::core::room::direct_name;
use crate::core::session::NO_PEER;
use crate::core::{Core, PeerId};
use banter_proto::validate::{is_valid_name, name_key};
use banter_proto::{ErrorCode, ServerFrame};

impl Core {
    /// The room `room` names for session `s`: a room it is in, or its
    /// conversation with `@name`. A refusal is answered (about `about`,
    /// with `seq`) and gives `None`.
    pub(super) fn target(
        &mut self,
        p: PeerId,
        s: u32,
        room: &str,
        about: u8,
        seq: u32,
    ) -> Option<u32> {
        if let Some(other) = room.strip_prefix('@') {
            return self.conversation(p, s, other, about, seq);
        }
        let found = self.member_room(s, room);
        if found.is_none() {
            self.not_in_room(p, about, seq, room);
        }
        found
    }

    /// Session `s`'s conversation with `other`, created on first use.
    fn conversation(&mut self, p: PeerId, s: u32, other: &str, about: u8, seq: u32) -> Option<u32> {
        let session = &self.sessions[s as usize];
        if !session.account {
            let why = "direct messages are between registered names: sign in with your password or /register";
            self.send_error(p, ErrorCode::AuthRequired, about, seq, why);
            return None;
        }
        let (me, them) = (name_key(&session.name), name_key(other));
        if them == me {
            self.send_error(p, ErrorCode::RoomInvalid, about, seq, "a conversation with yourself");
            return None;
        }
        let internal = direct_name(&me, &them);
        if let Some(&r) = self.room_ids.get(&*internal) {
            return Some(r);
        }
        let shown = banter_proto::truncate_str(other, 64);
        let found = match (is_valid_name(other), self.clustered()) {
            (false, _) => None,
            (true, true) => Some(Ok(self.known_account(&them))),
            (true, false) => Some(self.store.account(&them)),
        };
        match found {
            Some(Ok(Some(_))) => {
                let room = self.new_room(&internal, 0);
                Some(self.add_room(room))
            }
            Some(Err(e)) => {
                self.send_error(
                    p,
                    ErrorCode::Storage,
                    about,
                    seq,
                    &format!("account lookup failed: {e}"),
                );
                None
            }
            _ => {
                self.send_error(
                    p,
                    ErrorCode::NoSuchUser,
                    about,
                    seq,
                    &format!("no account named {shown}"),
                );
                None
            }
        }
    }

    /// The name of room `r` as session `s` sees it: a conversation is
    /// `@` and the other party's name, in lower case.
    pub(in crate::core) fn wire_name(&self, r: u32, s: u32) -> String {
        let room = &self.rooms[r as usize];
        let Some(d) = &room.direct else { return room.name.to_string() };
        let me = name_key(&self.sessions[s as usize].name);
        let other = if *d.keys[0] == *me { &d.keys[1] } else { &d.keys[0] };
        format!("@{other}")
    }

    /// The name of the room whose internal name is `internal` as session `s`
    /// sees it (an ACK remembers rooms by their internal names).
    pub(in crate::core) fn shown_name(&self, internal: &str, s: u32) -> String {
        let Some((a, b)) = internal.strip_prefix('@').and_then(|x| x.split_once('|')) else {
            return internal.to_string();
        };
        let me = name_key(&self.sessions[s as usize].name);
        format!("@{}", if *me == *a { b } else { a })
    }

    /// The live session signed in as account `key`, if any.
    pub(in crate::core) fn account_session(&self, key: &str) -> Option<u32> {
        let &s = self.names.get(key)?;
        let session = &self.sessions[s as usize];
        (session.account && session.peer != NO_PEER).then_some(s)
    }

    /// The live sessions of conversation `r` (its connected parties).
    pub(in crate::core) fn parties(&self, r: u32) -> Vec<u32> {
        let Some(d) = &self.rooms[r as usize].direct else { return Vec::new() };
        d.keys.iter().filter_map(|k| self.account_session(k)).collect()
    }

    /// Sends `build(name)` to every connected member of room `r` but
    /// `except`, `name` being the room as each receiver sees it.
    pub(in crate::core) fn tell_room(
        &mut self,
        r: u32,
        except: Option<u32>,
        build: impl Fn(String) -> ServerFrame,
    ) {
        if self.rooms[r as usize].direct.is_none() {
            let f = build(self.rooms[r as usize].name.to_string());
            return self.broadcast(r, &f, except);
        }
        for s in self.parties(r) {
            if Some(s) != except {
                let f = build(self.wire_name(r, s));
                self.send(self.sessions[s as usize].peer as usize, &f);
            }
        }
    }

    /// After a WELCOME of an account: one UNREAD per conversation with
    /// messages from the other party past its read marker.
    pub(in crate::core) fn send_unread(&mut self, p: PeerId, s: u32) {
        let me = name_key(&self.sessions[s as usize].name);
        let mine = self.sessions[s as usize].name.to_string();
        for r in self.convs.get(&*me).cloned().unwrap_or_default() {
            let room = &self.rooms[r as usize];
            let Some(d) = &room.direct else { continue };
            let read = d.party(&me).map_or(0, |i| d.read[i]);
            if room.last_id <= read {
                continue;
            }
            let count = match room.window_after(read) {
                Some(msgs) => msgs.filter(|m| !m.from.eq_ignore_ascii_case(&mine)).count() as u64,
                None => {
                    self.store.count_after(&room.name.clone(), read, &mine).unwrap_or_else(|e| {
                        log::error!("counting unread of {}: {e}", room.name);
                        0
                    })
                }
            };
            if count > 0 {
                let (room, last_id) = (self.wire_name(r, s), self.rooms[r as usize].last_id);
                let count = count.min(u64::from(u32::MAX)) as u32;
                self.send(p, &ServerFrame::Unread { room, count, last_id, read });
            }
        }
    }
}
