//! Putting frames in peers' output: one frame to one peer, a frame or a run
//! of frames to every member of a room (encoded once, queued as one shared
//! buffer), the output limit that drops a slow consumer rather than let it
//! slow anyone else, and which peers the reactor flushes each turn (a large
//! room's fan-out in rounds, after everyone else).

use super::peer::Reason;
use super::session::NO_PEER;
use super::{Core, PeerId};
use banter_proto::{ErrorCode, ServerFrame};
use bytes::Bytes;

impl Core {
    /// Appends a frame to a peer's output (nothing once it is closing).
    pub(super) fn send(&mut self, p: PeerId, f: &ServerFrame) {
        let Some(peer) = self.peers.get_mut(p).filter(|x| !x.is_closing()) else { return };
        peer.out.push_with(|b| f.encode(b));
        self.counters.frames_out += 1;
        if let ServerFrame::Error { code, .. } = f {
            self.counters.error(*code);
        }
        self.after_push(p);
    }

    /// Appends encoded whole frames to a peer's output.
    pub(super) fn send_bytes(&mut self, p: PeerId, bytes: &[u8]) {
        let Some(peer) = self.peers.get_mut(p).filter(|x| !x.is_closing()) else { return };
        peer.out.push_bytes(bytes);
        self.after_push(p);
    }

    /// Appends shared encoded whole frames to a peer's output.
    pub(super) fn send_shared(&mut self, p: PeerId, bytes: &Bytes) {
        let Some(peer) = self.peers.get_mut(p).filter(|x| !x.is_closing()) else { return };
        peer.out.push_shared(bytes.clone());
        self.after_push(p);
    }

    /// A non-fatal ERROR.
    pub(super) fn send_error(
        &mut self,
        p: PeerId,
        code: ErrorCode,
        about: u8,
        seq: u32,
        detail: &str,
    ) {
        self.send(p, &ServerFrame::error(code, about, seq, detail));
    }

    /// Flags the peer for the flush, and drops it if it now owes more than
    /// the output limit (what its transport holds included).
    pub(super) fn after_push(&mut self, p: PeerId) {
        if self.fanning_out_big {
            self.mark_bulk(p);
        } else {
            self.mark_dirty(p);
        }
        let peer = &mut self.peers[p];
        if peer.backlog() > self.cfg.out_limit {
            let dropped = peer.out.discard_unsent();
            let why =
                format!("slow consumer: over the output limit of {} bytes", self.cfg.out_limit);
            log::debug!("#{p}: dropping {dropped} unsent bytes");
            self.close(p, Reason::fatal(ErrorCode::SlowConsumer, 0, why));
        }
    }

    /// Sends `f` (encoded once) to every connected member of room `r` but `except`.
    pub(super) fn broadcast(&mut self, r: u32, f: &ServerFrame, except: Option<u32>) {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        f.encode(&mut buf);
        self.send_to_members(r, &buf, except);
        self.scratch = buf;
    }

    /// Queues encoded frames for every connected member of room `r` but
    /// `except`: copied into each queue when small, else one shared buffer.
    pub(super) fn send_to_members(&mut self, r: u32, frames: &[u8], except: Option<u32>) {
        let members = std::mem::take(&mut self.rooms[r as usize].members);
        self.fanning_out_big = members.len() > BULK_ABOVE;
        let shared = (frames.len() > SHARE_ABOVE).then(|| Bytes::copy_from_slice(frames));
        for &m in &members {
            if Some(m) == except {
                continue;
            }
            let p = self.sessions[m as usize].peer;
            if p == NO_PEER {
                continue;
            }
            match &shared {
                Some(b) => self.send_shared(p as usize, b),
                None => self.send_bytes(p as usize, frames),
            }
            self.counters.frames_out += 1;
        }
        self.fanning_out_big = false;
        self.rooms[r as usize].members = members;
    }

    /// Every peer marked this turn first, then at most [`BULK_PER_TURN`]
    /// of those owed only the fan-out of large rooms, oldest first.
    pub fn take_dirty(&mut self, out: &mut Vec<PeerId>) {
        for p in self.dirty.drain(..) {
            if let Some(peer) = self.peers.get_mut(p) {
                peer.dirty = false;
                peer.bulk = false; // written whole now
                out.push(p);
            }
        }
        let mut n = 0;
        while n < BULK_PER_TURN {
            let Some(p) = self.bulk.pop_front() else { break };
            if let Some(peer) = self.peers.get_mut(p).filter(|x| x.bulk) {
                peer.bulk = false;
                out.push(p);
                n += 1;
            }
        }
    }

    /// Whether peers still wait for their share of a large room's fan-out:
    /// the reactor should come back at once.
    pub fn owes_flush(&self) -> bool {
        !self.bulk.is_empty()
    }

    /// Marks `p` to be flushed in a coming turn, after the others.
    fn mark_bulk(&mut self, p: PeerId) {
        if let Some(peer) = self.peers.get_mut(p) {
            if !peer.dirty && !peer.bulk {
                peer.bulk = true;
                self.bulk.push_back(p);
            }
        }
    }

    /// Marks `p` to be flushed this turn.
    pub(super) fn mark_dirty(&mut self, p: PeerId) {
        if let Some(peer) = self.peers.get_mut(p) {
            if !peer.dirty {
                peer.dirty = true;
                self.dirty.push(p);
            }
        }
    }
}

/// Rooms with more members than this have their fan-out written in rounds.
pub(super) const BULK_ABOVE: usize = 200;
/// Peers owed only large rooms' fan-out written per turn: a PRESENCE to a
/// 5 000-member room is 5 000 writes (tens of milliseconds), which the
/// other rooms' messages need not wait for.
pub(super) const BULK_PER_TURN: usize = 512;
/// Frames up to this size are copied into each receiver's own buffer (as
/// cheap as a shared handle, and no allocation); larger ones are shared.
pub(super) const SHARE_ABOVE: usize = 256;
