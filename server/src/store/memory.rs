//! The store used without `--db`: accounts and their markers in maps for
//! the life of the process, messages nowhere but each room's in-memory
//! window (the loop keeps the last 10 000 per room there).

use super::{
    Account, Commit, Page, SavedAck, SavedSession, SharedFile, Store, StoreError, StoredMark,
};
use std::collections::HashMap;

/// Accounts and markers only; messages are not kept here.
#[derive(Default)]
pub struct MemoryStore {
    /// Name key -> (name as registered, PHC hash string).
    accounts: HashMap<String, (String, String)>,
    /// (account, room) -> (read, delivered).
    marks: HashMap<(String, String), (u64, u64)>,
}

impl Store for MemoryStore {
    fn last_id(&mut self, _room: &str) -> Result<u64, StoreError> {
        Ok(0)
    }
    fn conversations(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(Vec::new())
    }
    fn commit(&mut self, c: &Commit<'_>) -> Result<(), StoreError> {
        for m in c.marks {
            let e = self.marks.entry((m.account.clone(), m.room.clone())).or_default();
            *e = (e.0.max(m.read), e.1.max(m.delivered));
        }
        Ok(())
    }
    fn marks(&mut self, account: &str) -> Result<Vec<StoredMark>, StoreError> {
        Ok(self.rows(|a, _| a == account))
    }
    fn direct_marks(&mut self) -> Result<Vec<StoredMark>, StoreError> {
        Ok(self.rows(|_, r| r.starts_with('@')))
    }
    fn count_after(&mut self, _: &str, _: u64, _: &str) -> Result<u64, StoreError> {
        Ok(0) // never asked: without a database the window is the history
    }
    fn shared_files(&mut self) -> Result<Vec<SharedFile>, StoreError> {
        Ok(Vec::new()) // nothing outlives the process
    }
    fn saved_session(
        &mut self,
        _: &str,
    ) -> Result<Option<(SavedSession, Vec<SavedAck>)>, StoreError> {
        Ok(None) // sessions are saved only with a database
    }
    fn forget_saved_sessions(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    fn history(&mut self, _: &str, _: u64, _: u64, _: usize) -> Result<Page, StoreError> {
        Ok(Page::default())
    }
    fn account(&mut self, key: &str) -> Result<Option<Account>, StoreError> {
        let found = self.accounts.get(key);
        Ok(found.map(|(name, phc)| Account { name: name.clone(), phc: phc.clone() }))
    }
    fn create_account(&mut self, key: &str, name: &str, phc: &str) -> Result<bool, StoreError> {
        if self.accounts.contains_key(key) {
            return Ok(false);
        }
        self.accounts.insert(key.to_string(), (name.to_string(), phc.to_string()));
        Ok(true)
    }
    fn is_durable(&self) -> bool {
        false
    }
    fn close(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl MemoryStore {
    fn rows(&self, keep: impl Fn(&str, &str) -> bool) -> Vec<StoredMark> {
        let row =
            |((account, room), (read, delivered)): (&(String, String), &(u64, u64))| StoredMark {
                account: account.clone(),
                room: room.clone(),
                read: *read,
                delivered: *delivered,
            };
        self.marks.iter().filter(|((a, r), _)| keep(a, r)).map(row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_unique_by_key() {
        let mut s = MemoryStore::default();
        assert_eq!(s.account("ada").unwrap(), None);
        assert!(s.create_account("ada", "Ada", "$argon2id$x").unwrap());
        assert!(!s.create_account("ada", "ADA", "$argon2id$y").unwrap());
        let a = s.account("ada").unwrap().unwrap();
        assert_eq!((a.name.as_str(), a.phc.as_str()), ("Ada", "$argon2id$x"));
        assert!(s.append(&[], &[]).is_ok());
        assert!(!s.is_durable());
    }
}
