//! Direct conversations, read markers and delivery receipts (§8–§9), in
//! process with made-up time.

use super::*;
use banter_proto::{ErrorCode, FLAG_ACTION, FLAG_REPLAY};

fn say_dm(k: &mut Kit, p: PeerId, to: &str, seq: u32, text: &str) {
    k.send(p, say(to, seq, text));
}

fn code(f: &ServerFrame) -> Option<ErrorCode> {
    if let ServerFrame::Error { code, .. } = f {
        return ErrorCode::from_code(*code);
    }
    None
}

#[test]
fn accounts_talk_without_joining_each_named_from_its_side() {
    let mut k = Kit::new(&[]);
    let ada = k.account("Ada");
    let bob = k.account("bob");
    say_dm(&mut k, ada, "@BOB", 1, "hi bob");
    k.turn();
    assert!(
        matches!(&k.recv(ada)[..], [ServerFrame::Ack { seq: 1, room, id: 1, .. }] if room == "@bob")
    );
    match &k.recv(bob)[..] {
        [ServerFrame::Msg { room, from, text, id: 1, flags: 0, .. }] => {
            assert_eq!((room.as_str(), from.as_str(), text.as_str()), ("@ada", "Ada", "hi bob"));
        }
        other => panic!("{other:?}"),
    }
    k.send(bob, ClientFrame::Who { room: "@ada".into() });
    assert!(
        matches!(&k.recv(bob)[..], [ServerFrame::Roster { room, names, .. }] if room == "@ada" && names == &["Ada", "bob"])
    );
}

#[test]
fn guests_strangers_and_oneself_are_refused() {
    let mut k = Kit::new(&[]);
    let ada = k.account("ada");
    let guest = k.login("guest");
    say_dm(&mut k, guest, "@ada", 1, "hello?");
    let got = k.recv(guest);
    assert!(matches!(&got[..], [ServerFrame::Error { code: 20, seq: 1, about: 4, .. }]), "{got:?}");
    assert!(k.core.peer(guest).is_some_and(|x| !x.is_closing()), "AUTH_REQUIRED is not fatal here");
    say_dm(&mut k, ada, "@guest", 2, "a guest has no account");
    say_dm(&mut k, ada, "@nobody", 3, "x");
    say_dm(&mut k, ada, "@not a name", 4, "x");
    say_dm(&mut k, ada, "@ADA", 5, "me");
    let codes: Vec<_> = k.recv(ada).iter().map(code).collect();
    use ErrorCode::*;
    assert_eq!(codes, [Some(NoSuchUser), Some(NoSuchUser), Some(NoSuchUser), Some(RoomInvalid)]);
}

#[test]
fn a_third_party_reaches_its_own_conversation_only() {
    let mut k = Kit::new(&[]);
    let ada = k.account("ada");
    let bob = k.account("bob");
    let eve = k.account("eve");
    say_dm(&mut k, ada, "@bob", 1, "secret");
    k.turn();
    k.recv(bob);
    k.recv(ada);
    assert!(k.recv(eve).is_empty(), "eve hears nothing");
    k.send(eve, ClientFrame::Join { room: "@bob".into(), since: 0, limit: 50 });
    let got = k.recv(eve);
    assert!(
        matches!(&got[0], ServerFrame::Joined { room, last_id: 0, members: 2, .. } if room == "@bob"),
        "{got:?}"
    );
    assert!(
        got.iter().all(|f| !matches!(f, ServerFrame::Msg { .. })),
        "eve's own, empty conversation"
    );
    k.send(eve, ClientFrame::History { room: "@ada".into(), before: 0, limit: 50 });
    assert!(k.recv(eve).iter().all(|f| !matches!(f, ServerFrame::Msg { .. })));
    assert!(k.recv(ada).is_empty());
}

#[test]
fn unread_after_welcome_then_replay_delivers_and_mark_reads() {
    let mut k = Kit::new(&[]);
    let ada = k.account("ada");
    k.core.store.create_account("bob", "Bob", "$argon2id$stored").unwrap();
    for seq in 1..=3 {
        say_dm(&mut k, ada, "@bob", seq, "while you were away");
    }
    k.turn();
    k.recv(ada);
    let bob = k.connect();
    k.send(bob, hello("Bob", "pw", 0));
    k.answer_auth(AuthOutcome::Verified(true));
    let got = k.recv(bob);
    assert!(matches!(&got[0], ServerFrame::Welcome { .. }));
    assert_eq!(
        got[1],
        ServerFrame::Unread { room: "@ada".into(), count: 3, last_id: 3, read: 0 },
        "right after WELCOME"
    );
    k.send(bob, ClientFrame::Join { room: "@ada".into(), since: 0, limit: 100 });
    let replay: Vec<_> =
        k.recv(bob).into_iter().filter(|f| matches!(f, ServerFrame::Msg { .. })).collect();
    assert_eq!(replay.len(), 3);
    assert_eq!(
        k.recv(ada),
        [ServerFrame::Delivered { room: "@bob".into(), id: 3 }],
        "handed over in a replay"
    );
    k.send(bob, ClientFrame::Mark { room: "@ada".into(), id: 99 }); // above last_id: taken as 3
    assert!(k.recv(bob).is_empty(), "MARK has no answer");
    assert_eq!(k.recv(ada), [ServerFrame::Read { room: "@bob".into(), name: "Bob".into(), id: 3 }]);
    k.send(bob, ClientFrame::Mark { room: "@ada".into(), id: 1 }); // never backwards
    k.advance(2000);
    assert!(k.recv(ada).is_empty());
    // Signed in again: everything is read, so no UNREAD.
    k.send(bob, ClientFrame::Quit { reason: String::new() });
    let again = k.connect();
    k.send(again, hello("bob", "pw", 0));
    k.answer_auth(AuthOutcome::Verified(true));
    assert!(k.recv(again).iter().all(|f| !matches!(f, ServerFrame::Unread { .. })));
}

#[test]
fn receipts_are_coalesced_to_one_a_second_with_the_latest_value() {
    let mut k = Kit::new(&["--rate", "0"]);
    let ada = k.account("ada");
    let bob = k.account("bob");
    for seq in 1..=5 {
        say_dm(&mut k, ada, "@bob", seq, "m");
        k.turn();
        k.recv(bob); // each one handed to bob's connection at once
    }
    let got = k.recv(ada);
    let delivered: Vec<_> =
        got.iter().filter(|f| matches!(f, ServerFrame::Delivered { .. })).collect();
    assert_eq!(
        delivered,
        [&ServerFrame::Delivered { room: "@bob".into(), id: 1 }],
        "one per second"
    );
    for id in 2..=5 {
        k.send(bob, ClientFrame::Mark { room: "@ada".into(), id });
    }
    assert_eq!(k.recv(ada), [ServerFrame::Read { room: "@bob".into(), name: "bob".into(), id: 2 }]);
    k.advance(1_000);
    let later = k.recv(ada);
    assert!(later.contains(&ServerFrame::Delivered { room: "@bob".into(), id: 5 }), "{later:?}");
    assert!(
        later.contains(&ServerFrame::Read { room: "@bob".into(), name: "bob".into(), id: 5 }),
        "{later:?}"
    );
    k.advance(1_000);
    assert!(k.recv(ada).is_empty(), "nothing new, nothing sent");
}

#[test]
fn read_goes_to_rooms_of_at_most_100_members() {
    let args =
        ["--max-clients", "200", "--max-per-ip", "0", "--conn-rate", "0", "--join-rate", "0"];
    let mut k = Kit::new(&args);
    let ada = k.member("ada", "small");
    let bob = k.member("bob", "small");
    k.recv(ada);
    k.send(bob, say("small", 1, "hi"));
    k.turn();
    k.recv(ada);
    k.recv(bob);
    k.send(ada, ClientFrame::Mark { room: "small".into(), id: 1 });
    assert_eq!(
        k.recv(bob),
        [ServerFrame::Read { room: "small".into(), name: "ada".into(), id: 1 }]
    );
    k.send(ada, ClientFrame::Join { room: "small".into(), since: 0, limit: 0 });
    assert!(
        matches!(&k.recv(ada)[0], ServerFrame::Joined { read: 1, .. }),
        "JOINED.read returns the marker"
    );
    let big: Vec<PeerId> = (0..101).map(|i| k.member(&format!("m{i}"), "big")).collect();
    big.iter().for_each(|&p| drop(k.recv(p)));
    k.send(big[0], say("big", 1, "hi all"));
    k.turn();
    k.send(big[1], ClientFrame::Mark { room: "big".into(), id: 1 });
    k.advance(1_000);
    assert!(
        k.recv(big[0]).iter().all(|f| !matches!(f, ServerFrame::Read { .. })),
        "no READ in a room of 101"
    );
    k.send(bob, ClientFrame::Mark { room: "nowhere".into(), id: 1 });
    assert_eq!(code(&k.recv(bob)[0]), Some(ErrorCode::NotInRoom));
}

#[test]
fn actions_keep_their_flag_live_and_replayed() {
    let mut k = Kit::new(&[]);
    let ada = k.member("ada", "r");
    let bob = k.member("bob", "r");
    k.recv(ada);
    k.send(
        ada,
        ClientFrame::Say {
            room: "r".into(),
            seq: 1,
            text: "waves".into(),
            flags: FLAG_ACTION | 0x81,
        },
    );
    k.turn();
    assert!(
        matches!(&k.recv(bob)[..], [ServerFrame::Msg { flags, .. }] if *flags == FLAG_ACTION),
        "other bits cleared"
    );
    k.send(bob, ClientFrame::History { room: "r".into(), before: 0, limit: 10 });
    assert!(
        matches!(&k.recv(bob)[0], ServerFrame::Msg { flags, .. } if *flags == FLAG_ACTION | FLAG_REPLAY)
    );
}
