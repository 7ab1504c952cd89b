//! The reactor's socket work: accepting, reading through each link's
//! transport into the core (with a read budget per link per turn), one
//! write per peer with output, the write interest, shutting the write side
//! of a drained closing link, and reaping.

use super::link::Link;
use super::Reactor;
use crate::core::PeerId;
use crate::loglimit::Line;
use crate::transport::{Input, Transport};
use mio::{Interest, Token};
use std::io;

/// Reads of the shared 64 KiB buffer one link gets per turn.
const READS_PER_TURN: usize = 4;

impl Reactor {
    pub(super) fn accept_all(&mut self) {
        while let Some(l) = &self.listener {
            match l.accept() {
                Ok((sock, addr)) => self.on_accept(sock, addr),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    // EMFILE and friends: try again when a link is reaped.
                    log::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn on_accept(&mut self, mut sock: mio::net::TcpStream, addr: std::net::SocketAddr) {
        let _ = sock.set_nodelay(true);
        let entry = self.links.vacant_entry();
        let key = entry.key();
        if let Err(e) = self.poll.registry().register(&mut sock, Token(key), Interest::READABLE) {
            log::warn!("register {addr} failed: {e}");
            return;
        }
        let p = self.core.connect(addr);
        self.next_serial += 1;
        let transport = Transport::new(self.tls.as_ref().map(|t| t.config()));
        entry.insert(Link::new(sock, addr, transport, p, self.next_serial));
        if self.by_peer.len() <= p {
            self.by_peer.resize(p + 1, u32::MAX);
        }
        self.by_peer[p] = key as u32;
        self.log_lines.info(self.now, Line::Accept, || format!("accept {addr} as #{p}"));
    }

    pub(super) fn on_link_event(&mut self, key: usize, ev: &mio::event::Event) {
        let Some(link) = self.links.get(key) else { return };
        if ev.is_writable() {
            self.core.want_flush(link.peer);
        }
        let closed = ev.is_read_closed() || ev.is_error();
        if ev.is_readable() || closed {
            self.on_readable(key, closed);
        }
    }

    /// Reads what the socket holds through the link's transport, feeding
    /// plaintext to the core. When the event also reported the peer's
    /// close, it reads on to the EOF.
    ///
    /// At most [`READS_PER_TURN`] reads per link per turn, so a peer that
    /// keeps its socket full cannot hold the loop: a link with bytes left
    /// goes on the `hot` list and is read again next turn (the poll does not
    /// sleep while that list is not empty).
    pub(super) fn on_readable(&mut self, key: usize, closed: bool) {
        let awaits = self.links.get(key).is_some_and(|l| self.core.awaits_proxy(l.peer));
        if awaits && !self.read_proxy(key) {
            return;
        }
        let mut buf = std::mem::take(&mut self.read_buf);
        for turn in 0.. {
            let Some(link) = self.links.get_mut(key) else { break };
            if turn == READS_PER_TURN {
                self.hot.push((key, link.serial, closed));
                break;
            }
            let p = link.peer;
            if link.eof || link.gone || !self.core.wants_input(p) {
                break;
            }
            let input = link.transport.read(&mut link.sock, &mut buf);
            if link.transport.take_established() {
                self.core.set_secure(p);
                self.stats.tls_handshakes += 1;
            }
            if link.transport.is_tls() {
                self.core.want_flush(p); // handshake records, alerts
            }
            match input {
                Ok(Input::Plain { n, more }) => {
                    self.core.input(p, &buf[..n]);
                    if !more && !closed {
                        break;
                    }
                }
                Ok(Input::Heard) => self.core.heard(p),
                Ok(Input::Request(req)) => {
                    self.core.heard(p);
                    self.answer(key, &req);
                    if !self.links[key].transport.has_input() {
                        break; // else: bytes that followed an upgrade, decoded next
                    }
                }
                Ok(Input::Ended(why)) => {
                    self.core.end(p, why);
                    break;
                }
                Ok(Input::Empty) => break,
                Ok(Input::Eof) => {
                    link.eof = true;
                    self.core.peer_closed(p);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    link.gone = true;
                    self.core.transport_failed(p, format!("socket error: {e}"));
                    break;
                }
            }
        }
        self.read_buf = buf;
    }

    /// Reads again the links that still had bytes last turn.
    pub(super) fn read_hot(&mut self) {
        for (key, serial, closed) in std::mem::take(&mut self.hot) {
            if self.links.get(key).is_some_and(|l| l.serial == serial) {
                self.on_readable(key, closed);
            }
        }
    }

    /// One write per peer with output; WRITABLE interest only while bytes
    /// are left; a drained closing link shuts its write side.
    pub(super) fn flush(&mut self) {
        let mut dirty = std::mem::take(&mut self.scratch.dirty);
        self.core.take_dirty(&mut dirty);
        for &p in &dirty {
            self.flush_peer(p);
        }
        dirty.clear();
        self.scratch.dirty = dirty;
    }

    fn flush_peer(&mut self, p: PeerId) {
        let Some(&key) = self.by_peer.get(p) else { return };
        let key = key as usize;
        let (Some(link), Some(peer)) = (self.links.get_mut(key), self.core.peer(p)) else { return };
        if link.peer != p {
            return;
        }
        if link.gone {
            return self.mark_closing(key);
        }
        let closing = peer.is_closing();
        let code = peer.close_code();
        let out = self.core.output(p).expect("peer checked above");
        let before = out.pending();
        let mut result = link.transport.write(&mut link.sock, out);
        let left = out.pending();
        self.released += before - left;
        self.stats.bytes_out += (before - left) as u64;
        let mut held = link.transport.held();
        if result.is_ok() && closing && left == 0 && held == 0 && !link.shut {
            match link.transport.shutdown(&mut link.sock, code) {
                Ok(true) => link.shut = true,
                Ok(false) => held = link.transport.held(),
                Err(e) => result = Err(e),
            }
        }
        if let Err(e) = result {
            link.gone = true;
            log::debug!("#{p}: write failed: {e}");
            self.core.transport_failed(p, format!("write failed: {e}"));
            return self.mark_closing(key);
        }
        self.core.flushed(p, held);
        let want = left > 0 || held > 0;
        if want != link.want_write {
            link.want_write = want;
            let interest =
                if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
            let _ = self.poll.registry().reregister(&mut link.sock, Token(key), interest);
        }
        if closing {
            self.mark_closing(key);
        }
    }

    fn mark_closing(&mut self, key: usize) {
        let link = &mut self.links[key];
        if !link.closing {
            link.closing = true;
            self.closing.push(key);
        }
    }

    /// Removes closing links that are done: failed, past their deadline, or
    /// drained with the far end gone. Returns how many went.
    pub(super) fn reap(&mut self) -> usize {
        let mut reaped = 0;
        let mut i = 0;
        while i < self.closing.len() {
            let key = self.closing[i];
            let link = &self.links[key];
            let Some(peer) = self.core.peer(link.peer) else {
                unreachable!("closing link without peer")
            };
            let done = link.shut && (link.eof || self.shutdown_at.is_some());
            if !(link.gone || peer.expired || done) {
                i += 1;
                continue;
            }
            self.closing.swap_remove(i);
            // Dropping the socket closes it, which takes it out of the poll:
            // no deregister call (one syscall fewer per connection).
            let link = self.links.remove(key);
            if let Some(peer) = self.core.remove(link.peer) {
                let why = peer.close_why().unwrap_or("closed");
                let (addr, real, p) = (link.addr, peer.addr, link.peer);
                let via = if real == addr { String::new() } else { format!(" (for {real})") };
                let line = || format!("close {addr}{via} #{p}: {why}");
                self.log_lines.info(self.now, Line::Close, line);
            }
            reaped += 1;
        }
        reaped
    }
}
