//! Bounded state with made-up time: empty rooms are freed (their ids go
//! on), `--max-rooms`, the `--history-memory` budget, and a start-up that
//! reads nothing.

use super::*;
use banter_proto::ErrorCode;

/// `p` JOINs `room`; returns JOINED's last_id, or the ERROR code.
fn join(k: &mut Kit, p: PeerId, room: &str) -> Result<u64, u16> {
    k.send(p, ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
    let got = k.recv(p);
    match got.first() {
        Some(ServerFrame::Joined { last_id, .. }) => Ok(*last_id),
        Some(ServerFrame::Error { code, .. }) => Err(*code),
        other => panic!("{other:?}"),
    }
}

fn leave(k: &mut Kit, p: PeerId, room: &str) {
    k.send(p, ClientFrame::Leave { room: room.into() });
    k.turn();
    k.recv(p);
}

/// `p` (in `room`) SAYs `n` texts from seq `first`; returns the last id.
fn talk(k: &mut Kit, p: PeerId, room: &str, first: u32, n: u32, text: &str) -> u64 {
    for seq in first..first + n {
        k.send(p, say(room, seq, text));
    }
    k.turn();
    let acks = k.recv(p);
    match acks.last() {
        Some(ServerFrame::Ack { id, .. }) => *id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn rooms_joined_and_left_are_freed() {
    let mut k = Kit::new(&["--join-rate", "0"]);
    let p = k.login("ada");
    for i in 0..5000 {
        join(&mut k, p, &format!("room{i}")).unwrap();
        leave(&mut k, p, &format!("room{i}"));
    }
    assert_eq!(k.core.rooms.len(), 0, "no member, no message: nothing kept");
    assert!(k.core.room_ids.is_empty());
}

#[test]
fn with_a_database_an_empty_room_leaves_memory_and_its_ids_go_on() {
    let (gate, stored, _) = Gate::new();
    let mut k = Kit::with_store(&["--rate", "0"], Box::new(gate));
    let p = k.login("ada");
    join(&mut k, p, "r").unwrap();
    assert_eq!(talk(&mut k, p, "r", 1, 3, "x"), 3);
    leave(&mut k, p, "r");
    assert_eq!(k.core.rooms.len(), 0, "freed: the database has it");
    assert_eq!(k.core.history.msgs, 0, "its window went too");
    assert_eq!(join(&mut k, p, "r"), Ok(3), "read back from the store");
    assert_eq!(talk(&mut k, p, "r", 4, 1, "y"), 4);
    assert_eq!(stored.borrow().iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
}

#[test]
fn without_a_database_empty_rooms_keep_their_history_until_evicted() {
    let mut k = Kit::new(&["--rate", "0", "--max-rooms", "3", "--join-rate", "0"]);
    let p = k.login("ada");
    for (i, room) in ["a", "b", "c"].into_iter().enumerate() {
        join(&mut k, p, room).unwrap();
        talk(&mut k, p, room, 10 * i as u32 + 1, 2 + i as u32, "x");
        k.advance(10);
        leave(&mut k, p, room);
    }
    assert_eq!(k.core.rooms.len(), 3, "their history lives nowhere else");
    // A fourth room takes the place of the least recently active, "a".
    assert_eq!(join(&mut k, p, "d"), Ok(0));
    assert!(!k.core.room_ids.contains_key("a"));
    leave(&mut k, p, "d"); // empty and no messages: freed at once
    assert_eq!(join(&mut k, p, "b"), Ok(3), "still in memory");
    // "a" comes back from its tombstone: its ids go on.
    assert_eq!(join(&mut k, p, "a"), Ok(2));
    assert_eq!(talk(&mut k, p, "a", 100, 1, "again"), 3);
}

#[test]
fn at_max_rooms_with_members_everywhere_a_new_room_is_rate_limited() {
    let mut k = Kit::new(&["--max-rooms", "2"]);
    let p = k.login("ada");
    join(&mut k, p, "a").unwrap();
    join(&mut k, p, "b").unwrap();
    assert_eq!(join(&mut k, p, "c"), Err(ErrorCode::RateLimited as u16));
    assert_eq!(join(&mut k, p, "a"), Ok(0), "a room in memory is fine");
    leave(&mut k, p, "b");
    assert_eq!(join(&mut k, p, "c"), Ok(0));
}

#[test]
fn the_history_budget_lets_the_oldest_messages_of_the_server_go() {
    // 80 messages of ~1 KB do not fit 40 KB: the oldest go, from any room.
    let mut k = Kit::new(&["--rate", "0", "--history-memory", "40000"]);
    let p = k.member("ada", "a");
    join(&mut k, p, "b").unwrap();
    let text = "t".repeat(1000);
    talk(&mut k, p, "a", 1, 40, &text);
    talk(&mut k, p, "b", 41, 40, &text);
    assert!(k.core.history.bytes <= 40_000, "{}", k.core.history.bytes);
    assert_eq!(k.core.rooms[k.core.room_ids["a"] as usize].window_size().1, 0, "a was older");
    let kept = k.core.rooms[k.core.room_ids["b"] as usize].window_size().1;
    assert!((30..40).contains(&kept), "{kept}");
    // Without a database what went is gone: HISTORY ends at the oldest kept.
    k.send(p, ClientFrame::History { room: "b".into(), before: 0, limit: 100 });
    let got = k.recv(p);
    assert!(
        matches!(got.last(), Some(ServerFrame::HistoryEnd { more: 0, count, .. }) if *count as usize == kept)
    );
}

#[test]
fn with_a_database_pages_past_the_budget_come_from_it() {
    let (gate, _, _) = Gate::new();
    let mut k = Kit::with_store(&["--rate", "0", "--history-memory", "20000"], Box::new(gate));
    let p = k.member("ada", "a");
    talk(&mut k, p, "a", 1, 60, &"t".repeat(1000));
    k.send(p, ClientFrame::History { room: "a".into(), before: 0, limit: 60 });
    let got = k.recv(p);
    let ids: Vec<u64> = got
        .iter()
        .filter_map(|f| if let ServerFrame::Msg { id, .. } = f { Some(*id) } else { None })
        .collect();
    assert_eq!(ids, (1..=60).collect::<Vec<_>>());
}

#[test]
fn start_up_reads_nothing_from_the_store() {
    let (gate, stored, _) = Gate::new();
    stored.borrow_mut().push(StoredMsg {
        room: "lobby".into(),
        id: 41,
        ts: 1,
        from: "x".into(),
        text: "old".into(),
        flags: 0,
        file: None,
    });
    let reads = Rc::clone(&gate.reads);
    let mut k = Kit::with_store(&[], Box::new(gate));
    assert_eq!(reads.get(), 0);
    let p = k.login("ada");
    assert_eq!(join(&mut k, p, "lobby"), Ok(41), "the room's ids are read when it is needed");
}

#[test]
fn a_room_with_a_message_waiting_for_the_commit_is_not_evicted() {
    // Found by the core fuzz harness: the evicted room's slot went to the
    // new room, and the commit then put the message there.
    let mut k = Kit::new(&["--max-rooms", "1", "--join-rate", "0"]);
    let p = k.login("ada");
    join(&mut k, p, "a").unwrap();
    k.send(p, say("a", 1, "pending"));
    k.send(p, ClientFrame::Leave { room: "a".into() });
    assert_eq!(k.recv(p), [ServerFrame::Left { room: "a".into() }]);
    assert_eq!(join(&mut k, p, "b"), Err(ErrorCode::RateLimited as u16), "a is busy");
    k.turn();
    assert!(matches!(k.recv(p)[..], [ServerFrame::Ack { id: 1, .. }]));
    assert_eq!(join(&mut k, p, "b"), Ok(0), "now a can go");
    assert_eq!(talk(&mut k, p, "b", 2, 1, "first of b"), 1);
    leave(&mut k, p, "b");
    assert_eq!(join(&mut k, p, "a"), Ok(1), "a's ids go on from its tombstone");
}
