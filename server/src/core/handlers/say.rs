//! SAY with its checks in the spec's order, and the group commit that
//! stores every SAY of a turn in one go before anyone hears of them, with
//! their ACKs and the session changes of the turn (`saved`). On
//! release, each room's messages of the turn are encoded once into one
//! shared buffer that every member's output queues by reference; a member
//! that sent some of them gets the slices around its own (no echo).

use crate::core::budget::Kind;
use crate::core::room::WinMsg;
use crate::core::session::{Ack, NO_PEER};
use crate::core::{Core, PeerId};
use crate::store::{Commit, SavedAck, StoredMsg};
use banter_proto::validate::check_text;
use banter_proto::{encode_msg, types, ErrorCode, FileRef, MsgRef, ServerFrame, FLAG_ACTION};
use bytes::Bytes;
use std::collections::{HashMap, HashSet};

/// A SAY accepted this turn, not yet committed.
#[derive(Debug)]
struct Pending {
    /// Sender session.
    session: u32,
    /// Its uid: the session slot may be reused before the commit.
    uid: u64,
    /// The SAY's seq.
    seq: u32,
    /// Room index.
    room: u32,
    /// The message, id and time assigned.
    msg: WinMsg,
}

/// The SAYs of one turn.
#[derive(Debug, Default)]
pub struct Batch {
    /// In acceptance order (ids increase per room in this order).
    items: Vec<Pending>,
    /// (session, seq) already in `items`: a resent SAY is not stored twice.
    seqs: HashSet<(u32, u32)>,
    /// Repeats of a SAY still in `items`: (session, uid, seq), each answered
    /// with the same ACK once the original is committed.
    repeats: Vec<(u32, u64, u32)>,
}

impl Core {
    pub(super) fn on_say(
        &mut self,
        p: PeerId,
        s: u32,
        room: &str,
        seq: u32,
        text: String,
        flags: u8,
    ) {
        let about = types::SAY;
        if let Some(a) = self.sessions[s as usize].acks.find(seq) {
            return self.send_ack(p, &a);
        }
        if self.batch.seqs.contains(&(s, seq)) {
            // The same SAY is in this batch: it gets the same ACK after the commit.
            let uid = self.sessions[s as usize].uid;
            return self.batch.repeats.push((s, uid, seq));
        }
        if self.clustered() && self.c_repeat(s, seq) {
            return; // on its way to Redis: it gets the same ACK
        }
        if !self.spend_or_refuse(p, s, Kind::Say, about, seq) {
            return;
        }
        let Some(r) = self.target(p, s, room, about, seq) else { return };
        if let Err(e) = check_text(&text, self.cfg.max_text as usize) {
            return self.send_error(p, ErrorCode::TextInvalid, about, seq, &e.to_string());
        }
        self.stop_typing(s, r);
        // The server clears every flag bit but the action's.
        self.accept_message(s, seq, r, text.into(), flags & FLAG_ACTION, None);
    }

    /// Gives an accepted message (a SAY, or a finished upload's file
    /// message) the room's next id and the time, and queues it for the
    /// turn's commit under `seq`.
    pub(super) fn accept_message(
        &mut self,
        s: u32,
        seq: u32,
        r: u32,
        text: Box<str>,
        flags: u8,
        file: Option<Box<FileRef>>,
    ) {
        if self.clustered() {
            return self.c_say(s, seq, r, text, flags, file);
        }
        let room = &mut self.rooms[r as usize];
        let id = room.next_id;
        room.next_id += 1;
        let session = &self.sessions[s as usize];
        let msg = WinMsg { id, ts: self.wall, from: session.name.clone(), text, flags, file };
        self.batch.seqs.insert((s, seq));
        self.batch.items.push(Pending { session: s, uid: session.uid, seq, room: r, msg });
    }

    /// Whether SAYs of this turn wait for the commit.
    #[cfg(any(test, feature = "harness"))]
    pub(in crate::core) fn batch_pending(&self) -> bool {
        !self.batch.items.is_empty()
    }

    /// Stores the turn's SAYs in one transaction, then releases their MSGs
    /// and ACKs; if the store refuses, each gets ERROR STORAGE instead and
    /// the ids are handed out again.
    pub(in crate::core) fn commit_batch(&mut self) -> usize {
        if self.clustered() {
            self.c_store_marks(); // SAYs went to Redis as they came
        }
        let changes = self.session_changes();
        if self.batch.items.is_empty() && self.marks_out.is_empty() && changes.is_empty() {
            return 0;
        }
        let n = self.batch.items.len();
        let batch = std::mem::take(&mut self.batch);
        let marks = std::mem::take(&mut self.marks_out);
        let (rows, acks): (Vec<StoredMsg>, Vec<SavedAck>) = match self.store.is_durable() {
            true => {
                let rows = batch.items.iter().map(|p| self.stored(p)).collect();
                (rows, self.saved_acks(&batch.items))
            }
            false => (Vec::new(), Vec::new()), // the window is the history
        };
        let c = Commit { msgs: &rows, marks: &marks, acks: &acks, sessions: &changes };
        let result = self.store.commit(&c);
        if result.is_err() && !marks.is_empty() {
            self.marks_out.extend(marks); // retried with the next commit
        }
        match result {
            Ok(()) => {
                self.release(batch.items);
                batch.repeats.into_iter().for_each(|(s, uid, seq)| self.ack_again(s, uid, seq));
            }
            Err(e) if batch.items.is_empty() => {
                log::warn!("saving {} session changes failed: {e}", changes.len());
                self.unsave(changes);
            }
            Err(e) => {
                self.unsave(changes);
                self.refuse(batch, &e.to_string());
            }
        }
        n
    }

    /// The ACKs the batch's SAYs will get, numbered on from each sender's
    /// ACK memory, to be saved with them.
    fn saved_acks(&self, items: &[Pending]) -> Vec<SavedAck> {
        let mut next: HashMap<u32, u64> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
        for p in items {
            let Some(session) = self.sessions.get(p.session as usize).filter(|x| x.uid == p.uid)
            else {
                continue;
            };
            let n = next.entry(p.session).or_insert(session.acks.pushed);
            out.push(SavedAck {
                session: banter_proto::validate::name_key(&session.name),
                n: *n,
                seq: p.seq,
                room: self.rooms[p.room as usize].name.to_string(),
                id: p.msg.id,
                ts: p.msg.ts,
            });
            *n += 1;
        }
        out
    }

    fn refuse(&mut self, batch: Batch, why: &str) {
        log::error!("storing {} messages failed: {why}", batch.items.len());
        let detail = format!("message not stored: {why}");
        let repeats = batch.repeats.into_iter();
        let refused = batch.items.iter().map(|p| (p.session, p.uid, p.seq)).chain(repeats);
        for (s, uid, seq) in refused.collect::<Vec<_>>() {
            if let Some(p) = self.live_peer(s, uid) {
                self.send_error(p, ErrorCode::Storage, types::SAY, seq, &detail);
            }
        }
        for p in &batch.items {
            let room = &mut self.rooms[p.room as usize];
            room.next_id = room.last_id + 1;
        }
    }

    fn stored(&self, p: &Pending) -> StoredMsg {
        StoredMsg {
            room: self.rooms[p.room as usize].name.to_string(),
            id: p.msg.id,
            ts: p.msg.ts,
            from: p.msg.from.to_string(),
            text: p.msg.text.to_string(),
            flags: p.msg.flags,
            file: p.msg.file.as_deref().cloned(),
        }
    }

    /// The live peer of session `s` if it is still the session `uid` names.
    fn live_peer(&self, s: u32, uid: u64) -> Option<PeerId> {
        let session = self.sessions.get(s as usize).filter(|x| x.uid == uid)?;
        (session.peer != NO_PEER).then_some(session.peer as usize)
    }

    /// Committed: each room's MSGs go out as one shared buffer, then every
    /// ACK in the order the SAYs were accepted.
    fn release(&mut self, items: Vec<Pending>) {
        self.counters.messages += items.len() as u64;
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| items[i].room); // stable: ids stay in order
        for group in order.chunk_by(|&a, &b| items[a].room == items[b].room) {
            let group: Vec<&Pending> = group.iter().map(|&i| &items[i]).collect();
            self.fan_out(&group);
        }
        for p in items {
            let room = self.rooms[p.room as usize].name.clone();
            let ack = Ack { seq: p.seq, room, id: p.msg.id, ts: p.msg.ts };
            if let Some(peer) = self.live_peer(p.session, p.uid) {
                self.send_ack(peer, &ack);
            }
            if let Some(session) =
                self.sessions.get_mut(p.session as usize).filter(|x| x.uid == p.uid)
            {
                session.acks.push(ack);
            }
            if let Some(f) = &p.msg.file {
                let room = self.rooms[p.room as usize].name.clone();
                self.file_posted(&room, f, &p.msg.from);
            }
            self.remember(p.room, p.msg);
        }
    }

    /// One room's new messages, encoded once, to every connected member.
    fn fan_out(&mut self, group: &[&Pending]) {
        let r = group[0].room;
        if self.rooms[r as usize].direct.is_some() {
            return self.fan_out_direct(group);
        }
        let mut buf = Vec::new();
        let mut spans = Vec::with_capacity(group.len());
        for p in group {
            let start = buf.len();
            let m = &p.msg;
            let name = &self.rooms[r as usize].name;
            let mr = MsgRef {
                room: name,
                id: m.id,
                ts: m.ts,
                from: &m.from,
                flags: m.flags,
                text: &m.text,
                file: m.file.as_deref(),
            };
            encode_msg(&mut buf, &mr);
            spans.push((start, buf.len(), p.session));
        }
        let frames = Bytes::from(buf);
        let members = std::mem::take(&mut self.rooms[r as usize].members);
        // A large room's members are written in rounds (see `take_dirty`).
        self.fanning_out_big = members.len() > crate::core::output::BULK_ABOVE;
        for &m in &members {
            let peer = self.sessions[m as usize].peer;
            if peer == NO_PEER {
                continue;
            }
            let own = spans.iter().filter(|&&(_, _, s)| s == m).count();
            if own > 0 {
                self.send_around_own(peer as usize, &frames, &spans, m);
            } else {
                self.send_shared(peer as usize, &frames);
            }
            let n = (spans.len() - own) as u64;
            self.counters.deliveries += n;
            self.counters.frames_out += n;
        }
        self.fanning_out_big = false;
        self.rooms[r as usize].members = members;
    }

    /// A conversation's new messages to the connected party that did not
    /// send them, named from its side, with a delivery mark.
    fn fan_out_direct(&mut self, group: &[&Pending]) {
        let r = group[0].room;
        for s in self.parties(r) {
            let p = self.sessions[s as usize].peer as usize;
            let room = self.wire_name(r, s);
            let theirs: Vec<&WinMsg> =
                group.iter().filter(|x| x.session != s).map(|x| &x.msg).collect();
            let Some(last) = theirs.last().map(|m| m.id) else { continue };
            for m in &theirs {
                let f = MsgRef {
                    room: &room,
                    id: m.id,
                    ts: m.ts,
                    from: &m.from,
                    flags: m.flags,
                    text: &m.text,
                    file: m.file.as_deref(),
                };
                let Some(peer) = self.peers.get_mut(p).filter(|x| !x.is_closing()) else { break };
                peer.out.push_with(|b| encode_msg(b, &f));
            }
            self.counters.deliveries += theirs.len() as u64;
            self.counters.frames_out += theirs.len() as u64;
            self.expect_delivery(p, r, last);
            self.after_push(p);
        }
    }

    /// The slices of `frames` between session `m`'s own messages.
    fn send_around_own(
        &mut self,
        p: PeerId,
        frames: &Bytes,
        spans: &[(usize, usize, u32)],
        m: u32,
    ) {
        let mut from = 0;
        for &(start, end, s) in
            spans.iter().chain(std::iter::once(&(frames.len(), frames.len(), m)))
        {
            if s != m {
                continue;
            }
            if start > from {
                self.send_shared(p, &frames.slice(from..start));
            }
            from = end;
        }
    }

    /// Sends the remembered ACK of `seq` again (a repeat in the same batch).
    fn ack_again(&mut self, s: u32, uid: u64, seq: u32) {
        let Some(p) = self.live_peer(s, uid) else { return };
        if let Some(a) = self.sessions[s as usize].acks.find(seq) {
            self.send_ack(p, &a);
        }
    }

    /// Sends an ACK as remembered (the same bytes every time it is repeated).
    pub(in crate::core) fn send_ack(&mut self, p: PeerId, a: &Ack) {
        let Some(s) = self.peers[p].session() else { return };
        let room = self.shown_name(&a.room, s);
        self.send(p, &ServerFrame::Ack { seq: a.seq, room, id: a.id, ts: a.ts });
    }
}
