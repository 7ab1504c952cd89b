//! Messages: SAY with its checks in the spec's order, the group commit that
//! stores every SAY of an iteration in one go before anyone hears of them,
//! the fan-out (each MSG encoded once), and history pages for HISTORY and
//! JOIN replay, from the room's window or, for older pages, the database.

use crate::room::WinMsg;
use crate::server::Server;
use crate::session::{Ack, NO_CONN};
use crate::store::StoredMsg;
use banter_proto::validate::check_text;
use banter_proto::{encode_msg, types, ErrorCode, MsgRef, ServerFrame, FLAG_REPLAY, HEADER_LEN};
use std::collections::HashSet;

/// A SAY accepted this iteration, not yet committed.
#[derive(Debug)]
pub struct Pending {
    /// Sender session.
    session: u32,
    /// Its token: the session slot may be reused before the commit.
    token: u64,
    /// The SAY's seq.
    seq: u32,
    /// Room index.
    room: u32,
    /// The message, id and time assigned.
    msg: WinMsg,
}

/// The SAYs of one iteration.
#[derive(Debug, Default)]
pub struct Batch {
    /// In acceptance order (ids increase per room in this order).
    items: Vec<Pending>,
    /// (session, seq) already in `items`: a resent SAY is not stored twice.
    seqs: HashSet<(u32, u32)>,
    /// Repeats of a SAY still in `items`: (session, token, seq), each
    /// answered with the same ACK once the original is committed.
    repeats: Vec<(u32, u64, u32)>,
}

fn wall_ms() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    t.map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Server {
    pub(crate) fn on_say(&mut self, key: usize, s: u32, room: &str, seq: u32, text: String) {
        let about = types::SAY;
        if let Some(a) = self.sessions[s as usize].acks.find(seq) {
            return self.send_ack(key, a);
        }
        if self.batch.seqs.contains(&(s, seq)) {
            // The same SAY is in this batch: it gets the same ACK after the commit.
            let token = self.sessions[s as usize].token;
            return self.batch.repeats.push((s, token, seq));
        }
        if !self.conns[key].bucket.take(self.cfg.rate, self.now) {
            return self.send_error(
                key,
                ErrorCode::RateLimited,
                about,
                seq,
                "too many SAY/TYPING frames",
            );
        }
        let Some(r) = self.member_room(s, room) else {
            return self.not_in_room(key, about, seq, room);
        };
        if let Err(e) = check_text(&text, self.cfg.max_text as usize) {
            return self.send_error(key, ErrorCode::TextInvalid, about, seq, &e.to_string());
        }
        self.stop_typing(s, r);
        let room = &mut self.rooms[r as usize];
        let id = room.next_id;
        room.next_id += 1;
        let session = &self.sessions[s as usize];
        let msg = WinMsg { id, ts: wall_ms(), from: session.name.clone(), text: text.into() };
        self.batch.seqs.insert((s, seq));
        self.batch.items.push(Pending { session: s, token: session.token, seq, room: r, msg });
    }

    /// Stores the iteration's SAYs in one transaction, then releases their
    /// MSGs and ACKs; if the store refuses, each gets ERROR STORAGE instead
    /// and the ids are handed out again.
    pub(crate) fn commit_batch(&mut self) {
        if self.batch.items.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let result = if self.store.is_durable() {
            let rows: Vec<StoredMsg> = batch.items.iter().map(|p| self.stored(p)).collect();
            self.store.append(&rows)
        } else {
            Ok(())
        };
        match result {
            Ok(()) => {
                batch.items.into_iter().for_each(|p| self.release(p));
                batch.repeats.into_iter().for_each(|(s, token, seq)| self.ack_again(s, token, seq));
            }
            Err(e) => {
                log::error!("storing {} messages failed: {e}", batch.items.len());
                let detail = format!("message not stored: {e}");
                let repeats = batch.repeats.into_iter();
                let refused =
                    batch.items.iter().map(|p| (p.session, p.token, p.seq)).chain(repeats);
                for (s, token, seq) in refused.collect::<Vec<_>>() {
                    if let Some(key) = self.conn_of(s, token) {
                        self.send_error(key, ErrorCode::Storage, types::SAY, seq, &detail);
                    }
                }
                for p in &batch.items {
                    let room = &mut self.rooms[p.room as usize];
                    room.next_id = room.last_id + 1;
                }
            }
        }
    }

    fn stored(&self, p: &Pending) -> StoredMsg {
        StoredMsg {
            room: self.rooms[p.room as usize].name.to_string(),
            id: p.msg.id,
            ts: p.msg.ts,
            from: p.msg.from.to_string(),
            text: p.msg.text.to_string(),
        }
    }

    /// The live connection of session `s` if it is still the session `token` names.
    fn conn_of(&self, s: u32, token: u64) -> Option<usize> {
        let session = self.sessions.get(s as usize).filter(|x| x.token == token)?;
        (session.conn != NO_CONN).then_some(session.conn as usize)
    }

    fn release(&mut self, p: Pending) {
        let r = p.room;
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        let m = &p.msg;
        let room = &self.rooms[r as usize].name;
        let mr =
            MsgRef { room, id: m.id, ts: m.ts, from: &m.from, flags: 0, text: &m.text, file: None };
        encode_msg(&mut bytes, &mr);
        self.send_to_members(r, &bytes, Some(p.session));
        self.scratch = bytes;
        let ack = Ack { seq: p.seq, room: r, id: m.id, ts: m.ts };
        if let Some(session) =
            self.sessions.get_mut(p.session as usize).filter(|x| x.token == p.token)
        {
            session.acks.push(ack);
        }
        if let Some(key) = self.conn_of(p.session, p.token) {
            self.send_ack(key, ack);
        }
        self.rooms[r as usize].push(p.msg);
    }

    /// Sends the remembered ACK of `seq` again (a repeat in the same batch).
    fn ack_again(&mut self, s: u32, token: u64, seq: u32) {
        let Some(key) = self.conn_of(s, token) else {
            return;
        };
        if let Some(a) = self.sessions[s as usize].acks.find(seq) {
            self.send_ack(key, a);
        }
    }

    /// Sends an ACK as remembered (the same bytes every time it is repeated).
    fn send_ack(&mut self, key: usize, a: Ack) {
        let room = self.rooms[a.room as usize].name.to_string();
        self.send(key, &ServerFrame::Ack { seq: a.seq, room, id: a.id, ts: a.ts });
    }

    pub(crate) fn on_history(&mut self, key: usize, s: u32, room: &str, before: u64, limit: u16) {
        match self.member_room(s, room) {
            Some(r) => self.send_page(key, r, 0, before, limit),
            None => self.not_in_room(key, types::HISTORY, 0, room),
        }
    }

    /// MSG frames (flag 1) of the newest `limit` messages with
    /// `after < id < before`, oldest first, then HISTORY_END.
    pub(crate) fn send_page(&mut self, key: usize, r: u32, after: u64, before: u64, limit: u16) {
        let room = &self.rooms[r as usize];
        let oldest = if self.store.is_durable() { 1 } else { room.window_first() };
        let plan = room.plan(after, before, usize::from(limit), oldest);
        let window: Option<Vec<WinMsg>> = match room.in_window(&plan.ids) {
            _ if plan.ids.is_empty() => Some(Vec::new()),
            found => found.map(|it| it.cloned().collect()),
        };
        let msgs = match window {
            Some(msgs) => msgs,
            None => self.page_from_store(key, r, &plan.ids),
        };
        let budget = self.cfg.out_limit / 2;
        let name = self.rooms[r as usize].name.to_string();
        let mut size = 0;
        let skip = msgs
            .iter()
            .rev()
            .position(|m| {
                size += HEADER_LEN
                    + 1
                    + 2
                    + name.len()
                    + 8
                    + 8
                    + 2
                    + m.from.len()
                    + 1
                    + 2
                    + m.text.len();
                size > budget
            })
            .map_or(0, |kept| msgs.len() - kept.max(1));
        let mut bytes = Vec::with_capacity(size.min(budget));
        for m in &msgs[skip..] {
            let mr = MsgRef {
                room: &name,
                id: m.id,
                ts: m.ts,
                from: &m.from,
                flags: FLAG_REPLAY,
                text: &m.text,
                file: None,
            };
            encode_msg(&mut bytes, &mr);
        }
        self.send_bytes(key, &bytes);
        let count = (msgs.len() - skip) as u16;
        let more = u8::from(plan.more || skip > 0);
        self.send(key, &ServerFrame::HistoryEnd { room: name, count, more });
    }

    fn page_from_store(
        &mut self,
        key: usize,
        r: u32,
        ids: &std::ops::RangeInclusive<u64>,
    ) -> Vec<WinMsg> {
        let room = self.rooms[r as usize].name.to_string();
        let want = (ids.end() - ids.start() + 1) as usize;
        match self.store.history(&room, ids.start() - 1, ids.end() + 1, want) {
            Ok(page) => page.msgs.into_iter().map(WinMsg::from).collect(),
            Err(e) => {
                log::error!("reading history of {room}: {e}");
                self.send_error(
                    key,
                    ErrorCode::Storage,
                    types::HISTORY,
                    0,
                    "history could not be read",
                );
                Vec::new()
            }
        }
    }
}
