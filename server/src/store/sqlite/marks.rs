//! Read and delivery markers in SQLite: an upsert that only ever raises
//! them (inside the batch's transaction), the markers of one account (its
//! sign-in: one primary-key range) or of every conversation (start-up), and
//! the unread count of one conversation (a primary-key range of messages).

use super::SqliteStore;
use crate::store::StoredMark;
use rusqlite::params;

/// Markers of one account.
pub(super) const OF_ACCOUNT: &str = "SELECT k.account, r.name, k.read, k.delivered
     FROM marks k JOIN rooms r ON r.id = k.room WHERE k.account = ?1";
/// Markers in conversations (rooms named `@a|b`): `?1` is `@`.
pub(super) const DIRECT: &str = "SELECT k.account, r.name, k.read, k.delivered
     FROM marks k JOIN rooms r ON r.id = k.room WHERE substr(r.name, 1, 1) = ?1";
const UPSERT: &str = "INSERT INTO marks (account, room, read, delivered) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (account, room) DO UPDATE SET
       read = max(read, excluded.read), delivered = max(delivered, excluded.delivered)";
const COUNT: &str = "SELECT count(*) FROM messages WHERE room = ?1 AND id > ?2 AND sender <> ?3";

impl SqliteStore {
    /// Raises the markers (inside the caller's transaction).
    pub(super) fn upsert_marks(
        &self,
        marks: &[StoredMark],
        fresh: &mut Vec<(String, i64)>,
    ) -> rusqlite::Result<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(UPSERT)?;
        for m in marks {
            let room = self.room_row(&m.room, fresh)?;
            stmt.execute(params![m.account, room, m.read, m.delivered])?;
        }
        Ok(())
    }

    /// The markers `sql` selects with `arg`.
    pub(super) fn marks_where(
        &mut self,
        sql: &str,
        arg: &str,
    ) -> rusqlite::Result<Vec<StoredMark>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([arg], |r| {
            Ok(StoredMark {
                account: r.get(0)?,
                room: r.get(1)?,
                read: r.get(2)?,
                delivered: r.get(3)?,
            })
        })?;
        rows.collect()
    }

    /// Messages of room row `rid` after `after` not sent by `not_from`.
    pub(super) fn count_not_from(
        &mut self,
        rid: i64,
        after: u64,
        not_from: &str,
    ) -> rusqlite::Result<u64> {
        let after = after.min(i64::MAX as u64);
        self.conn.prepare_cached(COUNT)?.query_row(params![rid, after, not_from], |r| r.get(0))
    }
}
