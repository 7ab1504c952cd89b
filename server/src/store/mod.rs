//! The storage seam: where accepted messages and accounts go to last.
//!
//! All calls come from the loop's thread. Writes happen at one point per
//! turn: all SAYs accepted in a turn are handed to [`Store::append`]
//! together (group commit) before any ACK or MSG about them is released.
//! Reads are synchronous too, and bounded: an account by its primary key
//! (at HELLO and REGISTER) and a history page of at most 1 000 messages by
//! `(room, id)` range, asked only for what the in-memory window of the
//! newest 10 000 messages per room does not hold. Measured with
//! `read_latency_of_the_synchronous_paths` (release build, a room of
//! 1 000 000 messages and 100 000 accounts, a busy 2-core machine): a page
//! of 1 000 takes 0.7 ms at the median and 3.4 ms at worst, an account
//! lookup 4 µs at the median and 0.13 ms at worst. Those are the longest
//! the loop waits on a read. Nothing is read at start-up: a room's newest id
//! (`last_id`, by primary key) when the room is first needed.
//!
//! Without `--db` the [`memory::MemoryStore`] keeps nothing itself (each
//! room's in-memory window is the history); with it, `sqlite::SqliteStore`
//! makes messages and accounts durable. This module does not decide what a
//! message may say or who may read it: callers have validated everything
//! before it gets here.

pub mod memory;
pub mod sqlite;

pub use sqlite::SyncMode;

use banter_proto::FileRef;
use std::fmt;

/// One accepted chat message as stored and replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMsg {
    /// Room name, lower case.
    pub room: String,
    /// Per-room id: 1, 2, 3, …
    pub id: u64,
    /// Milliseconds since the Unix epoch, server time.
    pub ts: u64,
    /// The sender's name as its owner spells it.
    pub from: String,
    /// The text, already validated.
    pub text: String,
    /// MSG flags kept with it (bit 2: an action).
    pub flags: u8,
    /// For a file message: its hash, size and type (`text` is its name).
    pub file: Option<FileRef>,
}

/// A file message as the start-up index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFile {
    /// Where it was posted (a conversation's internal name).
    pub room: String,
    /// Its hash, size and type.
    pub file: FileRef,
    /// Who posted it, as the account spells its name.
    pub sender: String,
}

/// An account's markers in one room or conversation, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMark {
    /// The account's key (lower-case name).
    pub account: String,
    /// Room name (a conversation's internal `@a|b`).
    pub room: String,
    /// Read up to this id (only ever raised).
    pub read: u64,
    /// Handed to the account's connection up to this id (only ever raised).
    pub delivered: u64,
}

/// A session as saved with `--db`, so that it can be resumed after a
/// crash or a restart: its name, its token and its rooms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSession {
    /// The name key (lower case): one session per name.
    pub key: String,
    /// The name as its owner spells it.
    pub name: String,
    /// The secret that resumes it.
    pub token: u64,
    /// Its rooms, lower case.
    pub rooms: Vec<String>,
}

/// One remembered ACK of a saved session (the seq de-duplication memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAck {
    /// The session's name key.
    pub session: String,
    /// Its number among the session's ACKs (0, 1, 2, ...): only the last
    /// 1 024 are kept.
    pub n: u64,
    /// The SAY's seq.
    pub seq: u32,
    /// The room, lower case.
    pub room: String,
    /// The message's id.
    pub id: u64,
    /// The message's time.
    pub ts: u64,
}

/// A change to the saved sessions, made with a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    /// Saves a session; `fresh` when it is a new one (the name's older
    /// ACKs are forgotten).
    Put { session: SavedSession, fresh: bool },
    /// The session of this name key ended: nothing of it may be resumed.
    End(String),
}

/// What one group commit writes, in one transaction: the turn's messages,
/// markers, ACKs and session changes, so that a crash keeps all or none.
#[derive(Debug, Default, Clone, Copy)]
pub struct Commit<'a> {
    /// Accepted messages.
    pub msgs: &'a [StoredMsg],
    /// Read and delivery markers that moved.
    pub marks: &'a [StoredMark],
    /// Their ACKs, for the senders' de-duplication memory.
    pub acks: &'a [SavedAck],
    /// Sessions created, resumed, changed or ended.
    pub sessions: &'a [SessionChange],
}

/// A registered name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The name as it was registered (its owner's spelling).
    pub name: String,
    /// The password hash, a PHC string.
    pub phc: String,
}

/// A storage failure, with a one-line reason for the log or the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// What a history query found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The messages, oldest first.
    pub msgs: Vec<StoredMsg>,
    /// Whether older messages in the asked range were left out.
    pub more: bool,
}

/// Durable storage of messages and accounts. All calls come from the loop's
/// thread; an implementation may not block for long (no network, no
/// unbounded scans).
pub trait Store {
    /// The newest message id of `room` (0: none), read when the room is
    /// first needed after a start or after it left memory, so ids go on.
    fn last_id(&mut self, room: &str) -> Result<u64, StoreError>;

    /// Every direct conversation (internal name `@a|b`) with its newest id:
    /// read at start-up, since an account's conversations must be known
    /// when it signs in (UNREAD). No message is read.
    fn conversations(&mut self) -> Result<Vec<(String, u64)>, StoreError>;

    /// Makes a commit durable in one transaction, or none of it. Only after
    /// `Ok` may anyone hear of these messages. Markers only move forward: a
    /// lower value than stored is ignored.
    fn commit(&mut self, c: &Commit<'_>) -> Result<(), StoreError>;

    /// Messages and markers alone, as one commit.
    fn append(&mut self, batch: &[StoredMsg], marks: &[StoredMark]) -> Result<(), StoreError> {
        self.commit(&Commit { msgs: batch, marks, ..Commit::default() })
    }

    /// Every marker of `account`: loaded when it signs in.
    fn marks(&mut self, account: &str) -> Result<Vec<StoredMark>, StoreError>;

    /// Every marker in a direct conversation: loaded at start-up.
    fn direct_marks(&mut self) -> Result<Vec<StoredMark>, StoreError>;

    /// How many messages of `room` with `id > after` were not sent by
    /// `not_from` (an unread count). Asked only for what the window lacks.
    fn count_after(&mut self, room: &str, after: u64, not_from: &str) -> Result<u64, StoreError>;

    /// The session of name key `key` saved by an earlier run of the server
    /// (one that crashed or was stopped), with its remembered ACKs, oldest
    /// first; `None` if there is none.
    fn saved_session(
        &mut self,
        key: &str,
    ) -> Result<Option<(SavedSession, Vec<SavedAck>)>, StoreError>;

    /// Forgets every session saved by an earlier run that was not resumed.
    fn forget_saved_sessions(&mut self) -> Result<(), StoreError>;

    /// Messages of `room` with `after < id < before` (`before = 0`: no upper
    /// bound), the newest `limit` of them, oldest first, and whether older
    /// ones in that range were left out. Only asked for what the in-memory
    /// window does not hold.
    fn history(
        &mut self,
        room: &str,
        after: u64,
        before: u64,
        limit: usize,
    ) -> Result<Page, StoreError>;

    /// An account by name key: its registered spelling and password hash.
    fn account(&mut self, key: &str) -> Result<Option<Account>, StoreError>;

    /// Creates an account; `Ok(false)` if the name is registered already.
    fn create_account(&mut self, key: &str, name: &str, phc: &str) -> Result<bool, StoreError>;

    /// Every file message: where each file was posted and by whom, read
    /// once at start-up (who may fetch what, and each account's quota).
    fn shared_files(&mut self) -> Result<Vec<SharedFile>, StoreError>;

    /// Whether history outlives the process (and so older pages come from
    /// here, not from the in-memory window).
    fn is_durable(&self) -> bool;

    /// Makes everything durable before exit (a checkpoint); called once on
    /// shutdown.
    fn close(&mut self) -> Result<(), StoreError>;
}
