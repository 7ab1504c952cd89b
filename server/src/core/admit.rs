//! Admission control: who may connect (`--max-per-ip`, `--conn-rate`), the
//! real source behind a trusted proxy, frame budgets shared by a session
//! and its address, and the bound on lingering sessions (per address and
//! in all, the oldest ending first).
//!
//! Refusals at connect are SERVER_FULL (fatal, with the reason as detail);
//! a frame over its budget is answered RATE_LIMITED by the handler that
//! asked (not fatal).

use super::addrs::{key_of, Lingerer};
use super::budget::Kind;
use super::peer::Reason;
use super::{Core, PeerId};
use banter_proto::{ErrorCode, PresenceEvent};
use std::net::SocketAddr;

impl Core {
    /// Counts a peer whose source address is known against that address's
    /// limits; closes it with SERVER_FULL when one is reached.
    pub(super) fn admit(&mut self, p: PeerId) {
        let ip = key_of(self.peers[p].addr.ip());
        let (max, rate) = (self.cfg.limits.max_per_ip, self.cfg.limits.conn_rate);
        let rule = super::budget::Rule::per_sec(rate, rate.saturating_mul(2));
        let a = self.addrs.entry(ip);
        let why = if max > 0 && a.open >= max {
            format!("too many connections from {ip} (at most {max})")
        } else if !a.conn.take(rule, self.now) {
            format!("too many new connections from {ip}: try again in a few seconds")
        } else {
            a.open += 1;
            self.peers[p].counted = true;
            return;
        };
        log::debug!("#{p}: {why}");
        self.close(p, Reason::fatal(ErrorCode::ServerFull, 0, why));
    }

    /// Stops counting a closing peer against its address.
    pub(super) fn uncount(&mut self, p: PeerId) {
        let peer = &mut self.peers[p];
        if std::mem::take(&mut peer.counted) {
            if let Some(a) = self.addrs.get_mut(key_of(peer.addr.ip())) {
                a.open = a.open.saturating_sub(1);
            }
        }
    }

    /// Whether `p` came from a `--proxy-from` address and its PROXY header
    /// is still due.
    pub fn awaits_proxy(&self, p: PeerId) -> bool {
        self.peers.get(p).is_some_and(|x| x.awaits_proxy && !x.is_closing())
    }

    /// The PROXY header of `p` was read: `source` is the client's address
    /// (`None`: the proxy speaks for itself, e.g. a health check). The
    /// address's limits apply from here.
    pub fn proxy_source(&mut self, p: PeerId, source: Option<SocketAddr>) {
        let Some(peer) = self.peers.get_mut(p).filter(|x| x.awaits_proxy) else { return };
        peer.awaits_proxy = false;
        if let Some(src) = source {
            log::debug!("#{p}: {} speaks for {src}", peer.addr);
            peer.addr = src;
        }
        if !peer.is_closing() {
            self.admit(p);
        }
        self.settle();
    }

    /// Spends `cost` `kind` tokens of session `s` (on peer `p`) and of its
    /// address; false when either budget lacks them.
    pub(super) fn spend(&mut self, p: PeerId, s: u32, kind: Kind, cost: u32) -> bool {
        let ip = key_of(self.peers[p].addr.ip());
        let session = &mut self.sessions[s as usize].budgets;
        let addr = &mut self.addrs.entry(ip).budgets;
        self.rules.take(kind, cost, session, addr, self.now)
    }

    /// Spends a `kind` token or answers RATE_LIMITED about `about` (with
    /// `seq`); returns whether the frame may go on.
    pub(super) fn spend_or_refuse(
        &mut self,
        p: PeerId,
        s: u32,
        kind: Kind,
        about: u8,
        seq: u32,
    ) -> bool {
        self.spend_n_or_refuse(p, s, kind, 1, about, seq)
    }

    /// [`Core::spend_or_refuse`] of `cost` tokens.
    pub(super) fn spend_n_or_refuse(
        &mut self,
        p: PeerId,
        s: u32,
        kind: Kind,
        cost: u32,
        about: u8,
        seq: u32,
    ) -> bool {
        if self.spend(p, s, kind, cost) {
            return true;
        }
        let what = match kind {
            Kind::Say => "SAY/TYPING",
            Kind::Room => "JOIN/LEAVE",
            Kind::Query => "WHO/HISTORY",
            Kind::Register => "REGISTER",
        };
        self.send_error(p, ErrorCode::RateLimited, about, seq, &format!("too many {what} frames"));
        false
    }

    /// Session `s` has just started to linger: it is queued, and the
    /// oldest lingering sessions end (PRESENCE lost) while its address has
    /// more than `--max-per-ip` of them or the server more than
    /// `--max-lingering`.
    pub(super) fn start_lingering(&mut self, s: u32) {
        let session = &mut self.sessions[s as usize];
        session.lingering = true;
        let l = Lingerer { slot: s, uid: session.uid, gen: session.gen };
        let ip = session.addr;
        self.addrs.entry(ip).lingering.push(l);
        self.lingering.push(l);
        let per_ip = self.cfg.limits.max_per_ip as usize;
        while per_ip > 0 && self.addrs.entry(ip).lingering.live > per_ip {
            let sessions = &self.sessions;
            let valid = |l: &Lingerer| still_lingering(sessions, l);
            let Some(old) = self.addrs.entry(ip).lingering.oldest(valid) else { break };
            self.end_lingerer(old, "address");
        }
        while self.lingering.live > self.cfg.limits.max_lingering {
            let sessions = &self.sessions;
            let Some(old) = self.lingering.oldest(|l| still_lingering(sessions, l)) else { break };
            self.end_lingerer(old, "server");
        }
        let sessions = &self.sessions;
        self.lingering.compact(|l| still_lingering(sessions, l));
        self.addrs.entry(ip).lingering.compact(|l| still_lingering(sessions, l));
    }

    fn end_lingerer(&mut self, l: Lingerer, whose: &str) {
        let name = &self.sessions[l.slot as usize].name;
        log::debug!("session {name} stops lingering: too many lingering sessions ({whose})");
        self.end_session(l.slot, PresenceEvent::Lost, "");
    }

    /// Session `s` stops lingering (resumed or ended): uncounted.
    pub(super) fn stop_lingering(&mut self, s: u32) {
        let Some(session) = self.sessions.get_mut(s as usize) else { return };
        if !std::mem::take(&mut session.lingering) {
            return;
        }
        self.lingering.gone();
        if let Some(a) = self.addrs.get_mut(session.addr) {
            a.lingering.gone();
        }
    }
}

/// Whether a queued lingerer still is one.
fn still_lingering(sessions: &slab::Slab<super::Session>, l: &Lingerer) -> bool {
    sessions.get(l.slot as usize).is_some_and(|x| x.uid == l.uid && x.gen == l.gen && x.lingering)
}
