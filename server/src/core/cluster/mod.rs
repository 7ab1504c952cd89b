//! The core's side of a cluster (`--cluster`): what one node does so that
//! many nodes behave as one server. Redis holds what is shared (names,
//! sessions, memberships, ids, logs, markers, accounts, the file index);
//! this node keeps its own connections' state and asks Redis through
//! tagged [`Op`]s, continuing each step when the reply comes back
//! ([`Wait`]). Nothing here does I/O: the reactor carries ops and inputs.
//!
//! The rules, in short (the full design is in `proto/PROTOCOL.md`):
//! - A frame whose answer needs Redis (HELLO, JOIN, WHO, HISTORY, REGISTER,
//!   a lookup of an account or a file) holds that peer's input until the
//!   reply, as a password check does, so answers keep the single server's
//!   order. SAY does not: its ACK follows the commit, as with SQLite.
//! - Every event of a room reaches this node on the room's channel while
//!   it has a member there (a conversation's, on its parties' channels),
//!   numbered by the script that published it. A JOIN answer says up to
//!   which number it covers; a joiner is paused until then and gets what
//!   came after. Messages are delivered in id order without gaps or
//!   repeats: a gap (a lost subscription) is filled from the room's log.
//!
//! Submodules: `hello` (sign-in, resume, end of sessions, accounts),
//! `rooms` (JOIN, LEAVE, WHO, HISTORY, pausing), `events` (what arrives on
//! channels, gap filling), `say` (SAY, typing, receipts), `lookup`
//! (accounts and files fetched before a frame is handled).

mod events;
mod hello;
mod lookup;
mod rooms;
mod say;

pub use lookup::{Fetched, Prefetch};

use super::peer::State;
use super::{Core, PeerId};
use crate::cluster::event::Record;
use crate::cluster::resp::Value;
use crate::cluster::scripts::Script;
use crate::cluster::{Input, Op};
use std::collections::HashMap;
use std::rc::Rc;

/// What to do with a reply when it comes.
#[derive(Debug)]
enum Wait {
    /// Nothing but log a refusal (TYPING, receipts).
    Nothing,
    /// A step that must happen in Redis even if the link is lost before
    /// it is answered (a LEAVE, a session's end): then it is owed.
    Owed(Script, Vec<Vec<u8>>),
    /// HELLO's lookup of the name and its account.
    Lookup(hello::Hello),
    /// HELLO's claim of the name (or resume of its session).
    Claim(hello::Hello),
    /// An account made at login (accounts-only), then the claim.
    Create(hello::Hello),
    /// QUIT: the session ends once Redis has ended it (after the SAYs sent
    /// before it, whose ACKs go first).
    Quit { s: u32, uid: u64, reason: String, args: Vec<Vec<u8>> },
    /// REGISTER of a session.
    Register { s: u32, uid: u64, name: String },
    /// UNREAD after a WELCOME.
    Unread { s: u32, uid: u64 },
    /// A JOIN (`silent`: a resumed membership, no answer).
    Join(rooms::Joining),
    /// WHO of a room.
    Who { s: u32, uid: u64, r: u32 },
    /// HISTORY of a room or conversation.
    History { s: u32, uid: u64, r: u32 },
    /// Messages after a gap in a room (by uid: the slot may be reused).
    Fill { r: u32, room_uid: u64 },
    /// A SAY or a finished upload, to acknowledge.
    Say(say::Saying),
    /// A MARK, whose READ is paced from here.
    Mark { s: u32, uid: u64, r: u32 },
    /// A lookup before a frame is handled again.
    Lookup2(lookup::Fetching),
}

/// A channel this node receives.
#[derive(Debug, Default)]
struct Chan {
    /// Local reasons to hold it (members of the room, sessions of the account).
    refs: u32,
    /// Its SUBSCRIBE took effect: events flow.
    ready: bool,
    /// The subscription was lost and is being made again: what came in
    /// between is fetched from the log once it is ready.
    lost: bool,
    /// Ops that must wait until events flow (a first JOIN's script).
    deferred: Vec<Op>,
}

/// Where a room's event stream stands on this node.
#[derive(Debug, Default)]
struct Sync {
    /// `room.last_id` is known (a JOIN answered, or a conversation's
    /// first message came): messages must follow on from it.
    base: bool,
    /// Events held until the base is known or a gap is filled.
    held: Vec<Rc<Record>>,
    /// A gap fill is under way.
    filling: bool,
    /// A gap fill failed: it starts again when Redis is back.
    stalled: bool,
}

/// This node's cluster state.
pub struct ClusterState {
    /// This node's id.
    node: String,
    /// Ops for the reactor to hand to Redis.
    ops: Vec<Op>,
    /// The last tag handed out.
    tag: u64,
    /// What to do with each reply still owed, by tag.
    waits: HashMap<u64, Wait>,
    /// Local session by global session id.
    sids: HashMap<u64, u32>,
    /// Channels this node receives.
    chans: HashMap<String, Chan>,
    /// Event stream state by room slot.
    syncs: HashMap<u32, Sync>,
    /// Members whose JOIN answer is owed, by (session, room): events for
    /// them wait here, to go after the answer.
    paused: HashMap<(u32, u32), Vec<Rc<Record>>>,
    /// Registered accounts seen: key → name as registered (accounts are
    /// never removed, so this never goes stale).
    accounts: HashMap<Box<str>, Box<str>>,
    /// SAYs sent and not yet answered, by (sid, seq): repeats of each.
    saying: HashMap<(u64, u32), u32>,
    /// Steps lost with the link that must still happen (LEAVEs, ends of
    /// sessions): sent again, first, when Redis is back.
    owed: Vec<(Script, Vec<Vec<u8>>)>,
}

impl ClusterState {
    /// The state of node `node`.
    pub fn new(node: &str) -> ClusterState {
        ClusterState {
            node: node.to_string(),
            ops: Vec::new(),
            tag: 0,
            waits: HashMap::new(),
            sids: HashMap::new(),
            chans: HashMap::new(),
            syncs: HashMap::new(),
            paused: HashMap::new(),
            accounts: HashMap::new(),
            saying: HashMap::new(),
            owed: Vec::new(),
        }
    }
}

/// One argument of a script.
fn arg(x: impl ToString) -> Vec<u8> {
    x.to_string().into_bytes()
}

/// Ids and numbers from peers, clamped below where Lua's doubles stop
/// being exact (no room gets near it).
fn clamp_id(id: u64) -> u64 {
    id.min(1 << 50)
}

impl Core {
    /// Whether this server is a node of a cluster.
    pub(in crate::core) fn clustered(&self) -> bool {
        self.cluster.is_some()
    }

    fn cl(&mut self) -> &mut ClusterState {
        self.cluster.as_mut().expect("clustered")
    }

    /// Ops for Redis since the last call.
    pub fn take_cluster_ops(&mut self, out: &mut Vec<Op>) {
        if let Some(c) = self.cluster.as_mut() {
            out.append(&mut c.ops);
        }
    }

    /// Runs `script` with `args`; the reply goes to `wait`.
    fn eval(&mut self, script: Script, args: Vec<Vec<u8>>, wait: Wait) -> u64 {
        let c = self.cl();
        c.tag += 1;
        let tag = c.tag;
        c.waits.insert(tag, wait);
        c.ops.push(Op::Eval { tag, script, args });
        tag
    }

    /// As [`Core::eval`], once events of `channel` flow.
    fn eval_when_ready(&mut self, channel: &str, script: Script, args: Vec<Vec<u8>>, wait: Wait) {
        let c = self.cl();
        c.tag += 1;
        let tag = c.tag;
        c.waits.insert(tag, wait);
        let op = Op::Eval { tag, script, args };
        match c.chans.get_mut(channel) {
            Some(ch) if !ch.ready => ch.deferred.push(op),
            _ => c.ops.push(op),
        }
    }

    /// One more reason to receive `channel`.
    fn subscribe(&mut self, channel: String) {
        let c = self.cl();
        let ch = c.chans.entry(channel.clone()).or_default();
        ch.refs += 1;
        if ch.refs == 1 {
            c.ops.push(Op::Subscribe { channel });
        }
    }

    /// One reason fewer to receive `channel`.
    fn unsubscribe(&mut self, channel: &str) {
        let c = self.cl();
        let Some(ch) = c.chans.get_mut(channel) else { return };
        ch.refs = ch.refs.saturating_sub(1);
        if ch.refs == 0 {
            // Deferred ops still run: their replies find what they need.
            let ch = c.chans.remove(channel).expect("present");
            for op in ch.deferred {
                c.ops.push(op);
            }
            c.ops.push(Op::Unsubscribe { channel: channel.to_string() });
        }
    }

    /// Holds `p`'s input until a reply answers its frame.
    fn hold(&mut self, p: PeerId) {
        if let Some(peer) = self.peers.get_mut(p) {
            peer.waiting = true;
        }
    }

    /// The reply `p` waited for has been answered: its input flows again.
    fn unhold(&mut self, p: PeerId) {
        let Some(peer) = self.peers.get_mut(p) else { return };
        peer.waiting = false;
        if !peer.is_closing() && matches!(peer.state, State::Active { .. }) {
            self.resume_input(p);
        }
    }

    /// The live peer of session `s`, if it is still session `uid`.
    fn live(&self, s: u32, uid: u64) -> Option<PeerId> {
        let session = self.sessions.get(s as usize).filter(|x| x.uid == uid)?;
        (session.peer != super::session::NO_PEER).then_some(session.peer as usize)
    }

    /// Something from Redis.
    pub fn cluster_input(&mut self, input: Input) {
        match input {
            Input::Reply(tag, v) => {
                if let Some(w) = self.cl().waits.remove(&tag) {
                    match v {
                        Value::Error(e) => self.failed(w, &e),
                        v => self.replied(w, v),
                    }
                }
            }
            Input::Down(tags) => {
                for tag in tags {
                    if let Some(w) = self.cl().waits.remove(&tag) {
                        self.unheard(w);
                    }
                }
            }
            Input::Event(channel, rec) => self.on_record(&channel, &rec),
            Input::Subscribed(channel) => self.on_subscribed(&channel),
            Input::Resubscribed => self.on_resubscribed(),
            Input::Up => {
                for (script, args) in std::mem::take(&mut self.cl().owed) {
                    self.owe(script, args);
                }
                self.end_orphans();
                self.retry_fills();
            }
        }
        self.settle();
    }

    /// With Redis (back) up: the sessions Redis still holds for this node
    /// and the node does not end there, so no name stays taken by a
    /// session that ended, or was never finished, while Redis was away.
    fn end_orphans(&mut self) {
        let c = self.cl();
        let mut args = vec![arg(&c.node)];
        args.extend(c.sids.keys().map(arg));
        self.eval(Script::Orphans, args, Wait::Nothing);
    }

    /// Runs `script`, which must happen even if the link fails first.
    fn owe(&mut self, script: Script, args: Vec<Vec<u8>>) {
        self.eval(script, args.clone(), Wait::Owed(script, args));
    }

    /// A step the link went down under: what must still happen is owed;
    /// a QUIT ends here and is owed to Redis; the rest fails in words.
    fn unheard(&mut self, w: Wait) {
        match w {
            Wait::Owed(script, args) => self.cl().owed.push((script, args)),
            Wait::Quit { s, uid, reason, args } => {
                self.cl().owed.push((Script::End, args));
                self.on_quit_done(s, uid, &reason, true);
            }
            w => self.failed(w, "the cluster's Redis is unreachable"),
        }
    }

    fn replied(&mut self, w: Wait, v: Value) {
        match w {
            Wait::Nothing | Wait::Owed(..) => {}
            Wait::Lookup(h) => self.on_lookup(h, v),
            Wait::Claim(h) => self.on_claim(h, v),
            Wait::Create(h) => self.on_created(h, v),
            Wait::Register { s, uid, name } => self.on_registered(s, uid, &name, v),
            Wait::Quit { s, uid, reason, .. } => self.on_quit_done(s, uid, &reason, true),
            Wait::Unread { s, uid } => self.on_unread(s, uid, v),
            Wait::Join(j) => self.on_joined(j, v),
            Wait::Who { s, uid, r } => self.on_who_reply(s, uid, r, v),
            Wait::History { s, uid, r } => self.on_history_reply(s, uid, r, v),
            Wait::Fill { r, room_uid } => self.on_fill(r, room_uid, v),
            Wait::Say(x) => self.on_said(x, v),
            Wait::Mark { s, uid, r } => self.on_marked(s, uid, r, v),
            Wait::Lookup2(f) => self.on_fetched(f, v),
        }
    }

    /// A step Redis refused or never answered: each gets its clear error.
    fn failed(&mut self, w: Wait, why: &str) {
        log::warn!("cluster: {why} ({w:?})");
        match w {
            Wait::Lookup(h) | Wait::Claim(h) | Wait::Create(h) => self.hello_failed(h, why),
            Wait::Register { s, uid, .. } => self.c_register_failed(s, uid, why),
            Wait::Quit { s, uid, reason, .. } => self.on_quit_done(s, uid, &reason, false),
            Wait::Join(j) => self.join_failed(j, why),
            Wait::Who { s, uid, .. } => self.query_failed(s, uid, banter_proto::types::WHO, why),
            Wait::History { s, uid, .. } => {
                self.query_failed(s, uid, banter_proto::types::HISTORY, why)
            }
            Wait::Say(x) => self.say_failed(x, why),
            Wait::Fill { r, room_uid } => self.fill_failed(r, room_uid),
            Wait::Lookup2(f) => self.fetch_failed(f, why),
            Wait::Nothing | Wait::Owed(..) | Wait::Unread { .. } | Wait::Mark { .. } => {}
        }
    }
}
