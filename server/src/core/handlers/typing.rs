//! TYPING: forwarded to the other members of the room, and the typing
//! stops the server sends on a member's behalf when it SAYs, leaves or
//! drops. Nothing here is stored.

use crate::core::budget::Kind;
use crate::core::{Core, PeerId};
use banter_proto::{types, ServerFrame};

impl Core {
    pub(super) fn on_typing(&mut self, p: PeerId, s: u32, room: &str, active: u8) {
        if !self.spend_or_refuse(p, s, Kind::Say, types::TYPING, 0) {
            return;
        }
        let Some(r) = self.target(p, s, room, types::TYPING, 0) else { return };
        let session = &mut self.sessions[s as usize];
        let active = u8::from(active != 0);
        if active == 1 && !session.typing.contains(&r) {
            session.typing.push(r);
        } else if active == 0 {
            session.stop_typing(r);
        }
        self.typing_frame(s, r, active);
    }

    fn typing_frame(&mut self, s: u32, r: u32, active: u8) {
        if self.clustered() {
            return self.c_typing(s, r, active);
        }
        let name = self.sessions[s as usize].name.to_string();
        self.tell_room(r, Some(s), |room| ServerFrame::Typing { room, name: name.clone(), active });
    }

    /// Sends TYPING `active = 0` for `s` in `r` if it was typing there.
    pub(in crate::core) fn stop_typing(&mut self, s: u32, r: u32) {
        if self.sessions[s as usize].stop_typing(r) {
            self.typing_frame(s, r, 0);
        }
    }

    /// Stops every typing state of `s`.
    pub(in crate::core) fn stop_all_typing(&mut self, s: u32) {
        let Some(session) = self.sessions.get(s as usize) else { return };
        for r in session.typing.clone() {
            self.stop_typing(s, r);
        }
    }
}
