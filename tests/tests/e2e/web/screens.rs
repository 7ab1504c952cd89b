//! What the web page shows and how it is used: hostile text stays inert, a
//! phone-sized screen works from the keyboard alone, signing in and
//! registering explain every refusal, and the page's frame codec agrees
//! with the spec's test vectors and with `banter_proto`.

use super::page::*;
use super::DESKTOP;
use banter_proto::{decode_client, ClientFrame, FileRef, ServerFrame, FLAG_ACTION};
use banter_tests::browser::{exclusive, Browser, Screen, ALT, ARROW_UP, ENTER, ESCAPE};
use banter_tests::front::front;
use banter_tests::*;
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn hostile_text_is_shown_as_text() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    let long = "W".repeat(3000);
    let hostile = [
        "<script>window.pwned = 1</script>",
        "<img src=x onerror=\"window.pwned = 2\">",
        "<b>not bold</b> &amp; &lt;",
        &long,
    ];
    for (i, t) in hostile.iter().enumerate() {
        say(&mut carol, "lobby", i as u32 + 1, t);
    }
    say(&mut carol, "lobby", 9, "abc\u{202E}fed\u{2066} and after");
    wait_message(&ada, "carol", "abc[U+202E]fed[U+2066] and after");
    send(&ada, "<img src=y onerror=\"window.pwned = 3\">");
    wait_own_sent(&ada, "<img src=y onerror=\"window.pwned = 3\">");
    assert_eq!(next_msg(&mut carol).1, "<img src=y onerror=\"window.pwned = 3\">");
    std::thread::sleep(Duration::from_millis(300)); // an image error would have fired by now

    for t in hostile {
        assert_eq!(count_text(&ada, t), 1, "{:.60} shown as text:\n{}", t, ada.describe());
    }
    let page = ada.eval(
        "const box = document.getElementById('messages');\
         const longLine = [...box.querySelectorAll('.msg')].find((li) => \
           li.querySelector('.text').textContent.length === 3000);\
         return { pwned: window.pwned === undefined ? null : window.pwned,\
           elements: box.querySelectorAll('img, script, b').length,\
           bidi: /[\\u202a-\\u202e\\u2066-\\u2069]/.test(box.textContent),\
           longFits: longLine.scrollWidth <= longLine.clientWidth,\
           boxFits: box.scrollWidth <= box.clientWidth,\
           pageFits: document.documentElement.scrollWidth <= innerWidth };",
        &[],
    );
    let want = json!({"pwned": null, "elements": 0, "bidi": false, "longFits": true,
        "boxFits": true, "pageFits": true});
    assert_eq!(page, want, "hostile text is inert and long words wrap");
}

#[test]
fn a_phone_sized_screen_works_from_the_keyboard() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(Screen::Phone { width: 390, height: 844 });
    sign_in(&ada, &web.url(), "ada");
    assert_eq!(ada.eval("return innerWidth", &[]), json!(390));
    assert_eq!(ada.eval("return document.activeElement.id", &[]), json!("input"));
    let layout = ada.eval(
        "const r = (id) => document.getElementById(id).getBoundingClientRect();\
         const shown = (id) => getComputedStyle(document.getElementById(id)).visibility;\
         return { sidebar: shown('sidebar'), members: shown('members'),\
           status: r('status').width > 0 && r('status').bottom <= innerHeight,\
           input: r('input').bottom <= innerHeight && r('send').right <= innerWidth,\
           fits: document.documentElement.scrollWidth <= innerWidth };",
        &[],
    );
    let want = json!({"sidebar": "hidden", "members": "hidden", "status": true, "input": true,
        "fits": true});
    assert_eq!(layout, want, "messages fill the phone's screen");

    ada.keys(&[], &format!("hello from a phone{ENTER}"));
    wait_own_sent(&ada, "hello from a phone");
    assert_eq!(next_msg(&mut carol), ("ada".into(), "hello from a phone".into()));
    say(&mut carol, "lobby", 1, &format!("a long link: https://example.com/{}", "x/".repeat(150)));
    say(&mut carol, "lobby", 2, "ada, it wraps on a phone too");
    wait_message(&ada, "carol", "ada, it wraps on a phone too");
    let fits = "return document.documentElement.scrollWidth <= innerWidth && \
         document.getElementById('messages').scrollWidth <= innerWidth";
    assert_eq!(ada.eval(fits, &[]), json!(true), "no sideways scrolling");
    screenshot(&ada, "web-client-phone.png");

    // The rooms panel opens over the messages and Escape closes it.
    ada.click("#rooms-toggle");
    ada.wait("rooms panel", "return getComputedStyle(sidebar).visibility === 'visible'", &[]);
    ada.keys(&[], ESCAPE);
    ada.wait(
        "panel closed",
        "return getComputedStyle(sidebar).visibility === 'hidden' && \
         document.activeElement.id === 'input'",
        &[],
    );
    ada.keys(&[], &format!("/join dev{ENTER}"));
    ada.wait("#dev", "return document.getElementById('room-title').textContent === '#dev'", &[]);
    ada.keys(&[ALT], ARROW_UP);
    ada.wait(
        "#lobby",
        "return document.getElementById('room-title').textContent === '#lobby'",
        &[],
    );
}

#[test]
fn sign_in_and_register_explain_every_refusal() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let ada = Browser::start(DESKTOP);
    ada.goto(&web.url());
    let error = "return document.getElementById('login-error').textContent";
    ada.type_into("#login-name", &format!("not a name!{ENTER}"));
    ada.wait("a name problem", &format!("{error}.includes('not valid')"), &[]);
    ada.clear("#login-name");
    ada.type_into("#login-name", "ada");
    ada.type_into("#login-password", "short");
    ada.click("#login-register");
    ada.wait("a password problem", &format!("{error}.includes('8 to 256 bytes')"), &[]);
    ada.clear("#login-password");
    ada.type_into("#login-password", "sesame-open-42");
    ada.click("#login-register");
    ada.wait(
        "registered",
        "return [...document.querySelectorAll('#messages .text')].some((e) => \
         e.textContent.startsWith('ada is now registered'))",
        &[],
    );

    let bob = Browser::start(DESKTOP);
    bob.goto(&web.url());
    bob.type_into("#login-name", &format!("ada{ENTER}"));
    bob.wait("name taken", &format!("{error}.includes('NAME_TAKEN')"), &[]);
    ada.click("#signout");
    ada.wait("signed out", "return !document.getElementById('login').hidden", &[]);
    for (password, code) in [("", "AUTH_FAILED"), ("wrong-password", "AUTH_FAILED")] {
        bob.clear("#login-password");
        bob.type_into("#login-password", &format!("{password}{ENTER}"));
        bob.wait(code, &format!("{error}.includes(arguments[0])"), &[json!(code)]);
    }
    bob.clear("#login-password");
    bob.type_into("#login-password", &format!("sesame-open-42{ENTER}"));
    bob.wait(
        "signed in",
        "return document.getElementById('me').textContent === 'ada' && \
         document.getElementById('status').dataset.state === 'connected'",
        &[],
    );
    let password_shown = bob.eval("return document.body.innerText.includes('sesame')", &[]);
    assert_eq!(password_shown, json!(false));

    // A reload resumes, but a registered name needs its password again.
    reload(&bob);
    bob.wait("asked for the password", &format!("{error}.includes('password to resume')"), &[]);
    assert_eq!(bob.eval("return document.getElementById('login-name').value", &[]), json!("ada"));
    bob.type_into("#login-password", &format!("sesame-open-42{ENTER}"));
    bob.wait("resumed", "return statusState() === 'connected'", &[]);
    // What the page leaves behind when it goes away: the token, not the password.
    let stored = bob.eval(
        "window.dispatchEvent(new PageTransitionEvent('pagehide'));\
         return JSON.stringify(sessionStorage) + JSON.stringify(localStorage)",
        &[],
    );
    let stored = stored.as_str().expect("storage as text");
    assert!(stored.contains("token") && !stored.contains("sesame"), "{stored}");
}

/// Bytes as a JSON array, for the page's scripts.
fn bytes(f: &ServerFrame) -> Value {
    json!(f.to_bytes())
}

#[test]
fn the_page_codec_agrees_with_the_spec_and_banter_proto() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let b = Browser::start(DESKTOP);
    b.goto(&web.url());
    // §5's vectors, encoded by the page.
    let encoded = b.eval(CODEC_ENCODE, &[]);
    let vectors = json!({
        "hello": "00 00 00 12 01 00 01 00 03 61 64 61 00 00 00 00 00 00 00 00 00 00",
        "join": "00 00 00 12 02 00 05 6c 6f 62 62 79 00 00 00 00 00 00 00 00 00 14",
        "say": "00 00 00 13 04 00 05 6c 6f 62 62 79 00 00 00 07 00 05 68 69 20 c3 a9",
        "ping": "00 00 00 09 0e 00 00 00 00 00 00 00 2a",
    });
    assert_eq!(encoded["vectors"], vectors);
    let action = hex_bytes(encoded["action"].as_str().expect("hex"));
    let want = ClientFrame::Say { room: "lobby".into(), seq: 8, text: "waves".into(), flags: 4 };
    assert_eq!(decode_client(&action), Ok(want), "SAY.flags travels last");
    let mark = hex_bytes(encoded["mark"].as_str().expect("hex"));
    let want = ClientFrame::Mark { room: "@bob".into(), id: u64::MAX - 2 };
    assert_eq!(decode_client(&mark), Ok(want));
    let files: Vec<ClientFrame> = ["upload", "chunk", "fetch"]
        .iter()
        .map(|k| decode_client(&hex_bytes(encoded[k].as_str().expect("hex"))).expect(k))
        .collect();
    let want = [
        ClientFrame::Upload {
            seq: 9,
            room: "@bob".into(),
            name: "été.png".into(),
            size: (1 << 40) + 3,
            mime: "image/png".into(),
        },
        ClientFrame::Chunk { seq: 9, offset: (1 << 33) + 1, data: vec![0, 1, 255, 128] },
        ClientFrame::Fetch { file: "ab".repeat(32), offset: 70_000 },
    ];
    assert_eq!(files, want, "the file frames (§10)");
    assert_eq!(
        encoded["fatal"],
        json!([true, false, true]),
        "AUTH_REQUIRED is fatal to HELLO only"
    );

    // Server frames encoded by banter_proto, decoded by the page byte by byte.
    let welcome = ServerFrame::Welcome {
        version: 1,
        name: "Ada".into(),
        token: u64::MAX - 1,
        resumed: 1,
        heartbeat_ms: 5000,
        max_frame: 65536,
        max_text: 4096,
        server: "banterd".into(),
        features: vec!["tls".into(), "dm".into()],
    };
    let joined = ServerFrame::Joined { room: "lobby".into(), last_id: 9, members: 2, read: 7 };
    let file = Some(FileRef { file: "ab12".into(), size: 5, mime: "text/plain".into() });
    let msg = ServerFrame::Msg {
        room: "lobby".into(),
        id: 3,
        ts: 1_764_300_000_000,
        from: "bob".into(),
        flags: FLAG_ACTION,
        text: "é €".into(),
        file: None,
    };
    let file_msg = ServerFrame::Msg {
        room: "lobby".into(),
        id: 4,
        ts: 1,
        from: "bob".into(),
        flags: 0,
        text: "a.txt".into(),
        file,
    };
    let read = ServerFrame::Read { room: "@ada".into(), name: "Ada".into(), id: 5 };
    let delivered = ServerFrame::Delivered { room: "@ada".into(), id: 6 };
    let unread = ServerFrame::Unread { room: "@bob".into(), count: 3, last_id: 9, read: 6 };
    let ready = ServerFrame::UploadReady { seq: 9, offset: (1 << 33) + 1 };
    let data =
        ServerFrame::FileData { file: "ab12".into(), offset: 7, last: 1, data: vec![0, 255] };
    let frames = json!([
        bytes(&welcome),
        bytes(&joined),
        bytes(&msg),
        bytes(&file_msg),
        bytes(&read),
        bytes(&delivered),
        bytes(&unread),
        bytes(&ready),
        bytes(&data)
    ]);
    let decoded = b.eval(CODEC_DECODE, &[frames]);
    let want = json!({
        "frames": [
            {"kind": "welcome", "version": 1, "name": "Ada", "token": (u64::MAX - 1).to_string(),
             "resumed": true, "heartbeatMs": 5000, "maxFrame": 65536, "maxText": 4096,
             "server": "banterd", "features": ["tls", "dm"]},
            {"kind": "joined", "room": "lobby", "lastId": "9", "members": 2, "read": "7"},
            {"kind": "msg", "room": "lobby", "id": "3", "ts": 1_764_300_000_000u64,
             "from": "bob", "flags": 4, "text": "é €", "file": null},
            {"kind": "msg", "room": "lobby", "id": "4", "ts": 1, "from": "bob", "flags": 2,
             "text": "a.txt", "file": {"file": "ab12", "size": "5", "mime": "text/plain"}},
            {"kind": "read", "room": "@ada", "name": "Ada", "id": "5"},
            {"kind": "delivered", "room": "@ada", "id": "6"},
            {"kind": "unread", "room": "@bob", "count": 3, "lastId": "9", "read": "6"},
            {"kind": "uploadReady", "seq": 9, "offset": ((1u64 << 33) + 1).to_string()},
            {"kind": "fileData", "file": "ab12", "offset": "7", "last": true, "data": [0, 255]},
        ],
        "badUtf8": "MalformedFrame", "short": "MalformedFrame", "unknown": null,
        "lenZero": "FramingError", "tooLong": "FramingError",
        "mentions": [true, true, false, false], "backoff": [true, true],
    });
    assert_eq!(decoded, want);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    s.split(' ').map(|h| u8::from_str_radix(h, 16).expect("hex")).collect()
}

/// Encodes §5's vectors (and a SAY with flags) with the page's codec.
const CODEC_ENCODE: &str = r#"return (async () => {
  const { encode, isFatal, T } = await import('/codec.js');
  const hex = (u) => [...u].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return {
    vectors: {
      hello: hex(encode.hello('ada', '', 0n)), join: hex(encode.join('lobby', 0n, 20)),
      say: hex(encode.say('lobby', 7, 'hi é')), ping: hex(encode.ping(42n)),
    },
    action: hex(encode.say('lobby', 8, 'waves', 4)),
    mark: hex(encode.mark('@bob', 2n ** 64n - 3n)),
    upload: hex(encode.upload(9, '@bob', 'été.png', 2 ** 40 + 3, 'image/png')),
    chunk: hex(encode.chunk(9, 2 ** 33 + 1, new Uint8Array([0, 1, 255, 128]))),
    fetch: hex(encode.fetch('ab'.repeat(32), 70000)),
    fatal: [isFatal(20, T.HELLO), isFatal(20, T.JOIN), isFatal(6, T.HELLO)],
  };
})()"#;

/// Feeds the frames in `arguments[0]` one byte at a time to the page's
/// deframer and decoder, then checks its refusals and helpers.
const CODEC_DECODE: &str = r#"return (async () => {
  const c = await import('/codec.js');
  const { mentions } = await import('/text.js');
  const { backoffMs } = await import('/connection.js');
  const plain = (v) => JSON.parse(JSON.stringify(v, (k, x) => typeof x === 'bigint' ? String(x)
    : x instanceof Uint8Array ? [...x] : x));
  const d = new c.Deframer();
  const frames = [];
  for (const b of arguments[0].flat()) {
    d.push(new Uint8Array([b]));
    for (let f = d.next(); f; f = d.next()) frames.push(plain(c.decodeServer(f.type, f.body)));
  }
  const err = (fn) => { try { fn(); return 'none'; } catch (e) { return e.constructor.name; } };
  const frame = (bytes) => { const x = new c.Deframer(); x.push(new Uint8Array(bytes)); return x.next(); };
  return {
    frames,
    badUtf8: err(() => c.decodeServer(0x2b, new Uint8Array([0, 2, 0xc3, 0x28]))),
    short: err(() => c.decodeServer(0x26, new Uint8Array([0, 0, 0]))),
    unknown: c.decodeServer(0x7f, new Uint8Array([1, 2, 3])),
    lenZero: err(() => frame([0, 0, 0, 0, 0x2b])),
    tooLong: err(() => frame([0, 1, 0, 1, 0x2b])),
    mentions: [mentions('hi ada.', 'Ada'), mentions('@ada: look', 'ada'),
      mentions('adam', 'ada'), mentions('x.ada', 'ada')],
    backoff: [backoffMs(1) >= 250 && backoffMs(1) <= 500,
      backoffMs(30) >= 15000 && backoffMs(30) <= 30000],
  };
})()"#;

#[test]
fn mentions_notify_only_once_asked_for() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let mut carol = member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &web.url(), "ada");
    // Record notifications instead of showing them (chromedriver grants the
    // permission, so the page's own checks pass as for a user who allowed it).
    ada.eval(
        "window.shown = [];\
         window.Notification = class { constructor(title, o) { shown.push([title, o.body]); }\
           static get permission() { return 'granted'; }\
           static requestPermission() { return Promise.resolve('granted'); } };",
        &[],
    );
    send(&ada, "/join dev");
    ada.wait("#dev", "return document.getElementById('room-title').textContent === '#dev'", &[]);
    say(&mut carol, "lobby", 1, "ada: before you asked");
    ada.wait("unread", "return badge('lobby') === '1'", &[]);
    assert_eq!(ada.eval("return shown", &[]), json!([]), "nothing until asked for");
    ada.click("#notify");
    ada.wait("enabled", "return document.getElementById('notify').textContent.endsWith('on')", &[]);
    say(&mut carol, "lobby", 2, "no mention here");
    say(&mut carol, "lobby", 3, "@ada now you are notified");
    ada.wait("a notification", "return shown.length > 0", &[]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        ada.eval("return shown", &[]),
        json!([["carol in #lobby", "@ada now you are notified"]])
    );
}

#[test]
fn the_message_list_keeps_id_order_and_day_separators() {
    let _one = exclusive();
    let s = Server::start(&[]);
    let web = front(s.port());
    let b = Browser::start(DESKTOP);
    b.goto(&web.url());
    let got = b.eval(MESSAGE_LIST, &[]);
    let want = json!({
        "order": ["day", "1", "day", "2", "3", "day", "5", "seq7", "info"],
        "days": ["Saturday, November 1, 2025", "Yesterday", "Today"],
        "afterAck": ["day", "1", "day", "2", "3", "day", "5", "7", "info"],
        "failed": "not sent: TEXT_INVALID: too long Retry",
        "moved": ["9", "10"],
        "oldest": "32",
        "kept": ["32", "33", "34", "35", "36", "37", "38", "39", "40", "seq8"],
        "older": true,
    });
    assert_eq!(got, want);
}

/// Builds a message list in the page from its own module: history above,
/// live below, our pending message last until its ACK places it by id.
const MESSAGE_LIST: &str = r#"return (async () => {
  const { MessageList } = await import('/messages.js');
  const day = 86400000, now = Date.now();
  const list = new MessageList(() => {}, () => {});
  const msg = (id, ts, older) => list.addMessage({ id: BigInt(id), ts, from: 'bob', text: `m${id}`,
    action: false, older });
  msg(3, now - day, false);
  msg(5, now, false);
  msg(2, now - day, true);
  msg(1, Date.UTC(2025, 10, 1, 12), true);
  list.addPending(7, 'ada', 'mine', false);
  list.addInfo('bob left');
  const kinds = () => [...list.el.children].filter((li) => li !== list.olderItem).map((li) =>
    li.classList.contains('day') ? 'day' : li.dataset.id || (li.dataset.seq ? `seq${li.dataset.seq}`
      : 'info'));
  const order = kinds();
  const days = [...list.el.querySelectorAll('.day')].map((d) => d.textContent);
  list.acked(7, 7n, now);
  const afterAck = kinds();
  list.addPending(8, 'ada', 'too long', false);
  list.failed(8, 'TEXT_INVALID: too long');
  const failed = list.el.querySelector('[data-seq="8"] .mark').textContent;
  list.addPending(9, 'ada', 'nine', false);
  msg(10, now, false); // arrives before our ACK: shown above our pending line
  list.acked(9, 9n, now);
  const moved = kinds().filter((k) => k === '9' || k === '10');
  for (let id = 11; id <= 40; id++) msg(id, now, false);
  const oldest = list.trim(10, 20);
  const kept = kinds().filter((k) => k !== 'day');
  return { order, days, afterAck, failed, moved, oldest: String(oldest), kept,
    older: !list.olderItem.hidden };
})()"#;
