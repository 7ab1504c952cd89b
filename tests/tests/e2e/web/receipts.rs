//! Read markers from the web client (§9): "seen by" under messages in a
//! small room, MARK sent only for messages actually on screen in a visible
//! tab (a raw-socket member watches for READ), and the "new messages" line
//! placed from the server's marker after a reload.

use super::page::*;
use super::DESKTOP;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::browser::{exclusive, Browser};
use banter_tests::front::front;
use banter_tests::*;
use serde_json::json;
use std::time::Duration;

/// Long enough for a MARK the page should not send to have come (the page
/// looks every 0.1 s and MARKs at most once a second).
const QUIET: Duration = Duration::from_millis(2500);

#[test]
fn seen_by_shows_who_has_read_in_a_small_room() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    let bob = Browser::start(DESKTOP);
    sign_in(&bob, &web.url(), "bob");
    send(&ada, "lunch at noon?");
    wait_own_sent(&ada, "lunch at noon?");
    wait_message(&bob, "ada", "lunch at noon?");
    // bob's page has it on screen: it says so, and ada's page shows it.
    let seen = "return msgs().some((m) => m.text === 'lunch at noon?' && m.seen === arguments[0])";
    ada.wait("seen by bob", seen, &[json!("seen by bob")]);
    let id = match wait_frame(&mut carol, WAIT, "the MSG", |f| matches!(f, ServerFrame::Msg { .. }))
    {
        ServerFrame::Msg { id, .. } => id,
        _ => unreachable!(),
    };
    carol.send(&ClientFrame::Mark { room: "lobby".into(), id });
    ada.wait("seen by bob and carol", seen, &[json!("seen by bob and carol")]);
    // bob answers and has seen his own answer: his name moves no further
    // than the newest message of someone else, and carol's stays.
    send(&bob, "noon works");
    wait_message(&ada, "bob", "noon works");
    std::thread::sleep(Duration::from_millis(1500));
    ada.wait("still seen by both", seen, &[json!("seen by bob and carol")]);
    assert_eq!(
        ada.eval("return document.querySelectorAll('#messages .seen').length", &[]),
        json!(1)
    );
}

#[test]
fn mark_waits_until_messages_are_on_screen_in_a_visible_tab() {
    let _one = exclusive();
    let s = Server::start(&["--rate", "0"]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    for i in 1..=60u32 {
        let text = format!("line {i}");
        carol.send(&ClientFrame::Say { room: "lobby".into(), seq: i, text, flags: 0 });
    }
    wait_acks(&mut carol, 60);
    wait_message(&ada, "carol", "line 60");
    let read_of = |id: u64| move |f: &ServerFrame| matches!(f, ServerFrame::Read { name, id: i, .. } if name == "ada" && *i == id);
    wait_frame(&mut carol, WAIT, "READ 60", read_of(60));

    // Scrolled away from the newest: what arrives is not on screen.
    ada.eval("document.getElementById('messages').scrollTop = 0", &[]);
    std::thread::sleep(Duration::from_millis(300));
    say(&mut carol, "lobby", 61, "while you scrolled away");
    wait_message(&ada, "carol", "while you scrolled away");
    let any_read = |f: &ServerFrame| matches!(f, ServerFrame::Read { .. });
    expect_none(&mut carol, QUIET, "a READ while scrolled away", any_read);
    ada.eval("const b = document.getElementById('messages'); b.scrollTop = b.scrollHeight", &[]);
    wait_frame(&mut carol, WAIT, "READ 61 once scrolled down", read_of(61));

    // A hidden tab sees nothing, even at the bottom.
    ada.eval(
        "Object.defineProperty(document, 'visibilityState', {configurable: true, \
         get: () => 'hidden'}); document.dispatchEvent(new Event('visibilitychange'))",
        &[],
    );
    say(&mut carol, "lobby", 62, "while the tab was hidden");
    wait_message(&ada, "carol", "while the tab was hidden");
    expect_none(&mut carol, QUIET, "a READ while hidden", any_read);
    assert_eq!(ada.eval("return badge('lobby')", &[]), json!("1"), "counted as unread");

    // Reloaded (the session resumes): the server's marker places the
    // "new messages" line, and what is then on screen is read.
    reload(&ada);
    ada.wait("resumed", "return statusState() === 'connected'", &[]);
    ada.wait(
        "the new-messages line from the marker",
        "const l = document.querySelector('#messages .unread-line');\
         return l && l.nextElementSibling.querySelector('.text').textContent === \
         'while the tab was hidden'",
        &[],
    );
    wait_frame(&mut carol, WAIT, "READ 62 after the reload", read_of(62));
}
