//! One connection to Redis, driven from the reactor's poll like any other
//! socket: commands are appended to an output buffer and written when the
//! socket allows; replies are parsed as they arrive and handed back in
//! order with the tag the command was sent with (Redis answers a
//! connection's commands in order). A subscribed connection's pushes come
//! back untagged. A lost connection is reported with the tags it was still
//! owed, and reconnects with backoff.
//!
//! A subscribed connection reads at most [`SUB_TURN_BYTES`] a turn and says
//! when it stopped short ([`Link::has_unread`]): what a burst from Redis
//! fans out to a node's members then goes to their sockets a turn's worth
//! at a time, as a sender's burst does on one server, instead of all at
//! once into their output queues (where a member reading promptly could
//! pass `--out-limit` only because its node had fallen behind).
//!
//! It knows RESP, not what the commands mean: see the cluster module.

use super::resp::{self, Value};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// First retry after a lost connection; doubles up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: u64 = 100;
/// Longest wait between attempts.
const MAX_BACKOFF_MS: u64 = 2000;
/// Most bytes a subscribed connection reads in one turn.
pub const SUB_TURN_BYTES: usize = 32 * 1024;

/// What the link has for its owner after a read.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<T> {
    /// The reply to the command sent with `T`.
    Reply(T, Value),
    /// A message on a subscribed connection.
    Push(Value),
    /// The connection is up (again): commands may flow.
    Up,
    /// The connection was lost; these commands were never answered.
    Down(Vec<T>),
}

/// One Redis connection.
pub struct Link<T> {
    /// Where Redis listens.
    addr: SocketAddr,
    /// The poll token of the socket.
    token: Token,
    /// The socket, while connected or connecting.
    sock: Option<TcpStream>,
    /// The connect finished (the first writable event came).
    up: bool,
    /// Encoded commands not yet written.
    out: Vec<u8>,
    /// Bytes received not yet parsed.
    inbuf: Vec<u8>,
    /// Tags of the commands written or queued, oldest first.
    owed: VecDeque<T>,
    /// Pushes are expected (after SUBSCRIBE): untagged values are pushes.
    subscriber: bool,
    /// When to try again after a loss (loop ms), and the backoff.
    retry: Option<(u64, u64)>,
    /// The last read stopped at [`SUB_TURN_BYTES`], not at WouldBlock: the
    /// socket may hold more, and an edge-triggered poll will not say so.
    unread: bool,
}

impl<T> Link<T> {
    /// A link to `addr` under poll token `token`, not yet connected.
    pub fn new(addr: SocketAddr, token: Token, subscriber: bool) -> Link<T> {
        Link {
            addr,
            token,
            sock: None,
            up: false,
            out: Vec::new(),
            inbuf: Vec::new(),
            owed: VecDeque::new(),
            subscriber,
            retry: Some((0, FIRST_BACKOFF_MS)),
            unread: false,
        }
    }

    /// Whether the connection is up.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Whether a read stopped at its turn's budget: read again next turn.
    pub fn has_unread(&self) -> bool {
        self.unread && self.up
    }

    /// The poll token of its socket.
    pub fn token(&self) -> Token {
        self.token
    }

    /// Gives the connection up now (a write failed).
    pub fn lose_now(&mut self, now: u64, events: &mut Vec<Event<T>>) {
        self.lose(now, events);
    }

    /// When a reconnect is due, if one is.
    pub fn retry_at(&self) -> Option<u64> {
        self.retry.map(|r| r.0)
    }

    /// Starts a connection if one is due at `now`.
    pub fn connect_if_due(&mut self, registry: &Registry, now: u64) {
        let Some((at, backoff)) = self.retry else { return };
        if now < at || self.sock.is_some() {
            return;
        }
        match TcpStream::connect(self.addr) {
            Ok(mut s) => {
                let _ = s.set_nodelay(true);
                match registry.register(&mut s, self.token, Interest::READABLE | Interest::WRITABLE)
                {
                    Ok(()) => {
                        self.sock = Some(s);
                        self.retry = None;
                    }
                    Err(_) => self.retry = Some((now + backoff, (backoff * 2).min(MAX_BACKOFF_MS))),
                }
            }
            Err(_) => self.retry = Some((now + backoff, (backoff * 2).min(MAX_BACKOFF_MS))),
        }
    }

    /// Queues a command tagged `tag` (written by the next `flush`).
    pub fn send(&mut self, tag: T, args: &[&[u8]]) {
        resp::command(&mut self.out, args);
        self.owed.push_back(tag);
    }

    /// Queues a command whose reply nobody waits for, on a subscribed
    /// connection (SUBSCRIBE answers with pushes).
    pub fn send_untagged(&mut self, args: &[&[u8]]) {
        resp::command(&mut self.out, args);
    }

    /// Writes what the socket takes; false when the link was lost.
    pub fn flush(&mut self) -> bool {
        let Some(sock) = self.sock.as_mut().filter(|_| self.up) else { return true };
        while !self.out.is_empty() {
            match sock.write(&self.out) {
                Ok(n) => drop(self.out.drain(..n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Handles a poll event of this link's socket at `now`; `events` gets
    /// what came of it.
    pub fn on_event(&mut self, writable: bool, now: u64, events: &mut Vec<Event<T>>) {
        if writable && !self.up && self.sock.is_some() {
            let connected = self.sock.as_ref().is_some_and(|s| s.peer_addr().is_ok());
            if !connected {
                return self.lose(now, events);
            }
            self.up = true;
            events.push(Event::Up);
        }
        if !self.read(events) || !self.flush() {
            self.lose(now, events);
        }
    }

    /// Reads and parses what arrived; false when the link was lost.
    fn read(&mut self, events: &mut Vec<Event<T>>) -> bool {
        let Some(sock) = self.sock.as_mut().filter(|_| self.up) else { return true };
        let mut buf = [0u8; 64 * 1024];
        let budget = if self.subscriber { SUB_TURN_BYTES } else { usize::MAX };
        let mut took = 0;
        self.unread = false;
        loop {
            let room = buf.len().min(budget - took);
            if room == 0 {
                self.unread = true;
                break;
            }
            match sock.read(&mut buf[..room]) {
                Ok(0) => return false,
                Ok(n) => {
                    took += n;
                    self.inbuf.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        let mut at = 0;
        loop {
            match resp::parse(&self.inbuf[at..]) {
                Ok(Some((v, n))) => {
                    at += n;
                    events.push(self.route(v));
                }
                Ok(None) => break,
                Err(e) => {
                    log::error!("cluster: Redis sent something unreadable: {}", e.0);
                    return false;
                }
            }
        }
        self.inbuf.drain(..at);
        true
    }

    /// A value is the reply to the oldest command, or a push.
    fn route(&mut self, v: Value) -> Event<T> {
        match (self.subscriber, self.owed.pop_front()) {
            (false, Some(tag)) => Event::Reply(tag, v),
            (true, Some(tag)) if !is_push(&v) => Event::Reply(tag, v),
            (_, tag) => {
                if let Some(t) = tag {
                    self.owed.push_front(t);
                }
                Event::Push(v)
            }
        }
    }

    /// The connection is gone: owed commands are reported, a retry planned.
    fn lose(&mut self, now: u64, events: &mut Vec<Event<T>>) {
        let was_up = self.up;
        self.sock = None;
        self.up = false;
        self.unread = false;
        self.out.clear();
        self.inbuf.clear();
        let backoff = FIRST_BACKOFF_MS;
        self.retry = Some((now + backoff, (backoff * 2).min(MAX_BACKOFF_MS)));
        if was_up {
            log::warn!("cluster: lost the connection to Redis at {}", self.addr);
        }
        events.push(Event::Down(self.owed.drain(..).collect()));
    }
}

/// Whether a value on a subscribed connection is a push (`message`,
/// `subscribe`, `unsubscribe` arrays) rather than a command's reply.
fn is_push(v: &Value) -> bool {
    matches!(
        v.items().first().and_then(|k| k.as_str()),
        Some("message" | "subscribe" | "unsubscribe" | "pmessage")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    #[test]
    fn a_subscription_reads_one_turns_budget_at_a_time() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let poll = mio::Poll::new().expect("poll");
        let mut link: Link<u64> = Link::new(listener.local_addr().expect("addr"), Token(1), true);
        link.connect_if_due(poll.registry(), 0);
        let (mut redis, _) = listener.accept().expect("accept");
        let mut events = Vec::new();
        link.on_event(true, 0, &mut events);
        assert_eq!(events.pop(), Some(Event::Up));
        let mut bytes = Vec::new();
        for _ in 0..100 {
            resp::command(&mut bytes, &[b"message", b"room", &[b'x'; 1024]]);
        }
        redis.write_all(&bytes).expect("write");
        std::thread::sleep(Duration::from_millis(100)); // all of it in the socket
        let (mut pushes, mut turns) = (0, 0);
        while pushes < 100 && turns < 20 {
            link.on_event(false, 0, &mut events);
            let n = events.drain(..).filter(|e| matches!(e, Event::Push(_))).count();
            assert!(n <= SUB_TURN_BYTES / 1024, "{n} pushes in one turn");
            if turns == 0 {
                assert!(link.has_unread(), "the first turn stopped at its budget");
            }
            pushes += n;
            turns += 1;
        }
        assert_eq!(pushes, 100, "every push, in {turns} turns");
        assert!(turns >= 4, "100 KiB in turns of at most 32 KiB: {turns}");
        assert!(!link.has_unread(), "nothing left");
    }
}
