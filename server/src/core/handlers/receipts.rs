//! Read markers and delivery receipts (§9): MARK moves a marker forward
//! (an account's is stored with the turn's commit); READ tells the other
//! members (always in a conversation, in rooms of at most 100 members);
//! DELIVERED tells the author of direct messages how far the other
//! party's connection has been handed them. Both are coalesced to one per
//! second per reader (or conversation) and carry the latest value.
//!
//! The one-per-second rule is kept by [`Receipts`]: a receipt goes out at
//! once if none went in the last second, else the newest value waits for
//! a timer at the end of that second.

use crate::core::{Core, PeerId, Timer};
use crate::store::StoredMark;
use banter_proto::validate::name_key;
use banter_proto::ServerFrame;
use std::collections::HashMap;

/// Rooms larger than this get no READ.
pub(in crate::core) const READ_MAX_MEMBERS: usize = 100;
/// At most one receipt of a kind, room and reader per this many ms.
const COALESCE_MS: u64 = 1000;

/// Which receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// READ of reader session `who` in a room or conversation.
    Read,
    /// DELIVERED to the party other than `who` (a party index).
    Delivered,
}

/// One receipt's pacing: present from the moment one is sent until a
/// second passes with nothing new, with its timer pending all along (only
/// that timer removes it, so no receipt can go out early).
#[derive(Debug, Default)]
struct Pace {
    /// The value waiting for the end of the second (0: none).
    pending: u64,
}

/// Receipts being paced, by (kind, room, who).
#[derive(Debug, Default)]
pub struct Receipts {
    /// Entries live until a second passes with nothing new.
    paces: HashMap<(Kind, u32, u32), Pace>,
}

impl Core {
    pub(super) fn on_mark(&mut self, p: PeerId, s: u32, room: &str, id: u64) {
        let Some(r) = self.target(p, s, room, banter_proto::types::MARK, 0) else { return };
        if self.clustered() {
            return self.c_mark(s, r, id);
        }
        let id = id.min(self.rooms[r as usize].last_id);
        let key = name_key(&self.sessions[s as usize].name);
        let moved = match self.rooms[r as usize].direct.as_mut() {
            Some(d) => match d.party(&key) {
                Some(i) if id > d.read[i] => {
                    d.read[i] = id;
                    true
                }
                _ => false,
            },
            None => {
                let name = self.rooms[r as usize].name.clone();
                self.sessions[s as usize].set_mark(&name, id)
            }
        };
        if !moved {
            return;
        }
        if self.sessions[s as usize].account {
            let room = self.rooms[r as usize].name.to_string();
            self.marks_out.push(StoredMark {
                account: key.to_string(),
                room,
                read: id,
                delivered: 0,
            });
        }
        let direct = self.rooms[r as usize].direct.is_some();
        if direct || self.rooms[r as usize].members.len() <= READ_MAX_MEMBERS {
            self.pace(Kind::Read, r, s, id);
        }
    }

    /// Sends a receipt now if none went this second, else keeps the value
    /// for the end of it.
    pub(in crate::core) fn pace(&mut self, kind: Kind, r: u32, who: u32, id: u64) {
        use std::collections::hash_map::Entry;
        match self.receipts.paces.entry((kind, r, who)) {
            // A receipt went out less than a second ago: its timer is
            // pending and sends the newest value at the end of the second.
            Entry::Occupied(mut e) => {
                let pace = e.get_mut();
                pace.pending = pace.pending.max(id);
            }
            Entry::Vacant(e) => {
                e.insert(Pace { pending: 0 });
                self.wheel.insert(self.now + COALESCE_MS, Timer::Receipt { kind, room: r, who });
                self.send_receipt(kind, r, who, id);
            }
        }
    }

    /// The end of a receipt's second: the waiting value goes out, or the
    /// entry is forgotten.
    pub(in crate::core) fn on_receipt_timer(&mut self, kind: Kind, r: u32, who: u32) {
        let Some(pace) = self.receipts.paces.get_mut(&(kind, r, who)) else { return };
        if pace.pending == 0 {
            self.receipts.paces.remove(&(kind, r, who));
            return;
        }
        let id = std::mem::take(&mut pace.pending);
        self.wheel.insert(self.now + COALESCE_MS, Timer::Receipt { kind, room: r, who });
        self.send_receipt(kind, r, who, id);
    }

    fn send_receipt(&mut self, kind: Kind, r: u32, who: u32, id: u64) {
        if self.clustered() {
            return self.c_receipt(kind, r, who, id);
        }
        match kind {
            Kind::Read => {
                let Some(reader) = self.sessions.get(who as usize) else { return };
                let name = reader.name.to_string();
                let except = Some(who);
                self.tell_room(r, except, |room| ServerFrame::Read {
                    room,
                    name: name.clone(),
                    id,
                });
            }
            Kind::Delivered => {
                let Some(d) = &self.rooms[r as usize].direct else { return };
                let author = d.keys[1 - who as usize].clone();
                if let Some(s) = self.account_session(&author) {
                    let room = self.wire_name(r, s);
                    self.send(
                        self.sessions[s as usize].peer as usize,
                        &ServerFrame::Delivered { room, id },
                    );
                }
            }
        }
    }

    /// Peer `p`'s transport has taken MSGs of conversations up to the
    /// marks it passed: they are delivered.
    pub(in crate::core) fn check_delivery(&mut self, p: PeerId) {
        let Some(peer) = self.peers.get_mut(p) else { return };
        let taken = peer.out.taken();
        let Some(rare) = peer.rare.as_mut() else { return };
        let n = rare.delivery.iter().take_while(|m| m.0 <= taken).count();
        let done: Vec<_> = rare.delivery.drain(..n).collect();
        peer.tidy();
        let Some(s) = peer.session() else { return };
        for (_, r, id) in done {
            self.delivered(s, r, id);
        }
    }

    /// Conversation `r`'s messages up to `id` reached session `s`.
    fn delivered(&mut self, s: u32, r: u32, id: u64) {
        let key = name_key(&self.sessions[s as usize].name);
        let Some(d) = self.rooms[r as usize].direct.as_mut() else { return };
        let Some(i) = d.party(&key) else { return };
        if id <= d.delivered[i] {
            return;
        }
        d.delivered[i] = id;
        let room = self.rooms[r as usize].name.to_string();
        self.marks_out.push(StoredMark { account: key, room, read: 0, delivered: id });
        self.pace(Kind::Delivered, r, i as u32, id);
    }

    /// Marks the end of what was just queued for `p` as carrying
    /// conversation `r` up to `id`.
    pub(in crate::core) fn expect_delivery(&mut self, p: PeerId, r: u32, id: u64) {
        let Some(peer) = self.peers.get_mut(p) else { return };
        let end = peer.out.pushed();
        peer.rare_mut().delivery.push((end, r, id));
    }

    /// After a JOIN of conversation `r` by `s`: the other party's read
    /// marker and how far it has been handed `s`'s messages, so receipts
    /// survive reconnects and devices.
    pub(super) fn conversation_state(&mut self, p: PeerId, s: u32, r: u32) {
        let key = name_key(&self.sessions[s as usize].name);
        let Some(d) = &self.rooms[r as usize].direct else { return };
        let Some(i) = d.party(&key) else { return };
        let (read, delivered, other) =
            (d.read[1 - i], d.delivered[1 - i], d.keys[1 - i].to_string());
        let room = self.wire_name(r, s);
        if delivered > 0 {
            self.send(p, &ServerFrame::Delivered { room: room.clone(), id: delivered });
        }
        if read > 0 {
            let name = self.display_name(&other);
            self.send(p, &ServerFrame::Read { room, name, id: read });
        }
    }

    /// An account's name as its owner spells it (its key if unknown).
    pub(in crate::core) fn display_name(&mut self, key: &str) -> String {
        if let Some(s) = self.names.get(key) {
            return self.sessions[*s as usize].name.to_string();
        }
        if self.clustered() {
            return self.known_account(key).map_or_else(|| key.to_string(), |a| a.name);
        }
        match self.store.account(key) {
            Ok(Some(a)) => a.name,
            _ => key.to_string(),
        }
    }

    /// A session ended: its READs waiting for their second are dropped (its
    /// slot may be reused).
    pub(in crate::core) fn forget_receipts(&mut self, s: u32) {
        self.receipts.paces.retain(|&(kind, _, who), _| kind != Kind::Read || who != s);
    }

    /// At sign-in of an account: its stored markers in rooms.
    pub(in crate::core) fn load_marks(&mut self, s: u32) {
        let key = name_key(&self.sessions[s as usize].name);
        let rows = match self.store.marks(&key) {
            Ok(rows) => rows,
            Err(e) => return log::error!("reading markers of {key}: {e}"),
        };
        // By name, rooms in memory or not (a room may come back later).
        for m in rows.into_iter().filter(|m| !m.room.starts_with('@')) {
            self.sessions[s as usize].set_mark(&m.room.as_str().into(), m.read);
        }
    }

    /// Room `r` left memory: receipts waiting for their second in it go
    /// (its slot may be reused).
    pub(in crate::core) fn forget_room_receipts(&mut self, r: u32) {
        self.receipts.paces.retain(|&(_, room, _), _| room != r);
    }
}
