//! Unit tests of the core, in-process: no sockets, no threads, made-up
//! time. A [`Kit`] drives a [`Core`] the way the reactor does (bytes in,
//! timers, end of turn, output drained) and decodes what each peer was sent.

mod admission;
mod auth;
mod bounds;
mod chat;
mod cluster;
mod direct;
mod files;
mod saved;
mod sessions;

use super::{Core, PeerId};
use crate::auth::{AuthOutcome, AuthResult};
use crate::config::{parse, Command};
use crate::store::{
    memory::MemoryStore, Account, Commit, Page, SavedAck, SavedSession, SessionChange, Store,
    StoreError, StoredMark, StoredMsg,
};
use banter_proto::{check, decode_server, ClientFrame, ServerFrame};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::IoSlice;
use std::rc::Rc;

/// A core and the clock it is driven with.
pub struct Kit {
    pub core: Core,
    /// Milliseconds on the made-up monotonic clock.
    pub now: u64,
    /// Next client port, so peers have distinct addresses.
    port: u16,
}

/// The wall clock the kit reports: a fixed day plus `now`.
const EPOCH: u64 = 1_764_300_000_000;

impl Kit {
    /// A core with the in-memory store, configured by `args`.
    pub fn new(args: &[&str]) -> Kit {
        Kit::with_store(args, Box::new(MemoryStore::default()))
    }

    /// A core over `store`, configured by `args`.
    pub fn with_store(args: &[&str], store: Box<dyn Store>) -> Kit {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let Ok(Command::Run(cfg)) = parse(&args, |_| None) else { panic!("bad args {args:?}") };
        let mut core = Core::new(*cfg, store).expect("core");
        core.set_time(0, EPOCH);
        Kit { core, now: 0, port: 40_000 }
    }

    /// A new peer from 127.0.0.1.
    pub fn connect(&mut self) -> PeerId {
        self.connect_from([127, 0, 0, 1])
    }

    /// A new peer from `ip`.
    pub fn connect_from(&mut self, ip: [u8; 4]) -> PeerId {
        self.port = self.port.wrapping_add(1);
        self.core.connect((ip, self.port).into())
    }

    /// Bytes from `p`, as the transport would hand them over.
    pub fn send_raw(&mut self, p: PeerId, bytes: &[u8]) {
        self.core.input(p, bytes);
    }

    /// A frame from `p`.
    pub fn send(&mut self, p: PeerId, f: ClientFrame) {
        self.send_raw(p, &f.to_bytes());
    }

    /// The end of a reactor turn: timers, then the group commit.
    pub fn turn(&mut self) {
        self.core.fire_timers();
        self.core.end_turn();
    }

    /// Moves the clock on by `ms` and runs a turn.
    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.core.set_time(self.now, EPOCH + self.now);
        self.turn();
    }

    /// Everything `p` has been sent, drained as a transport would.
    pub fn recv_bytes(&mut self, p: PeerId) -> Vec<u8> {
        let mut got = Vec::new();
        let Some(out) = self.core.output(p) else { return got };
        while !out.is_empty() {
            let mut s = [IoSlice::new(&[]); 16];
            let n = out.slices(&mut s);
            let len: usize = s[..n].iter().map(|x| x.len()).sum();
            s[..n].iter().for_each(|x| got.extend_from_slice(x));
            out.consume(len);
        }
        self.core.flushed(p, 0); // as the reactor says after every write
        got
    }

    /// Every frame `p` has been sent, decoded.
    pub fn recv(&mut self, p: PeerId) -> Vec<ServerFrame> {
        let bytes = self.recv_bytes(p);
        let mut frames = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let n = check(&bytes[at..], u32::MAX).expect("whole frames");
            frames.push(decode_server(&bytes[at..at + n]).expect("decodes"));
            at += n;
        }
        frames
    }

    /// Frames `p` was sent, without NOTICEs and PINGs.
    pub fn recv_app(&mut self, p: PeerId) -> Vec<ServerFrame> {
        let app =
            |f: &ServerFrame| !matches!(f, ServerFrame::Notice { .. } | ServerFrame::Ping { .. });
        self.recv(p).into_iter().filter(app).collect()
    }

    /// A peer signed in as `name` (no password), its greeting drained.
    pub fn login(&mut self, name: &str) -> PeerId {
        self.login_from(name, [127, 0, 0, 1])
    }

    /// [`Kit::login`] from `ip`.
    pub fn login_from(&mut self, name: &str, ip: [u8; 4]) -> PeerId {
        let p = self.connect_from(ip);
        self.send(p, hello(name, "", 0));
        let got = self.recv(p);
        assert!(matches!(got.first(), Some(ServerFrame::Welcome { .. })), "{got:?}");
        p
    }

    /// `name` signed in and in `room` (no replay), answers drained.
    pub fn member(&mut self, name: &str, room: &str) -> PeerId {
        let p = self.login(name);
        self.send(p, ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
        self.recv(p);
        p
    }

    /// `name` registered (stored) and signed in with its password.
    pub fn account(&mut self, name: &str) -> PeerId {
        let key = name.to_ascii_lowercase();
        let _ = self.core.store.create_account(&key, name, "$argon2id$stored");
        let p = self.connect();
        self.send(p, hello(name, "a good password", 0));
        assert_eq!(self.answer_auth(AuthOutcome::Verified(true)), 1);
        let got = self.recv(p);
        assert!(matches!(got.first(), Some(ServerFrame::Welcome { .. })), "{got:?}");
        p
    }

    /// [`Kit::member`] from `ip`.
    pub fn member_from(&mut self, name: &str, room: &str, ip: [u8; 4]) -> PeerId {
        let p = self.login_from(name, ip);
        self.send(p, ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
        self.recv(p);
        p
    }

    /// Answers every queued password job with `outcome`.
    /// (due now), as the hasher threads would, a round at a time.
    pub fn answer_auth(&mut self, outcome: AuthOutcome) -> usize {
        let mut n = 0;
        loop {
            let jobs = self.take_auth();
            if jobs.is_empty() {
                return n;
            }
            n += jobs.len();
            for j in jobs {
                self.core.auth_result(AuthResult { ticket: j, outcome: outcome.clone() });
            }
        }
    }

    /// Tickets of the jobs the core hands to the hasher now.
    pub fn take_auth(&mut self) -> Vec<u64> {
        let mut jobs = Vec::new();
        self.core.take_auth_jobs(&mut jobs);
        jobs.into_iter().map(|j| j.ticket).collect()
    }
}

/// What a [`Gate`] stored, shared with the test.
pub type Stored = Rc<RefCell<Vec<StoredMsg>>>;

/// Saved sessions by name key, with their ACKs and the run that saved them.
pub type Saved = Rc<RefCell<HashMap<String, (SavedSession, Vec<SavedAck>, u32)>>>;

/// A durable store double: keeps committed messages and saved sessions,
/// and fails on demand. [`Gate::restart`] is the same data in a later run.
pub struct Gate {
    /// Every message stored, in order.
    pub stored: Stored,
    /// Set: every commit fails.
    pub fail: Rc<Cell<bool>>,
    /// How many reads the core made.
    pub reads: Rc<Cell<usize>>,
    /// Saved sessions.
    pub saved: Saved,
    /// This run.
    pub run: u32,
}

impl Gate {
    /// A gate and handles on what it stores and whether it fails.
    pub fn new() -> (Gate, Stored, Rc<Cell<bool>>) {
        let (stored, fail) = (Rc::default(), Rc::default());
        let gate = Gate {
            stored: Rc::clone(&stored),
            fail: Rc::clone(&fail),
            reads: Rc::default(),
            saved: Rc::default(),
            run: 1,
        };
        (gate, stored, fail)
    }

    /// The same data, as the next run of the server finds it.
    pub fn restart(&self) -> Gate {
        Gate {
            stored: Rc::clone(&self.stored),
            fail: Rc::clone(&self.fail),
            reads: Rc::default(),
            saved: Rc::clone(&self.saved),
            run: self.run + 1,
        }
    }

    fn save(&self, c: &Commit<'_>) {
        let mut saved = self.saved.borrow_mut();
        for change in c.sessions {
            match change {
                SessionChange::Put { session, fresh } => {
                    let e = saved
                        .entry(session.key.clone())
                        .or_insert_with(|| (session.clone(), Vec::new(), self.run));
                    if *fresh {
                        e.1.clear();
                    }
                    (e.0, e.2) = (session.clone(), self.run);
                }
                SessionChange::End(key) => drop(saved.remove(key)),
            }
        }
        for a in c.acks {
            if let Some(e) = saved.get_mut(&a.session) {
                e.1.push(a.clone());
                let n = e.1.len();
                e.1.drain(..n.saturating_sub(1024));
            }
        }
    }
}

impl Store for Gate {
    fn last_id(&mut self, room: &str) -> Result<u64, StoreError> {
        self.reads.set(self.reads.get() + 1);
        let stored = self.stored.borrow();
        Ok(stored.iter().filter(|m| m.room == room).map(|m| m.id).max().unwrap_or(0))
    }
    fn conversations(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(Vec::new())
    }
    fn commit(&mut self, c: &Commit<'_>) -> Result<(), StoreError> {
        if self.fail.get() {
            return Err(StoreError("disk full".into()));
        }
        self.stored.borrow_mut().extend_from_slice(c.msgs);
        self.save(c);
        Ok(())
    }
    fn saved_session(
        &mut self,
        key: &str,
    ) -> Result<Option<(SavedSession, Vec<SavedAck>)>, StoreError> {
        self.reads.set(self.reads.get() + 1);
        let saved = self.saved.borrow();
        Ok(saved.get(key).filter(|e| e.2 < self.run).map(|e| (e.0.clone(), e.1.clone())))
    }
    fn forget_saved_sessions(&mut self) -> Result<(), StoreError> {
        self.saved.borrow_mut().retain(|_, e| e.2 == self.run);
        Ok(())
    }
    fn marks(&mut self, _: &str) -> Result<Vec<StoredMark>, StoreError> {
        Ok(Vec::new())
    }
    fn direct_marks(&mut self) -> Result<Vec<StoredMark>, StoreError> {
        Ok(Vec::new())
    }
    fn count_after(&mut self, _: &str, _: u64, _: &str) -> Result<u64, StoreError> {
        Ok(0)
    }
    fn history(
        &mut self,
        room: &str,
        after: u64,
        before: u64,
        n: usize,
    ) -> Result<Page, StoreError> {
        self.reads.set(self.reads.get() + 1);
        let stored = self.stored.borrow();
        let before = if before == 0 { u64::MAX } else { before };
        let mut msgs: Vec<StoredMsg> = stored
            .iter()
            .filter(|m| m.room == room && m.id > after && m.id < before)
            .cloned()
            .collect();
        let more = msgs.len() > n;
        msgs.drain(..msgs.len().saturating_sub(n));
        Ok(Page { msgs, more })
    }
    fn account(&mut self, _: &str) -> Result<Option<Account>, StoreError> {
        Ok(None)
    }
    fn create_account(&mut self, _: &str, _: &str, _: &str) -> Result<bool, StoreError> {
        Ok(true)
    }
    fn shared_files(&mut self) -> Result<Vec<crate::store::SharedFile>, StoreError> {
        Ok(Vec::new())
    }
    fn is_durable(&self) -> bool {
        true
    }
    fn close(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A HELLO.
pub fn hello(name: &str, password: &str, resume: u64) -> ClientFrame {
    ClientFrame::Hello { version: 1, name: name.into(), password: password.into(), resume }
}

/// A SAY without flags.
pub fn say(room: &str, seq: u32, text: &str) -> ClientFrame {
    ClientFrame::Say { room: room.into(), seq, text: text.into(), flags: 0 }
}

/// The code of an ERROR frame, if it is one.
pub fn error_code(f: &ServerFrame) -> Option<banter_proto::ErrorCode> {
    match f {
        ServerFrame::Error { code, .. } => banter_proto::ErrorCode::from_code(*code),
        _ => None,
    }
}

/// Whether `p` is closing with a fatal ERROR `code` as the last frame sent.
pub fn closed_with(k: &mut Kit, p: PeerId, code: banter_proto::ErrorCode) -> bool {
    let got = k.recv(p);
    k.core.peer(p).is_some_and(|x| x.is_closing()) && got.last().and_then(error_code) == Some(code)
}

/// The token of a WELCOME.
pub fn token_of(f: &ServerFrame) -> u64 {
    match f {
        ServerFrame::Welcome { token, .. } => *token,
        other => panic!("not a WELCOME: {other:?}"),
    }
}
