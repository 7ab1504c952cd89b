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
//! With the messages of each turn it saves the sessions that changed and
//! their ACKs (`sessions`), so that a client resuming after a crash has its
//! seqs de-duplicated.
//!
//! It does not cache messages (the loop's per-room window is the cache), give
//! ids or validate anything (the loop does), or retry: a failed write is
//! rolled back whole and reported, and the caller refuses the batch.

mod marks;
mod sessions;
mod setup;

use super::{
    Account, Commit, Page, SavedAck, SavedSession, SharedFile, Store, StoreError, StoredMark,
    StoredMsg,
};
use banter_proto::FileRef;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
pub use setup::SyncMode;
use setup::{
    check_header, configure, describe, lock_file, migrate, runtime, schema_version, BUSY_TIMEOUT,
};
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

const INSERT_MSG: &str =
    "INSERT INTO messages (room, id, ts, sender, text, flags, file, size, mime)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const INSERT_ROOM: &str = "INSERT INTO rooms (name) VALUES (?1)";
const SELECT_ROOM: &str = "SELECT id FROM rooms WHERE name = ?1";
const SELECT_LAST_ID: &str = "SELECT max(id) FROM messages WHERE room = ?1";
/// Rooms whose name starts with `@` ('@' < 'A'): a range on the name index.
const SELECT_CONVERSATIONS: &str = "SELECT r.name,
     (SELECT max(m.id) FROM messages m WHERE m.room = r.id)
     FROM rooms r WHERE r.name >= '@' AND r.name < 'A'";

/// Room row ids remembered at most.
const ROOM_CACHE: usize = 10_000;
const SELECT_PAGE: &str = "SELECT id, ts, sender, text, flags, file, size, mime FROM messages
     WHERE room = ?1 AND id > ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4";

/// Messages and accounts in one SQLite database in WAL mode.
pub struct SqliteStore {
    /// The connection; every statement goes through its prepared-statement
    /// cache.
    conn: Connection,
    /// The database file opened once more, holding the exclusive `flock` that
    /// keeps a second `banterd` out; the kernel drops it when we die.
    _lock: File,
    /// Room name -> row id of rooms recently written or read, so a busy
    /// room's append needs no lookup; at most [`ROOM_CACHE`] (then it is
    /// emptied and fills again).
    room_ids: HashMap<String, i64>,
    /// This run's epoch: saved sessions of lower epochs are from earlier
    /// runs (see `sessions`).
    epoch: i64,
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
        let epoch = sessions::next_epoch(&conn).map_err(|e| fail(describe(&e)))?;
        Ok(SqliteStore { conn, _lock: lock, room_ids: HashMap::new(), epoch })
    }

    /// One transaction for the whole batch (BEGIN and COMMIT are cached
    /// statements too: small batches are the common case); rolled back on
    /// any error. Rooms it creates are put in `fresh`, to be remembered only
    /// once the commit succeeded.
    fn write_batch(
        &mut self,
        c: &Commit<'_>,
        fresh: &mut Vec<(String, i64)>,
    ) -> rusqlite::Result<()> {
        self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let done = self
            .insert_all(c.msgs, fresh)
            .and_then(|()| self.upsert_marks(c.marks, fresh))
            .and_then(|()| sessions::write(&self.conn, self.epoch, c.acks, c.sessions))
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
            let room = self.room_row(&m.room, fresh)?;
            let f = m.file.as_ref();
            let (file, size, mime) = (f.map(|f| &f.file), f.map(|f| f.size), f.map(|f| &f.mime));
            insert.execute(params![room, m.id, m.ts, m.from, m.text, m.flags, file, size, mime])?;
        }
        Ok(())
    }

    /// The row id of room `name`, inserting the room (inside the caller's
    /// transaction) if it is new; rooms looked up or made go to `fresh`,
    /// cached once the transaction commits.
    fn room_row(&self, name: &str, fresh: &mut Vec<(String, i64)>) -> rusqlite::Result<i64> {
        let known = self.room_ids.get(name).copied();
        if let Some(id) = known.or_else(|| fresh.iter().find(|f| f.0 == name).map(|f| f.1)) {
            return Ok(id);
        }
        let id = match self.room_in_db(name)? {
            Some(id) => id,
            None => {
                self.conn.prepare_cached(INSERT_ROOM)?.execute([name])?;
                self.conn.last_insert_rowid()
            }
        };
        fresh.push((name.to_string(), id));
        Ok(id)
    }

    /// The row id of `room`, from the database.
    fn room_in_db(&self, room: &str) -> rusqlite::Result<Option<i64>> {
        let mut stmt = self.conn.prepare_cached(SELECT_ROOM)?;
        stmt.query_row([room], |r| r.get(0)).optional()
    }

    /// The row id of `room`, cached.
    fn room_id(&mut self, room: &str) -> rusqlite::Result<Option<i64>> {
        if let Some(&id) = self.room_ids.get(room) {
            return Ok(Some(id));
        }
        let found = self.room_in_db(room)?;
        if let Some(id) = found {
            self.cache_rooms([(room.to_string(), id)]);
        }
        Ok(found)
    }

    fn cache_rooms(&mut self, rooms: impl IntoIterator<Item = (String, i64)>) {
        if self.room_ids.len() > ROOM_CACHE {
            self.room_ids = HashMap::new();
        }
        self.room_ids.extend(rooms);
    }

    /// The newest `limit` messages of `room`, oldest first.
    #[cfg(test)]
    pub fn recent(&mut self, room: &str, limit: usize) -> Result<Vec<StoredMsg>, StoreError> {
        Ok(self.history(room, 0, 0, limit)?.msgs)
    }
}

/// The file fields of a stored message, when it is a file.
fn file_ref(file: Option<String>, size: Option<u64>, mime: Option<String>) -> Option<FileRef> {
    Some(FileRef { file: file?, size: size.unwrap_or(0), mime: mime.unwrap_or_default() })
}

impl Store for SqliteStore {
    fn last_id(&mut self, room: &str) -> Result<u64, StoreError> {
        let run = |this: &mut Self| -> rusqlite::Result<u64> {
            let Some(rid) = this.room_id(room)? else { return Ok(0) };
            let mut stmt = this.conn.prepare_cached(SELECT_LAST_ID)?;
            stmt.query_row([rid], |r| r.get::<_, Option<u64>>(0)).map(Option::unwrap_or_default)
        };
        run(self).map_err(|e| runtime("reading a room", &e))
    }

    fn conversations(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        let run = || -> rusqlite::Result<Vec<(String, u64)>> {
            let mut stmt = self.conn.prepare_cached(SELECT_CONVERSATIONS)?;
            let rows =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<u64>>(1)?.unwrap_or(0))))?;
            rows.collect()
        };
        run().map_err(|e| runtime("reading conversations", &e))
    }

    fn commit(&mut self, c: &Commit<'_>) -> Result<(), StoreError> {
        let empty = c.msgs.is_empty() && c.marks.is_empty();
        if empty && c.acks.is_empty() && c.sessions.is_empty() {
            return Ok(());
        }
        let mut fresh = Vec::new();
        self.write_batch(c, &mut fresh).map_err(|e| runtime("write failed", &e))?;
        self.cache_rooms(fresh);
        Ok(())
    }

    fn saved_session(
        &mut self,
        key: &str,
    ) -> Result<Option<(SavedSession, Vec<SavedAck>)>, StoreError> {
        sessions::saved(&self.conn, self.epoch, key).map_err(|e| runtime("reading a session", &e))
    }

    fn forget_saved_sessions(&mut self) -> Result<(), StoreError> {
        sessions::forget_before(&self.conn, self.epoch)
            .map_err(|e| runtime("forgetting sessions", &e))
    }

    fn history(
        &mut self,
        room: &str,
        after: u64,
        before: u64,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let Some(rid) = self.room_id(room).map_err(|e| runtime("reading history", &e))? else {
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
                    flags: r.get(4)?,
                    file: file_ref(r.get(5)?, r.get(6)?, r.get(7)?),
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

    fn marks(&mut self, account: &str) -> Result<Vec<StoredMark>, StoreError> {
        self.marks_where(marks::OF_ACCOUNT, account).map_err(|e| runtime("reading markers", &e))
    }

    fn direct_marks(&mut self) -> Result<Vec<StoredMark>, StoreError> {
        self.marks_where(marks::DIRECT, "@").map_err(|e| runtime("reading markers", &e))
    }

    fn count_after(&mut self, room: &str, after: u64, not_from: &str) -> Result<u64, StoreError> {
        let rid = self.room_id(room).map_err(|e| runtime("counting unread", &e))?;
        let Some(rid) = rid else { return Ok(0) };
        self.count_not_from(rid, after, not_from).map_err(|e| runtime("counting unread", &e))
    }

    fn shared_files(&mut self) -> Result<Vec<SharedFile>, StoreError> {
        let sql = "SELECT r.name, m.file, m.size, m.mime, m.sender
                   FROM messages m JOIN rooms r ON r.id = m.room WHERE m.file IS NOT NULL";
        let run = || -> rusqlite::Result<Vec<SharedFile>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows = stmt.query_map([], |r| {
                let file = FileRef { file: r.get(1)?, size: r.get(2)?, mime: r.get(3)? };
                Ok(SharedFile { room: r.get(0)?, file, sender: r.get(4)? })
            })?;
            rows.collect()
        };
        run().map_err(|e| runtime("reading shared files", &e))
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

#[cfg(test)]
mod tests;
