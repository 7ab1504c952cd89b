//! The web client across outages: a dropped connection (the session
//! resumes), a server restarted with `--db` (a new session catches up), and
//! a message the restarted server refuses (failed, then retried). Nothing
//! is lost or shown twice.

use super::page::*;
use super::DESKTOP;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::browser::{exclusive, Browser};
use banter_tests::front::{front, Relay};
use banter_tests::*;
use serde_json::json;
use std::time::Duration;

/// How long the page may take to come back (its backoff grows while the
/// server is down).
const BACK: Duration = Duration::from_secs(30);

#[test]
fn a_dropped_connection_resumes_and_loses_or_doubles_nothing() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let relay = Relay::start(web.addr);
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &relay.url(), "ada");
    say(&mut carol, "lobby", 1, "before the drop");
    wait_message(&ada, "carol", "before the drop");

    relay.cut();
    ada.wait("offline shown", "return statusState() === 'waiting'", &[]);
    say(&mut carol, "lobby", 2, "missed one");
    say(&mut carol, "lobby", 3, "missed two");
    send(&ada, "written while offline");
    ada.wait("pending mark", "return pendingCount() === 1", &[]);
    assert!(text_of(&ada, "#status-text").contains("1 unsent"), "{}", ada.describe());

    relay.restore();
    ada.wait_for(
        Duration::from_secs(30),
        "reconnected",
        "return statusState() === 'connected'",
        &[],
    );
    wait_line(&ada, "reconnected: session resumed");
    wait_own_sent(&ada, "written while offline");
    assert_eq!(next_msg(&mut carol), ("ada".into(), "written while offline".into()));
    expect_only_receipts(&mut carol, Duration::from_millis(500));
    for t in ["before the drop", "missed one", "missed two", "written while offline"] {
        assert_eq!(count_text(&ada, t), 1, "{t:?} once:\n{}", ada.describe());
    }
    let texts = message_texts(&ada);
    assert_eq!(
        &texts[texts.len() - 4..],
        ["before the drop", "missed one", "missed two", "written while offline"]
    );
    assert_eq!(count_text(&ada, "ada lost the connection"), 0, "a resume is silent");
}

#[test]
fn a_server_restart_with_db_loses_and_doubles_nothing() {
    let _one = exclusive();
    let dir = TempDir::new("web-restart");
    let db = dir.0.join("chat.db");
    let db = db.to_str().expect("utf-8 path");
    let mut s = Server::start(&["--db", db]);
    let port = s.port();
    let web = front(port);
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    say(&mut carol, "lobby", 1, "one, before");
    send(&ada, "two, before");
    wait_own_sent(&ada, "two, before");
    assert_eq!(next_msg(&mut carol), ("ada".into(), "two, before".into()));

    s.kill9();
    ada.wait("the outage shown", "return statusState() !== 'connected'", &[]);
    send(&ada, "three, while down");
    ada.wait("pending", "return pendingCount() === 1", &[]);
    let s2 = Server::start_on(port, &["--db", db]);
    let mut carol = member(s2.addr, "carol", "lobby");
    say(&mut carol, "lobby", 1, "four, after the restart");
    ada.wait_for(BACK, "reconnected", "return statusState() === 'connected'", &[]);
    wait_own_sent(&ada, "three, while down");
    wait_message(&ada, "carol", "four, after the restart");
    assert_eq!(next_msg(&mut carol), ("ada".into(), "three, while down".into()));
    expect_only_receipts(&mut carol, Duration::from_millis(500));

    let all = ["one, before", "two, before", "three, while down", "four, after the restart"];
    for t in all {
        assert_eq!(count_text(&ada, t), 1, "{t:?} once:\n{}", ada.describe());
    }
    let ids = ada.eval(
        "return [...document.querySelectorAll('#messages .msg')].map((li) => \
         Number(li.dataset.id))",
        &[],
    );
    assert_eq!(ids, json!([1, 2, 3, 4]), "shown in id order");
    carol.send(&ClientFrame::History { room: "lobby".into(), before: 0, limit: 100 });
    let mut stored = Vec::new();
    loop {
        match carol.recv_app() {
            ServerFrame::Msg { text, .. } => stored.push(text),
            ServerFrame::HistoryEnd { .. } => break,
            _ => {}
        }
    }
    stored.sort();
    let mut want = all.map(String::from).to_vec();
    want.sort();
    assert_eq!(stored, want, "the server stored each message once");
}

#[test]
fn a_refused_message_is_marked_failed_and_retried_on_request() {
    let _one = exclusive();
    let mut s = Server::start(&[]);
    let port = s.port();
    let web = front(port);
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    s.kill9();
    ada.wait("the outage shown", "return statusState() !== 'connected'", &[]);
    let long = "a fairly long message ".repeat(8);
    let long = long.trim_end();
    send(&ada, long);
    // The restarted server takes shorter texts: the resent message is refused.
    let mut s2 = Server::start_on(port, &["--max-text", "100"]);
    ada.wait_for(
        BACK,
        "failed mark",
        "return msgs().some((m) => m.cls.includes('failed') \
         && m.mark.startsWith('not sent: TEXT_INVALID'))",
        &[],
    );
    assert_eq!(ada.eval("return pendingCount()", &[]), json!(0));
    send(&ada, long);
    ada.wait(
        "the explanation",
        "return document.getElementById('compose-error').textContent \
         .includes('over the limit of 100')",
        &[],
    );
    assert_eq!(
        ada.eval("return document.getElementById('input').value", &[]),
        json!(long),
        "the refused text stays in the input"
    );
    ada.clear("#input");

    s2.kill9();
    let s3 = Server::start_on(port, &[]);
    let mut carol = member(s3.addr, "carol", "lobby");
    ada.wait_for(BACK, "reconnected", "return statusState() === 'connected'", &[]);
    assert!(
        ada.eval("return msgs().some((m) => m.cls.includes('failed'))", &[]).as_bool().unwrap(),
        "a failed message is resent only on request"
    );
    ada.click("#messages .msg.failed .retry");
    wait_own_sent(&ada, long);
    assert_eq!(next_msg(&mut carol), ("ada".into(), long.to_string()));
    expect_only_receipts(&mut carol, Duration::from_millis(300));
    assert_eq!(count_text(&ada, long), 1);
}

#[test]
fn a_reload_resumes_the_session_and_sends_what_was_unsent() {
    let _one = exclusive();
    // One SAY a second: most of ada's burst waits in the page, unsent.
    let s = Server::start(&["--rate", "1"]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    let texts: Vec<String> = (1..=5).map(|i| format!("burst {i}")).collect();
    for t in &texts {
        send(&ada, t);
    }
    ada.wait("some held back", "return pendingCount() > 0", &[]);
    reload(&ada);
    let mut got: Vec<String> = (0..5).map(|_| next_msg(&mut carol).1).collect();
    got.sort();
    assert_eq!(got, texts, "each message reached carol once");
    ada.wait("resumed after the reload", "return statusState() === 'connected'", &[]);
    ada.wait(
        "nothing unsent",
        "return pendingCount() === 0 && \
         !msgs().some((m) => m.cls.includes('failed'))",
        &[],
    );
    send(&ada, "after the reload");
    assert_eq!(next_msg(&mut carol).1, "after the reload", "seqs go on: no false repeat");
    for t in texts.iter().map(String::as_str).chain(["after the reload"]) {
        assert_eq!(count_text(&ada, t), 1, "{t:?} once:\n{}", ada.describe());
    }
    // A resume is silent: carol saw no one leave or come back.
    loop {
        match carol.recv_within(Duration::from_millis(300)) {
            Some(f @ ServerFrame::Presence { .. }) => panic!("a reload announced: {f:?}"),
            Some(_) => {}
            None => break,
        }
    }
}

#[test]
fn a_silent_server_is_noticed_after_two_heartbeats() {
    let _one = exclusive();
    let s = Server::start(&["--heartbeat-ms", "1000"]);
    let web = front(s.port());
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    ada.wait("a measured round trip", "return / · \\d+ ms/.test(statusText())", &[]);
    // A stopped server keeps its sockets open but answers nothing, like a
    // half-open connection: only the page's own PINGs can tell.
    s.signal(libc::SIGSTOP);
    let lost = ada.wait_for(
        Duration::from_secs(5),
        "the silence noticed",
        "return statusState() === 'waiting' && statusText()",
        &[],
    );
    assert!(lost.as_str().unwrap().contains("no answer from the server for"), "{lost}");
    s.signal(libc::SIGCONT);
    ada.wait_for(BACK, "back", "return statusState() === 'connected'", &[]);
    let mut carol = member(s.addr, "carol", "lobby");
    send(&ada, "still here");
    wait_own_sent(&ada, "still here");
    assert_eq!(next_msg(&mut carol), ("ada".into(), "still here".into()));
}

#[test]
fn more_missed_than_one_catch_up_holds_is_fetched_page_by_page() {
    let _one = exclusive();
    let s = Server::start(&["--rate", "0"]);
    let web = front(s.port());
    let relay = Relay::start(web.addr);
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &relay.url(), "ada");
    say(&mut carol, "lobby", 1, "before");
    wait_message(&ada, "carol", "before");
    relay.cut();
    ada.wait("offline shown", "return statusState() === 'waiting'", &[]);
    // A catch-up JOIN brings at most 1 000: the page must ask for the rest.
    for i in 1..=1200u32 {
        let text = format!("missed {i}");
        carol.send(&ClientFrame::Say { room: "lobby".into(), seq: i + 1, text, flags: 0 });
    }
    wait_acks(&mut carol, 1200);
    relay.restore();
    ada.wait_for(BACK, "reconnected", "return statusState() === 'connected'", &[]);
    wait_message(&ada, "carol", "missed 1");
    let want: Vec<String> = std::iter::once("before".to_string())
        .chain((1..=1200).map(|i| format!("missed {i}")))
        .collect();
    let got = message_texts(&ada);
    let wrong = got.iter().zip(&want).position(|(g, w)| g != w);
    assert_eq!((got.len(), wrong), (want.len(), None), "every missed message once, in order");
}
