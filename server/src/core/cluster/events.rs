//! What arrives on this node's channels: a room's (or conversation's)
//! numbered events, applied in order to the local members, and a node's
//! own messages (a session taken over elsewhere). Messages go out in id
//! order with neither gap nor repeat: a repeat (a conversation's event on
//! both parties' channels, or one a fill already brought) is dropped; a
//! gap (a subscription lost and made again) holds what follows until the
//! missing messages are read from the room's log.

use super::rooms::room_channel;
use super::{arg, Sync, Wait};
use crate::cluster::event::{Event, Record};
use crate::cluster::resp::Value;
use crate::cluster::scripts::Script;
use crate::core::output::{BULK_ABOVE, SHARE_ABOVE};
use crate::core::room::WinMsg;
use crate::core::session::NO_PEER;
use crate::core::Core;
use banter_proto::{encode_msg, FileRef, MsgRef, ServerFrame};
use bytes::Bytes;
use std::rc::Rc;

/// A message event as a message of a room's window.
pub(super) fn win_msg(e: Event) -> Option<WinMsg> {
    let Event::Msg { id, ts, from, flags, text, file, .. } = e else { return None };
    Some(WinMsg { id, ts, from: from.into(), text: text.into(), flags, file: file.map(Box::new) })
}

impl Core {
    pub(super) fn on_record(&mut self, channel: &str, bytes: &[u8]) {
        let Some(rec) = Record::decode(bytes) else {
            return log::warn!("cluster: an unreadable record on {channel}");
        };
        if let Event::Supersede { sid } = rec.event {
            return self.superseded(sid);
        }
        let r = match self.room_ids.get(rec.room.as_str()) {
            Some(&r) => r,
            None if rec.room.starts_with('@') => match self.local_conversation(&rec.room) {
                Some(r) => r,
                None => return,
            },
            None => return, // no member here any more
        };
        self.take_record(r, Rc::new(rec));
    }

    /// Conversation `name` in memory here, if one of its parties is.
    fn local_conversation(&mut self, name: &str) -> Option<u32> {
        let d = crate::core::room::Direct::from_name(name)?;
        d.keys.iter().find_map(|k| self.account_session(k))?;
        let room = self.new_room(name, 0);
        Some(self.add_room(room))
    }

    /// An event of room `r`: applied now, or held while the stream's base
    /// is unknown or a gap is being filled.
    fn take_record(&mut self, r: u32, rec: Rc<Record>) {
        let direct = self.rooms[r as usize].direct.is_some();
        let sync = self.cl().syncs.entry(r).or_default();
        if !sync.base && direct {
            // A conversation's stream starts with the first message seen;
            // its other events are not ordered against messages.
            let Event::Msg { id, .. } = rec.event else { return self.apply(r, rec) };
            sync.base = true;
            self.rooms[r as usize].last_id = id.saturating_sub(1);
        }
        let sync = self.cl().syncs.entry(r).or_default();
        if !sync.base || sync.filling {
            sync.held.push(rec);
            return;
        }
        self.apply(r, rec);
    }

    /// Applies an event in order; a message past a gap starts a fill.
    fn apply(&mut self, r: u32, rec: Rc<Record>) {
        match &rec.event {
            Event::Msg { id, .. } => {
                let last = self.rooms[r as usize].last_id;
                if *id <= last {
                    return;
                }
                if *id > last + 1 {
                    log::debug!("cluster: {} jumps from {last} to {id}: filling", rec.room);
                    let sync = self.cl().syncs.entry(r).or_default();
                    sync.held.push(rec);
                    return self.fill(r);
                }
                self.rooms[r as usize].last_id = *id;
            }
            Event::Delivered { id, to } => return self.delivered_event(r, *id, to),
            _ => {}
        }
        self.deliver(r, &rec, None);
    }

    /// The base of room `r`'s stream is known: newest id `last` as of
    /// event `ev`. Events held until now that it covers are dropped.
    pub(super) fn set_base(&mut self, r: u32, last: u64, ev: u64) {
        let sync = self.cl().syncs.entry(r).or_default();
        if sync.base {
            return;
        }
        sync.base = true;
        let held: Vec<_> =
            std::mem::take(&mut sync.held).into_iter().filter(|x| x.ev > ev).collect();
        self.rooms[r as usize].last_id = last;
        self.drain(r, held);
    }

    /// Applies held events in order until one starts a fill; the rest wait.
    fn drain(&mut self, r: u32, held: Vec<Rc<Record>>) {
        let mut it = held.into_iter();
        while let Some(rec) = it.next() {
            if self.cl().syncs.get(&r).is_some_and(|x| x.filling) {
                let sync = self.cl().syncs.entry(r).or_default();
                sync.held.push(rec);
                sync.held.extend(it);
                return;
            }
            self.apply(r, rec);
        }
    }

    /// Reads the messages after room `r`'s last id from its log.
    fn fill(&mut self, r: u32) {
        let sync = self.cl().syncs.entry(r).or_default();
        sync.filling = true;
        sync.stalled = false;
        let room = &self.rooms[r as usize];
        let (name, last, room_uid) = (room.name.to_string(), room.last_id, room.uid);
        self.eval(Script::After, vec![arg(name), arg(last)], Wait::Fill { r, room_uid });
    }

    pub(super) fn on_fill(&mut self, r: u32, room_uid: u64, v: Value) {
        if self.rooms.get(r as usize).is_none_or(|x| x.uid != room_uid) {
            return;
        }
        let recs = v.items();
        let full = recs.len() >= 1000;
        log::debug!("cluster: fill of {} brought {}", self.rooms[r as usize].name, recs.len());
        for rec in recs.iter().filter_map(Value::as_bytes).filter_map(Record::decode) {
            let id = match rec.event {
                Event::Msg { id, .. } => id,
                _ => continue,
            };
            if id == self.rooms[r as usize].last_id + 1 {
                self.rooms[r as usize].last_id = id;
                self.deliver(r, &Rc::new(rec), None);
            }
        }
        if full {
            return self.fill(r); // more to read before what was held
        }
        let sync = self.cl().syncs.entry(r).or_default();
        sync.filling = false;
        let held = std::mem::take(&mut sync.held);
        self.drain(r, held);
    }

    /// A fill Redis did not answer: tried again when it is back.
    pub(super) fn fill_failed(&mut self, r: u32, room_uid: u64) {
        if self.rooms.get(r as usize).is_some_and(|x| x.uid == room_uid) {
            self.cl().syncs.entry(r).or_default().stalled = true;
        }
    }

    /// Redis is back: stalled fills start again.
    pub(super) fn retry_fills(&mut self) {
        let stalled: Vec<u32> =
            self.cl().syncs.iter().filter(|(_, x)| x.stalled).map(|(&r, _)| r).collect();
        stalled.into_iter().for_each(|r| self.fill(r));
    }

    pub(super) fn on_subscribed(&mut self, channel: &str) {
        let c = self.cl();
        let Some(ch) = c.chans.get_mut(channel) else { return };
        ch.ready = true;
        let lost = std::mem::take(&mut ch.lost);
        c.ops.append(&mut ch.deferred);
        if !lost {
            return;
        }
        // Events may have been missed while unsubscribed: read the logs.
        let rooms: Vec<u32> = if let Some(room) = channel.strip_prefix("b:r:") {
            self.room_ids.get(room).copied().into_iter().collect()
        } else if let Some(key) = channel.strip_prefix("b:u:") {
            self.convs.get(key).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        for r in rooms {
            if self.cl().syncs.get(&r).is_some_and(|x| x.base && !x.filling) {
                self.fill(r);
            }
        }
    }

    pub(super) fn on_resubscribed(&mut self) {
        for ch in self.cl().chans.values_mut() {
            ch.ready = false;
            ch.lost = true;
        }
    }

    /// An ordinary room came into memory here: its channel is subscribed.
    pub(in crate::core) fn c_room_added(&mut self, name: &str, r: u32) {
        self.cl().syncs.insert(r, Sync::default());
        self.subscribe(room_channel(name));
    }

    /// A room left memory here: its channel goes.
    pub(in crate::core) fn c_room_freed(&mut self, name: &str, r: u32) {
        self.cl().syncs.remove(&r);
        self.unsubscribe(&room_channel(name));
    }

    /// Sends an event of room `r` to its members here (or to `only`),
    /// holding it for members whose JOIN answer is owed.
    pub(super) fn deliver(&mut self, r: u32, rec: &Rc<Record>, only: Option<u32>) {
        let direct = self.rooms[r as usize].direct.is_some();
        let targets: Vec<u32> = match only {
            Some(s) => vec![s],
            None if direct => self.parties(r),
            None => self.rooms[r as usize].members.clone(),
        };
        let author = sid_of(&rec.event);
        let mut shared: Option<Bytes> = None;
        // A large room's fan-out is written in rounds, as on one server.
        self.fanning_out_big = only.is_none() && targets.len() > BULK_ABOVE;
        for s in targets {
            let Some(session) = self.sessions.get(s as usize) else { continue };
            if Some(session.sid) == author || session.peer == NO_PEER {
                continue;
            }
            let p = session.peer as usize;
            if only.is_none() {
                if let Some(held) = self.cl().paused.get_mut(&(s, r)) {
                    held.push(rec.clone());
                    continue;
                }
            }
            if direct {
                let name = self.wire_name(r, s);
                let bytes = encode(&name, &rec.event);
                self.send_bytes(p, &bytes);
                if let Event::Msg { id, .. } = rec.event {
                    self.expect_delivery(p, r, id);
                }
            } else {
                // Encoded once; copied when small, as one server does.
                let frame =
                    shared.get_or_insert_with(|| Bytes::from(encode(&rec.room, &rec.event)));
                if frame.len() > SHARE_ABOVE {
                    self.send_shared(p, frame);
                } else {
                    self.send_bytes(p, frame);
                }
            }
            self.counters.frames_out += 1;
            if matches!(rec.event, Event::Msg { .. }) {
                self.counters.deliveries += 1;
            }
        }
        self.fanning_out_big = false;
    }

    /// A party's delivery reached this node: its author here hears of it.
    fn delivered_event(&mut self, r: u32, id: u64, to: &str) {
        let Some(d) = self.rooms[r as usize].direct.as_ref() else { return };
        let Some(author) = d.keys.iter().find(|k| ***k != *to).cloned() else { return };
        if let Some(s) = self.account_session(&author) {
            let room = self.wire_name(r, s);
            self.send(
                self.sessions[s as usize].peer as usize,
                &ServerFrame::Delivered { room, id },
            );
        }
    }
}

/// The session an event came from (no echo to it).
fn sid_of(e: &Event) -> Option<u64> {
    match e {
        Event::Msg { sid, .. }
        | Event::Presence { sid, .. }
        | Event::Typing { sid, .. }
        | Event::Read { sid, .. } => Some(*sid),
        Event::Delivered { .. } | Event::Supersede { .. } => None,
    }
}

/// The frame of an event for a receiver that calls the room `room`.
fn encode(room: &str, e: &Event) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64);
    match e {
        Event::Msg { id, ts, from, flags, text, file, .. } => {
            let f: Option<&FileRef> = file.as_ref();
            encode_msg(
                &mut buf,
                &MsgRef { room, id: *id, ts: *ts, from, flags: *flags, text, file: f },
            );
        }
        Event::Presence { name, event, reason, .. } => {
            let f = ServerFrame::Presence {
                room: room.into(),
                name: name.clone(),
                event: *event,
                reason: reason.clone(),
            };
            f.encode(&mut buf);
        }
        Event::Typing { name, active, .. } => {
            ServerFrame::Typing { room: room.into(), name: name.clone(), active: *active }
                .encode(&mut buf)
        }
        Event::Read { name, id, .. } => {
            ServerFrame::Read { room: room.into(), name: name.clone(), id: *id }.encode(&mut buf)
        }
        Event::Delivered { .. } | Event::Supersede { .. } => {}
    }
    buf
}
