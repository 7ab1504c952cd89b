//! The store used without `--db`: accounts in a map for the life of the
//! process, messages nowhere but each room's in-memory window (the loop
//! keeps the last 10 000 per room there).

use super::{Account, Page, Store, StoreError, StoredMsg};
use std::collections::HashMap;

/// Accounts only; messages are not kept here.
#[derive(Default)]
pub struct MemoryStore {
    /// Name key -> (name as registered, PHC hash string).
    accounts: HashMap<String, (String, String)>,
}

impl Store for MemoryStore {
    fn rooms(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(Vec::new())
    }
    fn recent(&mut self, _room: &str, _limit: usize) -> Result<Vec<StoredMsg>, StoreError> {
        Ok(Vec::new())
    }
    fn append(&mut self, _batch: &[StoredMsg]) -> Result<(), StoreError> {
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
        assert!(s.append(&[]).is_ok());
        assert!(!s.is_durable());
    }
}
