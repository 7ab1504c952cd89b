//! Values a peer controls at their extremes (issue 15): a JOIN `since` or a
//! HISTORY `before` of 2^64 - 1 must neither wrap nor replay anything.

use crate::server_util::*;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::*;

/// HISTORY_END of `room` with `count` and `more`.
fn end(room: &str, count: u16, more: u8) -> ServerFrame {
    ServerFrame::HistoryEnd { room: room.into(), count, more }
}

#[test]
fn the_largest_since_replays_nothing() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    for seq in 1..=3 {
        say(&mut v[0], "lobby", seq, "m");
    }
    let live: Vec<ServerFrame> = (0..3).map(|_| next_app(&mut v[1])).collect();
    assert_eq!(ids(&live), [1, 2, 3]);
    let a = join(&mut v[1], "lobby", "lobby", u64::MAX, 10);
    assert!(a.history.is_empty(), "{:?}", a.history);
    assert_eq!(a.end, Some(end("lobby", 0, 0)));
    let a = join(&mut v[1], "lobby", "lobby", u64::MAX - 1, 10);
    assert_eq!(a.end, Some(end("lobby", 0, 0)));
    v[1].send(&ClientFrame::History { room: "lobby".into(), before: u64::MAX, limit: 2 });
    let (page, e) = read_history(&mut v[1], "lobby");
    assert_eq!((ids(&page), e), (vec![2, 3], end("lobby", 2, 1)));
    assert_alive(&mut v[1]);
}
