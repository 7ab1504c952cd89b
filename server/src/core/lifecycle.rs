//! The core's housekeeping: closing in two phases, detaching sessions so
//! they linger, ending sessions, timers (handshake deadline, heartbeat,
//! close deadline, linger), the end of a turn, and shutdown.
//!
//! Nothing here interprets frames; see `handlers`.

use super::peer::{Reason, State};
use super::session::NO_PEER;
use super::{Core, PeerId, Timer, CLOSE_GRACE_MS};
use banter_proto::{ErrorCode, PresenceEvent, ServerFrame};

impl Core {
    /// Marks a peer closing: queues its fatal ERROR (if any), stops counting
    /// it, detaches its session (settled later), and leaves the rest to the
    /// reactor (drain, close the transport, remove).
    pub(super) fn close(&mut self, p: PeerId, reason: Reason) {
        let Some(peer) = self.peers.get_mut(p) else { return };
        if peer.is_closing() {
            return;
        }
        if let Some(session) = peer.session() {
            self.detached.push((session, p));
        }
        if let Some(ticket) = peer.rare.as_mut().and_then(|r| r.auth_ticket.take()) {
            self.cancel_auth(ticket);
        }
        let Some(peer) = self.peers.get_mut(p) else { return };
        if let Some((code, about)) = reason.error {
            let f = ServerFrame::error(code, about, 0, reason.why.as_ref());
            peer.out.push_with(|b| f.encode(b));
            peer.rare_mut().close_code = Some(code);
            self.counters.error(code.code());
            self.counters.frames_out += 1;
        }
        let deadline = self.now + CLOSE_GRACE_MS;
        peer.state = State::Closing { deadline };
        peer.inbuf = Vec::new();
        peer.rare_mut().close_why = Some(reason.why);
        let gen = peer.gen;
        self.open -= 1;
        self.uncount(p);
        self.mark_dirty(p);
        self.wheel.insert(deadline, Timer::Peer { key: p as u32, gen });
    }

    /// Sessions whose peer closed start to linger (nothing is said to anyone
    /// but a typing stop); those that moved on are left alone.
    pub(super) fn settle(&mut self) {
        while let Some((s, p)) = self.detached.pop() {
            let Some(session) = self.sessions.get_mut(s as usize) else { continue };
            if session.peer != p as u32 {
                continue;
            }
            session.peer = NO_PEER;
            session.gen = session.gen.wrapping_add(1);
            let gen = session.gen;
            self.stop_all_typing(s);
            if self.shutting_down {
                continue; // nothing lingers on the way out
            }
            self.wheel.insert(self.now + self.cfg.linger_ms, Timer::Linger { session: s, gen });
            self.start_lingering(s);
        }
    }

    /// Ends a session for good: it leaves every room with PRESENCE `event`,
    /// and its name is free again.
    pub(super) fn end_session(&mut self, s: u32, event: PresenceEvent, reason: &str) {
        if self.clustered() {
            return self.c_end_session(s, event, reason);
        }
        self.stop_all_typing(s);
        self.abort_uploads(s);
        self.stop_lingering(s);
        let Some(session) = self.sessions.try_remove(s as usize) else { return };
        self.names.remove(&*banter_proto::validate::name_key(&session.name));
        self.forget_receipts(s);
        self.save_end(&session.name);
        for &r in &session.rooms {
            self.rooms[r as usize].remove_member(s);
            self.vacated.push(r);
            let f = ServerFrame::Presence {
                room: self.rooms[r as usize].name.to_string(),
                name: session.name.to_string(),
                event: event as u8,
                reason: reason.to_string(),
            };
            self.broadcast(r, &f, None);
        }
        log::debug!("session {} ended ({event:?})", session.name);
    }

    /// Runs every timer due by now.
    pub fn fire_timers(&mut self) {
        let mut due = Vec::new();
        self.wheel.poll(self.now, &mut due);
        for t in due {
            match t {
                Timer::Peer { key, gen } => self.on_peer_timer(key as usize, gen),
                Timer::Linger { session, gen } => self.on_linger_end(session, gen),
                Timer::Receipt { kind, room, who } => self.on_receipt_timer(kind, room, who),
                Timer::Upload { id } => self.on_upload_timer(id),
                Timer::Wake => {}
                Timer::ForgetSaved => self.forget_saved(),
            }
            self.settle();
        }
    }

    fn on_peer_timer(&mut self, p: PeerId, gen: u32) {
        let Some(peer) = self.peers.get_mut(p).filter(|x| x.gen == gen) else { return };
        match peer.state {
            State::Closing { deadline } => {
                if self.now >= deadline {
                    peer.expired = true; // give up on the rest
                    self.mark_dirty(p);
                }
            }
            State::Handshake | State::Authenticating => {
                let why = "handshake not finished in time";
                self.close(p, Reason::fatal(ErrorCode::Timeout, 0, why));
            }
            State::Active { .. } => self.heartbeat(p, gen),
        }
    }

    /// PING after one heartbeat of silence, drop after two. Looked at only
    /// when the timer fires: hearing from a peer never touches the wheel.
    fn heartbeat(&mut self, p: PeerId, gen: u32) {
        let hb = self.cfg.heartbeat_ms;
        let heard = self.peers[p].last_heard;
        let idle = self.now.saturating_sub(heard);
        if let Some(why) = self.trickling(p) {
            return self.close(p, Reason::fatal(ErrorCode::Timeout, 0, why));
        }
        let next = if idle >= 2 * hb {
            let why = format!("no traffic for {idle} ms");
            return self.close(p, Reason::fatal(ErrorCode::Timeout, 0, why));
        } else if idle >= hb {
            self.ping_nonce += 1;
            self.send(p, &ServerFrame::Ping { nonce: self.ping_nonce });
            heard + 2 * hb
        } else {
            heard + hb
        };
        self.wheel.insert(next, Timer::Peer { key: p as u32, gen });
    }

    /// Why `p` is too slow, if its current frame has fallen behind
    /// `--min-rate`: after one heartbeat of grace it must have brought
    /// `min_rate` bytes a second. Any byte counts as hearing from a peer,
    /// so without this a frame trickled a byte a second would hold a
    /// connection forever.
    fn trickling(&self, p: PeerId) -> Option<String> {
        let peer = &self.peers[p];
        let (rate, hb) = (u64::from(self.cfg.limits.min_rate), self.cfg.heartbeat_ms);
        let started = peer.frame_started.filter(|_| rate > 0)?;
        let late = self.now.saturating_sub(started).checked_sub(hb)?;
        let owed = late.saturating_mul(rate) / 1000;
        let got = peer.inbuf.len() as u64;
        (got < owed).then(|| {
            let secs = self.now.saturating_sub(started) / 1000;
            format!("a frame trickled in too slowly ({got} bytes in {secs} s; --min-rate {rate})")
        })
    }

    fn on_linger_end(&mut self, s: u32, gen: u32) {
        let lingering =
            self.sessions.get(s as usize).is_some_and(|x| x.gen == gen && x.peer == NO_PEER);
        if lingering {
            self.end_session(s, PresenceEvent::Lost, "");
        }
    }

    /// The end of a reactor turn: the SAYs accepted in it are committed and
    /// their ACKs and MSGs released. Returns how many there were.
    pub fn end_turn(&mut self) -> usize {
        let n = self.commit_batch();
        self.settle();
        self.free_vacated();
        self.addrs.sweep(self.now);
        n
    }

    /// Stops admitting and tells every client SHUTTING_DOWN, after the SAYs
    /// accepted so far are committed and acknowledged.
    pub fn shutdown(&mut self) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        let _ = self.commit_batch();
        let keys: Vec<PeerId> = self.peers.iter().map(|(k, _)| k).collect();
        for p in keys {
            let why = "server shutting down";
            self.close(p, Reason::fatal(ErrorCode::ShuttingDown, 0, why));
        }
        self.settle();
    }

    /// Makes everything durable before exit.
    pub fn close_store(&mut self) -> Result<(), String> {
        self.store.close().map_err(|e| e.to_string())
    }

    /// Learns every direct conversation and its newest id (no message: a
    /// room's window fills as it gets new ones, older pages come from the
    /// store), and their markers. Ordinary rooms are read when needed.
    pub(super) fn load_conversations(&mut self) -> Result<(), String> {
        for (name, last_id) in self.store.conversations().map_err(|e| e.to_string())? {
            let room = self.new_room(&name, last_id);
            self.add_room(room);
        }
        self.load_direct_marks()?;
        self.load_files()
    }

    /// Where every stored file was posted, and each account's bytes.
    fn load_files(&mut self) -> Result<(), String> {
        if self.files.is_none() {
            return Ok(());
        }
        for f in self.store.shared_files().map_err(|e| e.to_string())? {
            self.file_posted(&f.room, &f.file, &f.sender);
        }
        Ok(())
    }

    /// Adds a room to the table (and a conversation to its parties' lists).
    pub(super) fn add_room(&mut self, room: super::room::Room) -> u32 {
        let r = self.rooms.vacant_key() as u32;
        if let Some(d) = &room.direct {
            self.direct_rooms += 1;
            for k in &d.keys {
                self.convs.entry(k.clone()).or_default().push(r);
            }
        }
        self.room_ids.insert(room.name.to_string().into(), r);
        self.rooms.insert(room);
        r
    }

    /// Every conversation's markers, from the store.
    fn load_direct_marks(&mut self) -> Result<(), String> {
        for m in self.store.direct_marks().map_err(|e| e.to_string())? {
            let Some(&r) = self.room_ids.get(m.room.as_str()) else { continue };
            let Some(d) = self.rooms[r as usize].direct.as_mut() else { continue };
            if let Some(i) = d.party(&m.account) {
                d.read[i] = d.read[i].max(m.read);
                d.delivered[i] = d.delivered[i].max(m.delivered);
            }
        }
        Ok(())
    }
}
