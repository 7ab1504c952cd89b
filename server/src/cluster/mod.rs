//! Several `banterd` nodes as one chat over Redis (`--cluster`). This
//! module is the reactor's side: two Redis connections driven from the
//! poll (one for commands and scripts, one for subscriptions), the node's
//! liveness and the reaping of dead nodes, and the translation between
//! what the core asks ([`Op`]s, tagged) and what Redis answers
//! ([`Input`]s). What each step means for users is the core's
//! (`core::cluster`).
//!
//! Why the poll and not a bridge thread: Redis answers a connection's
//! commands in order, so one non-blocking socket per role, read and
//! written from the same loop as the peers, keeps every reply in the order
//! the core asked; a thread would add a queue and a wake-up per batch and
//! gain nothing, since nothing here blocks.
//!
//! The data layout and the scripts are in `scripts`, the records nodes
//! publish in `event`, RESP in `resp`, one connection in `link`.

pub mod event;
pub mod link;
pub mod ops;
pub mod resp;
pub mod scripts;
pub mod url;

pub use ops::{Input, Op};

use link::Link;
use mio::{Registry, Token};
use resp::Value;
use std::collections::HashSet;

/// The liveness key lives this long; it is renewed every [`RENEW_MS`].
pub const ALIVE_MS: u64 = 3000;
/// How often the liveness key is renewed and dead nodes looked for.
const RENEW_MS: u64 = 1000;

/// Tags of the module's own commands (the core's count up from 1).
const OWN: u64 = u64::MAX;
/// Tag of the AUTH each connection starts with when the URL has a password.
const AUTH: u64 = u64::MAX - 1;

/// The node's connections to Redis.
pub struct Cluster {
    /// This node's id.
    node: String,
    /// `AUTH [user] password`, sent first on every connection, if any.
    auth: Option<Vec<Vec<u8>>>,
    /// The Redis URL as logs show it (without its password).
    shown: String,
    /// How long a dead node's sessions linger before they are reaped.
    linger_ms: u64,
    /// Commands and scripts.
    cmd: Link<u64>,
    /// Subscriptions.
    sub: Link<u64>,
    /// SHA-1 of each script, in `Script` order.
    shas: Vec<String>,
    /// Channels the core wants, subscribed again after a reconnect.
    channels: HashSet<String>,
    /// When the liveness key was last renewed (loop ms).
    renewed: u64,
    /// The loop's time as of the last tick.
    now: u64,
}

impl Cluster {
    /// Connections to the Redis of `url` (`redis://HOST:PORT`) under poll
    /// tokens `cmd` and `sub`, for node `node`.
    pub fn new(
        url: &str,
        node: &str,
        linger_ms: u64,
        cmd: Token,
        sub: Token,
    ) -> Result<Cluster, String> {
        let target = url::parse(url)?;
        let addr = target.addr;
        let shas = scripts::sources()
            .iter()
            .map(|s| sha1_smol::Sha1::from(s.as_bytes()).digest().to_string())
            .collect();
        let mut channels = HashSet::new();
        channels.insert(format!("b:node:{node}"));
        Ok(Cluster {
            node: node.to_string(),
            auth: target.auth,
            shown: target.shown,
            linger_ms,
            cmd: Link::new(addr, cmd, false),
            sub: Link::new(addr, sub, true),
            shas,
            channels,
            renewed: 0,
            now: 0,
        })
    }

    /// Connects what is due, renews the liveness key and reaps dead nodes.
    pub fn tick(&mut self, registry: &Registry, now: u64) {
        self.now = now;
        self.cmd.connect_if_due(registry, now);
        self.sub.connect_if_due(registry, now);
        if self.cmd.is_up() && now >= self.renewed + RENEW_MS {
            self.renew();
        }
    }

    /// Renews the liveness key (and the node's place among the nodes:
    /// queued at connect before any session is claimed, so a node that
    /// dies at once can still be reaped), then reaps the dead.
    fn renew(&mut self) {
        self.renewed = self.now;
        let node = self.node.clone();
        let (ttl, linger) = (ALIVE_MS.to_string(), self.linger_ms.to_string());
        self.eval(OWN, scripts::Script::Renew, &[node.as_bytes(), ttl.as_bytes()]);
        self.eval(OWN, scripts::Script::Reap, &[node.as_bytes(), linger.as_bytes()]);
    }

    /// The earliest time `tick` has something to do.
    pub fn next_due(&self) -> Option<u64> {
        let renew = self.cmd.is_up().then_some(self.renewed + RENEW_MS);
        [renew, self.cmd.retry_at(), self.sub.retry_at()].into_iter().flatten().min()
    }

    /// Queues the core's op; an op that cannot be sent (Redis is not
    /// reachable) is answered at once as lost.
    pub fn submit(&mut self, op: Op, out: &mut Vec<Input>) {
        match op {
            Op::Eval { tag, .. } if !self.cmd.is_up() => out.push(Input::Down(vec![tag])),
            Op::Eval { tag, script, args } => {
                let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                self.eval(tag, script, &args);
            }
            Op::Subscribe { channel } => {
                if self.sub.is_up() {
                    self.sub.send_untagged(&[b"SUBSCRIBE", channel.as_bytes()]);
                }
                self.channels.insert(channel);
            }
            Op::Unsubscribe { channel } => {
                if self.channels.remove(&channel) && self.sub.is_up() {
                    self.sub.send_untagged(&[b"UNSUBSCRIBE", channel.as_bytes()]);
                }
            }
        }
    }

    fn eval(&mut self, tag: u64, script: scripts::Script, args: &[&[u8]]) {
        let sha = self.shas[script as usize].clone();
        let mut all: Vec<&[u8]> = vec![b"EVALSHA", sha.as_bytes(), b"0"];
        all.extend_from_slice(args);
        self.cmd.send(tag, &all);
    }

    /// Writes what was queued.
    pub fn flush(&mut self, now: u64, out: &mut Vec<Input>) {
        if !self.cmd.flush() {
            let mut evs = Vec::new();
            self.cmd.lose_now(now, &mut evs);
            evs.into_iter().for_each(|e| self.on_cmd(e, out));
        }
        if !self.sub.flush() {
            let mut evs = Vec::new();
            self.sub.lose_now(now, &mut evs);
            evs.into_iter().for_each(|e| self.on_sub(e, out));
        }
    }

    /// A poll event of one of the two sockets.
    pub fn on_event(&mut self, token: Token, writable: bool, now: u64, out: &mut Vec<Input>) {
        let mut evs = Vec::new();
        if token == self.cmd.token() {
            self.cmd.on_event(writable, now, &mut evs);
            evs.into_iter().for_each(|e| self.on_cmd(e, out));
        } else {
            self.sub.on_event(writable, now, &mut evs);
            evs.into_iter().for_each(|e| self.on_sub(e, out));
        }
    }

    /// The Redis URL as logs may show it (without its password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The token of a socket to read again this turn (its last read stopped
    /// at the turn's budget), if any.
    pub fn unread(&self) -> Option<Token> {
        self.sub.has_unread().then(|| self.sub.token())
    }

    /// Whether `token` is the subscription's socket.
    pub fn is_sub(&self, token: Token) -> bool {
        token == self.sub.token()
    }

    /// Whether `token` is one of the cluster's sockets.
    pub fn owns(&self, token: Token) -> bool {
        token == self.cmd.token() || token == self.sub.token()
    }

    fn on_cmd(&mut self, e: link::Event<u64>, out: &mut Vec<Input>) {
        match e {
            link::Event::Up => {
                log::info!("cluster: connected to Redis (commands)");
                send_auth(&mut self.cmd, self.auth.as_deref());
                // Scripts first: a restarted Redis has forgotten them, and
                // Redis runs this connection's commands in order.
                for src in scripts::sources() {
                    self.cmd.send(OWN, &[b"SCRIPT", b"LOAD", src.as_bytes()]);
                }
                self.renew();
                out.push(Input::Up);
            }
            link::Event::Reply(AUTH, v) => refused_auth(&v),
            link::Event::Reply(OWN, Value::Error(e)) => {
                log::error!("cluster: Redis refused a command of the node: {e}")
            }
            link::Event::Reply(OWN, _) => {}
            link::Event::Reply(tag, v) => out.push(Input::Reply(tag, v)),
            link::Event::Push(_) => {}
            link::Event::Down(tags) => {
                out.push(Input::Down(tags.into_iter().filter(|&t| t != OWN).collect()))
            }
        }
    }

    fn on_sub(&mut self, e: link::Event<u64>, out: &mut Vec<Input>) {
        match e {
            link::Event::Up => {
                log::info!("cluster: connected to Redis (subscriptions)");
                send_auth(&mut self.sub, self.auth.as_deref());
                for ch in &self.channels {
                    self.sub.send_untagged(&[b"SUBSCRIBE", ch.as_bytes()]);
                }
                out.push(Input::Resubscribed);
            }
            link::Event::Push(v) => {
                let items = v.items();
                let text =
                    |i: usize| items.get(i).and_then(Value::as_str).unwrap_or_default().to_string();
                match items.first().and_then(Value::as_str) {
                    Some("message") => {
                        let rec =
                            items.get(2).and_then(Value::as_bytes).unwrap_or_default().to_vec();
                        out.push(Input::Event(text(1), rec));
                    }
                    Some("subscribe") => out.push(Input::Subscribed(text(1))),
                    _ => {}
                }
            }
            link::Event::Reply(AUTH, v) => refused_auth(&v),
            link::Event::Reply(..) | link::Event::Down(_) => {}
        }
    }
}

/// Queues `AUTH [user] password` first on a fresh connection, if the URL
/// named a password.
fn send_auth(link: &mut Link<u64>, auth: Option<&[Vec<u8>]>) {
    if let Some(auth) = auth {
        let args: Vec<&[u8]> = auth.iter().map(Vec::as_slice).collect();
        link.send(AUTH, &args);
    }
}

/// Logs Redis's refusal of the password, if it refused.
fn refused_auth(v: &Value) {
    if let Value::Error(e) = v {
        log::error!("cluster: Redis refused the password of --cluster: {e}");
    }
}
