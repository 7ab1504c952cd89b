//! Durable storage in one SQLite file (`--db PATH`): rooms, messages and
//! accounts behind the [`Store`] seam.
//!
//! It opens and checks the file, with a one-line reason for every start-up
//! fault (cannot open, not a Banter database, newer schema, locked by another
//! `banterd`); holds an exclusive `flock` on it for the life of the process
//! (the kernel drops it even on `kill -9`); applies the ordered schema
//! migrations (`PRAGMA user_version`); runs in WAL mode with `synchronous`
//! NORMAL or FULL and exclusive locking (no shared-memory index, no lock
//! system calls per transaction: no other process reads the file while
//! `banterd` runs); writes each batch of messages in one transaction; reads
//! history pages and accounts through cached prepared statements.
//!
//! It does not cache messages (the loop's per-room window is the cache), give
//! ids or validate anything (the loop does), or retry: a failed write is
//! rolled back whole and reported, and the caller refuses the batch.

use super::{Account, Page, Store, StoreError, StoredMsg};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
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
/// `i + 1`. Only ever append to this list.
const MIGRATIONS: &[&str] = &["
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
"];

/// How long opening waits for a lock held by another program (e.g. an
/// operator's `sqlite3` shell) before failing. Short: the loop waits.
const BUSY_TIMEOUT: Duration = Duration::from_millis(100);

const INSERT_MSG: &str =
    "INSERT INTO messages (room, id, ts, sender, text) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_ROOM: &str = "INSERT INTO rooms (name) VALUES (?1)";
const SELECT_PAGE: &str = "SELECT id, ts, sender, text FROM messages
     WHERE room = ?1 AND id > ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4";

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

/// Messages and accounts in one SQLite database in WAL mode.
pub struct SqliteStore {
    /// The connection; every statement goes through its prepared-statement
    /// cache.
    conn: Connection,
    /// The database file opened once more, holding the exclusive `flock` that
    /// keeps a second `banterd` out; the kernel drops it when we die.
    _lock: File,
    /// Room name -> row id of every room in the database, so an append needs
    /// no lookup.
    room_ids: HashMap<String, i64>,
}

impl SqliteStore {
    /// Opens (creating if needed) and checks the database at `path`, brings
    /// its schema up to date and sets WAL and `sync`. Every fault is a
    /// one-line reason naming the path.
    pub fn open(path: &Path, sync: SyncMode) -> Result<SqliteStore, StoreError> {
        let fail = |why: String| StoreError(format!("{}: {why}", path.display()));
        let lock = lock_file(path).map_err(fail)?;
        check_header(&lock).map_err(fail)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)
            .map_err(|e| fail(format!("cannot open: {}", describe(&e))))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| fail(describe(&e)))?;
        // Before anything reads the file: no shared-memory WAL index and no
        // lock system calls per transaction (we are its only user anyway).
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(|e| fail(describe(&e)))?;
        let version = schema_version(&conn).map_err(fail)?;
        configure(&conn, sync).map_err(fail)?;
        migrate(&mut conn, version).map_err(fail)?;
        let room_ids = load_rooms(&conn).map_err(|e| fail(describe(&e)))?;
        Ok(SqliteStore { conn, _lock: lock, room_ids })
    }

    /// One transaction for the whole batch (BEGIN and COMMIT are cached
    /// statements too: small batches are the common case); rolled back on
    /// any error. Rooms it creates are put in `fresh`, to be remembered only
    /// once the commit succeeded.
    fn write_batch(
        &mut self,
        batch: &[StoredMsg],
        fresh: &mut Vec<(String, i64)>,
    ) -> rusqlite::Result<()> {
        self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let done = self
            .insert_all(batch, fresh)
            .and_then(|()| self.conn.prepare_cached("COMMIT")?.execute([]));
        if done.is_err() && !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                log::error!("database rollback failed: {}", describe(&e));
            }
        }
        done.map(drop)
    }

    /// The inserts of [`SqliteStore::write_batch`], inside its transaction.
    fn insert_all(
        &self,
        batch: &[StoredMsg],
        fresh: &mut Vec<(String, i64)>,
    ) -> rusqlite::Result<()> {
        let mut insert = self.conn.prepare_cached(INSERT_MSG)?;
        for m in batch {
            let known = self.room_ids.get(&m.room).copied();
            let room = match known.or_else(|| fresh.iter().find(|f| f.0 == m.room).map(|f| f.1)) {
                Some(id) => id,
                None => {
                    self.conn.prepare_cached(INSERT_ROOM)?.execute([&m.room])?;
                    let id = self.conn.last_insert_rowid();
                    fresh.push((m.room.clone(), id));
                    id
                }
            };
            insert.execute(params![room, m.id, m.ts, m.from, m.text])?;
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn rooms(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        let sql = "SELECT r.name, (SELECT max(m.id) FROM messages m WHERE m.room = r.id)
                   FROM rooms r ORDER BY r.name";
        let run = || -> rusqlite::Result<Vec<(String, u64)>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<u64>>(1)?.unwrap_or(0))))?;
            rows.collect()
        };
        run().map_err(|e| runtime("reading rooms", &e))
    }

    fn recent(&mut self, room: &str, limit: usize) -> Result<Vec<StoredMsg>, StoreError> {
        Ok(self.history(room, 0, 0, limit)?.msgs)
    }

    fn append(&mut self, batch: &[StoredMsg]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut fresh = Vec::new();
        self.write_batch(batch, &mut fresh).map_err(|e| runtime("write failed", &e))?;
        self.room_ids.extend(fresh);
        Ok(())
    }

    fn history(
        &mut self,
        room: &str,
        after: u64,
        before: u64,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let Some(&rid) = self.room_ids.get(room) else {
            return Ok(Page::default());
        };
        // Ids never exceed i64::MAX; a peer's larger `since`/`before` is clamped.
        let top = i64::MAX as u64;
        let upper = if before == 0 { top } else { before.min(top) };
        let take = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let run = || -> rusqlite::Result<Vec<StoredMsg>> {
            let mut stmt = self.conn.prepare_cached(SELECT_PAGE)?;
            let rows = stmt.query_map(params![rid, after.min(top), upper, take], |r| {
                Ok(StoredMsg {
                    room: room.to_string(),
                    id: r.get(0)?,
                    ts: r.get(1)?,
                    from: r.get(2)?,
                    text: r.get(3)?,
                })
            })?;
            rows.collect()
        };
        let mut msgs = run().map_err(|e| runtime("reading history", &e))?;
        let more = msgs.len() > limit;
        msgs.truncate(limit);
        msgs.reverse();
        Ok(Page { msgs, more })
    }

    fn account(&mut self, key: &str) -> Result<Option<Account>, StoreError> {
        let sql = "SELECT name, phc FROM accounts WHERE key = ?1";
        let run = || -> rusqlite::Result<Option<Account>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let row = |r: &rusqlite::Row<'_>| Ok(Account { name: r.get(0)?, phc: r.get(1)? });
            stmt.query_row([key], row).optional()
        };
        run().map_err(|e| runtime("reading account", &e))
    }

    fn create_account(&mut self, key: &str, name: &str, phc: &str) -> Result<bool, StoreError> {
        let sql = "INSERT INTO accounts (key, name, phc, created) VALUES (?1, ?2, ?3, ?4)
                   ON CONFLICT (key) DO NOTHING";
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let run = || -> rusqlite::Result<usize> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            stmt.execute(params![key, name, phc, created])
        };
        let n = run().map_err(|e| runtime("storing account", &e))?;
        Ok(n == 1)
    }

    fn is_durable(&self) -> bool {
        true
    }

    fn close(&mut self) -> Result<(), StoreError> {
        let sql = "PRAGMA wal_checkpoint(TRUNCATE)";
        let busy: i64 = self
            .conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| runtime("checkpoint failed", &e))?;
        if busy != 0 {
            return Err(StoreError("checkpoint incomplete: database busy".into()));
        }
        Ok(())
    }
}

/// A run-time failure as a one-line reason (no path: it may reach users).
fn runtime(what: &str, e: &rusqlite::Error) -> StoreError {
    StoreError(format!("{what}: {}", describe(e)))
}

/// An SQLite error in words, the two start-up faults named plainly.
fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "not a Banter database (not an SQLite file)".into(),
        Some(ErrorCode::DatabaseCorrupt) => format!("database is corrupt ({e})"),
        _ => e.to_string().replace('\n', " "),
    }
}

/// Opens (creating, mode 0600: it holds password hashes) the database file
/// and takes an exclusive, non-blocking `flock` on it.
fn lock_file(path: &Path) -> Result<File, String> {
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
fn check_header(mut file: &File) -> Result<(), String> {
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
fn schema_version(conn: &Connection) -> Result<usize, String> {
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
fn configure(conn: &Connection, sync: SyncMode) -> Result<(), String> {
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
fn migrate(conn: &mut Connection, from: usize) -> Result<(), String> {
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

/// Every room's row id, by name.
fn load_rooms(conn: &Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare("SELECT name, id FROM rooms")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests;
