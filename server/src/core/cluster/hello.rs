//! Sign-in in a cluster: HELLO looks the name and its account up in Redis
//! (NAME_TAKEN, then the password as on one server), then claims the name
//! or resumes its session wherever it was (the old node is told, and
//! closes the old connection with SUPERSEDED). A session's end (QUIT, a
//! linger's end) is one script that tells every room. Also REGISTER, an
//! account made at login, and UNREAD after WELCOME.

use super::{arg, Wait};
use crate::cluster::resp::Value;
use crate::cluster::scripts::Script;
use crate::core::peer::{Outcome, Reason, State};
use crate::core::session::{Ack, Session};
use crate::core::{Core, PeerId};
use crate::store::Account;
use banter_proto::validate::name_key;
use banter_proto::{types, ErrorCode, PresenceEvent, ServerFrame};

/// A HELLO between its steps. Holds a password until the lookup: no
/// derived `Debug`.
pub(in crate::core) struct Hello {
    /// The peer that sent it, and its generation.
    peer: PeerId,
    gen: u32,
    /// The name (as registered, once the account is known).
    name: String,
    /// HELLO.resume.
    resume: u64,
    /// The password, until it goes to the hasher.
    password: String,
    /// Signed in with a password.
    account: bool,
    /// The new session's token and id, once claimed.
    token: u64,
    sid: u64,
}

impl std::fmt::Debug for Hello {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HELLO of #{} as {}", self.peer, self.name)
    }
}

fn fatal(code: ErrorCode, why: impl Into<std::borrow::Cow<'static, str>>) -> Reason {
    Reason::fatal(code, types::HELLO, why)
}

impl Core {
    /// HELLO with a valid name: its lookup.
    pub(in crate::core) fn c_hello(
        &mut self,
        p: PeerId,
        name: String,
        password: String,
        resume: u64,
    ) -> Outcome {
        let key = name_key(&name);
        let gen = self.peers[p].gen;
        let h = Hello { peer: p, gen, name, resume, password, account: false, token: 0, sid: 0 };
        self.eval(Script::Lookup, vec![arg(key)], Wait::Lookup(h));
        self.peers[p].state = State::Authenticating;
        Outcome::Continue
    }

    /// Whether the peer of `h` still waits for it.
    fn hello_alive(&self, h: &Hello) -> bool {
        self.peers.get(h.peer).is_some_and(|x| x.gen == h.gen && x.state == State::Authenticating)
    }

    pub(super) fn on_lookup(&mut self, mut h: Hello, v: Value) {
        if !self.hello_alive(&h) {
            return;
        }
        let items = v.items();
        let owner = items.first().and_then(Value::as_str).is_some();
        let token = items.get(1).and_then(Value::as_str); // a u64: past i64
        if owner && (h.resume == 0 || token != Some(h.resume.to_string().as_str())) {
            let why = format!("the name {} is in use", h.name);
            return self.close(h.peer, fatal(ErrorCode::NameTaken, why));
        }
        let account = items.get(2).and_then(Value::as_str).and_then(|rec| self.learn_account(rec));
        let password = std::mem::take(&mut h.password);
        match self.check_password(h.peer, h.name, password, h.resume, account) {
            Outcome::Close(reason) => self.close(h.peer, reason),
            Outcome::Continue | Outcome::Retry => {}
        }
    }

    /// An account record ("Name\tphc") learnt from Redis, cached.
    pub(super) fn learn_account(&mut self, rec: &str) -> Option<Account> {
        let (name, phc) = rec.split_once('\t')?;
        self.cl().accounts.insert(name_key(name).into(), name.into());
        Some(Account { name: name.to_string(), phc: phc.to_string() })
    }

    /// After the password (if any): claims the name for a new session or
    /// resumes its session.
    pub(in crate::core) fn c_claim(
        &mut self,
        p: PeerId,
        name: &str,
        resume: u64,
        account: bool,
    ) -> Outcome {
        let (Some(token), Some(sid)) = (
            super::super::handlers::new_token(self.random),
            super::super::handlers::new_token(self.random),
        ) else {
            return Outcome::Close(fatal(
                ErrorCode::Storage,
                "no randomness for a session token; try again later",
            ));
        };
        let gen = self.peers[p].gen;
        let h = Hello {
            peer: p,
            gen,
            name: name.to_string(),
            resume,
            password: String::new(),
            account,
            token,
            sid,
        };
        let node = self.cl().node.clone();
        let args = vec![
            arg(name_key(name)),
            arg(sid),
            arg(resume),
            arg(node),
            arg(token),
            arg(name),
            arg(u8::from(account)),
        ];
        self.eval(Script::Claim, args, Wait::Claim(h));
        self.peers[p].state = State::Authenticating;
        Outcome::Continue
    }

    pub(super) fn on_claim(&mut self, h: Hello, v: Value) {
        if !self.hello_alive(&h) {
            return;
        }
        let items = v.items();
        let text = |i: usize| items.get(i).and_then(Value::as_str).unwrap_or_default().to_string();
        let num = |i: usize| items.get(i).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
        let (s, resumed) = match text(0).as_str() {
            "new" => (self.local_session(&h, h.sid, &h.name), 0),
            "resumed" => {
                let sid: u64 = text(1).parse().unwrap_or(0);
                let account = h.account || text(3) == "1";
                let h = Hello { account, ..h };
                let s = self.resumed(&h, sid, &text(7), items.get(5), items.get(6));
                (s, 1)
            }
            _ => {
                let why = format!("the name {} is in use", h.name);
                return self.close(h.peer, fatal(ErrorCode::NameTaken, why));
            }
        };
        let online = num(if resumed == 1 { 4 } else { 2 });
        self.c_welcome(h.peer, s, resumed, online);
        self.resume_input(h.peer);
    }

    /// A session new to this node for `h`'s peer, as global session `sid`.
    fn local_session(&mut self, h: &Hello, sid: u64, name: &str) -> u32 {
        self.next_uid += 1;
        let addr = crate::core::addrs::key_of(self.peers[h.peer].addr.ip());
        let mut session = Session::new(name, h.token, self.next_uid, h.peer as u32, addr);
        session.sid = sid;
        let s = self.sessions.insert(session) as u32;
        self.names.insert(name_key(name).into(), s);
        self.cl().sids.insert(sid, s);
        s
    }

    /// The session `sid` resumed for `h`'s peer: taken over if it lives
    /// here, else brought here with its ACK memory and rooms.
    fn resumed(
        &mut self,
        h: &Hello,
        sid: u64,
        name: &str,
        rooms: Option<&Value>,
        acks: Option<&Value>,
    ) -> u32 {
        if let Some(&s) = self.cl().sids.get(&sid) {
            self.take_over(s, h.peer, h.token);
            return s;
        }
        let s = self.local_session(h, sid, if name.is_empty() { &h.name } else { name });
        let acks = acks.map(Value::items).unwrap_or_default();
        let mut restored: Vec<Ack> = acks.chunks(2).filter_map(parse_ack).collect();
        restored.sort_by_key(|a| a.seq);
        let n = restored.len() as u64;
        self.sessions[s as usize].acks.restore(restored, n);
        for room in rooms.map(Value::items).unwrap_or_default() {
            if let Some(room) = room.as_str() {
                self.rejoin(s, room);
            }
        }
        s
    }

    /// WELCOME for session `s` on peer `p`, then UNREAD (for an account,
    /// once its channel is subscribed) and the greeting.
    fn c_welcome(&mut self, p: PeerId, s: u32, resumed: u8, online: u64) {
        self.peers[p].state = State::Active { session: s };
        let session = &mut self.sessions[s as usize];
        let account = session.account;
        let (name, token) = (session.name.to_string(), session.token);
        let how = if resumed == 1 { " (resumed)" } else { "" };
        log::debug!("#{p} ({}) is {name}{how}", self.peers[p].addr);
        self.send_welcome(p, &name, token, resumed);
        if account {
            self.signed_in(s);
        }
        self.send_greeting(p, &name, online as usize);
    }

    /// Session `s` is an account (signed in, or registered): its
    /// conversations' events come here, and UNREAD once they do.
    pub(super) fn signed_in(&mut self, s: u32) {
        let session = &mut self.sessions[s as usize];
        session.account = true;
        if session.user_channel {
            return;
        }
        session.user_channel = true;
        let (key, uid) = (name_key(&session.name), session.uid);
        let channel = format!("b:u:{key}");
        self.subscribe(channel.clone());
        self.eval_when_ready(&channel, Script::Unread, vec![arg(&key)], Wait::Unread { s, uid });
    }

    pub(super) fn on_unread(&mut self, s: u32, uid: u64, v: Value) {
        let Some(p) = self.live(s, uid) else { return };
        for row in v.items() {
            let row = row.items();
            let num = |i: usize| row.get(i).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
            let Some(internal) = row.first().and_then(Value::as_str) else { continue };
            let room = self.shown_name(internal, s);
            let count = num(1).min(u64::from(u32::MAX)) as u32;
            self.send(p, &ServerFrame::Unread { room, count, last_id: num(2), read: num(3) });
        }
    }

    pub(super) fn hello_failed(&mut self, h: Hello, why: &str) {
        if self.hello_alive(&h) {
            self.close(h.peer, fatal(ErrorCode::Storage, format!("sign-in failed: {why}")));
        }
    }

    /// An account to make at login (accounts-only): stored, then claimed.
    pub(in crate::core) fn c_create(
        &mut self,
        p: PeerId,
        name: &str,
        resume: u64,
        phc: &str,
    ) -> Outcome {
        let gen = self.peers[p].gen;
        let h = Hello {
            peer: p,
            gen,
            name: name.to_string(),
            resume,
            password: String::new(),
            account: true,
            token: 0,
            sid: 0,
        };
        let args = vec![arg(name_key(name)), arg(format!("{name}\t{phc}")), arg(0)];
        self.eval(Script::Register, args, Wait::Create(h));
        Outcome::Continue
    }

    pub(super) fn on_created(&mut self, h: Hello, v: Value) {
        if !self.hello_alive(&h) {
            return;
        }
        let outcome = if v.as_int() == Some(1) {
            log::info!("account {} created at login", h.name);
            self.cl().accounts.insert(name_key(&h.name).into(), h.name.as_str().into());
            self.c_claim(h.peer, &h.name, h.resume, true)
        } else {
            Outcome::Close(fatal(ErrorCode::AuthFailed, "the name was registered meanwhile"))
        };
        if let Outcome::Close(r) = outcome {
            self.close(h.peer, r);
        }
    }

    /// REGISTER's hash is ready: the account is stored unless taken.
    pub(in crate::core) fn c_register(&mut self, s: u32, uid: u64, name: &str, phc: &str) {
        let sid = self.sessions[s as usize].sid;
        let args = vec![arg(name_key(name)), arg(format!("{name}\t{phc}")), arg(sid)];
        self.eval(Script::Register, args, Wait::Register { s, uid, name: name.to_string() });
    }

    pub(super) fn on_registered(&mut self, s: u32, uid: u64, name: &str, v: Value) {
        let stored = v.as_int() == Some(1);
        if stored && self.live_session(s, uid) {
            self.cl().accounts.insert(name_key(name).into(), name.into());
            self.signed_in(s);
        }
        let Some(p) = self.live(s, uid) else { return };
        if stored {
            log::info!("account {name} registered");
            self.send(p, &ServerFrame::Registered { name: name.to_string() });
        } else {
            let detail = "this name is registered already";
            self.send_error(p, ErrorCode::AlreadyRegistered, types::REGISTER, 0, detail);
        }
    }

    pub(in crate::core) fn c_register_failed(&mut self, s: u32, uid: u64, why: &str) {
        if let Some(p) = self.live(s, uid) {
            let detail = format!("could not store the account: {why}");
            self.send_error(p, ErrorCode::Storage, types::REGISTER, 0, &detail);
        }
    }

    fn live_session(&self, s: u32, uid: u64) -> bool {
        self.sessions.get(s as usize).is_some_and(|x| x.uid == uid)
    }

    /// Ends session `s` for good: every room hears `event` from Redis (this
    /// node's members too, through their channel), then it goes from here.
    pub(in crate::core) fn c_end_session(&mut self, s: u32, event: PresenceEvent, reason: &str) {
        let sid = self.sessions[s as usize].sid;
        let node = self.cl().node.clone();
        let args = vec![arg(sid), arg(node), arg(event as u8), arg(reason)];
        self.owe(Script::End, args);
        self.drop_session(s);
        log::debug!("session {sid} ended ({event:?})");
    }

    /// QUIT of session `s`: ended in Redis in order after its SAYs, so
    /// their ACKs go out before the connection closes.
    pub(in crate::core) fn c_quit(&mut self, s: u32, reason: &str) -> Outcome {
        let session = &self.sessions[s as usize];
        let (sid, uid, p) = (session.sid, session.uid, session.peer as usize);
        let node = self.cl().node.clone();
        let args = vec![arg(sid), arg(node), arg(PresenceEvent::Quit as u8), arg(reason)];
        let reason = reason.to_string();
        self.eval(Script::End, args.clone(), Wait::Quit { s, uid, reason, args });
        self.hold(p);
        Outcome::Continue
    }

    /// Redis ended the session (`ended`, or it will when back: the end is
    /// owed), or refused to: then it lingers as after a dropped
    /// connection, and its linger's end tries again.
    pub(super) fn on_quit_done(&mut self, s: u32, uid: u64, reason: &str, ended: bool) {
        if !self.live_session(s, uid) {
            return;
        }
        let p = self.live(s, uid);
        if ended {
            self.drop_session(s);
        }
        if let Some(p) = p {
            self.close(p, Reason::quiet(format!("quit: {reason}")));
        }
    }

    /// Session `sid` was resumed on another node: its connection here gets
    /// SUPERSEDED and it goes from here, without a word to its rooms.
    pub(super) fn superseded(&mut self, sid: u64) {
        let Some(&s) = self.cl().sids.get(&sid) else { return };
        let peer = self.sessions[s as usize].peer;
        if peer != crate::core::session::NO_PEER {
            let why = "session resumed on another connection";
            self.close(peer as usize, Reason::fatal(ErrorCode::Superseded, 0, why));
        }
        self.drop_session(s);
    }

    /// Forgets session `s` on this node (Redis already knows where it went).
    fn drop_session(&mut self, s: u32) {
        self.stop_all_typing(s);
        self.abort_uploads(s);
        self.stop_lingering(s);
        let Some(session) = self.sessions.try_remove(s as usize) else { return };
        self.names.remove(&*name_key(&session.name));
        self.forget_receipts(s);
        let c = self.cl();
        c.sids.remove(&session.sid);
        c.paused.retain(|&(x, _), _| x != s);
        if session.user_channel {
            self.unsubscribe(&format!("b:u:{}", name_key(&session.name)));
        }
        for &r in &session.rooms {
            self.rooms[r as usize].remove_member(s);
            self.vacated.push(r);
        }
    }
}

/// One remembered ACK from Redis: seq, then "id ts room".
fn parse_ack(pair: &[Value]) -> Option<Ack> {
    let seq = pair.first()?.as_str()?.parse().ok()?;
    super::say::parse_ack(seq, pair.get(1)?.as_str()?)
}
