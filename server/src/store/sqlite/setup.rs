//! Opening a Banter SQLite file: the exclusive `flock` that keeps a second
//! `banterd` out, the header and `application_id` checks that tell our files
//! from others, the ordered schema migrations (`PRAGMA user_version`), WAL
//! mode and the `synchronous` level, and one-line reasons for every fault.
//!
//! Nothing here reads or writes messages; see the parent module.

use crate::store::StoreError;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// `PRAGMA application_id` of a Banter database ("BNTR"): tells our files
/// from every other SQLite file.
pub const APPLICATION_ID: i32 = 0x424E_5452;

/// The schema migrations in order: entry `i` takes `user_version` `i` to
/// `i + 1`. Only ever append to this list. Version 1: rooms, messages,
/// accounts. Version 2: message flags (`/me` actions) and read/delivered
/// markers per account and room, keyed so that an account's markers are
/// one index range (sign-in) and a MARK one row. Version 3: file messages'
/// hash, size and type, with a partial index over file messages only.
pub(super) const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE rooms (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE messages (
        room   INTEGER NOT NULL REFERENCES rooms (id),
        id     INTEGER NOT NULL,
        ts     INTEGER NOT NULL,
        sender TEXT NOT NULL,
        text   TEXT NOT NULL,
        PRIMARY KEY (room, id)
    ) WITHOUT ROWID;
    CREATE TABLE accounts (
        key     TEXT PRIMARY KEY,
        name    TEXT NOT NULL,
        phc     TEXT NOT NULL,
        created INTEGER NOT NULL
    ) WITHOUT ROWID;
",
    "
    ALTER TABLE messages ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE marks (
        account   TEXT NOT NULL,
        room      INTEGER NOT NULL REFERENCES rooms (id),
        read      INTEGER NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account, room)
    ) WITHOUT ROWID;
",
    "
    ALTER TABLE messages ADD COLUMN file TEXT;
    ALTER TABLE messages ADD COLUMN size INTEGER;
    ALTER TABLE messages ADD COLUMN mime TEXT;
    CREATE INDEX messages_files ON messages (file) WHERE file IS NOT NULL;
",
    super::sessions::MIGRATION,
];

/// How long opening waits for a lock held by another program (e.g. an
/// operator's `sqlite3` shell) before failing. Short: the loop waits.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_millis(100);

/// How hard each commit is pushed to the disk (`--sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// `synchronous = NORMAL`: a commit is in the operating system's hands
    /// when `append` returns; survives a crash of the process, not of the
    /// machine (the last commits before a power loss may be lost).
    Normal,
    /// `synchronous = FULL`: the WAL is fsync'ed at every commit; survives
    /// power loss too, at one fsync per loop iteration that wrote.
    Full,
}

impl FromStr for SyncMode {
    type Err = String;

    fn from_str(s: &str) -> Result<SyncMode, String> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(SyncMode::Normal),
            "full" => Ok(SyncMode::Full),
            _ => Err(format!("--sync must be normal or full, not {s:?}")),
        }
    }
}

/// A run-time failure as a one-line reason (no path: it may reach users).
pub(super) fn runtime(what: &str, e: &rusqlite::Error) -> StoreError {
    StoreError(format!("{what}: {}", describe(e)))
}

/// An SQLite error in words, the two start-up faults named plainly.
pub(super) fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "not a Banter database (not an SQLite file)".into(),
        Some(ErrorCode::DatabaseCorrupt) => format!("database is corrupt ({e})"),
        _ => e.to_string().replace('\n', " "),
    }
}

/// Opens (creating, mode 0600: it holds password hashes) the database file
/// and takes an exclusive, non-blocking `flock` on it.
pub(super) fn lock_file(path: &Path) -> Result<File, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot open: {e}"))?;
    if !meta.is_file() {
        return Err("cannot open: not a regular file".into());
    }
    // SAFETY: flock(2) on a descriptor this function owns; no memory shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err("locked by another banterd".into());
        }
        return Err(format!("cannot lock: {e}"));
    }
    Ok(file)
}

/// An empty file is a new database; anything else must start with the
/// SQLite magic string.
pub(super) fn check_header(mut file: &File) -> Result<(), String> {
    let mut head = [0u8; 16];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
    if got == 0 || &head[..got] == b"SQLite format 3\0" {
        return Ok(());
    }
    Err("not a Banter database (not an SQLite file)".into())
}

/// The schema version of a Banter database (0 for a new, empty one), or why
/// this file is not one we may use.
pub(super) fn schema_version(conn: &Connection) -> Result<usize, String> {
    let read = || -> rusqlite::Result<(i32, i64, i64)> {
        let app = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let objects = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        Ok((app, version, objects))
    };
    let (app, version, objects) = read().map_err(|e| describe(&e))?;
    let latest = MIGRATIONS.len();
    match app {
        APPLICATION_ID => match usize::try_from(version) {
            Ok(v) if v <= latest => Ok(v),
            _ => Err(format!(
                "schema version {version} is newer than this build of banterd supports ({latest})"
            )),
        },
        0 if objects == 0 && version == 0 => Ok(0),
        0 => Err("not a Banter database (it holds other tables)".into()),
        other => Err(format!("not a Banter database (application_id {other:#x})")),
    }
}

/// WAL mode and the synchronous level.
pub(super) fn configure(conn: &Connection, sync: SyncMode) -> Result<(), String> {
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| format!("cannot use WAL mode: {}", describe(&e)))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("cannot use WAL mode (journal mode stays {mode})"));
    }
    let level = match sync {
        SyncMode::Normal => "NORMAL",
        SyncMode::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", level)
        .map_err(|e| format!("cannot set synchronous: {}", describe(&e)))
}

/// Applies the migrations after `from` in one transaction, stamping the
/// application id and the new version with them.
pub(super) fn migrate(conn: &mut Connection, from: usize) -> Result<(), String> {
    let latest = MIGRATIONS.len();
    if from >= latest {
        return Ok(());
    }
    let run = |conn: &mut Connection| -> rusqlite::Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for sql in MIGRATIONS.iter().skip(from) {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", latest as i64)?;
        tx.commit()
    };
    run(conn)
        .map_err(|e| format!("schema migration {from} -> {latest} failed: {}", describe(&e)))?;
    log::info!("database schema migrated from version {from} to {latest}");
    Ok(())
}
