//! History pages, for HISTORY and the replay of a JOIN: the newest `limit`
//! messages of a range, from the room's in-memory window or, for older
//! pages, the store; never more than half the output limit in bytes, less
//! what the peer's output already holds (but at least one message when any
//! matches), then HISTORY_END.

use crate::core::budget::Kind;
use crate::core::room::WinMsg;
use crate::core::{Core, PeerId};
use banter_proto::{encode_msg, msg_size, types, ErrorCode, MsgRef, ServerFrame, FLAG_REPLAY};
use std::ops::RangeInclusive;

impl Core {
    pub(super) fn on_history(&mut self, p: PeerId, s: u32, room: &str, before: u64, limit: u16) {
        if !self.spend_or_refuse(p, s, Kind::Query, types::HISTORY, 0) {
            return;
        }
        let Some(r) = self.target(p, s, room, types::HISTORY, 0) else { return };
        if self.clustered() {
            return self.c_history(p, s, r, before, limit);
        }
        self.send_page(p, s, r, 0, before, limit);
    }

    /// MSG frames (flag 1) of the newest `limit` messages with
    /// `after < id < before`, oldest first, then HISTORY_END.
    pub(super) fn send_page(
        &mut self,
        p: PeerId,
        s: u32,
        r: u32,
        after: u64,
        before: u64,
        limit: u16,
    ) {
        let room = &self.rooms[r as usize];
        let oldest = if self.store.is_durable() { 1 } else { room.window_first() };
        let plan = room.plan(after, before, usize::from(limit), oldest);
        let window: Option<Vec<WinMsg>> = match room.in_window(&plan.ids) {
            _ if plan.ids.is_empty() => Some(Vec::new()),
            found => found.map(|it| it.cloned().collect()),
        };
        let msgs = match window {
            Some(msgs) => msgs,
            None => self.page_from_store(p, r, &plan.ids),
        };
        self.send_msgs(p, s, r, msgs, plan.more);
    }

    /// The newest of `msgs` that fit (oldest first) as replayed MSGs, then
    /// HISTORY_END (`more` when older matching messages exist).
    pub(in crate::core) fn send_msgs(
        &mut self,
        p: PeerId,
        s: u32,
        r: u32,
        msgs: Vec<WinMsg>,
        more: bool,
    ) {
        let name = self.wire_name(r, s);
        // Half the output limit, less what this peer already owes: three
        // pages asked in one write must not add up to a slow consumer.
        let owed = self.peers.get(p).map_or(0, |x| x.backlog());
        let budget = (self.cfg.out_limit / 2).saturating_sub(owed);
        let mut size = 0;
        let skip = msgs
            .iter()
            .rev()
            .position(|m| {
                size += msg_size(&replayed(&name, m));
                size > budget
            })
            .map_or(0, |kept| msgs.len() - kept.max(1));
        let kept = &msgs[skip..];
        if let Some(peer) = self.peers.get_mut(p).filter(|x| !x.is_closing()) {
            for m in kept {
                peer.out.push_with(|b| encode_msg(b, &replayed(&name, m)));
            }
        }
        let theirs = kept
            .iter()
            .rev()
            .find(|m| !m.from.eq_ignore_ascii_case(&self.sessions[s as usize].name));
        if let (Some(m), true) = (theirs, self.rooms[r as usize].direct.is_some()) {
            self.expect_delivery(p, r, m.id); // a replay hands them over too
        }
        self.counters.deliveries += kept.len() as u64;
        self.counters.frames_out += kept.len() as u64;
        let count = kept.len() as u16;
        let more = u8::from(more || skip > 0);
        self.send(p, &ServerFrame::HistoryEnd { room: name, count, more });
    }

    fn page_from_store(&mut self, p: PeerId, r: u32, ids: &RangeInclusive<u64>) -> Vec<WinMsg> {
        let room = self.rooms[r as usize].name.to_string();
        let want = (ids.end() - ids.start() + 1) as usize;
        match self.store.history(&room, ids.start() - 1, ids.end() + 1, want) {
            Ok(page) => page.msgs.into_iter().map(WinMsg::from).collect(),
            Err(e) => {
                log::error!("reading history of {room}: {e}");
                self.send_error(
                    p,
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

/// A message of room `room` as a replayed MSG.
fn replayed<'a>(room: &'a str, m: &'a WinMsg) -> MsgRef<'a> {
    MsgRef {
        room,
        id: m.id,
        ts: m.ts,
        from: &m.from,
        flags: FLAG_REPLAY | m.flags,
        text: &m.text,
        file: m.file.as_deref(),
    }
}
