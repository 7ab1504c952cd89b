//! Saved sessions in SQLite: what resuming a session and de-duplicating
//! its SAYs need after a crash or a restart (name, token, rooms, the last
//! 1 024 ACKs), written in the same transaction as the messages they
//! acknowledge.
//!
//! Every run of the server has an *epoch* (one more than the last run's,
//! kept in `meta`); rows of earlier epochs are the sessions a restart may
//! resume, and are forgotten once the core says so.

use super::super::{SavedAck, SavedSession, SessionChange};
use rusqlite::{params, Connection, OptionalExtension};

/// The schema these functions use (migration 2).
pub const MIGRATION: &str = "
    CREATE TABLE sessions (
        key   TEXT PRIMARY KEY,
        name  TEXT NOT NULL,
        token INTEGER NOT NULL,
        rooms TEXT NOT NULL,
        epoch INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE acks (
        session TEXT NOT NULL,
        slot    INTEGER NOT NULL,
        n       INTEGER NOT NULL,
        seq     INTEGER NOT NULL,
        room    TEXT NOT NULL,
        id      INTEGER NOT NULL,
        ts      INTEGER NOT NULL,
        PRIMARY KEY (session, slot)
    ) WITHOUT ROWID;
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
";

/// ACKs kept per session: the slot of ACK `n` is `n % ACKS`, so a new one
/// replaces the one 1 024 before it.
const ACKS: u64 = 1024;

/// Starts a new epoch; returns it.
pub fn next_epoch(conn: &Connection) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('epoch', 1)
         ON CONFLICT (key) DO UPDATE SET value = value + 1",
        [],
    )?;
    conn.query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| r.get(0))
}

/// Writes `acks` and `changes` (inside the caller's transaction).
pub fn write(
    conn: &Connection,
    epoch: i64,
    acks: &[SavedAck],
    changes: &[SessionChange],
) -> rusqlite::Result<()> {
    for c in changes {
        match c {
            SessionChange::Put { session, fresh } => put(conn, epoch, session, *fresh)?,
            SessionChange::End(key) => {
                conn.prepare_cached("DELETE FROM sessions WHERE key = ?1")?.execute([key])?;
                conn.prepare_cached("DELETE FROM acks WHERE session = ?1")?.execute([key])?;
            }
        }
    }
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO acks (session, slot, n, seq, room, id, ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for a in acks {
        insert.execute(params![a.session, a.n % ACKS, a.n, a.seq, a.room, a.id, a.ts])?;
    }
    Ok(())
}

fn put(conn: &Connection, epoch: i64, s: &SavedSession, fresh: bool) -> rusqlite::Result<()> {
    if fresh {
        conn.prepare_cached("DELETE FROM acks WHERE session = ?1")?.execute([&s.key])?;
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO sessions (key, name, token, rooms, epoch)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![s.key, s.name, s.token as i64, s.rooms.join("\n"), epoch])?;
    Ok(())
}

/// The session `key` saved by an earlier epoch, with its ACKs oldest first.
pub fn saved(
    conn: &Connection,
    epoch: i64,
    key: &str,
) -> rusqlite::Result<Option<(SavedSession, Vec<SavedAck>)>> {
    let row = conn
        .prepare_cached("SELECT name, token, rooms FROM sessions WHERE key = ?1 AND epoch < ?2")?
        .query_row(params![key, epoch], |r| {
            let rooms: String = r.get(2)?;
            Ok(SavedSession {
                key: key.to_string(),
                name: r.get(0)?,
                token: r.get::<_, i64>(1)? as u64,
                rooms: rooms.split('\n').filter(|x| !x.is_empty()).map(String::from).collect(),
            })
        })
        .optional()?;
    let Some(session) = row else { return Ok(None) };
    let mut stmt =
        conn.prepare_cached("SELECT n, seq, room, id, ts FROM acks WHERE session = ?1 ORDER BY n")?;
    let acks = stmt
        .query_map([key], |r| {
            Ok(SavedAck {
                session: key.to_string(),
                n: r.get(0)?,
                seq: r.get(1)?,
                room: r.get(2)?,
                id: r.get(3)?,
                ts: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some((session, acks)))
}

/// Forgets the sessions of earlier epochs and their ACKs.
pub fn forget_before(conn: &Connection, epoch: i64) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM acks WHERE session IN (SELECT key FROM sessions WHERE epoch < ?1)",
        [epoch],
    )?;
    conn.execute("DELETE FROM sessions WHERE epoch < ?1", [epoch])?;
    Ok(())
}
