//! History (spec §4 "History"): paging with `before` and `limit`, the `more`
//! flag, at least 10 000 messages kept in memory, and the caps on one answer
//! (at most 1 000 messages, at most half the output limit in bytes less
//! what is already queued, but at least one message), for HISTORY and for
//! a JOIN replay.
//!
//! The JOIN answer's order is in `server_rooms`.

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;

/// Sends `n` SAYs (seq and text from `first`) in one write and reads their
/// ACKs; returns `(id, ts)` of each.
fn fill(c: &mut Conn, room: &str, first: u32, n: u32, text: &str) -> Vec<(u64, u64)> {
    let says: Vec<ClientFrame> = (first..first + n).map(|i| say_f(room, i, text)).collect();
    c.send_raw(&batch(&says));
    (first..first + n)
        .map(|seq| match c.recv_app() {
            ServerFrame::Ack { seq: s, id, ts, .. } if s == seq => (id, ts),
            f => panic!("expected ACK {seq}, got {f:?}"),
        })
        .collect()
}

/// Sends HISTORY and reads the answer.
fn history(c: &mut Conn, room: &str, before: u64, limit: u16) -> (Vec<ServerFrame>, ServerFrame) {
    c.send(&ClientFrame::History { room: room.into(), before, limit });
    read_history(c, &room.to_ascii_lowercase())
}

fn end(room: &str, count: u16, more: u8) -> ServerFrame {
    ServerFrame::HistoryEnd { room: room.into(), count, more }
}

#[test]
fn history_pages_backwards_with_the_more_flag() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let mut acks = Vec::new();
    for i in 1..=25u32 {
        acks.push(say(&mut v[0], "lobby", i, &format!("text {i}")));
    }
    let live: Vec<ServerFrame> = (0..25).map(|_| v[1].recv_app()).collect();
    assert_eq!(ids(&live), (1..=25).collect::<Vec<_>>());
    let (page, e) = history(&mut v[1], "LOBBY", 0, 10);
    assert_eq!((ids(&page), e), ((16..=25).collect(), end("lobby", 10, 1)));
    let want = ServerFrame::Msg {
        file: None,
        room: "lobby".into(),
        id: 16,
        ts: acks[15].1,
        from: "ada".into(),
        flags: 1,
        text: "text 16".into(),
    };
    assert_eq!(page[0], want, "history MSG is the stored message, flag 1");
    let (page, e) = history(&mut v[1], "lobby", 16, 10);
    assert_eq!((ids(&page), e), ((6..=15).collect(), end("lobby", 10, 1)));
    let (page, e) = history(&mut v[1], "lobby", 6, 10);
    assert_eq!((ids(&page), e), ((1..=5).collect(), end("lobby", 5, 0)));
    let (page, e) = history(&mut v[1], "lobby", 1, 10);
    assert_eq!((page, e), (vec![], end("lobby", 0, 0)));
    let (page, e) = history(&mut v[1], "lobby", 26, 25);
    assert_eq!((ids(&page), e), ((1..=25).collect(), end("lobby", 25, 0)));
    // A `before` far past the newest is like 0.
    let (page, _) = history(&mut v[1], "lobby", 1000, 2);
    assert_eq!(ids(&page), [24, 25]);
}

#[test]
fn history_limit_zero_and_empty_rooms() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada"], "lobby");
    let (page, e) = history(&mut v[0], "lobby", 0, 10);
    assert_eq!((page, e), (vec![], end("lobby", 0, 0)));
    say(&mut v[0], "lobby", 1, "x");
    // proto/PROTOCOL.md: limit 0 answers count 0 and more = 1 if any matches.
    let (page, e) = history(&mut v[0], "lobby", 0, 0);
    assert_eq!((page, e), (vec![], end("lobby", 0, 1)));
    let (page, e) = history(&mut v[0], "lobby", 1, 0);
    assert_eq!((page, e), (vec![], end("lobby", 0, 0)));
}

#[test]
fn history_of_a_room_not_joined_is_not_in_room() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    say(&mut v[0], "lobby", 1, "secret");
    let mut eve = s.login("eve");
    eve.send(&ClientFrame::History { room: "lobby".into(), before: 0, limit: 10 });
    expect_error(&mut eve, ErrorCode::NotInRoom, types::HISTORY, 0);
    assert_alive(&mut eve);
}

#[test]
fn at_least_ten_thousand_messages_are_kept() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada"], "lobby");
    let total = 10_050u32;
    for chunk in 0..(total / 1005) {
        fill(&mut v[0], "lobby", chunk * 1005 + 1, 1005, "m");
    }
    // The oldest of the last 10 000 is id 51: it and everything after it
    // are still there.
    let (page, e) = history(&mut v[0], "lobby", 61, 1000);
    assert_eq!(ids(&page), (51..=60).collect::<Vec<_>>());
    // proto/PROTOCOL.md: exactly the last 10 000, so nothing older remains.
    assert_eq!(e, end("lobby", 10, 0));
    let (page, e) = history(&mut v[0], "lobby", 51, 10);
    assert_eq!((page, e), (vec![], end("lobby", 0, 0)));
}

#[test]
fn one_answer_holds_at_most_a_thousand_messages() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    fill(&mut v[0], "lobby", 1, 1500, "hello there");
    let (page, e) = history(&mut v[0], "lobby", 0, 2000);
    check_capped(&page, &e, 1000, 1500);
    // A JOIN replay is capped the same way (bob re-joins, a member).
    for _ in 0..1500 {
        v[1].recv_app();
    }
    let a = join(&mut v[1], "lobby", "lobby", 0, u16::MAX);
    check_capped(&a.history, &a.end.expect("HISTORY_END"), 1000, 1500);
}

/// Asserts a history answer of 1..=`cap` messages, the newest ones up to
/// `newest`, contiguous, with `more = 1`.
fn check_capped(page: &[ServerFrame], e: &ServerFrame, cap: usize, newest: u64) {
    let n = page.len();
    assert!((1..=cap).contains(&n), "{n} messages in one answer");
    let first = newest + 1 - n as u64;
    assert_eq!(ids(page), (first..=newest).collect::<Vec<_>>());
    let count = u16::try_from(n).expect("count fits");
    assert_eq!(*e, end("lobby", count, 1));
}

#[test]
fn one_answer_holds_at_most_half_the_output_limit() {
    let args = ["--rate", "0", "--out-limit", "65536", "--max-text", "1000"];
    let s = Server::start(&args);
    let mut v = room_of(&s, &["ada"], "lobby");
    let text = "t".repeat(1000);
    fill(&mut v[0], "lobby", 1, 100, &text);
    let (page, e) = history(&mut v[0], "lobby", 0, 100);
    let bytes: usize = page.iter().map(|f| f.to_bytes().len()).sum();
    assert!(bytes <= 32_768, "{bytes} bytes in one answer");
    check_capped(&page, &e, 100, 100);
    // The same cap for a JOIN replay.
    let a = join(&mut v[0], "lobby", "lobby", 0, 100);
    let bytes: usize = a.history.iter().map(|f| f.to_bytes().len()).sum();
    assert!(bytes <= 32_768, "{bytes} bytes in one replay");
    check_capped(&a.history, &a.end.expect("HISTORY_END"), 100, 100);
}

#[test]
fn one_answer_holds_at_least_one_message() {
    // One message is larger than half the output limit (out-limit must be
    // at least max-frame): it is still sent.
    let args = ["--rate", "0", "--max-frame", "1024", "--out-limit", "1024", "--max-text", "896"];
    let s = Server::start(&args);
    let mut v = room_of(&s, &["ada"], "lobby");
    let text = "é".repeat(448);
    fill(&mut v[0], "lobby", 1, 3, &text);
    let (page, e) = history(&mut v[0], "lobby", 0, 3);
    assert_eq!(ids(&page), [3]);
    assert_eq!(e, end("lobby", 1, 1));
    let (page, e) = history(&mut v[0], "lobby", 3, 3);
    assert_eq!(ids(&page), [2]);
    assert_eq!(e, end("lobby", 1, 1));
}

#[test]
fn replays_asked_in_one_write_share_half_the_output_limit() {
    let s = Server::start(&["--rate", "0", "--out-limit", "1048576"]);
    let mut writer = s.login("writer");
    let text = "r".repeat(2000);
    for (i, room) in ["a", "b", "c"].into_iter().enumerate() {
        join(&mut writer, room, room, 0, 0);
        fill(&mut writer, room, 300 * i as u32 + 1, 300, &text);
    }
    // What `banter` sends after a reconnect: three replays in one write,
    // each of which alone could take half the limit.
    let mut reader = s.login("reader");
    let joins: Vec<ClientFrame> = ["a", "b", "c"].map(|r| join_f(r, 0, 1000)).to_vec();
    reader.send_raw(&batch(&joins));
    let answers: Vec<JoinAnswer> = ["a", "b", "c"].map(|r| read_join(&mut reader, r, 1000)).into();
    let shown: Vec<usize> = answers.iter().map(|a| a.history.len()).collect();
    assert!(shown[0] > 100, "{shown:?}");
    assert_eq!(&shown[1..], [1, 1], "what was queued counts: one message each");
    for a in &answers {
        assert!(matches!(a.end, Some(ServerFrame::HistoryEnd { more: 1, .. })), "{:?}", a.end);
    }
    // The reader was not dropped and can page back.
    let (page, _) = history(&mut reader, "b", 300, 1000);
    assert!(!page.is_empty());
    assert_alive(&mut reader);
}
