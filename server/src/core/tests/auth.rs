//! The password-check queue with made-up time: one check per connection,
//! checks of closed connections dropped, addresses taking turns, and the
//! failure slowdown per name and per address making checks wait.

use super::*;
use crate::auth::AuthOutcome;
use banter_proto::{types, ErrorCode};

/// A Kit with `workers` hasher threads and `bob` registered.
fn kit(workers: &str) -> Kit {
    let mut k = Kit::new(&["--hash-workers", workers, "--max-per-ip", "0", "--conn-rate", "0"]);
    k.core.store.create_account("bob", "bob", "$argon2id$stored").unwrap();
    k
}

/// A peer from `ip` sending HELLO as `name` with a password.
fn hello_pw(k: &mut Kit, ip: [u8; 4], name: &str) -> PeerId {
    let p = k.connect_from(ip);
    k.send(p, hello(name, "a password", 0));
    p
}

/// The peer a ticket belongs to.
fn peer_of(ticket: u64) -> PeerId {
    (ticket & u64::from(u32::MAX)) as PeerId
}

#[test]
fn one_check_per_connection() {
    let mut k = kit("4");
    let p = k.login("ada");
    for _ in 0..3 {
        k.send(p, ClientFrame::Register { password: "long enough".into() });
    }
    let got = k.recv(p);
    assert_eq!(got.len(), 2, "{got:?}");
    for f in &got {
        assert!(matches!(f, ServerFrame::Error { code: 15, about: types::REGISTER, .. }), "{f:?}");
    }
    assert_eq!(k.take_auth().len(), 1);
}

#[test]
fn checks_of_closed_connections_never_run() {
    let mut k = kit("1");
    let a = hello_pw(&mut k, [10, 0, 0, 1], "bob");
    let gone: Vec<PeerId> = (0..5).map(|_| hello_pw(&mut k, [10, 0, 0, 1], "eve")).collect();
    let c = hello_pw(&mut k, [10, 0, 0, 1], "cy");
    gone.iter().for_each(|&p| k.core.peer_closed(p));
    let mut order = Vec::new();
    loop {
        let jobs = k.take_auth();
        if jobs.is_empty() {
            break;
        }
        for t in jobs {
            order.push(peer_of(t));
            k.core.auth_result(crate::auth::AuthResult {
                ticket: t,
                outcome: AuthOutcome::Verified(false),
            });
        }
    }
    assert_eq!(order, [a, c], "the closed ones were dropped");
}

#[test]
fn addresses_take_turns() {
    let mut k = kit("1");
    let flood: Vec<PeerId> =
        (0..10).map(|i| hello_pw(&mut k, [10, 0, 0, 1], &format!("f{i}"))).collect();
    let honest = hello_pw(&mut k, [10, 0, 0, 2], "bob");
    let first = k.take_auth();
    assert_eq!(first.len(), 1, "one thread, one job at a time");
    assert_eq!(peer_of(first[0]), flood[0]);
    k.core.auth_result(crate::auth::AuthResult {
        ticket: first[0],
        outcome: AuthOutcome::Verified(false),
    });
    let second = k.take_auth();
    assert_eq!(second.iter().map(|&t| peer_of(t)).collect::<Vec<_>>(), [honest], "not 10th");
}

#[test]
fn failures_slow_a_name_down_without_holding_a_thread() {
    let mut k = kit("2");
    for _ in 0..3 {
        let p = hello_pw(&mut k, [10, 0, 0, 1], "bob");
        k.answer_auth(AuthOutcome::Verified(false));
        assert!(closed_with(&mut k, p, ErrorCode::AuthFailed));
    }
    let slowed = hello_pw(&mut k, [10, 0, 0, 3], "bob");
    let other = hello_pw(&mut k, [10, 0, 0, 3], "ada");
    let now = k.take_auth();
    assert_eq!(now.iter().map(|&t| peer_of(t)).collect::<Vec<_>>(), [other], "bob waits");
    k.advance(499);
    assert!(k.take_auth().is_empty());
    k.advance(1);
    assert_eq!(k.take_auth().iter().map(|&t| peer_of(t)).collect::<Vec<_>>(), [slowed]);
    assert!(k.core.next_deadline().is_some());
}

#[test]
fn failures_from_one_address_slow_it_down_across_names() {
    let mut k = kit("4");
    for i in 0..10 {
        hello_pw(&mut k, [10, 0, 0, 1], &format!("guess{i}"));
        k.answer_auth(AuthOutcome::Verified(false));
    }
    hello_pw(&mut k, [10, 0, 0, 1], "fresh");
    hello_pw(&mut k, [10, 0, 0, 2], "elsewhere");
    assert_eq!(k.take_auth().len(), 1, "only the other address runs now");
    k.advance(500);
    assert_eq!(k.take_auth().len(), 1);
}
