//! Exactly once across a crash, in-process: sessions saved with the
//! messages (a [`Gate`] store and its [`Gate::restart`]), resumed after the
//! restart with their ACK memory and rooms, names reserved meanwhile.

use super::*;

/// ACKs among `frames` as (seq, id).
fn acks(frames: &[ServerFrame]) -> Vec<(u32, u64)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Ack { seq, id, .. } => Some((*seq, *id)),
            _ => None,
        })
        .collect()
}

/// A run of the server over `gate` in which ada joins r and says 1..=3;
/// returns ada's token.
fn first_run(gate: Gate) -> u64 {
    let mut k = Kit::with_store(&["--linger-ms", "10000"], Box::new(gate));
    let p = k.connect();
    k.send(p, hello("ada", "", 0));
    let token = token_of(&k.recv(p)[0]);
    k.send(p, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    for seq in 1..=3 {
        k.send(p, say("r", seq, &format!("m{seq}")));
    }
    k.turn();
    assert_eq!(acks(&k.recv(p)), [(1, 1), (2, 2), (3, 3)]);
    token // then kill -9: the Kit is dropped without a shutdown
}

#[test]
fn a_resume_after_a_crash_gets_the_original_acks_and_stores_nothing_twice() {
    let (gate, stored, _) = Gate::new();
    let again = gate.restart();
    let token = first_run(gate);
    let mut k = Kit::with_store(&["--linger-ms", "10000"], Box::new(again));
    let p = k.connect();
    k.send(p, hello("ada", "", token));
    let got = k.recv(p);
    assert!(matches!(got[0], ServerFrame::Welcome { resumed: 1, .. }), "{got:?}");
    // Still in r: the resent SAYs are answered from the saved ACK memory.
    for seq in 1..=4 {
        k.send(p, say("r", seq, &format!("m{seq}")));
    }
    k.turn();
    assert_eq!(acks(&k.recv(p)), [(1, 1), (2, 2), (3, 3), (4, 4)]);
    let ids: Vec<u64> = stored.borrow().iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 2, 3, 4], "each message stored once");
    let bob = k.member("bob", "r");
    k.send(bob, ClientFrame::Who { room: "r".into() });
    let roster = k.recv(bob);
    assert!(
        matches!(&roster[0], ServerFrame::Roster { names, .. } if names == &["ada", "bob"]),
        "{roster:?}"
    );
}

#[test]
fn a_hello_without_the_token_takes_the_name_afresh_and_the_saved_session_goes() {
    let (gate, stored, _) = Gate::new();
    let run2 = gate.restart();
    let run3 = run2.restart();
    let token = first_run(gate);
    let mut k = Kit::with_store(&["--linger-ms", "10000"], Box::new(run2));
    let guess = k.connect();
    k.send(guess, hello("ada", "", 12345));
    let got = k.recv(guess);
    assert!(matches!(got[0], ServerFrame::Welcome { resumed: 0, .. }), "a new session: {got:?}");
    k.send(guess, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    k.send(guess, say("r", 1, "not a repeat"));
    k.turn();
    assert_eq!(acks(&k.recv(guess)), [(1, 4)], "no ACK memory of the old session");
    drop(k);
    // The old token resumes nothing in the next run either: replaced.
    let mut k = Kit::with_store(&["--linger-ms", "10000"], Box::new(run3));
    let p = k.connect();
    k.send(p, hello("ada", "", token));
    assert!(matches!(k.recv(p)[0], ServerFrame::Welcome { resumed: 0, .. }));
    assert_eq!(stored.borrow().len(), 4);
}

#[test]
fn a_session_that_quit_or_started_anew_is_not_resumed_with_old_acks() {
    let (gate, stored, _) = Gate::new();
    let run2 = gate.restart();
    let run3 = run2.restart();
    let token = first_run(gate);
    // Run 2: ada quits; her saved session goes with it.
    let mut k = Kit::with_store(&["--linger-ms", "10000"], Box::new(run2));
    let p = k.connect();
    k.send(p, hello("ada", "", token));
    k.recv(p);
    k.send(p, ClientFrame::Quit { reason: String::new() });
    k.turn();
    // A new session for the name: seq 1 is a new message.
    let q = k.connect();
    k.send(q, hello("ada", "", 0));
    let fresh = token_of(&k.recv(q)[0]);
    k.send(q, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    k.send(q, say("r", 1, "new"));
    k.turn();
    assert_eq!(acks(&k.recv(q)), [(1, 4)]);
    drop(k);
    // Run 3: the new token resumes the new session (the old one is void).
    let mut k = Kit::with_store(&["--linger-ms", "10000"], Box::new(run3));
    let p = k.connect();
    k.send(p, hello("ada", "", fresh));
    k.recv(p);
    k.send(p, say("r", 1, "new"));
    k.send(p, say("r", 2, "m2"));
    k.turn();
    assert_eq!(acks(&k.recv(p)), [(1, 4), (2, 5)]);
    assert_eq!(stored.borrow().len(), 5);
}
