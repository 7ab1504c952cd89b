//! Admission control with made-up time: connections per address and per
//! second, frame budgets that follow the session and its address, and the
//! bound on lingering sessions.

use super::*;
use banter_proto::{types, ErrorCode, PresenceEvent};

/// The ERRORs among `frames`, as (code, about).
fn errors(frames: &[ServerFrame]) -> Vec<(u16, u8)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error { code, about, .. } => Some((*code, *about)),
            _ => None,
        })
        .collect()
}

const LIMITED: u16 = ErrorCode::RateLimited as u16;

#[test]
fn max_per_ip_counts_open_connections_of_one_address() {
    let mut k = Kit::new(&["--max-per-ip", "2", "--conn-rate", "0"]);
    let a = k.login_from("a", [10, 0, 0, 1]);
    let _b = k.connect_from([10, 0, 0, 1]);
    let c = k.connect_from([10, 0, 0, 1]);
    assert!(closed_with(&mut k, c, ErrorCode::ServerFull));
    assert!(!k.core.peer(a).unwrap().is_closing());
    let other = k.login_from("o", [10, 0, 0, 2]);
    assert!(!k.core.peer(other).unwrap().is_closing(), "another address is not affected");
    // A closing connection no longer counts.
    k.send(a, ClientFrame::Quit { reason: String::new() });
    let d = k.login_from("d", [10, 0, 0, 1]);
    assert!(!k.core.peer(d).unwrap().is_closing());
}

#[test]
fn conn_rate_refuses_a_burst_then_refills() {
    let mut k = Kit::new(&["--conn-rate", "5", "--max-per-ip", "0"]);
    let peers: Vec<PeerId> = (0..12).map(|_| k.connect_from([10, 0, 0, 1])).collect();
    let refused = peers.iter().filter(|&&p| closed_with(&mut k, p, ErrorCode::ServerFull)).count();
    assert_eq!(refused, 2, "a burst of twice the rate");
    let q = k.connect_from([10, 0, 0, 9]);
    assert!(!k.core.peer(q).unwrap().is_closing(), "per address");
    k.advance(200);
    let p = k.connect_from([10, 0, 0, 1]);
    assert!(!closed_with(&mut k, p, ErrorCode::ServerFull), "one per 200 ms at 5/s");
}

#[test]
fn the_say_budget_follows_the_session_across_a_resume() {
    let mut k = Kit::new(&["--rate", "2"]);
    let a = k.connect();
    k.send(a, hello("ada", "", 0));
    let token = token_of(&k.recv(a)[0]);
    k.send(a, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    for seq in 1..=4 {
        k.send(a, say("r", seq, "x"));
    }
    k.core.peer_closed(a);
    k.turn();
    let b = k.connect();
    k.send(b, hello("ada", "", token));
    k.recv(b);
    k.send(b, say("r", 5, "x"));
    k.turn();
    assert_eq!(errors(&k.recv(b)), [(LIMITED, types::SAY)], "the bucket came along");
}

#[test]
fn new_sessions_from_one_address_share_its_budget() {
    let mut k = Kit::new(&["--rate", "1"]);
    let mut acked = 0;
    for i in 0..10 {
        let p = k.member(&format!("u{i}"), "r");
        for seq in 1..=3 {
            k.send(p, say("r", seq, "x"));
        }
        k.turn();
        acked += k.recv(p).iter().filter(|f| matches!(f, ServerFrame::Ack { .. })).count();
        k.send(p, ClientFrame::Quit { reason: String::new() });
    }
    assert_eq!(acked, 8, "the address's burst: 4 x 2");
    let other = k.login_from("elsewhere", [10, 9, 9, 9]);
    k.send(other, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    k.send(other, say("r", 1, "x"));
    k.turn();
    assert!(k.recv(other).iter().any(|f| matches!(f, ServerFrame::Ack { .. })));
}

#[test]
fn join_leave_who_history_and_register_have_budgets() {
    let mut k = Kit::new(&["--join-rate", "1", "--query-rate", "1"]);
    let p = k.login("ada");
    for i in 0..60 {
        k.send(p, ClientFrame::Join { room: format!("r{i}"), since: 0, limit: 0 });
        k.send(p, ClientFrame::Leave { room: format!("r{i}") });
    }
    let got = k.recv(p);
    let joined = got.iter().filter(|f| matches!(f, ServerFrame::Joined { .. })).count();
    let left = got.iter().filter(|f| matches!(f, ServerFrame::Left { .. })).count();
    assert_eq!(joined + left, 102, "100 + twice the rate");
    let refused = errors(&got);
    assert_eq!(refused.len(), 18);
    assert!(refused.iter().all(|&(c, a)| c == LIMITED && [types::JOIN, types::LEAVE].contains(&a)));
    k.send(p, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    assert_eq!(errors(&k.recv(p)), [(LIMITED, types::JOIN)]);
    k.advance(1000);
    k.send(p, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    assert!(errors(&k.recv(p)).is_empty(), "refilled");
    for _ in 0..3 {
        k.send(p, ClientFrame::Who { room: "r".into() });
        k.send(p, ClientFrame::History { room: "r".into(), before: 0, limit: 5 });
    }
    let got = k.recv(p);
    assert_eq!(errors(&got), [(LIMITED, types::WHO), (LIMITED, types::HISTORY)].repeat(2));
    k.send(p, ClientFrame::Register { password: "x".into() }); // too short: costs nothing
    for _ in 0..4 {
        k.send(p, ClientFrame::Register { password: "long enough".into() });
        k.answer_auth(crate::auth::AuthOutcome::Hashed(Err("no".into())));
    }
    let got = errors(&k.recv(p));
    let limited = got.iter().filter(|e| e.0 == LIMITED).count();
    assert_eq!((got.len(), limited), (5, 1), "weak, 3 answered, 1 over the burst: {got:?}");
    assert!(!k.core.peer(p).unwrap().is_closing(), "never fatal");
}

#[test]
fn lingering_sessions_are_bounded_per_address_oldest_first() {
    let mut k = Kit::new(&["--max-per-ip", "3", "--conn-rate", "0", "--heartbeat-ms", "60000"]);
    let watcher = k.member_from("w", "r", [10, 0, 0, 9]);
    for i in 0..5 {
        let p = k.member(&format!("g{i}"), "r");
        k.core.peer_closed(p);
        k.turn();
    }
    let lost: Vec<String> = k
        .recv_app(watcher)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Presence { name, event, .. } if event == PresenceEvent::Lost as u8 => {
                Some(name)
            }
            _ => None,
        })
        .collect();
    assert_eq!(lost, ["g0", "g1"], "the two oldest went at once");
    assert_eq!(k.core.lingering.live, 3);
    assert_eq!(k.core.names.len(), 4, "the watcher and three lingering");
}

#[test]
fn lingering_sessions_are_bounded_in_all() {
    let mut k = Kit::new(&["--max-lingering", "2", "--max-per-ip", "0", "--conn-rate", "0"]);
    for i in 0..6u8 {
        let p = k.login_from(&format!("g{i}"), [10, 0, 0, i]);
        k.core.peer_closed(p);
        k.turn();
    }
    assert_eq!(k.core.lingering.live, 2);
    let left: Vec<&str> = k.core.names.keys().map(|n| &**n).collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"g4") && left.contains(&"g5"), "the newest stay: {left:?}");
}

#[test]
fn a_frame_trickled_slower_than_min_rate_is_dropped() {
    let mut k = Kit::new(&["--heartbeat-ms", "1000", "--min-rate", "100"]);
    let slow = k.login("slow");
    let honest = k.login("honest");
    let frame = say("r", 1, &"x".repeat(3000)).to_bytes();
    // A byte a second: always heard from, never done.
    for (i, b) in frame.iter().take(4).enumerate() {
        k.send_raw(slow, &[*b]);
        k.send(honest, ClientFrame::Ping { nonce: i as u64 });
        k.advance(1000);
        if k.core.peer(slow).unwrap().is_closing() {
            break;
        }
    }
    let got = k.recv(slow);
    assert_eq!(got.last().and_then(error_code), Some(ErrorCode::Timeout), "{got:?}");
    assert!(!k.core.peer(honest).unwrap().is_closing());
}

#[test]
fn a_big_frame_at_min_rate_is_fine_and_the_clock_restarts_per_frame() {
    let mut k = Kit::new(&["--heartbeat-ms", "1000", "--min-rate", "1000"]);
    let p = k.member("mobile", "r");
    // 3 000 bytes at 1 500 bytes/s, 150 at a time, two frames in a row.
    let mut bytes = say("r", 1, &"y".repeat(2990)).to_bytes();
    bytes.extend(say("r", 2, &"z".repeat(2990)).to_bytes());
    for chunk in bytes.chunks(150) {
        k.send_raw(p, chunk);
        k.advance(100);
    }
    let got = k.recv(p);
    let acks = got.iter().filter(|f| matches!(f, ServerFrame::Ack { .. })).count();
    assert_eq!(acks, 2, "{got:?}");
    assert!(!k.core.peer(p).unwrap().is_closing());
}

#[test]
fn joining_and_leaving_a_big_room_costs_what_its_presence_costs() {
    let args =
        ["--max-per-ip", "0", "--conn-rate", "0", "--max-clients", "2000", "--join-rate", "2"];
    let mut k = Kit::new(&args);
    for i in 0..999u32 {
        // Members from many addresses, so theirs are not the budgets spent.
        k.member_from(&format!("m{i}"), "big", [10, 1, (i / 200) as u8, (i % 200) as u8]);
    }
    let p = k.login_from("churner", [10, 9, 9, 9]);
    let mut answered = 0;
    for _ in 0..20 {
        k.send(p, ClientFrame::Join { room: "big".into(), since: 0, limit: 0 });
        k.send(p, ClientFrame::Leave { room: "big".into() });
        answered += k.recv(p).iter().filter(|f| matches!(f, ServerFrame::Left { .. })).count();
    }
    // A JOIN to 999 members costs 1 + 999/200 = 5 tokens, the LEAVE from
    // 1000 members 6: 9 pairs from 104 tokens.
    assert_eq!(answered, 9);
    // A JOIN of a room one is in costs one token, however big.
    let q = k.login_from("member", [10, 9, 9, 8]);
    k.send(q, ClientFrame::Join { room: "big".into(), since: 0, limit: 0 });
    let rejoins = (0..30)
        .filter(|_| {
            k.send(q, ClientFrame::Join { room: "big".into(), since: 0, limit: 0 });
            k.recv(q).iter().any(|f| matches!(f, ServerFrame::Joined { .. }))
        })
        .count();
    assert_eq!(rejoins, 30);
}
