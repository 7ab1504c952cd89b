//! What the web tests do and read in the page (signing in, sending, reading
//! the message list) and on raw sockets, so the tests read as steps.

use crate::server_util::next_app_within;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::browser::{Browser, ENTER};
use banter_tests::{Conn, Recv};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Helpers the tests' scripts call, installed in the page after each load.
/// They only read the DOM.
const HELPERS: &str = r#"
const q = (s) => document.querySelector(s);
const all = (s) => [...document.querySelectorAll(s)];
const room = (r) => q(`#sidebar li[data-room="${r}"]`);
Object.assign(window, {
  badge: (r) => room(r) ? room(r).querySelector('.badge').textContent : null,
  mentioned: (r) => !!room(r) && room(r).classList.contains('mentioned'),
  statusState: () => q('#status').dataset.state,
  statusText: () => q('#status-text').textContent,
  pendingCount: () => all('#messages .msg.pending').length,
  lines: () => all('#messages .line .text').map((e) => e.textContent),
  msgs: () => all('#messages .msg').map((li) => {
    const mark = li.querySelector('.mark');
    const seen = li.querySelector('.seen');
    return { from: li.querySelector('.from').textContent,
      text: li.querySelector('.text').textContent, cls: li.className,
      mark: mark ? mark.textContent : '', state: mark ? mark.dataset.state : '',
      label: mark ? mark.title : '', seen: seen ? seen.textContent : '' };
  }),
  stateOf: (t) => { const m = msgs().find((m) => m.text === t); return m && m.state; },
  roomKeys: () => all('#sidebar li[data-room]').map((li) => li.dataset.room),
  title: () => q('#room-title').textContent,
  firstText: () => { const m = q('#messages .msg .text'); return m && m.textContent; },
  mentionLine: (t) => all('#messages .msg.mention .text').some((e) => e.textContent === t),
  actionLine: (from, t, own) => all('#messages .msg.action').some((li) =>
    li.querySelector('.from').textContent === `* ${from}` &&
    li.querySelector('.text').textContent === t &&
    (!own || li.classList.contains('sent'))),
  members: () => all('#member-list li').map((e) => e.textContent),
  typingText: () => q('#typing').textContent,
  cards: () => all('#messages .msg.file').map((li) => {
    const img = li.querySelector('.file-preview img');
    const status = li.querySelector('.file-status');
    const bar = li.querySelector('.file-progress');
    return { from: li.querySelector('.from').textContent,
      name: li.querySelector('.file-name').textContent,
      meta: li.querySelector('.file-meta').textContent, cls: li.className,
      status: status.textContent, error: status.classList.contains('error'),
      actions: [...li.querySelectorAll('.file-actions > *')].map((e) => e.textContent),
      preview: [...li.querySelectorAll('.file-preview > *')].map((e) => e.textContent),
      img: img && { src: img.src, hidden: img.hidden, width: img.naturalWidth },
      bar: bar.hidden ? null : [bar.value, bar.max],
      upload: li.dataset.upload || '', resumedAt: Number(li.dataset.resumedAt || 0) };
  }),
  card: (name) => cards().find((c) => c.name === name),
});
return true;
"#;

/// Loads the page at `url`, signs in as `name` from the keyboard, and waits
/// until the first room is joined.
pub fn sign_in(b: &Browser, url: &str, name: &str) {
    b.goto(url);
    b.eval(HELPERS, &[]);
    b.wait("the sign-in form", "return document.activeElement.id === 'login-name'", &[]);
    b.type_into("#login-name", &format!("{name}{ENTER}"));
    b.wait("signed in", "return statusState() === 'connected'", &[]);
    b.wait("#lobby joined", "return lines().some((t) => t.startsWith('you joined #lobby'))", &[]);
}

/// Reloads the page (and the tests' helpers in it).
pub fn reload(b: &Browser) {
    b.reload();
    b.eval(HELPERS, &[]);
}

/// Types `text` into the message input and presses Enter.
pub fn send(b: &Browser, text: &str) {
    b.type_into("#input", &format!("{text}{ENTER}"));
}

/// Waits for a line (of any kind) whose text is `text`.
pub fn wait_line(b: &Browser, text: &str) {
    b.wait(&format!("the line {text:?}"), "return lines().includes(arguments[0])", &[json!(text)]);
}

/// Waits for a chat message from `from` with `text`.
pub fn wait_message(b: &Browser, from: &str, text: &str) {
    b.wait(
        &format!("{from}'s message {text:?}"),
        "return msgs().some((m) => m.from === arguments[0] && m.text === arguments[1])",
        &[json!(from), json!(text)],
    );
}

/// Waits until our own message `text` is marked sent (acknowledged; in a
/// conversation it may be delivered or read already).
pub fn wait_own_sent(b: &Browser, text: &str) {
    b.wait(
        &format!("our {text:?} marked sent"),
        "return msgs().some((m) => m.text === arguments[0] && m.cls.includes('sent') \
         && ['sent', 'delivered', 'read'].includes(m.state) && m.label === m.state)",
        &[json!(text)],
    );
}

/// Waits until our own message `text` shows `state` (sent, delivered, read).
pub fn wait_state(b: &Browser, text: &str, state: &str) {
    b.wait(
        &format!("our {text:?} marked {state}"),
        "return stateOf(arguments[0]) === arguments[1]",
        &[json!(text), json!(state)],
    );
}

/// Waits until the members list is exactly `names` (in its order).
pub fn wait_members(b: &Browser, names: &[&str]) {
    b.wait(
        &format!("members {names:?}"),
        "return JSON.stringify(members()) === JSON.stringify(arguments[0])",
        &[json!(names)],
    );
}

/// Asserts that the pages logged nothing (no errors, no CSP violations).
pub fn assert_quiet(pages: &[&Browser]) {
    for b in pages {
        let console = b.console();
        assert!(console.is_empty(), "no errors, no CSP violations: {console:#?}");
    }
}

/// The text content of the first element matching `css`.
pub fn text_of(b: &Browser, css: &str) -> String {
    let v = b.eval(
        "const e = document.querySelector(arguments[0]); return e && e.textContent",
        &[json!(css)],
    );
    v.as_str().unwrap_or_else(|| panic!("no {css} in the page")).to_string()
}

/// How many lines of the room shown have exactly `text`.
pub fn count_text(b: &Browser, text: &str) -> usize {
    let v = b.eval("return lines().filter((t) => t === arguments[0]).length", &[json!(text)]);
    v.as_u64().expect("a count") as usize
}

/// The texts of the chat messages of the room shown, top to bottom.
pub fn message_texts(b: &Browser) -> Vec<String> {
    let v = b.eval("return msgs().map((m) => m.text)", &[]);
    let Value::Array(items) = v else { panic!("not a list: {v}") };
    items.into_iter().map(|t| t.as_str().unwrap_or_default().to_string()).collect()
}

/// Where screenshots go: `BANTER_SCREENSHOT_DIR` (e.g. `docs`, to update
/// the README's pictures), else `target/screenshots`.
pub fn screenshot(b: &Browser, name: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = match std::env::var_os("BANTER_SCREENSHOT_DIR") {
        Some(d) => root.join(d),
        None => root.join("target/screenshots"),
    };
    b.screenshot(&dir.join(name));
}

/// A raw connection that joined `room` and read the whole JOIN answer.
pub fn member(addr: SocketAddr, name: &str, room: &str) -> Conn {
    let mut c = Conn::connect(addr);
    c.hello(name, "", 0);
    c.expect_welcome();
    c.send(&ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
    loop {
        if let ServerFrame::Roster { more: 0, .. } = c.recv_app() {
            return c;
        }
    }
}

/// Sends a SAY and waits for its ACK.
pub fn say(c: &mut Conn, room: &str, seq: u32, text: &str) {
    c.send(&ClientFrame::Say { flags: 0, room: room.into(), seq, text: text.into() });
    wait_acks(c, 1);
}

/// Reads until `n` ACKs have arrived; panics on an ERROR.
pub fn wait_acks(c: &mut Conn, n: usize) {
    let mut got = 0;
    while got < n {
        match c.recv_app() {
            ServerFrame::Ack { .. } => got += 1,
            f @ ServerFrame::Error { .. } => panic!("refused: {f:?}"),
            _ => {}
        }
    }
}

/// The next MSG a raw connection receives: (from, text).
pub fn next_msg(c: &mut Conn) -> (String, String) {
    loop {
        if let ServerFrame::Msg { from, text, .. } = c.recv_app() {
            return (from, text);
        }
    }
}

/// How long an answer that waits on password hashing may take (Argon2 in a
/// debug build, on a shared machine).
pub const HASH_WAIT: Duration = Duration::from_secs(20);

/// Loads the page at `url` and signs in as `name` with `password`;
/// `register`: with the Register button (the name is new). Waits until the
/// first room is joined (and, registering, until the server confirmed).
pub fn sign_in_with(b: &Browser, url: &str, name: &str, password: &str, register: bool) {
    b.goto(url);
    b.eval(HELPERS, &[]);
    b.wait("the sign-in form", "return document.activeElement.id === 'login-name'", &[]);
    b.clear("#login-name");
    b.type_into("#login-name", name);
    b.type_into("#login-password", password);
    if register {
        b.click("#login-register");
    } else {
        b.type_into("#login-password", ENTER);
    }
    b.wait_for(HASH_WAIT, "signed in", "return statusState() === 'connected'", &[]);
    b.wait("#lobby joined", "return lines().some((t) => t.startsWith('you joined #lobby'))", &[]);
    if register {
        let registered = format!("{name} is now registered");
        let script = "return lines().some((t) => t.startsWith(arguments[0]))";
        b.wait_for(HASH_WAIT, "registered", script, &[json!(registered)]);
    }
}

/// A raw connection signed in as the registered account `name` (registered
/// first when `register`).
pub fn raw_account(addr: SocketAddr, name: &str, password: &str, register: bool) -> Conn {
    let mut c = Conn::connect(addr);
    c.hello(name, if register { "" } else { password }, 0);
    let welcome = next_app_within(&mut c, HASH_WAIT);
    assert!(matches!(welcome, ServerFrame::Welcome { .. }), "{name}: {welcome:?}");
    if register {
        c.send(&ClientFrame::Register { password: password.into() });
        loop {
            match next_app_within(&mut c, HASH_WAIT) {
                ServerFrame::Registered { .. } => break,
                f @ ServerFrame::Error { .. } => panic!("{name} not registered: {f:?}"),
                _ => {}
            }
        }
    }
    c
}

/// Reads until a frame `want` accepts arrives within `limit`, returning it;
/// panics (with what came instead) when none does.
pub fn wait_frame(
    c: &mut Conn,
    limit: Duration,
    what: &str,
    want: impl Fn(&ServerFrame) -> bool,
) -> ServerFrame {
    let end = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match c.recv_within(left) {
            Some(ServerFrame::Ping { nonce }) => c.send(&ClientFrame::Pong { nonce }),
            Some(f) if want(&f) => return f,
            Some(f) => seen.push(f),
            None => break,
        }
    }
    panic!("no {what} within {limit:?}; got {seen:#?}");
}

/// Reads for `d`, panicking if a frame `unwanted` accepts arrives.
pub fn expect_none(c: &mut Conn, d: Duration, what: &str, unwanted: impl Fn(&ServerFrame) -> bool) {
    let end = Instant::now() + d;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match c.next_event(left) {
            Recv::Frame(ServerFrame::Ping { nonce }) => c.send(&ClientFrame::Pong { nonce }),
            Recv::Frame(f) if unwanted(&f) => panic!("{what}: {f:?}"),
            Recv::Frame(_) => {}
            Recv::Timeout => return,
            Recv::Closed => panic!("{what}: the server closed the connection instead"),
        }
    }
}

/// Asserts that nothing arrives for `d` but READ (the page reports what it
/// has seen on its own schedule), NOTICE and PING.
pub fn expect_only_receipts(c: &mut Conn, d: Duration) {
    let news =
        |f: &ServerFrame| !matches!(f, ServerFrame::Read { .. } | ServerFrame::Notice { .. });
    expect_none(c, d, "expected nothing but READ", news);
}
