//! Sessions saved with `--db` so that exactly-once holds across a crash:
//! what resume and seq de-duplication need (name, token, rooms, the last
//! 1 024 ACKs) is written in the same transaction as the messages (see the
//! group commit in `handlers::say`). A client that resumes after `kill -9`
//! and a restart and resends its unacknowledged SAYs with their seqs gets
//! the original ACKs for those that were stored, and nothing twice.
//!
//! After a start, a session saved by the previous run can be resumed with
//! its token for `--linger-ms`; it then rejoins its rooms silently, as a
//! resume does. Its name is not reserved meanwhile: a HELLO without the
//! token opens a new session, as it would have on a server that saves
//! nothing. Past that window the saved sessions are forgotten. Without
//! `--db` nothing here does anything.

use super::peer::{Outcome, Reason};
use super::session::{Ack, Session};
use super::{Core, PeerId, Timer};
use crate::store::{SavedAck, SavedSession, SessionChange};
use banter_proto::validate::name_key;
use banter_proto::ErrorCode;

/// Who holds a name a HELLO asks for.
pub enum Found {
    /// Nobody.
    Free,
    /// A session in memory, whose token the HELLO gave.
    Live(u32),
    /// A session saved by the previous run, whose token the HELLO gave.
    Saved(SavedSession, Vec<SavedAck>),
}

/// What is owed to the database at the next commit, in the order it
/// happened.
#[derive(Debug)]
pub enum SaveEvent {
    /// Save this session (slot, uid) if it still is the one.
    Save(u32, u64),
    /// The session of this name key ended.
    End(String),
}

impl Core {
    /// NAME_TAKEN unless the name is free or `resume` is the token of its
    /// session in memory. A session saved by the previous run comes back
    /// for its token; a HELLO without it takes the name as if the server
    /// had kept nothing (as before sessions were saved), and the saved one
    /// is replaced.
    pub(super) fn find_name(&mut self, name: &str, resume: u64) -> Result<Found, Outcome> {
        let key = name_key(name);
        let taken = || {
            let why = format!("the name {name} is in use");
            Outcome::Close(Reason::fatal(ErrorCode::NameTaken, banter_proto::types::HELLO, why))
        };
        if let Some(&s) = self.names.get(&*key) {
            let ok = resume != 0 && self.sessions[s as usize].token == resume;
            return if ok { Ok(Found::Live(s)) } else { Err(taken()) };
        }
        if !self.restoring() {
            return Ok(Found::Free);
        }
        match self.store.saved_session(&key) {
            Ok(Some((saved, acks))) if resume != 0 && saved.token == resume => {
                Ok(Found::Saved(saved, acks))
            }
            Ok(_) => Ok(Found::Free),
            Err(e) => {
                log::error!("reading the saved session of {name}: {e}");
                Ok(Found::Free) // the name itself is free in memory
            }
        }
    }

    /// Whether sessions of the previous run may still be resumed.
    fn restoring(&self) -> bool {
        self.store.is_durable() && self.now < self.restore_until
    }

    /// Brings a saved session back for peer `p` under `token`: its ACKs,
    /// and its rooms, joined silently. Returns its slot.
    pub(super) fn restore(&mut self, p: PeerId, saved: SavedSession, acks: Vec<SavedAck>) -> u32 {
        self.next_uid += 1;
        let addr = super::addrs::key_of(self.peers[p].addr.ip());
        let mut session = Session::new(&saved.name, saved.token, self.next_uid, p as u32, addr);
        let next = acks.last().map_or(0, |a| a.n + 1);
        let acks = acks.into_iter().map(|a| Ack {
            seq: a.seq,
            room: a.room.as_str().into(),
            id: a.id,
            ts: a.ts,
        });
        session.acks.restore(acks, next);
        let s = self.sessions.insert(session) as u32;
        self.names.insert(saved.key.as_str().into(), s);
        for room in saved.rooms.iter().take(super::session::MAX_ROOMS) {
            let Ok(r) = self.room_or_create(room) else { continue }; // a room it cannot have
            self.sessions[s as usize].rooms.push(r);
            self.rooms[r as usize].members.push(s);
        }
        log::info!("session {} restored from the database", saved.name);
        self.save(s);
        s
    }

    /// Session `s` changed what is saved of it (token, rooms): saved with
    /// the next commit.
    pub(super) fn save(&mut self, s: u32) {
        if !self.store.is_durable() {
            return;
        }
        let session = &mut self.sessions[s as usize];
        if !session.save_due {
            session.save_due = true;
            self.to_save.push(SaveEvent::Save(s, session.uid));
        }
    }

    /// A new session `s` (not resumed): its name's older ACKs go.
    pub(super) fn save_fresh(&mut self, s: u32) {
        if let Some(session) = self.sessions.get_mut(s as usize) {
            session.save_fresh = true;
        }
        self.save(s);
    }

    /// The session of `name` ended: nothing of it may be resumed.
    pub(super) fn save_end(&mut self, name: &str) {
        if self.store.is_durable() {
            self.to_save.push(SaveEvent::End(name_key(name)));
        }
    }

    /// The session changes owed, for the next commit.
    pub(super) fn session_changes(&mut self) -> Vec<SessionChange> {
        let mut out = std::mem::take(&mut self.unsaved);
        for ev in std::mem::take(&mut self.to_save) {
            match ev {
                SaveEvent::End(key) => out.push(SessionChange::End(key)),
                SaveEvent::Save(s, uid) => {
                    let Some(x) = self.sessions.get_mut(s as usize).filter(|x| x.uid == uid) else {
                        continue;
                    };
                    x.save_due = false;
                    let fresh = std::mem::take(&mut x.save_fresh);
                    let rooms = x.rooms.iter().map(|&r| self.rooms[r as usize].name.to_string());
                    let session = SavedSession {
                        key: name_key(&x.name),
                        name: x.name.to_string(),
                        token: x.token,
                        rooms: rooms.collect(),
                    };
                    out.push(SessionChange::Put { session, fresh });
                }
            }
        }
        out
    }

    /// A commit failed: its session changes are owed again.
    pub(super) fn unsave(&mut self, changes: Vec<SessionChange>) {
        let mut again = changes;
        again.append(&mut self.unsaved);
        self.unsaved = again;
    }

    /// The window for resuming the previous run's sessions opens at
    /// start-up (a timer closes it).
    pub(super) fn open_restore_window(&mut self) {
        if self.store.is_durable() {
            self.restore_until = self.now + self.cfg.linger_ms;
            self.wheel.insert(self.restore_until, Timer::ForgetSaved);
        }
    }

    /// The window closed: the previous run's sessions are forgotten.
    pub(super) fn forget_saved(&mut self) {
        self.restore_until = 0;
        if let Err(e) = self.store.forget_saved_sessions() {
            log::error!("forgetting the sessions of the previous run: {e}");
        }
    }
}
