//! The frames of direct conversations and receipts (§8–§9): UNREAD at
//! sign-in starts a catch-up JOIN of the conversation from its read
//! marker, DELIVERED and READ move the conversation's receipt marks
//! (only forward, only the other party's READ), each move one event.
//!
//! How the marks look is the UI's; what is read is sent by the UI (MARK).

use crate::session::{Event, RoomSync, Session};
use banter_proto::validate::{direct_peer, same_name};
use banter_proto::ClientFrame;

impl Session {
    /// UNREAD: catch the conversation up from its marker unless it is
    /// followed already (then the JOIN after WELCOME does it).
    pub(super) fn on_unread(
        &mut self,
        room: String,
        count: u32,
        last_id: u64,
        read: u64,
        out: &mut Vec<ClientFrame>,
    ) -> Vec<Event> {
        if direct_peer(&room).is_some() && !self.rooms.contains_key(&room) {
            let sync = RoomSync { last_id: read, catch_up_from: Some(read), ..Default::default() };
            self.rooms.insert(room.clone(), sync);
            out.push(self.join_frame(&room));
        }
        vec![Event::Unread { room, count, last_id, read }]
    }

    /// DELIVERED: our messages up to `id` reached the other party.
    pub(super) fn on_delivered(&mut self, room: String, id: u64) -> Vec<Event> {
        let Some(r) = self.rooms.get_mut(&room).filter(|r| id > r.delivered) else {
            return vec![];
        };
        r.delivered = id;
        vec![Event::Delivered { room, id }]
    }

    /// READ: in a conversation, the other party read up to `id` (readers
    /// of group rooms are not followed).
    pub(super) fn on_read(&mut self, room: String, name: String, id: u64) -> Vec<Event> {
        if !direct_peer(&room).is_some_and(|peer| same_name(peer, &name)) {
            return vec![];
        }
        let Some(r) = self.rooms.get_mut(&room).filter(|r| id > r.peer_read) else {
            return vec![];
        };
        r.peer_read = id;
        r.delivered = r.delivered.max(id);
        vec![Event::Read { room, name, id }]
    }
}
