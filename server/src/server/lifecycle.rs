//! The loop's housekeeping: closing in two phases and reaping, detaching
//! sessions so they linger, timers (handshake deadline, heartbeat, close
//! deadline, linger), flushing once per iteration, signals and shutdown.
//!
//! Nothing here interprets frames; see `handshake`, `rooms` and `chat`.

use super::{Server, Timer, CLOSE_GRACE_MS};
use crate::conn::{Reason, State};
use crate::room::Room;
use crate::session::NO_CONN;
use banter_proto::{ErrorCode, PresenceEvent, ServerFrame};
use mio::{Interest, Token};
use std::io;

/// Bytes of output buffers released before the heap is worth trimming.
const TRIM_AFTER: usize = 1 << 20;

impl Server {
    /// Marks a connection closing: queues its fatal ERROR (if any), stops
    /// counting it, detaches its session (settled later), and leaves the
    /// rest to `flush_dirty` and `reap`.
    pub(crate) fn close_conn(&mut self, key: usize, reason: Reason) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.is_closing() {
            return;
        }
        if let Some(session) = conn.session() {
            self.detached.push((session, key));
        }
        if let Some((code, about)) = reason.error {
            conn.out.push(&ServerFrame::error(code, about, 0, reason.why.as_ref()));
        }
        let deadline = self.now + CLOSE_GRACE_MS;
        conn.state = State::Closing { deadline };
        conn.inbuf = Vec::new();
        conn.close_why = Some(reason.why);
        let gen = conn.gen;
        self.open -= 1;
        self.closing.push(key);
        self.mark_dirty(key);
        self.wheel.insert(deadline, Timer::Conn { key: key as u32, gen });
    }

    /// Sessions whose connection closed start to linger (nothing is said
    /// to anyone but a typing stop); those that moved on are left alone.
    pub(crate) fn settle(&mut self) {
        while let Some((s, key)) = self.detached.pop() {
            let Some(session) = self.sessions.get_mut(s as usize) else {
                continue;
            };
            if session.conn != key as u32 {
                continue;
            }
            session.conn = NO_CONN;
            session.gen = session.gen.wrapping_add(1);
            let gen = session.gen;
            self.stop_all_typing(s);
            self.wheel.insert(self.now + self.cfg.linger_ms, Timer::Linger { session: s, gen });
        }
    }

    /// Ends a session for good: it leaves every room with PRESENCE
    /// `event`, and its name is free again.
    pub(crate) fn end_session(&mut self, s: u32, event: PresenceEvent, reason: &str) {
        self.stop_all_typing(s);
        let Some(session) = self.sessions.try_remove(s as usize) else {
            return;
        };
        self.names.remove(&*banter_proto::validate::name_key(&session.name));
        for &r in &session.rooms {
            self.rooms[r as usize].remove_member(s);
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

    pub(super) fn fire_timers(&mut self) {
        let mut due = Vec::new();
        self.wheel.poll(self.now, &mut due);
        for t in due {
            match t {
                Timer::Conn { key, gen } => self.on_conn_timer(key as usize, gen),
                Timer::Linger { session, gen } => self.on_linger_end(session, gen),
            }
            self.settle();
        }
    }

    fn on_conn_timer(&mut self, key: usize, gen: u32) {
        let Some(conn) = self.conns.get(key).filter(|c| c.gen == gen) else {
            return;
        };
        match conn.state {
            State::Closing { deadline } => {
                if self.now >= deadline {
                    self.conns[key].gone = true; // give up on the rest
                }
            }
            State::Handshake | State::Authenticating => {
                let why = "handshake not finished in time";
                self.close_conn(key, Reason::fatal(ErrorCode::Timeout, 0, why));
            }
            State::Active { .. } => self.heartbeat(key, gen),
        }
    }

    /// PING after one heartbeat of silence, drop after two. Looked at only
    /// when the timer fires: hearing from a peer never touches the wheel.
    fn heartbeat(&mut self, key: usize, gen: u32) {
        let hb = self.cfg.heartbeat_ms;
        let heard = self.conns[key].last_heard;
        let idle = self.now.saturating_sub(heard);
        let next = if idle >= 2 * hb {
            let why = format!("no traffic for {idle} ms");
            return self.close_conn(key, Reason::fatal(ErrorCode::Timeout, 0, why));
        } else if idle >= hb {
            self.ping_nonce += 1;
            self.send(key, &ServerFrame::Ping { nonce: self.ping_nonce });
            heard + 2 * hb
        } else {
            heard + hb
        };
        self.wheel.insert(next, Timer::Conn { key: key as u32, gen });
    }

    fn on_linger_end(&mut self, s: u32, gen: u32) {
        let lingering =
            self.sessions.get(s as usize).is_some_and(|x| x.gen == gen && x.conn == NO_CONN);
        if lingering {
            self.end_session(s, PresenceEvent::Lost, "");
        }
    }

    /// One write per connection with output; WRITABLE interest only while
    /// bytes are left; a drained closing connection shuts its write side.
    pub(super) fn flush_dirty(&mut self) {
        for key in std::mem::take(&mut self.dirty) {
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            conn.dirty = false;
            if conn.gone {
                continue;
            }
            if !conn.out.is_empty() {
                let held = conn.out.capacity();
                match conn.out.write_to(&mut conn.sock) {
                    Ok(_) if conn.out.is_empty() => self.drained += held,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        conn.gone = true;
                        log::debug!("#{key}: write failed: {e}");
                        self.close_conn(key, Reason::quiet(format!("write failed: {e}")));
                        continue;
                    }
                }
            }
            let want = !conn.out.is_empty();
            if want != conn.want_write {
                conn.want_write = want;
                let interest =
                    if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
                let _ = self.poll.registry().reregister(&mut conn.sock, Token(key), interest);
            }
            if conn.is_closing() && !want && !conn.shut {
                conn.shut = true;
                let _ = conn.sock.shutdown(std::net::Shutdown::Write);
            }
        }
    }

    /// Gives freed heap back to the OS once a burst is over: after a
    /// storm (say, 10 000 PRESENCE frames to 10 000 members) glibc keeps the
    /// freed buffers, and idle connections would look ten times their size.
    /// At most once a second, and only after a MiB of buffers was released
    /// (heartbeat PINGs alone never trigger it: the trim walks the heap).
    pub(super) fn trim_heap(&mut self) {
        if self.drained < TRIM_AFTER || self.now < self.trimmed_at + 1000 {
            return;
        }
        self.drained = 0;
        self.trimmed_at = self.now;
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free memory of the allocator.
        unsafe {
            libc::malloc_trim(64 * 1024);
        }
    }

    /// Removes closing connections that are done: failed, past their
    /// deadline, or drained with the peer gone. Returns how many went.
    pub(super) fn reap(&mut self) -> usize {
        let mut reaped = 0;
        let mut i = 0;
        while i < self.closing.len() {
            let key = self.closing[i];
            let conn = &self.conns[key];
            let State::Closing { deadline } = conn.state else { unreachable!("closing list") };
            let drained =
                conn.out.is_empty() && (conn.eof || conn.shut && self.shutdown_at.is_some());
            if !(conn.gone || drained || self.now >= deadline) {
                i += 1;
                continue;
            }
            self.closing.swap_remove(i);
            let mut conn = self.conns.remove(key);
            self.drained += conn.out.capacity() + conn.inbuf.capacity();
            let _ = self.poll.registry().deregister(&mut conn.sock);
            let why = conn.close_why.as_deref().unwrap_or("closed");
            log::info!("close {} #{key}: {why}", conn.addr);
            reaped += 1;
        }
        reaped
    }

    pub(super) fn on_signals(&mut self) {
        let signals: Vec<i32> = self.signals.pending().collect();
        if !signals.is_empty() {
            self.begin_shutdown(signals[0]);
        }
    }

    /// Stops accepting and tells every client; the loop then drains for up
    /// to a second and exits.
    fn begin_shutdown(&mut self, sig: i32) {
        if self.shutdown_at.is_some() {
            return;
        }
        log::info!("signal {sig}: shutting down");
        if let Some(mut l) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut l);
        }
        self.shutdown_at = Some(self.now + CLOSE_GRACE_MS);
        self.commit_batch(); // accepted SAYs get their ACKs before SHUTTING_DOWN
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            let why = "server shutting down";
            self.close_conn(key, Reason::fatal(ErrorCode::ShuttingDown, 0, why));
        }
        self.detached.clear(); // no lingering on the way out
    }

    /// Last steps after the loop: everything accepted is already committed
    /// (the loop commits before it flushes); make it durable and say bye.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        if let Err(e) = self.store.close() {
            log::error!("closing the database: {e}");
            return Err(io::Error::other(e.to_string()));
        }
        log::info!("bye");
        Ok(())
    }

    /// Learns every stored room and its newest id, and fills its window.
    pub(super) fn load_rooms(&mut self) -> io::Result<()> {
        let rooms = self.store.rooms().map_err(|e| io::Error::other(e.to_string()))?;
        for (name, last_id) in rooms {
            let recent = self.store.recent(&name, crate::room::WINDOW);
            let recent = recent.map_err(|e| io::Error::other(e.to_string()))?;
            let mut room = Room::new(&name, last_id);
            recent.into_iter().for_each(|m| room.push(m.into()));
            self.room_ids.insert(name.into(), self.rooms.len() as u32);
            self.rooms.push(room);
        }
        Ok(())
    }

    pub(super) fn on_auth_results(&mut self) {
        let mut results = Vec::new();
        self.hasher.drain(&mut results);
        for r in results {
            self.on_auth_result(r);
            self.settle();
        }
    }
}
