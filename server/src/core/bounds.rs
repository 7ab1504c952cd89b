//! Rooms and history in memory, bounded (issue 15): a room with no members
//! is freed at the end of the turn unless it holds something only memory
//! has (messages, without a database); at `--max-rooms` a new room takes
//! the place of the least recently active empty one, or is refused; and
//! every room's window shares one `--history-memory` budget that lets the
//! oldest messages of the server go first.
//!
//! Ids never repeat: with a database a room's newest id is read back from
//! it when the room is needed again; without one, a room evicted from
//! memory leaves a tombstone (its name and newest id, 100 000 of them at
//! most).

use super::room::{Room, WinMsg};
use super::Core;
use banter_proto::validate::name_key;
use std::collections::{HashMap, VecDeque};

/// Tombstones kept at most (without a database).
pub const MAX_TOMBSTONES: usize = 100_000;
/// Bytes one entry of the history queue costs besides the message.
const ENTRY: usize = std::mem::size_of::<(u32, u64, u64)>();

/// Why a room could not be had.
#[derive(Debug, PartialEq, Eq)]
pub enum NoRoom {
    /// `--max-rooms` rooms are in memory and none is empty.
    Full,
    /// The database could not say where the room's ids stand.
    Storage(String),
}

/// The global history budget: every message in any window, oldest first.
#[derive(Debug, Default)]
pub struct HistoryMemory {
    /// (room slot, room uid, message id) in the order they were kept; may
    /// hold entries of rooms freed or messages already gone.
    queue: VecDeque<(u32, u64, u64)>,
    /// Bytes of the messages still in windows (with their queue entries).
    pub bytes: usize,
    /// How many messages are still in windows.
    pub msgs: usize,
}

/// Newest ids of rooms evicted from memory without a database.
#[derive(Debug, Default)]
pub struct Tombstones {
    /// Room name -> its newest id.
    ids: HashMap<Box<str>, u64>,
    /// Names in the order they were buried, for the bound.
    order: VecDeque<Box<str>>,
}

impl Tombstones {
    fn bury(&mut self, name: &str, last_id: u64) {
        if self.ids.insert(name.into(), last_id).is_none() {
            self.order.push_back(name.into());
        }
        while self.order.len() > MAX_TOMBSTONES {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }

    fn raise(&mut self, name: &str) -> u64 {
        self.ids.remove(name).unwrap_or(0) // its `order` entry goes stale, harmlessly
    }
}

impl Core {
    /// The room named `name` (valid), created if it is not in memory.
    pub(super) fn room_or_create(&mut self, name: &str) -> Result<u32, NoRoom> {
        let key = name_key(name);
        if let Some(&r) = self.room_ids.get(&*key) {
            return Ok(r);
        }
        let ordinary = self.rooms.len() - self.direct_rooms;
        if ordinary >= self.cfg.limits.max_rooms && !self.evict_one_room() {
            return Err(NoRoom::Full);
        }
        let last_id = if self.clustered() {
            0 // known once a JOIN is answered
        } else if self.store.is_durable() {
            self.store.last_id(&key).map_err(|e| NoRoom::Storage(e.to_string()))?
        } else {
            self.tombstones.raise(&key)
        };
        let room = self.new_room(&key, last_id);
        let r = self.add_room(room);
        if self.clustered() {
            self.c_room_added(&key, r);
        }
        Ok(r)
    }

    /// A room object with a fresh uid.
    pub(super) fn new_room(&mut self, name: &str, last_id: u64) -> Room {
        self.next_room_uid += 1;
        Room::new(name, last_id, self.next_room_uid)
    }

    /// Room `r` lost a member: looked at at the end of the turn.
    pub(super) fn vacated(&mut self, r: u32) {
        self.vacated.push(r);
    }

    /// Frees the rooms left empty this turn that hold nothing only memory
    /// has. Runs after the group commit (no message of theirs is pending).
    pub(super) fn free_vacated(&mut self) {
        let durable = self.store.is_durable() || self.clustered();
        for r in std::mem::take(&mut self.vacated) {
            let Some(room) = self.rooms.get(r as usize) else { continue };
            let pending = room.next_id != room.last_id.saturating_add(1);
            let ordinary = room.direct.is_none();
            if ordinary && room.members.is_empty() && !pending && (durable || room.last_id == 0) {
                self.free_room(r);
            }
        }
    }

    /// Without a database: frees the least recently active empty room,
    /// leaving a tombstone. False when every room has members.
    fn evict_one_room(&mut self) -> bool {
        // Never a conversation (its parties are its members, always), nor a
        // room with a message waiting for this turn's commit (its slot would
        // be another room's by then).
        let idle = self.rooms.iter().filter(|(_, x)| {
            x.members.is_empty() && x.direct.is_none() && x.next_id == x.last_id.saturating_add(1)
        });
        let Some(r) = idle.min_by_key(|(_, x)| x.active_at).map(|(k, _)| k as u32) else {
            return false;
        };
        let room = &self.rooms[r as usize];
        if !self.store.is_durable() && room.last_id > 0 {
            let (name, last) = (room.name.clone(), room.last_id);
            self.tombstones.bury(&name, last);
        }
        self.free_room(r);
        true
    }

    fn free_room(&mut self, r: u32) {
        self.forget_room_receipts(r);
        let room = self.rooms.remove(r as usize);
        if self.clustered() && room.direct.is_none() {
            self.c_room_freed(&room.name, r);
        }
        let (bytes, msgs) = room.window_size();
        self.history.bytes -= bytes + msgs * ENTRY;
        self.history.msgs -= msgs;
        self.room_ids.remove(&*room.name);
        log::debug!("room {} freed (last id {})", room.name, room.last_id);
    }

    /// Keeps a committed message in its room's window, within the budget.
    pub(super) fn remember(&mut self, r: u32, m: WinMsg) {
        let id = m.id;
        let size = m.size();
        let room = &mut self.rooms[r as usize];
        room.active_at = self.now;
        let dropped = room.push(m);
        self.history.queue.push_back((r, room.uid, id));
        self.history.bytes += size + ENTRY;
        self.history.msgs += 1;
        if dropped > 0 {
            self.history.bytes -= dropped + ENTRY;
            self.history.msgs -= 1;
        }
        self.keep_history_budget();
    }

    /// Lets the server's oldest kept messages go while over the budget.
    fn keep_history_budget(&mut self) {
        let budget = self.cfg.limits.history_memory;
        while self.history.bytes > budget {
            let Some((r, uid, id)) = self.history.queue.pop_front() else { break };
            let Some(room) = self.rooms.get_mut(r as usize).filter(|x| x.uid == uid) else {
                continue;
            };
            let freed = room.forget(id);
            if freed > 0 {
                self.history.bytes -= freed + ENTRY;
                self.history.msgs -= 1;
            }
        }
        let h = &mut self.history;
        if h.queue.len() > 2 * h.msgs + 1024 {
            let rooms = &self.rooms;
            h.queue.retain(|&(r, uid, id)| {
                rooms.get(r as usize).is_some_and(|x| x.uid == uid && x.window_first() <= id)
            });
        }
    }
}
