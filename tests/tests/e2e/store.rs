//! Durable storage end to end (`banterd --db`): what a restart keeps
//! (history, ids, accounts), what `kill -9` and SIGTERM may not lose, the
//! start-up faults, and STORAGE errors when the disk refuses a write.
//!
//! Every test runs the real `banterd` on a database in its own [`TempDir`]
//! (or a small tmpfs it mounts, skipped with a message where mounting is not
//! permitted). This file holds the shared helpers and the restart tests; the
//! submodules hold the rest.

mod accounts;
mod crash;
mod faults;

use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::Duration;

/// The database path inside `dir`.
pub fn db_of(dir: &TempDir) -> String {
    dir.0.join("banter.db").display().to_string()
}

/// Starts `banterd --db <dir>/banter.db --rate 0` plus `extra`.
pub fn start_db(dir: &TempDir, extra: &[&str]) -> Server {
    let db = db_of(dir);
    // Storage tests page through whole rooms: no SAY or HISTORY budgets.
    let mut args = vec!["--db", db.as_str(), "--rate", "0", "--query-rate", "0"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// SIGTERM, and the exit must be clean and prompt.
pub fn stop(s: &mut Server) {
    s.signal(libc::SIGTERM);
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "banterd exit after SIGTERM: {status:?}");
}

/// Sends JOIN and reads JOINED, the ROSTERs and (when `limit > 0`) the
/// replay; returns `JOINED.last_id` and the replayed messages.
pub fn join(c: &mut Conn, room: &str, since: u64, limit: u16) -> (u64, Vec<ServerFrame>) {
    c.send(&ClientFrame::Join { room: room.into(), since, limit });
    let last = match c.recv_app() {
        ServerFrame::Joined { last_id, .. } => last_id,
        f => panic!("expected JOINED {room}, got {f:?}"),
    };
    loop {
        match c.recv_app() {
            ServerFrame::Roster { more: 0, .. } => break,
            ServerFrame::Roster { .. } => {}
            f => panic!("expected ROSTER, got {f:?}"),
        }
    }
    let msgs = if limit > 0 { read_page(c).0 } else { vec![] };
    (last, msgs)
}

/// Reads history MSGs up to HISTORY_END; returns them and its `more`.
pub fn read_page(c: &mut Conn) -> (Vec<ServerFrame>, bool) {
    let mut msgs = Vec::new();
    loop {
        match c.recv_app() {
            f @ ServerFrame::Msg { flags: 1, .. } => msgs.push(f),
            ServerFrame::HistoryEnd { count, more, .. } => {
                assert_eq!(usize::from(count), msgs.len(), "HISTORY_END.count");
                return (msgs, more == 1);
            }
            f => panic!("expected history MSG or HISTORY_END, got {f:?}"),
        }
    }
}

/// One HISTORY page.
pub fn history(c: &mut Conn, room: &str, before: u64, limit: u16) -> (Vec<ServerFrame>, bool) {
    c.send(&ClientFrame::History { room: room.into(), before, limit });
    read_page(c)
}

/// Every message of `room` as `(id, from, text)`, oldest first, paging
/// HISTORY back to the first.
pub fn all_history(c: &mut Conn, room: &str) -> Vec<(u64, String, String)> {
    let mut all = Vec::new();
    let mut before = 0;
    loop {
        let (page, more) = history(c, room, before, 1000);
        let mut got: Vec<_> = page.into_iter().map(msg_fields).collect();
        got.append(&mut all);
        all = got;
        match all.first() {
            Some(first) if more => before = first.0,
            _ => return all,
        }
    }
}

/// `(id, from, text)` of a MSG.
pub fn msg_fields(f: ServerFrame) -> (u64, String, String) {
    match f {
        ServerFrame::Msg { id, from, text, .. } => (id, from, text),
        f => panic!("expected MSG, got {f:?}"),
    }
}

/// SAY, and its ACK must follow; returns `(id, ts)`.
pub fn say(c: &mut Conn, room: &str, seq: u32, text: &str) -> (u64, u64) {
    c.send(&say_f(room, seq, text));
    match c.recv_app() {
        ServerFrame::Ack { seq: s, id, ts, .. } if s == seq => (id, ts),
        f => panic!("expected ACK of SAY {seq}, got {f:?}"),
    }
}

/// A SAY frame.
pub fn say_f(room: &str, seq: u32, text: &str) -> ClientFrame {
    ClientFrame::Say { flags: 0, room: room.into(), seq, text: text.into() }
}

/// The next application frame must be this ERROR.
pub fn expect_error(c: &mut Conn, code: ErrorCode, about: u8, seq: u32) {
    match c.recv_app() {
        ServerFrame::Error { code: got, about: a, seq: s, detail } => assert_eq!(
            (ErrorCode::from_code(got), a, s),
            (Some(code), about, seq),
            "ERROR {detail:?}"
        ),
        f => panic!("expected ERROR {code} about {about} seq {seq}, got {f:?}"),
    }
}

#[test]
fn a_restart_keeps_history_and_ids_continue() {
    let dir = TempDir::new("store-restart");
    let mut s = start_db(&dir, &[]);
    let mut ada = s.login("Ada");
    join(&mut ada, "lobby", 0, 0);
    join(&mut ada, "Dev", 0, 0);
    let mut sent = Vec::new();
    for (seq, text) in [(1, "one"), (2, "two é"), (3, "three\nlines")] {
        sent.push((say(&mut ada, "lobby", seq, text), text));
    }
    assert_eq!(say(&mut ada, "dev", 4, "in dev").0, 1);
    drop(ada);
    stop(&mut s);

    let s = start_db(&dir, &[]);
    let mut bob = s.login("bob");
    let (last, replay) = join(&mut bob, "lobby", 0, 50);
    assert_eq!(last, 3, "JOINED.last_id after restart");
    let want: Vec<ServerFrame> = (sent.iter())
        .map(|((id, ts), text)| ServerFrame::Msg {
            file: None,
            room: "lobby".into(),
            id: *id,
            ts: *ts,
            from: "Ada".into(),
            flags: 1,
            text: (*text).into(),
        })
        .collect();
    assert_eq!(replay, want, "the replay is what was acknowledged");
    assert_eq!(join(&mut bob, "dev", 0, 0).0, 1);
    assert_eq!(say(&mut bob, "lobby", 1, "four").0, 4, "ids continue");
    assert_eq!(say(&mut bob, "dev", 2, "dev two").0, 2);
    let (page, more) = history(&mut bob, "lobby", 4, 2);
    let ids: Vec<u64> = page.into_iter().map(|f| msg_fields(f).0).collect();
    assert_eq!((ids, more), (vec![2, 3], true));
}

#[test]
fn history_older_than_the_memory_window_comes_from_disk() {
    let dir = TempDir::new("store-deep");
    let mut s = start_db(&dir, &[]);
    let mut ada = s.login("ada");
    join(&mut ada, "deep", 0, 0);
    let total: u32 = 10_100;
    let mut frames = Vec::new();
    for seq in 1..=total {
        say_f("deep", seq, &format!("m{seq}")).encode(&mut frames);
    }
    ada.send_raw(&frames);
    for seq in 1..=total {
        match ada.recv_app() {
            ServerFrame::Ack { seq: s, id, .. } => assert_eq!((s, id), (seq, u64::from(seq))),
            f => panic!("expected ACK {seq}, got {f:?}"),
        }
    }
    let check = |c: &mut Conn| {
        let (page, more) = history(c, "deep", 51, 50);
        let got: Vec<_> = page.into_iter().map(msg_fields).collect();
        let want: Vec<_> = (1..=50u64).map(|i| (i, "ada".to_string(), format!("m{i}"))).collect();
        assert_eq!((got, more), (want, false));
    };
    check(&mut ada);
    drop(ada);
    stop(&mut s);
    let s = start_db(&dir, &[]);
    let mut bob = s.login("bob");
    assert_eq!(join(&mut bob, "deep", 0, 0).0, u64::from(total));
    check(&mut bob);
    let all = all_history(&mut bob, "deep");
    assert_eq!(all.len(), total as usize, "all of them, paged");
    assert!(all.iter().zip(1..).all(|(m, i)| m.0 == i && m.2 == format!("m{i}")));
    assert_eq!(say(&mut bob, "deep", 1, "next").0, u64::from(total) + 1);
}

#[test]
fn sync_full_keeps_what_it_acknowledged_across_kill_9() {
    let dir = TempDir::new("store-syncfull");
    let mut s = start_db(&dir, &["--sync", "full"]);
    let mut ada = s.login("ada");
    join(&mut ada, "lobby", 0, 0);
    for seq in 1..=20 {
        assert_eq!(say(&mut ada, "lobby", seq, &format!("f{seq}")).0, u64::from(seq));
    }
    s.kill9();
    let s = start_db(&dir, &["--sync", "full"]);
    let mut bob = s.login("bob");
    join(&mut bob, "lobby", 0, 0);
    let all = all_history(&mut bob, "lobby");
    let want: Vec<_> = (1..=20u64).map(|i| (i, "ada".to_string(), format!("f{i}"))).collect();
    assert_eq!(all, want);
}
