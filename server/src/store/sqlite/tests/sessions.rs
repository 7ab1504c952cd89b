//! Saved sessions: written with the messages of a commit (all or none),
//! read back only by the next run, the last 1 024 ACKs per session, fresh
//! sessions and ends.

use super::*;
use crate::store::SessionChange;

fn session(key: &str, token: u64, rooms: &[&str]) -> SessionChange {
    let s = SavedSession {
        key: key.into(),
        name: key.to_uppercase(),
        token,
        rooms: rooms.iter().map(|r| r.to_string()).collect(),
    };
    SessionChange::Put { session: s, fresh: false }
}

fn ack(session: &str, n: u64) -> SavedAck {
    SavedAck { session: session.into(), n, seq: n as u32 + 1, room: "lobby".into(), id: n, ts: 7 }
}

#[test]
fn sessions_are_saved_with_messages_and_read_back_by_the_next_run() {
    let t = Tmp::new("sessions");
    {
        let mut s = open(&t);
        let msgs = [msg("lobby", 1, "a")];
        let acks: Vec<SavedAck> = (0..1500).map(|n| ack("ada", n)).collect();
        let changes = [session("ada", u64::MAX - 5, &["lobby", "dev"]), session("bob", 9, &[])];
        s.commit(&Commit { msgs: &msgs, marks: &[], acks: &acks, sessions: &changes }).unwrap();
        s.commit(&Commit { sessions: &[SessionChange::End("bob".into())], ..Commit::default() })
            .unwrap();
        assert_eq!(s.saved_session("ada").unwrap(), None, "not from this run");
    }
    let mut s = open(&t);
    let (saved, acks) = s.saved_session("ada").unwrap().expect("saved");
    assert_eq!((saved.name.as_str(), saved.token), ("ADA", u64::MAX - 5));
    assert_eq!(saved.rooms, ["lobby", "dev"]);
    assert_eq!(acks.len(), 1024, "the last 1 024 only");
    assert_eq!(acks.iter().map(|a| a.n).collect::<Vec<_>>(), (476..1500).collect::<Vec<_>>());
    assert_eq!(s.saved_session("bob").unwrap(), None, "ended");
    // Saved again by this run: not the previous run's any more.
    let fresh = SessionChange::Put {
        session: SavedSession { key: "ada".into(), name: "ADA".into(), token: 1, rooms: vec![] },
        fresh: true,
    };
    s.commit(&Commit { sessions: &[fresh], ..Commit::default() }).unwrap();
    s.forget_saved_sessions().unwrap();
    drop(s);
    let mut s = open(&t);
    let (saved, acks) = s.saved_session("ada").unwrap().expect("saved by run 2");
    assert_eq!((saved.token, acks.len()), (1, 0), "a fresh session drops the old ACKs");
    s.forget_saved_sessions().unwrap();
    assert_eq!(s.saved_session("ada").unwrap(), None);
}

#[test]
fn a_failed_commit_saves_no_session_either() {
    let t = Tmp::new("sessions-atomic");
    {
        let mut s = open(&t);
        s.append(&[msg("a", 1, "one")], &[]).unwrap();
        let dup = [msg("a", 1, "dup")];
        let changes = [session("ada", 3, &["a"])];
        let c = Commit { msgs: &dup, marks: &[], acks: &[ack("ada", 0)], sessions: &changes };
        assert!(s.commit(&c).is_err());
    }
    let mut s = open(&t);
    assert_eq!(s.saved_session("ada").unwrap(), None);
}
