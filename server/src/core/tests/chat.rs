//! Rooms, messages and the group commit: answer order, fan-out around a
//! sender's own messages, the rate limit, and ACKs that wait for the store.

use super::*;
use banter_proto::ErrorCode;

fn msg_ids(frames: &[ServerFrame]) -> Vec<(String, u64)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Msg { from, id, .. } => Some((from.clone(), *id)),
            _ => None,
        })
        .collect()
}

#[test]
fn join_answers_in_order_then_say_acks_and_fans_out() {
    let mut k = Kit::new(&[]);
    let ada = k.member("ada", "lobby");
    let bob = k.login("bob");
    k.send(bob, ClientFrame::Join { room: "Lobby".into(), since: 0, limit: 10 });
    let got = k.recv(bob);
    assert!(
        matches!(&got[0], ServerFrame::Joined { room, members: 2, last_id: 0, .. } if room == "lobby")
    );
    assert!(
        matches!(&got[1], ServerFrame::Roster { more: 0, names, .. } if names == &["ada", "bob"])
    );
    assert!(matches!(&got[2], ServerFrame::HistoryEnd { count: 0, more: 0, .. }));
    assert_eq!(got.len(), 3);
    assert!(matches!(&k.recv(ada)[..], [ServerFrame::Presence { event: 1, .. }]));
    k.send(ada, say("lobby", 1, "hi"));
    assert!(k.recv(ada).is_empty() && k.recv(bob).is_empty(), "nothing before the turn ends");
    k.turn();
    assert!(
        matches!(&k.recv(ada)[..], [ServerFrame::Ack { seq: 1, id: 1, .. }]),
        "no echo, one ACK"
    );
    assert_eq!(msg_ids(&k.recv(bob)), [("ada".to_string(), 1)]);
}

#[test]
fn one_turn_of_many_senders_reaches_each_member_in_id_order_without_echo() {
    let mut k = Kit::new(&["--rate", "0"]);
    let names = ["a", "b", "c"];
    let peers: Vec<PeerId> = names.iter().map(|n| k.member(n, "r")).collect();
    let watcher = k.member("w", "r");
    peers.iter().for_each(|&p| drop(k.recv(p)));
    for round in 0..3u32 {
        for (i, &p) in peers.iter().enumerate() {
            k.send(p, say("r", round + 1, &format!("{} {round}", names[i])));
        }
    }
    k.turn();
    let all = msg_ids(&k.recv(watcher));
    assert_eq!(all.iter().map(|m| m.1).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    for (i, &p) in peers.iter().enumerate() {
        let got = k.recv(p);
        let mine: Vec<_> = all.iter().filter(|m| m.0 != names[i]).cloned().collect();
        assert_eq!(msg_ids(&got), mine, "{} sees the others' in order", names[i]);
        let acks: Vec<u32> = got
            .iter()
            .filter_map(|f| if let ServerFrame::Ack { seq, .. } = f { Some(*seq) } else { None })
            .collect();
        assert_eq!(acks, [1, 2, 3], "ACKs in seq order after the MSGs");
    }
}

#[test]
fn rate_limit_refuses_beyond_the_burst_and_refills_with_time() {
    let mut k = Kit::new(&["--rate", "2"]);
    let p = k.member("ada", "r");
    for seq in 1..=6 {
        k.send(p, say("r", seq, "x"));
    }
    k.turn();
    let got = k.recv(p);
    let acks = got.iter().filter(|f| matches!(f, ServerFrame::Ack { .. })).count();
    let limited = got.iter().filter(|f| matches!(f, ServerFrame::Error { code: 15, .. })).count();
    assert_eq!((acks, limited), (4, 2), "a burst of twice the rate");
    k.advance(500);
    k.send(p, say("r", 7, "x"));
    k.turn();
    assert!(
        matches!(&k.recv(p)[..], [ServerFrame::Ack { seq: 7, .. }]),
        "one token per 500 ms at 2/s"
    );
}

#[test]
fn acks_wait_for_the_store_and_a_refused_batch_is_never_heard_of() {
    let (gate, stored, fail) = Gate::new();
    let mut k = Kit::with_store(&[], Box::new(gate));
    let ada = k.member("ada", "r");
    let bob = k.member("bob", "r");
    k.recv(ada);
    fail.set(true);
    k.send(ada, say("r", 1, "lost"));
    k.send(ada, say("r", 2, "lost too"));
    k.turn();
    let got = k.recv(ada);
    let refused: Vec<_> =
        got.iter().filter(|f| matches!(f, ServerFrame::Error { code: 22, .. })).collect();
    assert_eq!(refused.len(), 2, "{got:?}");
    assert!(k.recv(bob).is_empty(), "no MSG of a refused batch");
    fail.set(false);
    k.send(ada, say("r", 3, "kept"));
    assert!(stored.borrow().is_empty() && k.recv(ada).is_empty(), "nothing before the commit");
    k.turn();
    assert_eq!(
        stored.borrow().iter().map(|m| m.id).collect::<Vec<_>>(),
        [1],
        "ids handed out again"
    );
    assert!(matches!(&k.recv(ada)[..], [ServerFrame::Ack { seq: 3, id: 1, .. }]));
    assert_eq!(msg_ids(&k.recv(bob)), [("ada".to_string(), 1)]);
}

#[test]
fn a_repeated_seq_is_answered_with_the_original_ack() {
    let mut k = Kit::new(&[]);
    let ada = k.member("ada", "r");
    let bob = k.member("bob", "r");
    k.recv(ada);
    k.send(ada, say("r", 5, "once"));
    k.send(ada, say("r", 5, "once")); // the same SAY twice in one write
    k.turn();
    let acks = k.recv(ada);
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0], acks[1]);
    k.send(ada, say("elsewhere", 5, "ignored"));
    k.turn();
    assert_eq!(k.recv(ada), [acks[0].clone()], "remembered, room and text ignored");
    assert_eq!(msg_ids(&k.recv(bob)).len(), 1, "stored and sent once");
    let err = k.recv(bob);
    assert!(err.is_empty());
    let _ = ErrorCode::Storage;
}

/// Fills `room` (joined by `p`) with SAYs `seqs` of `size` bytes.
fn fill(k: &mut Kit, p: PeerId, room: &str, seqs: std::ops::RangeInclusive<u32>, size: usize) {
    let text = "h".repeat(size);
    for seq in seqs {
        k.send(p, say(room, seq, &text));
        if seq % 100 == 0 {
            k.turn();
            k.recv(p);
        }
    }
    k.turn();
    k.recv(p);
}

#[test]
fn history_pages_asked_together_keep_to_half_the_limit_in_all() {
    let mut k = Kit::new(&["--rate", "0", "--out-limit", "1048576"]);
    let writer = k.login("writer");
    for (i, room) in ["a", "b", "c"].into_iter().enumerate() {
        k.send(writer, ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
        let first = 400 * i as u32 + 1;
        fill(&mut k, writer, room, first..=first + 399, 2000);
    }
    // What `banter` sends after a reconnect: one write, three replays.
    let reader = k.login("reader");
    let mut bytes = Vec::new();
    for room in ["a", "b", "c"] {
        ClientFrame::Join { room: room.into(), since: 0, limit: 1000 }.encode(&mut bytes);
    }
    k.send_raw(reader, &bytes);
    assert!(!k.core.peer(reader).unwrap().is_closing(), "not a slow consumer");
    let owed = k.core.peer(reader).unwrap().backlog();
    assert!(owed <= 1048576 / 2 + 4096, "{owed} bytes queued");
    let ends: Vec<(u16, u8)> = k
        .recv(reader)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::HistoryEnd { count, more, .. } => Some((count, more)),
            _ => None,
        })
        .collect();
    assert_eq!(ends.len(), 3);
    assert!(ends[0].0 > 100 && ends[0].1 == 1, "{ends:?}");
    assert_eq!(&ends[1..], [(1, 1), (1, 1)], "at least one message each, and more = 1");
}

#[test]
fn a_slow_consumer_costs_no_more_than_its_output_limit() {
    // Not a power of two: a buffer that doubles would overshoot it most.
    let limit = 600_000;
    let args = ["--rate", "0", "--join-rate", "0", "--out-limit", "600000"];
    let mut k = Kit::new(&args);
    let slow = k.member("slow", "r");
    let talkers: Vec<(PeerId, String)> = (0..4)
        .map(|i| {
            let name = format!("talker{i}{}", "x".repeat(24));
            (k.member(&name, "r"), name)
        })
        .collect();
    let mut peak = 0;
    for round in 0..20_000u32 {
        // PRESENCE and TYPING are copied into the slow peer's own buffers.
        for (t, _) in &talkers {
            k.send(*t, ClientFrame::Leave { room: "r".into() });
            k.send(*t, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
            k.send(*t, ClientFrame::Typing { room: "r".into(), active: 1 });
        }
        if round % 50 == 0 {
            k.send(talkers[0].0, say("r", round + 1, &"m".repeat(3000)));
        }
        k.turn();
        talkers.iter().for_each(|(t, _)| drop(k.recv(*t)));
        let peer = k.core.peer(slow).expect("still there until reaped");
        if peer.is_closing() {
            break;
        }
        peak = peak.max(peer.out.footprint());
    }
    assert!(k.core.peer(slow).unwrap().is_closing(), "dropped in the end");
    assert!(peak <= limit + 64 * 1024, "peak footprint {peak} against a limit of {limit}");
}

#[test]
fn a_large_rooms_fan_out_is_flushed_in_rounds_after_small_rooms() {
    let args =
        ["--max-per-ip", "0", "--conn-rate", "0", "--max-clients", "2000", "--join-rate", "0"];
    let mut k = Kit::new(&args);
    let crowd: Vec<PeerId> = (0..700u32)
        .map(|i| k.member_from(&format!("m{i}"), "big", [10, 2, (i / 200) as u8, (i % 200) as u8]))
        .collect();
    let (ada, bob) = (k.member("ada", "small"), k.member("bob", "small"));
    let mut drain = Vec::new();
    k.core.take_dirty(&mut drain);
    while k.core.owes_flush() {
        k.core.take_dirty(&mut drain);
    }
    crowd.iter().for_each(|&p| drop(k.recv(p)));
    k.recv(ada);
    // A storm in the big room and a message in the small one, one turn.
    let joiner = k.login("joiner");
    k.send(joiner, ClientFrame::Join { room: "big".into(), since: 0, limit: 0 });
    k.send(bob, say("small", 1, "hi"));
    k.turn();
    let mut first = Vec::new();
    k.core.take_dirty(&mut first);
    let ada_at = first.iter().position(|&p| p == ada).expect("ada flushed in this turn");
    let bulk = first.iter().filter(|p| crowd.contains(p)).count();
    assert!(first[..ada_at].iter().all(|p| !crowd.contains(p)), "small rooms first");
    assert_eq!(bulk, 512, "a round of the big room");
    assert!(k.core.owes_flush());
    let mut second = Vec::new();
    k.core.take_dirty(&mut second);
    assert_eq!(second.iter().filter(|p| crowd.contains(p)).count(), 700 - 512);
    assert!(!k.core.owes_flush());
    assert!(k.recv(crowd[699]).iter().any(|f| matches!(f, ServerFrame::Presence { .. })));
}
