//! The files shown this run, numbered 1, 2, 3, … in the order they were
//! first shown (in any room), so `/get N` names exactly the line that says
//! `[file N]`. A message shown once is numbered once (the session shows
//! each message id once); the oldest numbers are forgotten past
//! [`KEPT`].
//!
//! It holds what the file messages said; fetching is `download`'s.

use banter_proto::FileRef;
use std::collections::BTreeMap;

/// Files remembered at most (about 300 bytes each).
pub const KEPT: usize = 10_000;

/// A file message as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its room or conversation.
    pub room: String,
    /// Who posted it.
    pub from: String,
    /// Its name as posted (untrusted: shown sanitised, saved made safe).
    pub name: String,
    /// Hash, size and type.
    pub file: FileRef,
}

/// Numbered files.
#[derive(Debug, Default)]
pub struct Catalog {
    /// By number.
    files: BTreeMap<usize, Listed>,
    /// The last number given.
    last: usize,
}

impl Catalog {
    /// Numbers a file message just shown.
    pub fn add(&mut self, listed: Listed) -> usize {
        self.last += 1;
        self.files.insert(self.last, listed);
        if self.files.len() > KEPT {
            self.files.pop_first();
        }
        self.last
    }

    /// File `n`, or why there is none.
    pub fn get(&self, n: usize) -> Result<&Listed, String> {
        if let Some(f) = self.files.get(&n) {
            return Ok(f);
        }
        Err(match (self.files.first_key_value(), self.last) {
            (None, _) => format!("no file {n}: no file has been shown yet"),
            (Some((first, _)), last) => {
                format!("no file {n}: the files shown are numbered {first} to {last}")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str) -> Listed {
        let file = FileRef { file: "ab".repeat(32), size: 1, mime: "text/plain".into() };
        Listed { room: "lobby".into(), from: "bob".into(), name: name.into(), file }
    }

    #[test]
    fn numbers_follow_the_order_shown_and_the_oldest_go() {
        let mut c = Catalog::default();
        assert!(c.get(1).unwrap_err().contains("no file has been shown"));
        assert_eq!(c.add(listed("a")), 1);
        assert_eq!(c.add(listed("b")), 2);
        assert_eq!(c.get(2).map(|l| l.name.as_str()), Ok("b"));
        for _ in 0..KEPT {
            c.add(listed("x"));
        }
        assert!(c.get(1).unwrap_err().contains("numbered 3 to"), "{:?}", c.get(1));
    }
}
