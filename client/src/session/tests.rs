//! Unit tests of the session: numbering, dedupe, catch-up and resend.

use super::*;
use banter_proto::{ClientFrame, ServerFrame};

fn msg(room: &str, id: u64, from: &str, text: &str, replay: bool) -> ServerFrame {
    ServerFrame::Msg {
        file: None,
        room: room.into(),
        id,
        ts: 1,
        from: from.into(),
        flags: replay as u8,
        text: text.into(),
    }
}

fn welcomed() -> (Session, Vec<ClientFrame>) {
    let mut s = Session::new("ada");
    let mut out = vec![s.join("lobby")];
    s.on_welcome(&mut out);
    out.clear();
    s.handle(
        ServerFrame::Joined { read: 0, room: "lobby".into(), last_id: 0, members: 1 },
        &mut out,
    );
    (s, out)
}

#[test]
fn seqs_count_up_and_acks_clear_pending() {
    let (mut s, mut out) = welcomed();
    let (a, fa) = s.say("lobby", "one", 0).unwrap();
    let (b, _) = s.say("lobby", "two", 0).unwrap();
    assert_eq!((a, b), (1, 2));
    assert_eq!(
        fa,
        Some(ClientFrame::Say { flags: 0, room: "lobby".into(), seq: 1, text: "one".into() })
    );
    assert_eq!(s.unacked(), 2);
    let ack = ServerFrame::Ack { seq: 1, room: "lobby".into(), id: 7, ts: 9 };
    let ev = s.handle(ack.clone(), &mut out);
    assert_eq!(
        ev,
        vec![Event::Acked {
            seq: 1,
            room: "lobby".into(),
            id: 7,
            ts: 9,
            text: "one".into(),
            action: false
        }]
    );
    assert_eq!(s.handle(ack, &mut out), vec![], "a repeated ACK changes nothing");
    assert_eq!(s.unacked(), 1);
    assert_eq!(s.rooms["lobby"].last_id, 7);
    assert!(s.say("lobby", "", 0).is_err());
    assert!(s.say("lobby", "bad\u{1b}", 0).is_err());
}

#[test]
fn a_message_id_is_shown_once() {
    let (mut s, mut out) = welcomed();
    assert_eq!(s.handle(msg("lobby", 1, "bob", "hi", false), &mut out).len(), 1);
    assert_eq!(s.handle(msg("lobby", 1, "bob", "hi", true), &mut out), vec![]);
    assert_eq!(
        s.handle(msg("other", 1, "bob", "hi", false), &mut out).len(),
        1,
        "ids are per room"
    );
}

#[test]
fn reconnect_rejoins_since_last_id_and_resends_after_catch_up() {
    let (mut s, mut out) = welcomed();
    s.handle(msg("lobby", 4, "bob", "before", false), &mut out);
    s.token = 99;
    s.on_disconnect();
    let (seq, now) = s.say("lobby", "while away", 0).unwrap();
    assert!(now.is_none(), "offline: queued, not sent");
    let (seq2, _) = s.say("lobby", "stored but unacked", 0).unwrap();
    assert!(matches!(s.hello(), ClientFrame::Hello { resume: 99, .. }));
    out.clear();
    s.on_welcome(&mut out);
    assert_eq!(
        out,
        vec![ClientFrame::Join { room: "lobby".into(), since: 4, limit: CATCH_UP_LIMIT }]
    );
    out.clear();
    s.handle(
        ServerFrame::Joined { read: 0, room: "lobby".into(), last_id: 6, members: 2 },
        &mut out,
    );
    let ev = s.handle(msg("lobby", 5, "bob", "missed", true), &mut out);
    assert!(matches!(&ev[..], [Event::Msg { catch_up: true, replay: true, .. }]));
    let ev = s.handle(msg("lobby", 6, "ADA", "stored but unacked", true), &mut out);
    assert_eq!(
        ev,
        vec![Event::Acked {
            seq: seq2,
            room: "lobby".into(),
            id: 6,
            ts: 1,
            text: "stored but unacked".into(),
            action: false
        }]
    );
    assert!(out.is_empty(), "nothing resent before the replay ends");
    s.handle(ServerFrame::HistoryEnd { room: "lobby".into(), count: 2, more: 0 }, &mut out);
    assert_eq!(
        out,
        vec![ClientFrame::Say { flags: 0, room: "lobby".into(), seq, text: "while away".into() }]
    );
    let ev = s.handle(msg("lobby", 8, "bob", "live", false), &mut out);
    assert!(matches!(&ev[..], [Event::Msg { catch_up: false, .. }]));
}

#[test]
fn rate_limited_is_held_and_refused_is_failed_until_resent() {
    let (mut s, mut out) = welcomed();
    let (seq, _) = s.say("lobby", "x", 0).unwrap();
    let say = ClientFrame::Say { flags: 0, room: "lobby".into(), seq, text: "x".into() };
    let err = |code, detail: &str| ServerFrame::Error {
        code,
        about: banter_proto::types::SAY,
        seq,
        detail: detail.into(),
    };
    assert_eq!(s.handle(err(15, "slow"), &mut out), vec![Event::Throttled { seq }]);
    assert_eq!((s.unacked(), s.failed()), (1, 0), "rate-limited is still pending");
    assert_eq!(s.release_held(), vec![say.clone()]);
    assert_eq!(s.release_held(), vec![], "released once");
    let ev = s.handle(err(14, "bad"), &mut out);
    let failed = Event::SayFailed {
        seq,
        room: "lobby".into(),
        code: "TEXT_INVALID".into(),
        detail: "bad".into(),
    };
    assert_eq!(ev, vec![failed]);
    assert_eq!((s.unacked(), s.failed()), (0, 1));
    let (seqs, frames) = s.resend_failed();
    assert_eq!(seqs, vec![seq]);
    assert_eq!(frames, vec![say]);
    assert_eq!((s.unacked(), s.failed()), (1, 0));
}

#[test]
fn join_error_forgets_the_room_and_roster_is_collected() {
    let (mut s, mut out) = welcomed();
    s.join("r1");
    let err = ServerFrame::Error {
        code: 17,
        about: banter_proto::types::JOIN,
        seq: 0,
        detail: "too many".into(),
    };
    s.handle(err, &mut out);
    assert!(!s.rooms.contains_key("r1"));
    let r = |more, names: &[&str]| ServerFrame::Roster {
        room: "lobby".into(),
        more,
        names: names.iter().map(|n| n.to_string()).collect(),
    };
    assert_eq!(s.handle(r(1, &["a"]), &mut out), vec![]);
    let ev = s.handle(r(0, &["b"]), &mut out);
    assert_eq!(
        ev,
        vec![Event::Roster { room: "lobby".into(), names: vec!["a".into(), "b".into()] }]
    );
}

#[test]
fn a_room_whose_ids_restarted_is_replayed_from_zero() {
    let (mut s, mut out) = welcomed();
    s.handle(msg("lobby", 5, "bob", "old five", false), &mut out);
    s.on_disconnect();
    out.clear();
    s.on_welcome(&mut out);
    out.clear();
    let ev = s.handle(
        ServerFrame::Joined { read: 0, room: "lobby".into(), last_id: 2, members: 1 },
        &mut out,
    );
    assert!(matches!(&ev[..], [Event::Notice(_), Event::Joined { .. }]), "{ev:?}");
    assert_eq!(
        out,
        vec![ClientFrame::Join { room: "lobby".into(), since: 0, limit: CATCH_UP_LIMIT }]
    );
    assert_eq!(s.handle(msg("lobby", 2, "bob", "stale replay", true), &mut out), vec![]);
    assert_eq!(
        s.handle(ServerFrame::HistoryEnd { room: "lobby".into(), count: 1, more: 0 }, &mut out),
        vec![]
    );
    s.handle(
        ServerFrame::Joined { read: 0, room: "lobby".into(), last_id: 2, members: 1 },
        &mut out,
    );
    for (id, text) in [(1, "new one"), (2, "new two")] {
        let ev = s.handle(msg("lobby", id, "bob", text, true), &mut out);
        assert!(matches!(&ev[..], [Event::Msg { .. }]), "id {id} shown: {ev:?}");
    }
}

#[test]
fn actions_keep_their_flag_and_rate_limited_typing_is_silent() {
    let (mut s, mut out) = welcomed();
    let (seq, f) = s.say("lobby", "waves", banter_proto::FLAG_ACTION).unwrap();
    assert!(matches!(f, Some(ClientFrame::Say { flags: banter_proto::FLAG_ACTION, .. })));
    s.on_disconnect();
    s.on_welcome(&mut out);
    out.clear();
    s.handle(ServerFrame::HistoryEnd { room: "lobby".into(), count: 0, more: 0 }, &mut out);
    assert!(matches!(&out[..], [ClientFrame::Say { flags: banter_proto::FLAG_ACTION, .. }]));
    let ack = ServerFrame::Ack { seq, room: "lobby".into(), id: 3, ts: 1 };
    assert!(matches!(&s.handle(ack, &mut out)[..], [Event::Acked { action: true, .. }]));
    let typing = ServerFrame::Error {
        code: 15,
        about: banter_proto::types::TYPING,
        seq: 0,
        detail: "slow down".into(),
    };
    assert_eq!(s.handle(typing, &mut out), vec![]);
    let mut m = msg("lobby", 4, "bob", "waves", false);
    if let ServerFrame::Msg { flags, .. } = &mut m {
        *flags = banter_proto::FLAG_ACTION;
    }
    assert!(matches!(&s.handle(m, &mut out)[..], [Event::Msg { action: true, .. }]));
}

#[test]
fn a_room_that_showed_many_messages_keeps_little() {
    let (mut s, mut out) = welcomed();
    for id in 1..=100_000 {
        assert_eq!(s.handle(msg("lobby", id, "bob", "x", false), &mut out).len(), 1);
    }
    // History pages below, a catch-up that left a gap above.
    for id in (1..=100).rev() {
        s.handle(msg("lobby", 200_000 + id, "bob", "x", true), &mut out);
    }
    assert_eq!(s.handle(msg("lobby", 5, "bob", "x", true), &mut out), vec![], "still known");
    assert_eq!(s.rooms["lobby"].seen.ranges(), 2, "1..=100000 and the page above");
}

fn dm(room: &str, id: u64, from: &str, text: &str, replay: bool) -> ServerFrame {
    msg(room, id, from, text, replay)
}

#[test]
fn a_conversation_is_followed_from_its_first_message_and_receipts_only_move_forward() {
    let (mut s, mut out) = welcomed();
    s.password = "sesame-open".into();
    assert!(matches!(
        &s.handle(dm("@bob", 1, "bob", "hi", false), &mut out)[..],
        [Event::Msg { .. }]
    ));
    assert!(s.rooms.contains_key("@bob"), "no JOIN needed to receive");
    assert_eq!(s.handle(dm("@bob", 1, "bob", "hi", true), &mut out), vec![], "shown once");
    let delivered = |id| ServerFrame::Delivered { room: "@bob".into(), id };
    let read =
        |name: &str, room: &str, id| ServerFrame::Read { room: room.into(), name: name.into(), id };
    assert_eq!(
        s.handle(delivered(3), &mut out),
        vec![Event::Delivered { room: "@bob".into(), id: 3 }]
    );
    assert_eq!(s.handle(delivered(2), &mut out), vec![], "never back");
    assert_eq!(s.handle(read("eve", "@bob", 9), &mut out), vec![], "only the other party reads");
    assert_eq!(s.handle(read("bob", "lobby", 9), &mut out), vec![], "group rooms are not followed");
    let ev = s.handle(read("Bob", "@bob", 5), &mut out);
    assert_eq!(ev, vec![Event::Read { room: "@bob".into(), name: "Bob".into(), id: 5 }]);
    assert_eq!(s.rooms["@bob"].delivered, 5, "read implies delivered");
    assert_eq!(s.handle(read("bob", "@bob", 5), &mut out), vec![]);
    assert!(out.is_empty());
}

#[test]
fn unread_at_sign_in_catches_the_conversation_up_from_its_marker() {
    let (mut s, mut out) = welcomed();
    let unread =
        |room: &str| ServerFrame::Unread { room: room.into(), count: 2, last_id: 9, read: 7 };
    let ev = s.handle(unread("@carl"), &mut out);
    assert_eq!(ev, vec![Event::Unread { room: "@carl".into(), count: 2, last_id: 9, read: 7 }]);
    assert_eq!(
        out,
        vec![ClientFrame::Join { room: "@carl".into(), since: 7, limit: CATCH_UP_LIMIT }]
    );
    out.clear();
    s.handle(
        ServerFrame::Joined { read: 7, room: "@carl".into(), last_id: 9, members: 2 },
        &mut out,
    );
    let ev = s.handle(dm("@carl", 8, "carl", "while you were away", true), &mut out);
    assert!(matches!(&ev[..], [Event::Msg { catch_up: true, .. }]), "{ev:?}");
    s.handle(unread("lobby"), &mut out);
    s.handle(unread("@carl"), &mut out);
    assert!(out.is_empty(), "a room, or a conversation followed already: no JOIN");
}

#[test]
fn a_refused_join_names_its_room_and_a_dm_is_resent_after_its_catch_up() {
    let (mut s, mut out) = welcomed();
    s.join("@nobody");
    let err = ServerFrame::Error {
        code: 24,
        about: banter_proto::types::JOIN,
        seq: 0,
        detail: "no account named nobody".into(),
    };
    let ev = s.handle(err, &mut out);
    let want = Event::JoinFailed {
        room: "@nobody".into(),
        code: "NO_SUCH_USER".into(),
        detail: "no account named nobody".into(),
        forgotten: true,
    };
    assert_eq!(ev, vec![want]);
    assert!(!s.rooms.contains_key("@nobody"));
    s.join("@bob");
    s.on_disconnect();
    let (seq, now) = s.say("@bob", "queued", 0).unwrap();
    assert!(now.is_none());
    out.clear();
    s.on_welcome(&mut out);
    assert!(out.contains(&ClientFrame::Join {
        room: "@bob".into(),
        since: 0,
        limit: CATCH_UP_LIMIT
    }));
    out.clear();
    s.handle(ServerFrame::HistoryEnd { room: "@bob".into(), count: 0, more: 0 }, &mut out);
    let say = ClientFrame::Say { room: "@bob".into(), seq, text: "queued".into(), flags: 0 };
    assert_eq!(out, vec![say], "the original seq: the server de-duplicates a repeat");
    let mark_err = ServerFrame::Error {
        code: 13,
        about: banter_proto::types::MARK,
        seq: 0,
        detail: "x".into(),
    };
    assert_eq!(s.handle(mark_err, &mut out), vec![], "a MARK for a room just left is no news");
}
