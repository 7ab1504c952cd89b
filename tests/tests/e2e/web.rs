//! The web client end to end: the real page in a real headless Chromium
//! (driven over WebDriver, see `banter_tests::browser`) against the real
//! `banterd`, beside raw-socket clients. Each test takes the browser lock,
//! so only one runs Chromium at a time.

mod direct;
mod files;
mod page;
mod receipts;
mod reconnect;
mod screens;
mod terminal;

use banter_proto::{ClientFrame, ServerFrame, FLAG_ACTION};
use banter_tests::browser::{exclusive, Browser, Screen, ENTER};
use banter_tests::front::front;
use banter_tests::*;
use page::*;
use serde_json::json;
use std::time::Duration;

pub const DESKTOP: Screen = Screen::Desktop { width: 1280, height: 800 };

#[test]
fn two_browsers_and_a_raw_client_chat() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    let bob = Browser::start(DESKTOP);
    sign_in(&bob, &web.url(), "bob");
    wait_line(&ada, "bob joined");
    wait_members(&ada, &["ada", "bob", "carol"]);

    // Typing shows on the other page and reaches the raw client.
    ada.type_into("#input", "hello");
    bob.wait("ada's typing", "return document.getElementById('typing').textContent", &[]);
    assert_eq!(text_of(&bob, "#typing"), "ada is typing…");
    ada.type_into("#input", " bob and carol");
    ada.type_into("#input", ENTER);
    wait_own_sent(&ada, "hello bob and carol");
    wait_message(&bob, "ada", "hello bob and carol");
    assert_eq!(next_msg(&mut carol), ("ada".into(), "hello bob and carol".into()));
    bob.wait("typing over", "return document.getElementById('typing').textContent === ''", &[]);

    say(&mut carol, "lobby", 1, "hi from a socket");
    wait_message(&ada, "carol", "hi from a socket");
    wait_message(&bob, "carol", "hi from a socket");
    send(&bob, "and hi from bob");
    wait_message(&ada, "bob", "and hi from bob");
    assert_eq!(next_msg(&mut carol), ("bob".into(), "and hi from bob".into()));

    // Unread counts, the mention marker and the tab title, in another room.
    send(&ada, "/join dev");
    ada.wait(
        "#dev shown",
        "return document.getElementById('room-title').textContent === '#dev'",
        &[],
    );
    say(&mut carol, "lobby", 2, "ada: look at this");
    say(&mut carol, "lobby", 3, "and this");
    ada.wait("2 unread in lobby", "return badge('lobby') === '2'", &[]);
    assert!(ada.eval("return mentioned('lobby')", &[]).as_bool().unwrap(), "mention marker");
    assert_eq!(ada.eval("return document.title", &[]), json!("(2 @) #dev — Banter"));
    ada.click("li[data-room=lobby] .open");
    ada.wait("lobby read", "return badge('lobby') === '' && !mentioned('lobby')", &[]);
    assert_eq!(ada.eval("return document.title", &[]), json!("#lobby — Banter"));
    let after_line = ada.eval(
        "const l = document.querySelector('#messages .unread-line');\
         return l && l.nextElementSibling.querySelector('.text').textContent",
        &[],
    );
    assert_eq!(after_line, json!("ada: look at this"), "the new-messages line");
    assert!(ada.eval("return mentionLine('ada: look at this')", &[]).as_bool().unwrap());

    // Leaving: the others see it, the members list follows.
    send(&bob, "/leave");
    wait_line(&ada, "bob left");
    wait_members(&ada, &["ada", "carol"]);
    say(&mut carol, "lobby", 4, "see you, bob");
    wait_message(&ada, "carol", "see you, bob");
    assert_eq!(count_text(&ada, "hello bob and carol"), 1);
    // A raw client's typing shows too; a message in another room counts there.
    carol.send(&ClientFrame::Join { room: "dev".into(), since: 0, limit: 0 });
    say(&mut carol, "dev", 5, "ada: the build is green");
    ada.wait("1 unread in dev", "return badge('dev') === '1' && mentioned('dev')", &[]);
    carol.send(&ClientFrame::Typing { room: "lobby".into(), active: 1 });
    ada.wait("carol typing", "return typingText() === 'carol is typing…'", &[]);
    screenshot(&ada, "web-client.png");
    assert_quiet(&[&ada, &bob]);
}

#[test]
fn me_actions_reach_everyone_as_actions() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    send(&ada, "/me waves");
    ada.wait("own action sent", "return actionLine('ada', 'waves', true)", &[]);
    loop {
        if let ServerFrame::Msg { from, text, flags, .. } = carol.recv_app() {
            assert_eq!((from.as_str(), text.as_str()), ("ada", "waves"));
            assert_ne!(flags & FLAG_ACTION, 0, "the action flag reaches others");
            break;
        }
    }
    carol.send(&ClientFrame::Say {
        room: "lobby".into(),
        seq: 1,
        text: "bows".into(),
        flags: FLAG_ACTION,
    });
    ada.wait("carol's action", "return actionLine('carol', 'bows', false)", &[]);
}

#[test]
fn history_loads_when_scrolled_to_the_top() {
    let _one = exclusive();
    let s = Server::start(&["--rate", "0"]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    for i in 1..=130u32 {
        carol.send(&ClientFrame::Say {
            room: "lobby".into(),
            seq: i,
            text: format!("message {i}"),
            flags: 0,
        });
    }
    wait_acks(&mut carol, 130);
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    wait_message(&ada, "carol", "message 130");
    assert_eq!(message_texts(&ada).len(), 50, "a first JOIN shows the newest 50");
    assert_eq!(message_texts(&ada)[0], "message 81");
    for first in ["message 31", "message 1"] {
        ada.eval("document.getElementById('messages').scrollTop = 0", &[]);
        ada.wait("older messages", "return firstText() === arguments[0]", &[json!(first)]);
        let top = ada.eval("return document.getElementById('messages').scrollTop", &[]);
        assert!(top.as_f64().unwrap() > 0.0, "the view stays where it was, not at the top");
    }
    let texts = message_texts(&ada);
    let want: Vec<String> = (1..=130).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, want, "every message once, in order");
    ada.eval("document.getElementById('messages').scrollTop = 0", &[]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(ada
        .eval("return document.querySelector('.older-item').hidden", &[])
        .as_bool()
        .unwrap());
    assert_eq!(text_of(&ada, "#messages .day"), "Today", "a day separator heads the list");
}
