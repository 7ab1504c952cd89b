//! Direct messages in the web client (§8): two registered pages talk
//! privately and see their messages delivered then read, a message written
//! offline in a conversation is resent once on reconnect, a guest is told
//! to register (and loses nothing it typed), strangers and oneself are
//! refused in words, and a message sent while its reader was away is an
//! unread conversation at the next sign-in, across a restart with `--db`.

use super::page::*;
use super::DESKTOP;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::browser::{exclusive, Browser, ENTER};
use banter_tests::front::{front, Relay};
use banter_tests::*;
use serde_json::json;
use std::time::Duration;

const PW: &str = "sesame-open-42";

#[test]
fn two_accounts_talk_privately_and_see_delivered_then_read() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let relay = Relay::start(web.addr);
    let ada = Browser::start(DESKTOP);
    sign_in_with(&ada, &relay.url(), "ada", PW, true);
    let bob = Browser::start(DESKTOP);
    sign_in_with(&bob, &web.url(), "bob", PW, true);

    // The sidebar's "new conversation" field opens @bob and shows it.
    ada.type_into("#dm-name", &format!("bob{ENTER}"));
    ada.wait("@bob shown", "return title() === '@bob'", &[]);
    wait_line(&ada, "direct messages with bob: only the two of you can read them");
    send(&ada, "hello bob, just us");
    wait_own_sent(&ada, "hello bob, just us");
    // bob looks at #lobby: the conversation is listed, counted and marked.
    bob.wait("@ada listed", "return badge('@ada') === '1' && mentioned('@ada')", &[]);
    assert_eq!(bob.eval("return title()", &[]), json!("#lobby"), "not switched to");
    assert_eq!(bob.eval("return document.title", &[]), json!("(1 @) #lobby — Banter"));
    wait_state(&ada, "hello bob, just us", "delivered");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(ada.eval("return stateOf('hello bob, just us')", &[]), json!("delivered"));
    bob.click("#sidebar li[data-room='@ada'] .open");
    wait_message(&bob, "ada", "hello bob, just us");
    wait_state(&ada, "hello bob, just us", "read");
    let label = ada
        .eval("const m = msgs().find((m) => m.text === 'hello bob, just us'); return m.label", &[]);
    assert_eq!(label, json!("read"), "the state in words, for hover and screen readers");

    // Answers: /msg to an open conversation, and an action.
    send(&bob, "/msg ada hi ada");
    wait_message(&ada, "bob", "hi ada");
    send(&bob, "/me waves");
    ada.wait("bob's action", "return actionLine('bob', 'waves', false)", &[]);
    wait_state(&bob, "hi ada", "read");

    // For the README: ada's last message waits unread while bob is
    // elsewhere, and carol's waits in another conversation.
    bob.click("#sidebar li[data-room=lobby] .open");
    let mut carol = raw_account(s.addr, "carol", PW, true);
    carol.send(&ClientFrame::Say {
        room: "@ada".into(),
        seq: 1,
        text: "are we still on for 3?".into(),
        flags: 0,
    });
    ada.wait("@carol counted", "return badge('@carol') === '1'", &[]);
    send(&ada, "see you at 3 then");
    wait_state(&ada, "see you at 3 then", "delivered");
    screenshot(&ada, "web-client-direct.png");

    // Written while the connection is down: resent once, nothing doubled.
    relay.cut();
    ada.wait("offline shown", "return statusState() === 'waiting'", &[]);
    send(&ada, "written offline");
    ada.wait("pending", "return pendingCount() === 1", &[]);
    relay.restore();
    ada.wait_for(Duration::from_secs(30), "back", "return statusState() === 'connected'", &[]);
    wait_state(&ada, "written offline", "delivered");
    bob.click("#sidebar li[data-room='@ada'] .open");
    wait_state(&ada, "written offline", "read");
    wait_message(&bob, "ada", "written offline");
    for b in [&ada, &bob] {
        for t in ["hello bob, just us", "hi ada", "see you at 3 then", "written offline"] {
            assert_eq!(count_text(b, t), 1, "{t:?} once:\n{}", b.describe());
        }
    }
    assert_quiet(&[&ada, &bob]);
}

#[test]
fn a_guest_is_told_to_register_and_strangers_are_refused_in_words() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let mut bob = raw_account(s.addr, "bob", PW, true);
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    send(&ada, "/msg bob are you there?");
    ada.wait(
        "told to register",
        "return lines().some((t) => t.startsWith('cannot open @bob: Direct messages are between \
         registered names: register yours with /register PASSWORD'))",
        &[],
    );
    assert_eq!(
        ada.eval("return document.getElementById('input').value", &[]),
        json!("/msg bob are you there?"),
        "what the guest typed is back in the input"
    );
    assert_eq!(ada.eval("return roomKeys()", &[]), json!(["lobby"]), "no @bob listed");
    assert_eq!(ada.eval("return statusState()", &[]), json!("connected"), "not fatal");

    ada.clear("#input");
    send(&ada, &format!("/register {PW}"));
    let registered = "return lines().some((t) => t.startsWith('ada is now registered'))";
    ada.wait_for(HASH_WAIT, "registered", registered, &[]);
    send(&ada, "/msg Bob are you there?");
    ada.wait("@bob shown", "return title() === '@bob'", &[]);
    wait_own_sent(&ada, "are you there?");
    let got = wait_frame(&mut bob, WAIT, "ada's message", |f| matches!(f, ServerFrame::Msg { .. }));
    let ServerFrame::Msg { room, from, text, .. } = got else { unreachable!() };
    assert_eq!((&*room, &*from, &*text), ("@ada", "ada", "are you there?"));

    send(&ada, "/msg nobody hello");
    ada.wait(
        "no such user",
        "return lines().some((t) => t.startsWith('cannot open @nobody: nobody has no account'))",
        &[],
    );
    ada.clear("#input");
    for (line, why) in [
        ("/msg ada", "that is you"),
        ("/msg not/a/name hi", "is not a valid name"),
        ("/msg", "usage: /msg NAME"),
    ] {
        send(&ada, line);
        ada.wait(
            why,
            "return document.getElementById('compose-error').textContent.includes(arguments[0])",
            &[json!(why)],
        );
        ada.clear("#input");
    }
    assert_eq!(ada.eval("return roomKeys()", &[]), json!(["lobby", "@bob"]));
}

#[test]
fn a_message_sent_while_away_is_an_unread_conversation_at_next_sign_in() {
    let _one = exclusive();
    let dir = TempDir::new("web-dm");
    let db = dir.0.join("chat.db");
    let db = db.to_str().expect("utf-8 path");
    let mut s = Server::start(&["--db", db]);
    let port = s.port();
    let web = front(port);
    let ada = Browser::start(DESKTOP);
    sign_in_with(&ada, &web.url(), "ada", PW, true);
    ada.click("#signout");
    ada.wait("signed out", "return !document.getElementById('login').hidden", &[]);

    let mut bob = raw_account(s.addr, "bob", PW, true);
    for (seq, text) in [(1, "are you around?"), (2, "call me when you are back")] {
        bob.send(&ClientFrame::Say { room: "@ada".into(), seq, text: text.into(), flags: 0 });
        wait_frame(&mut bob, WAIT, "the ACK", |f| matches!(f, ServerFrame::Ack { .. }));
    }
    s.kill9();
    let s = Server::start_on(port, &["--db", db]);
    let mut bob = raw_account(s.addr, "bob", PW, false);

    sign_in_with(&ada, &web.url(), "ada", PW, false);
    ada.wait("@bob unread", "return badge('@bob') === '2' && mentioned('@bob')", &[]);
    assert_eq!(ada.eval("return title()", &[]), json!("#lobby"), "the first room is shown");
    assert_eq!(ada.eval("return document.title", &[]), json!("(2 @) #lobby — Banter"));
    let delivered = |f: &ServerFrame| matches!(f, ServerFrame::Delivered { id: 2, .. });
    let f = wait_frame(&mut bob, WAIT, "DELIVERED", delivered);
    assert_eq!(f, ServerFrame::Delivered { room: "@ada".into(), id: 2 });
    let read = |f: &ServerFrame| matches!(f, ServerFrame::Read { .. });
    expect_none(&mut bob, Duration::from_millis(1500), "read before ada looked", read);

    ada.click("#sidebar li[data-room='@bob'] .open");
    wait_message(&ada, "bob", "call me when you are back");
    let after_line = ada.eval(
        "const l = document.querySelector('#messages .unread-line');\
         return l && l.nextElementSibling.querySelector('.text').textContent",
        &[],
    );
    assert_eq!(after_line, json!("are you around?"), "the new-messages line");
    ada.wait("read", "return badge('@bob') === '' && document.title === '@bob — Banter'", &[]);
    let f = wait_frame(&mut bob, WAIT, "READ", read);
    assert_eq!(f, ServerFrame::Read { room: "@ada".into(), name: "ada".into(), id: 2 });
}
