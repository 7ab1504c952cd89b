//! What a frame needs from Redis before it can be handled like on one
//! server: whether `@name` is a registered account (cached for good once
//! it is: accounts are never removed), and, for FETCH and UPLOAD, where a
//! file was posted and the account's stored bytes (read fresh each time).
//! The frame is left in the peer's input, the peer's reads are held, and
//! the frame is handled again once the answers are in; if Redis cannot
//! answer, the frame gets ERROR STORAGE and is skipped.

use super::{arg, Wait};
use crate::cluster::resp::Value;
use crate::cluster::scripts::Script;
use crate::core::{Core, PeerId};
use banter_proto::validate::{is_valid_name, name_key};
use banter_proto::{ClientFrame, ErrorCode};

/// What to do with a frame after looking at what it needs.
#[derive(Debug, PartialEq, Eq)]
pub enum Prefetch {
    /// Handle it now.
    Go,
    /// Leave it in the input: lookups are under way.
    Wait,
    /// It was answered with an error: drop it.
    Skip,
}

/// A peer's lookups for the frame at the front of its input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Fetched {
    /// None under way or done.
    #[default]
    None,
    /// Answered: the frame may be handled.
    Ready,
    /// Redis could not answer: the frame is refused with this.
    Failed(String),
}

/// One lookup under way.
#[derive(Debug)]
pub(in crate::core) struct Fetching {
    /// The peer whose frame waits, and its generation.
    peer: PeerId,
    gen: u32,
    /// What is looked up.
    what: What,
    /// The last lookup of the frame: its answer lets the frame go.
    last: bool,
}

#[derive(Debug)]
enum What {
    /// An account by key.
    Account,
    /// A file's index entry (empty hash: none) and an account's bytes.
    Files { hash: String, key: String },
}

impl Core {
    /// Whether frame `f` of session `s` on `p` can be handled now.
    pub(in crate::core) fn c_prefetch(&mut self, p: PeerId, s: u32, f: &ClientFrame) -> Prefetch {
        let peer = &mut self.peers[p];
        let fetched = peer.rare.as_mut().map(|r| std::mem::take(&mut r.fetched));
        peer.tidy();
        match fetched.unwrap_or_default() {
            Fetched::Ready => return Prefetch::Go,
            Fetched::Failed(why) => {
                let detail = format!("could not be looked up: {why}");
                self.send_error(p, ErrorCode::Storage, f.frame_type(), f.seq(), &detail);
                return Prefetch::Skip;
            }
            Fetched::None => {}
        }
        let mut needs: Vec<(Script, Vec<Vec<u8>>, What)> = Vec::new();
        if let Some(other) = f.room().and_then(|r| r.strip_prefix('@')) {
            let key = name_key(other);
            if is_valid_name(other) && !self.cl().accounts.contains_key(&*key) {
                needs.push((Script::Account, vec![arg(&key)], What::Account));
            }
        }
        let me = name_key(&self.sessions[s as usize].name);
        let hash = match f {
            ClientFrame::Fetch { file, .. } if crate::files::is_hash(file) => Some(file.clone()),
            ClientFrame::Upload { .. } => Some(String::new()),
            _ => None,
        };
        if let Some(hash) = hash.filter(|_| self.files.is_some()) {
            let what = What::Files { hash: hash.clone(), key: me.clone() };
            needs.push((Script::Files, vec![arg(hash), arg(me)], what));
        }
        if needs.is_empty() {
            return Prefetch::Go;
        }
        let (gen, n) = (self.peers[p].gen, needs.len());
        for (i, (script, args, what)) in needs.into_iter().enumerate() {
            let f = Fetching { peer: p, gen, what, last: i + 1 == n };
            self.eval(script, args, Wait::Lookup2(f));
        }
        self.hold(p);
        Prefetch::Wait
    }

    /// A registered account known to this node (for REGISTER's early refusal).
    pub(in crate::core) fn known_account(&mut self, key: &str) -> Option<crate::store::Account> {
        let name = self.cl().accounts.get(key)?.to_string();
        Some(crate::store::Account { name, phc: String::new() })
    }

    pub(super) fn on_fetched(&mut self, f: Fetching, v: Value) {
        match &f.what {
            What::Account => {
                if let Some(rec) = v.as_str() {
                    self.learn_account(rec);
                }
            }
            What::Files { hash, key } => self.learn_files(hash, key, &v),
        }
        self.fetch_done(&f, Fetched::Ready);
    }

    pub(super) fn fetch_failed(&mut self, f: Fetching, why: &str) {
        self.fetch_done(&f, Fetched::Failed(why.to_string()));
    }

    fn fetch_done(&mut self, f: &Fetching, result: Fetched) {
        let Some(peer) = self.peers.get_mut(f.peer).filter(|x| x.gen == f.gen) else { return };
        let rare = peer.rare_mut();
        if matches!(rare.fetched, Fetched::Failed(_)) {
            return; // an earlier lookup of the frame failed: that is its answer
        }
        rare.fetched = result;
        if f.last {
            self.unhold(f.peer);
        }
    }

    /// A file's index entry and an account's bytes, from Redis: the rooms
    /// it was posted in, "size mime", the bytes.
    fn learn_files(&mut self, hash: &str, key: &str, v: &Value) {
        let items = v.items();
        let rooms: Vec<Box<str>> = items
            .first()
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|x| x.as_str().map(Into::into))
            .collect();
        let size =
            items.get(1).and_then(Value::as_str).and_then(|m| m.split(' ').next()?.parse().ok());
        let used = items.get(2).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
        if let Some(files) = self.files.as_mut() {
            files.learn(hash, size.map(|size| (size, rooms)), key, used);
        }
    }
}
