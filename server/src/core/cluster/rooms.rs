//! JOIN, LEAVE, WHO and HISTORY in a cluster. Membership lives in Redis;
//! this node keeps its own members of each room (for fan-out) and the
//! room's channel subscription while the room is in memory here. A JOIN
//! pauses its member until the answer, built from one script's atomic
//! view (roster, newest id, replay page, markers), has gone out; events
//! numbered after that view then follow. A resumed session's rooms are
//! joined silently (the script only says where the stream stands).

use super::{arg, clamp_id, Wait};
use crate::cluster::event::Record;
use crate::cluster::resp::Value;
use crate::cluster::scripts::Script;
use crate::core::room::WinMsg;
use crate::core::{Core, PeerId};
use banter_proto::validate::name_key;
use banter_proto::{types, ErrorCode, ServerFrame};

/// A JOIN between its script and its answer.
#[derive(Debug)]
pub(in crate::core) struct Joining {
    /// The joining session (and its uid: the slot may be reused).
    s: u32,
    uid: u64,
    /// The room (and its uid).
    r: u32,
    room_uid: u64,
    /// JOIN.limit.
    limit: u16,
    /// The membership is new on this node (undone if the script fails).
    fresh: bool,
    /// A resumed membership: nothing is answered.
    silent: bool,
    /// A conversation (the JOIN_CONV script's answer).
    conv: bool,
}

/// The channel of an ordinary room's events.
pub(super) fn room_channel(room: &str) -> String {
    format!("b:r:{room}")
}

impl Core {
    /// JOIN of ordinary room `r` (created here if need be), after the
    /// single server's checks.
    pub(in crate::core) fn c_join(
        &mut self,
        p: PeerId,
        s: u32,
        r: u32,
        already: bool,
        since: u64,
        limit: u16,
    ) {
        if !already {
            self.sessions[s as usize].rooms.push(r);
            self.rooms[r as usize].members.push(s);
        }
        let session = &self.sessions[s as usize];
        let (sid, name, uid) = (session.sid, session.name.to_string(), session.uid);
        let room = self.rooms[r as usize].name.to_string();
        let (room_uid, fresh) = (self.rooms[r as usize].uid, !already);
        let j = Joining { s, uid, r, room_uid, limit, fresh, silent: false, conv: false };
        self.cl().paused.entry((s, r)).or_default();
        let args = vec![arg(&room), arg(sid), arg(name), arg(clamp_id(since)), arg(limit)];
        self.eval_when_ready(&room_channel(&room), Script::Join, args, Wait::Join(j));
        self.hold(p);
    }

    /// JOIN of conversation `r`: its answer from Redis.
    pub(in crate::core) fn c_join_conv(
        &mut self,
        p: PeerId,
        s: u32,
        r: u32,
        since: u64,
        limit: u16,
    ) {
        let session = &self.sessions[s as usize];
        let (uid, me) = (session.uid, name_key(&session.name));
        let Some(d) = self.rooms[r as usize].direct.as_ref() else { return };
        let other = if *d.keys[0] == *me { d.keys[1].to_string() } else { d.keys[0].to_string() };
        let room = self.rooms[r as usize].name.to_string();
        let room_uid = self.rooms[r as usize].uid;
        let j = Joining { s, uid, r, room_uid, limit, fresh: false, silent: false, conv: true };
        self.cl().paused.entry((s, r)).or_default();
        let args = vec![arg(room), arg(me), arg(other), arg(clamp_id(since)), arg(limit)];
        self.eval(Script::JoinConv, args, Wait::Join(j));
        self.hold(p);
    }

    /// A resumed session's membership of `room`, brought to this node.
    pub(super) fn rejoin(&mut self, s: u32, room: &str) {
        let Ok(r) = self.room_or_create(room) else { return }; // a room it cannot have here
        if self.sessions[s as usize].in_room(r) {
            return;
        }
        self.sessions[s as usize].rooms.push(r);
        self.rooms[r as usize].members.push(s);
        if self.cl().syncs.get(&r).is_some_and(|x| x.base) {
            return; // the stream is known here: live events reach it from now on
        }
        let session = &self.sessions[s as usize];
        let (sid, name, uid) = (session.sid, session.name.to_string(), session.uid);
        let room_uid = self.rooms[r as usize].uid;
        let j = Joining { s, uid, r, room_uid, limit: 0, fresh: false, silent: true, conv: false };
        let args = vec![arg(room), arg(sid), arg(name), arg(0), arg(0)];
        self.eval_when_ready(&room_channel(room), Script::Join, args, Wait::Join(j));
    }

    pub(super) fn on_joined(&mut self, j: Joining, v: Value) {
        if self.rooms.get(j.r as usize).is_none_or(|x| x.uid != j.room_uid) {
            return;
        }
        let items = v.items();
        let num = |i: usize| items.get(i).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
        // JOIN: added, ev, last, names, read, more, page, marks.
        // JOIN_CONV: ev, last, read, more, page, their read, their delivered.
        let at = usize::from(!j.conv);
        let (ev, last) = (num(at), num(at + 1));
        self.set_base(j.r, last, ev);
        let p = self.live(j.s, j.uid).filter(|_| !j.silent);
        if let Some(p) = p {
            if j.conv {
                self.answer_conv(p, &j, last, items);
            } else {
                self.answer_join(p, &j, last, items);
            }
        }
        self.unpause(j.s, j.r, ev);
        if let Some(p) = p {
            self.unhold(p);
        }
    }

    fn answer_join(&mut self, p: PeerId, j: &Joining, last: u64, items: &[Value]) {
        let names = strings(items.get(3));
        let read = items.get(4).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
        let room = self.rooms[j.r as usize].name.to_string();
        let members = names.len() as u32;
        self.send(p, &ServerFrame::Joined { room: room.clone(), last_id: last, members, read });
        self.send_roster_names(p, &room, names);
        if j.limit > 0 {
            let more = items.get(5).and_then(Value::as_int) == Some(1);
            let msgs = page(items.get(6));
            self.send_msgs(p, j.s, j.r, msgs, more);
        }
        let marks = strings(items.get(7));
        for pair in marks.chunks(2) {
            if let [name, id] = pair {
                let id = id.parse().unwrap_or(0);
                self.send(p, &ServerFrame::Read { room: room.clone(), name: name.clone(), id });
            }
        }
    }

    fn answer_conv(&mut self, p: PeerId, j: &Joining, last: u64, items: &[Value]) {
        let num = |i: usize| items.get(i).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
        let room = self.wire_name(j.r, j.s);
        self.send(
            p,
            &ServerFrame::Joined { room: room.clone(), last_id: last, members: 2, read: num(2) },
        );
        let keys = self.rooms[j.r as usize].direct.as_ref().map(|d| d.keys.clone());
        let names = keys.into_iter().flatten().map(|k| self.display_name(&k)).collect();
        self.send(p, &ServerFrame::Roster { room: room.clone(), more: 0, names });
        if j.limit > 0 {
            let more = items.get(3).and_then(Value::as_int) == Some(1);
            self.send_msgs(p, j.s, j.r, page(items.get(4)), more);
        }
        let (read, delivered) = (num(5), num(6));
        if delivered > 0 {
            self.send(p, &ServerFrame::Delivered { room: room.clone(), id: delivered });
        }
        if read > 0 {
            let me = name_key(&self.sessions[j.s as usize].name);
            let other = self.rooms[j.r as usize]
                .direct
                .as_ref()
                .and_then(|d| d.keys.iter().find(|k| ***k != *me).cloned());
            let name = self.display_name(&other.unwrap_or_default());
            self.send(p, &ServerFrame::Read { room, name, id: read });
        }
    }

    pub(super) fn join_failed(&mut self, j: Joining, why: &str) {
        self.cl().paused.remove(&(j.s, j.r));
        let Some(session) = self.sessions.get(j.s as usize).filter(|x| x.uid == j.uid) else {
            return;
        };
        let (sid, name) = (session.sid, session.name.to_string());
        if j.fresh && self.rooms.get(j.r as usize).is_some_and(|x| x.uid == j.room_uid) {
            // The script may have run before the link broke: undo it too.
            self.sessions[j.s as usize].leave(j.r);
            self.rooms[j.r as usize].remove_member(j.s);
            self.vacated(j.r);
            let room = self.rooms[j.r as usize].name.to_string();
            self.owe(Script::Leave, vec![arg(room), arg(sid), arg(name)]);
        }
        if let Some(p) = self.live(j.s, j.uid).filter(|_| !j.silent) {
            let detail = format!("the room could not be joined: {why}");
            self.send_error(p, ErrorCode::Storage, types::JOIN, 0, &detail);
            self.unhold(p);
        }
    }

    /// LEAVE of ordinary room `r` the session is in.
    pub(in crate::core) fn c_leave(&mut self, p: PeerId, s: u32, r: u32) {
        self.stop_typing(s, r);
        self.sessions[s as usize].leave(r);
        self.rooms[r as usize].remove_member(s);
        self.vacated(r);
        let room = self.rooms[r as usize].name.to_string();
        self.send(p, &ServerFrame::Left { room: room.clone() });
        let session = &self.sessions[s as usize];
        let args = vec![arg(room), arg(session.sid), arg(&session.name)];
        self.owe(Script::Leave, args);
    }

    /// WHO of ordinary room `r`: the roster from Redis.
    pub(in crate::core) fn c_who(&mut self, p: PeerId, s: u32, r: u32) {
        let uid = self.sessions[s as usize].uid;
        let room = self.rooms[r as usize].name.to_string();
        self.eval(Script::Who, vec![arg(room)], Wait::Who { s, uid, r });
        self.hold(p);
    }

    pub(super) fn on_who_reply(&mut self, s: u32, uid: u64, r: u32, v: Value) {
        let Some(p) = self.live(s, uid) else { return };
        if let Some(room) = self.rooms.get(r as usize).map(|x| x.name.to_string()) {
            self.send_roster_names(p, &room, strings(Some(&v)));
        }
        self.unhold(p);
    }

    /// HISTORY of room or conversation `r`: a page from the log.
    pub(in crate::core) fn c_history(
        &mut self,
        p: PeerId,
        s: u32,
        r: u32,
        before: u64,
        limit: u16,
    ) {
        let uid = self.sessions[s as usize].uid;
        let room = self.rooms[r as usize].name.to_string();
        let args = vec![arg(room), arg(clamp_id(before)), arg(limit)];
        self.eval(Script::History, args, Wait::History { s, uid, r });
        self.hold(p);
    }

    pub(super) fn on_history_reply(&mut self, s: u32, uid: u64, r: u32, v: Value) {
        let Some(p) = self.live(s, uid) else { return };
        let items = v.items();
        let more = items.first().and_then(Value::as_int) == Some(1);
        if self.rooms.get(r as usize).is_some() {
            self.send_msgs(p, s, r, page(items.get(1)), more);
        }
        self.unhold(p);
    }

    /// WHO or HISTORY could not be answered.
    pub(super) fn query_failed(&mut self, s: u32, uid: u64, about: u8, why: &str) {
        let Some(p) = self.live(s, uid) else { return };
        self.send_error(p, ErrorCode::Storage, about, 0, &format!("could not be read: {why}"));
        self.unhold(p);
    }

    /// The JOIN answer of `s` in `r` (covering events up to `ev`) is out:
    /// what came after goes to it now.
    fn unpause(&mut self, s: u32, r: u32, ev: u64) {
        let Some(held) = self.cl().paused.remove(&(s, r)) else { return };
        for rec in held.into_iter().filter(|x| x.ev > ev) {
            self.deliver(r, &rec, Some(s));
        }
    }
}

/// The strings of an array reply.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.map(Value::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.as_str().map(String::from))
        .collect()
}

/// Log records as messages (those that are not are skipped).
fn page(v: Option<&Value>) -> Vec<WinMsg> {
    let recs = v.map(Value::items).unwrap_or_default();
    recs.iter()
        .filter_map(|x| x.as_bytes())
        .filter_map(Record::decode)
        .filter_map(|r| super::events::win_msg(r.event))
        .collect()
}
