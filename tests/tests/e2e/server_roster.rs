//! ROSTER splitting (spec §1 and §4 "Rooms"): with a small `--max-frame` and
//! many long member names, the server splits ROSTER so that no frame's `len`
//! exceeds `max_frame`, marks every frame but the last `more = 1`, and lists
//! every member exactly once, in join order (proto/PROTOCOL.md), with as
//! many names per frame as fit.
//!
//! Only the splitting is checked here; JOIN's other frames are in
//! `server_rooms`.

use crate::server_util::*;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::*;

/// Members in the room: enough for three ROSTER frames at 1 024 bytes.
const MEMBERS: usize = 70;
/// The frame limit under test.
const MAX_FRAME: usize = 1024;

/// A 32-byte name, unique per `i`.
fn long_name(i: usize) -> String {
    format!("member{i:03}{}", "x".repeat(23))
}

/// Checks one run of ROSTER frames against the full member list.
fn check_split(rosters: &[ServerFrame], members: &[String]) {
    assert!(rosters.len() >= 3, "{} ROSTER frames", rosters.len());
    let mut listed = 0;
    for (i, f) in rosters.iter().enumerate() {
        let ServerFrame::Roster { more, names, .. } = f else {
            panic!("expected ROSTER, got {f:?}");
        };
        let len = f.to_bytes().len() - 4;
        assert!(len <= MAX_FRAME, "ROSTER {i} has len {len} > {MAX_FRAME}");
        let last = i + 1 == rosters.len();
        assert_eq!(*more, u8::from(!last), "ROSTER {i} of {}", rosters.len());
        assert!(!names.is_empty(), "ROSTER {i} is empty");
        listed += names.len();
        if let Some(next) = members.get(listed).filter(|_| !last) {
            assert!(len + 2 + next.len() > MAX_FRAME, "ROSTER {i} (len {len}) had room for {next}");
        }
    }
    assert_eq!(roster_names(rosters), members, "every member once, in order");
}

#[test]
fn roster_is_split_to_fit_max_frame() {
    // 70 connections from 127.0.0.1, one after the other.
    let s = Server::start(&[
        "--max-frame",
        "1024",
        "--max-text",
        "800",
        "--max-per-ip",
        "0",
        "--conn-rate",
        "0",
    ]);
    let names: Vec<String> = (0..MEMBERS).map(long_name).collect();
    let mut conns = Vec::new();
    // Joined one after the other, so the join order is known; each answer
    // lists the members so far.
    for (i, name) in names.iter().enumerate() {
        let mut c = s.login(name);
        let a = join(&mut c, "big", "big", 0, 0);
        let ServerFrame::Joined { members, .. } = a.joined else { unreachable!() };
        assert_eq!(members as usize, i + 1);
        assert_eq!(a.names(), names[..i + 1].to_vec());
        conns.push(c);
    }
    let last = conns.last_mut().expect("members");
    last.send(&join_f("big", 0, 0));
    let a = read_join(last, "big", 0);
    assert!(matches!(a.joined, ServerFrame::Joined { members: 70, .. }));
    check_split(&a.rosters, &names);
    let first = conns.first_mut().expect("members");
    first.send(&ClientFrame::Who { room: "big".into() });
    // The first member first reads the PRESENCE of all the others.
    for name in &names[1..] {
        assert_eq!(first.recv_app(), presence("big", name, JOINED_EV));
    }
    check_split(&read_rosters(first, "big"), &names);
}
