//! Files in the web client (§10) against banterd with `--files`: sent by
//! the Attach button, by a drop and by a paste, received by another page
//! and a raw-socket member; a real image previewed from a blob: URL, while
//! HTML, SVG and a lying "png" are only offered as downloads and saved
//! byte for byte under their names; progress and cancel both ways, an
//! upload resumed after the connection is cut mid-way, and refusals shown
//! in words.

use super::page::*;
use super::DESKTOP;
use banter_proto::{ClientFrame, FileRef, ServerFrame, FLAG_FILE};
use banter_tests::browser::{exclusive, Browser};
use banter_tests::front::{front, Relay};
use banter_tests::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::time::Duration;

pub(super) const PW: &str = "sesame-open-42";

/// A real 2×3 PNG (red pixels).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x08, 0x02, 0x00, 0x00, 0x00, 0x36, 0x88, 0x49,
    0xd6, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x44, 0x0c, 0x28, 0x14, 0x00, 0x44, 0xd0, 0x05, 0xfb, 0xa4, 0xcf, 0xde, 0x80, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// An HTML page whose script would leave marks if it ever ran in the page.
const HTML: &[u8] = b"<!doctype html><script>parent.pwned = 'html'; top.document.title = \
    'pwned'</script><h1>not for rendering</h1>";

/// An SVG with scripts, sent as an image.
const SVG: &[u8] = b"<svg xmlns='http://www.w3.org/2000/svg' onload=\"parent.pwned='svg'\">\
    <script>parent.pwned = 'svg script'</script><circle r='5'/></svg>";

/// Draws a 320×180 picture on a canvas and drops it as `sketch.png`.
const DRAW: &str = r#"return (async () => {
  const c = document.createElement('canvas');
  c.width = 320; c.height = 180;
  const g = c.getContext('2d');
  const sky = g.createLinearGradient(0, 0, 0, 180);
  sky.addColorStop(0, '#7fb2f0'); sky.addColorStop(1, '#e8f1fb');
  g.fillStyle = sky; g.fillRect(0, 0, 320, 180);
  g.fillStyle = '#f6c945'; g.beginPath(); g.arc(250, 50, 26, 0, 7); g.fill();
  g.fillStyle = '#3d7a3a'; g.beginPath(); g.moveTo(0, 180); g.lineTo(90, 80);
  g.lineTo(170, 150); g.lineTo(230, 100); g.lineTo(320, 180); g.fill();
  const blob = await new Promise((ok) => c.toBlob(ok, 'image/png'));
  const dt = new DataTransfer();
  dt.items.add(new File([blob], 'sketch.png', { type: 'image/png' }));
  const at = document.getElementById('messages');
  for (const t of ['dragenter', 'dragover', 'drop']) {
    at.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }
  return true;
})()"#;

pub(super) fn sha(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` bytes that are not all alike; the pages make the same with [`MAKE_BYTES`].
pub(super) fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Page script: `bytes(n)` as a Uint8Array (see [`bytes`]).
const MAKE_BYTES: &str =
    "const make = (n) => new Uint8Array(n).map((_, i) => (i * 7 + Math.floor(i / 251)) & 255);";

pub(super) fn files_server(dir: &TempDir, extra: &[&str]) -> Server {
    let files = dir.0.join("files").display().to_string();
    let mut args = vec!["--files", files.as_str(), "--rate", "0"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// A raw registered account in `room`, its JOIN answer read.
fn raw_member(addr: SocketAddr, name: &str, room: &str) -> Conn {
    let mut c = raw_account(addr, name, PW, true);
    c.send(&ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
    wait_frame(&mut c, WAIT, "the ROSTER", |f| matches!(f, ServerFrame::Roster { more: 0, .. }));
    c
}

/// The next file message a raw member receives: (from, name, file).
fn file_msg(c: &mut Conn) -> (String, String, FileRef) {
    let f = wait_frame(
        c,
        WAIT,
        "a file message",
        |f| matches!(f, ServerFrame::Msg { flags, .. } if flags & FLAG_FILE != 0),
    );
    match f {
        ServerFrame::Msg { from, text, file: Some(file), .. } => (from, text, file),
        f => panic!("a file message without its file: {f:?}"),
    }
}

/// A whole upload from a raw member (`mime` as it declares it).
fn raw_upload(c: &mut Conn, seq: u32, room: &str, name: &str, mime: &str, data: &[u8]) {
    let (room, name, mime) = (room.into(), name.into(), mime.into());
    c.send(&ClientFrame::Upload { seq, room, name, size: data.len() as u64, mime });
    // READs and presence of the browsers' users may come first.
    let ready = |f: &ServerFrame| matches!(f, ServerFrame::UploadReady { seq: s, .. } if *s == seq);
    let f = wait_frame(c, WAIT, "UPLOAD_READY", ready);
    assert_eq!(f, ServerFrame::UploadReady { seq, offset: 0 });
    c.send(&ClientFrame::Chunk { seq, offset: 0, data: data.to_vec() });
    let ack = |f: &ServerFrame| matches!(f, ServerFrame::Ack { seq: s, .. } if *s == seq);
    wait_frame(c, HASH_WAIT, "the upload's ACK", ack);
}

/// Drops a file made in the page (`bytes` of it, or `n` made bytes) on the messages.
pub(super) fn drop_file(b: &Browser, name: &str, mime: &str, data: Value) {
    let script = format!(
        "{MAKE_BYTES} const [name, type, data] = arguments;\
         const dt = new DataTransfer();\
         const body = typeof data === 'number' ? make(data) : new Uint8Array(data);\
         dt.items.add(new File([body], name, {{ type }}));\
         const at = document.getElementById('messages');\
         for (const t of ['dragenter', 'dragover', 'drop']) {{\
           at.dispatchEvent(new DragEvent(t, {{ dataTransfer: dt, bubbles: true, cancelable: true }}));\
         }}"
    );
    b.eval(&script, &[json!(name), json!(mime), data]);
}

/// Pastes a file into the message input, as a screenshot would be pasted.
fn paste_file(b: &Browser, name: &str, mime: &str, data: &[u8]) {
    b.eval(
        "const [name, type, data] = arguments;\
         const dt = new DataTransfer();\
         dt.items.add(new File([new Uint8Array(data)], name, { type }));\
         document.getElementById('input').dispatchEvent(\
           new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));",
        &[json!(name), json!(mime), json!(data)],
    );
}

/// Waits until the card of `name` satisfies `cond` (a script on `c`, the card).
pub(super) fn wait_card(b: &Browser, name: &str, what: &str, cond: &str) -> Value {
    let script = format!("const c = card(arguments[0]); return !!c && ({cond}) && c");
    b.wait(&format!("{name}: {what}"), &script, &[json!(name)])
}

/// Waits until our own file `name` is marked sent.
pub(super) fn wait_file_sent(b: &Browser, name: &str) -> Value {
    wait_card(b, name, "sent", "c.cls.includes('sent') && c.upload === ''")
}

/// Waits until `name` shows its preview: a loaded image from a blob: URL.
fn wait_preview(b: &Browser, name: &str, width: u64) {
    let c = wait_card(b, name, "previewed", "c.img && !c.img.hidden && c.img.width > 0");
    assert!(c["img"]["src"].as_str().unwrap().starts_with("blob:"), "{c}");
    assert_eq!(c["img"]["width"], json!(width), "the image itself: {c}");
}

/// Clicks the first button of `name`'s card whose text is `label`.
pub(super) fn click_action(b: &Browser, name: &str, label: &str) {
    let clicked = b.eval(
        "const li = [...document.querySelectorAll('#messages .msg.file')]\
           .find((li) => li.querySelector('.file-name').textContent === arguments[0]);\
         const btn = li && [...li.querySelectorAll('button')]\
           .find((x) => x.textContent === arguments[1]);\
         if (btn) btn.click();\
         return !!btn;",
        &[json!(name), json!(label)],
    );
    assert_eq!(clicked, json!(true), "no {label:?} on {name}:\n{}", b.describe());
}

/// What a page must never show for a file: anything that renders it.
fn assert_inert(b: &Browser) {
    let v = b.eval(
        "return { frames: document.querySelectorAll('iframe, object, embed, svg image, \
           #messages svg').length, pwned: window.pwned || null, \
           title: document.title.includes('pwned'), \
           imgs: [...document.querySelectorAll('#messages img')].filter((i) => \
             !i.src.startsWith('blob:')).length }",
        &[],
    );
    assert_eq!(v, json!({"frames": 0, "pwned": null, "title": false, "imgs": 0}));
}

#[test]
fn files_go_by_button_drop_and_paste_and_only_images_render() {
    let _one = exclusive();
    let dir = TempDir::new("web-files");
    let s = files_server(&dir, &[]);
    let web = front(s.port());
    let mut carol = raw_member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in_with(&ada, &web.url(), "ada", PW, true);
    let bob = Browser::start(DESKTOP);
    sign_in(&bob, &web.url(), "bob"); // a guest may download, not upload

    // The Attach button's file input, given a file from disk.
    let png_path = dir.0.join("dot.png");
    std::fs::write(&png_path, PNG).expect("write the png");
    ada.type_into("#file-input", png_path.to_str().expect("utf-8 path"));
    wait_preview(&ada, "dot.png", 2); // our own, from the file itself
    let own = wait_file_sent(&ada, "dot.png");
    assert_eq!(own["meta"], json!("73 bytes · image/png"));
    let (from, name, file) = file_msg(&mut carol);
    assert_eq!((from.as_str(), name.as_str()), ("ada", "dot.png"));
    assert_eq!((file.file, file.size, file.mime.as_str()), (sha(PNG), 73, "image/png"));
    wait_preview(&bob, "dot.png", 2);

    // Dropped: an HTML page is offered, never rendered; saved as it was sent.
    drop_file(&ada, "page.html", "text/html", json!(HTML));
    wait_file_sent(&ada, "page.html");
    let (_, name, file) = file_msg(&mut carol);
    assert_eq!(
        (name.as_str(), file.mime.as_str(), file.file),
        ("page.html", "text/html", sha(HTML))
    );
    let c = wait_card(&bob, "page.html", "offered", "c.actions.includes('Download')");
    assert_eq!(c["img"], Value::Null);
    click_action(&bob, "page.html", "Download");
    assert_eq!(bob.downloaded("page.html"), HTML, "saved byte for byte under its name");
    wait_card(&bob, "page.html", "saved", "c.status === 'saved as page.html'");

    // Pasted: an SVG, declared an image, is a download too.
    paste_file(&ada, "drawing.svg", "image/svg+xml", SVG);
    wait_file_sent(&ada, "drawing.svg");
    let (_, name, file) = file_msg(&mut carol);
    assert_eq!((name.as_str(), file.mime.as_str()), ("drawing.svg", "image/svg+xml"));
    wait_card(&bob, "drawing.svg", "offered", "c.actions.includes('Download') && !c.img");

    // A raw member lies: HTML declared as a png is looked at, and not shown.
    raw_upload(&mut carol, 1, "lobby", "cat.png", "image/png", HTML);
    for b in [&ada, &bob] {
        let c = wait_card(b, "cat.png", "refused as an image", "c.error && !c.img");
        assert_eq!(c["status"], json!("not shown: its bytes are not a PNG image"));
        assert_eq!(c["actions"], json!(["Save"]));
    }
    // A name built to mislead shows its tricks and is saved cleaned.
    raw_upload(&mut carol, 3, "lobby", "..\\notes\u{202e}txt.exe", "text/plain", b"plain");
    let shown = "..\\notes[U+202E]txt.exe";
    wait_card(&bob, shown, "offered", "c.actions.includes('Download')");
    click_action(&bob, shown, "Download");
    assert_eq!(bob.downloaded("_notes_txt.exe"), b"plain");
    for b in [&ada, &bob] {
        assert_inert(b);
    }
    // An image that comes while its room is not shown loads once it is.
    send(&bob, "/join dev");
    bob.wait("#dev shown", "return title() === '#dev'", &[]);
    raw_upload(&mut carol, 2, "lobby", "red.png", "image/png", PNG);
    bob.wait("counted", "return badge('lobby') === '1'", &[]);
    bob.click("li[data-room=lobby] .open");
    wait_preview(&bob, "red.png", 2);
    // A picture drawn in ada's page, for the README.
    ada.eval(DRAW, &[]);
    wait_file_sent(&ada, "sketch.png");
    wait_preview(&bob, "sketch.png", 320);
    screenshot(&bob, "web-client-files.png");
    click_action(&bob, "cat.png", "Save");
    assert_eq!(bob.downloaded("cat.png"), HTML, "still saved as sent");

    // After a reload the history shows the same cards.
    reload(&bob);
    bob.wait("resumed", "return statusState() === 'connected'", &[]);
    wait_preview(&bob, "dot.png", 2);
    wait_preview(&bob, "sketch.png", 320);
    let c_meta = bob.eval("return card('sketch.png').meta", &[]);
    let names = bob.eval("return cards().map((c) => [c.from, c.name, c.meta])", &[]);
    assert_eq!(
        names,
        json!([
            ["ada", "dot.png", "73 bytes · image/png"],
            ["ada", "page.html", format!("{} bytes · text/html", HTML.len())],
            ["ada", "drawing.svg", format!("{} bytes · image/svg+xml", SVG.len())],
            ["carol", "cat.png", format!("{} bytes · image/png", HTML.len())],
            ["carol", "..\\notes[U+202E]txt.exe", "5 bytes · text/plain"],
            ["carol", "red.png", "73 bytes · image/png"],
            ["ada", "sketch.png", c_meta],
        ])
    );
    wait_card(&bob, "page.html", "offered again", "c.actions.includes('Download')");
    assert_inert(&bob);
    assert_quiet(&[&ada, &bob]);
}

/// How long the page may take to come back after a cut (backoff and resume).
const BACK: Duration = Duration::from_secs(30);

/// [`wait_card`] with another limit.
fn wait_card_for(b: &Browser, limit: Duration, name: &str, what: &str, cond: &str) -> Value {
    let script = format!("const c = card(arguments[0]); return !!c && ({cond}) && c");
    b.wait_for(limit, &format!("{name}: {what}"), &script, &[json!(name)])
}

/// The bar of `name` part-way: more than nothing, less than all.
const PART_WAY: &str = "c.bar && c.bar[0] > 0 && c.bar[0] < c.bar[1]";

#[test]
fn transfers_show_progress_cancel_and_resume_after_a_cut() {
    let _one = exclusive();
    let dir = TempDir::new("web-files-cut");
    // carol's socket is read only now and then: a long heartbeat keeps it.
    let s = files_server(&dir, &["--heartbeat-ms", "30000"]);
    let relay = Relay::start(front(s.port()).addr);
    let mut carol = raw_member(s.addr, "carol", "lobby");
    let ada = Browser::start(DESKTOP);
    sign_in_with(&ada, &relay.url(), "ada", PW, true);
    let bob = Browser::start(DESKTOP);
    sign_in(&bob, &relay.url(), "bob");
    const BIG: usize = 4 << 20;
    let big = bytes(BIG);

    // Slowed down, a 4 MiB upload is seen moving; the connection is cut
    // mid-way, and the upload goes on from what the server had.
    relay.throttle(1 << 20);
    drop_file(&ada, "big.bin", "application/octet-stream", json!(BIG));
    let c = wait_card(&ada, "big.bin", "moving", &format!("c.upload === 'sending' && {PART_WAY}"));
    assert!(c["status"].as_str().unwrap().starts_with("sending "), "{c}");
    std::thread::sleep(Duration::from_millis(1500));
    relay.cut();
    ada.wait("offline", "return statusState() === 'waiting'", &[]);
    let waiting = "c.upload === 'queued' && c.status === 'waiting for the connection…'";
    wait_card(&ada, "big.bin", "waiting", waiting);
    assert!(text_of(&ada, "#status-text").contains("sending 1 file"), "{}", ada.describe());
    relay.throttle(0);
    relay.restore();
    let c = wait_card_for(&ada, BACK, "big.bin", "sent", "c.cls.includes('sent')");
    let at = c["resumedAt"].as_u64().unwrap();
    assert!(at > 0 && at < BIG as u64, "resumed part-way, not from the start: {c}");
    let (_, name, file) = file_msg(&mut carol);
    assert_eq!((name.as_str(), file.size, file.file), ("big.bin", BIG as u64, sha(&big)));

    // Cancelled mid-way: the card goes, nothing is posted, the next file goes.
    relay.throttle(1 << 20);
    drop_file(&ada, "second.bin", "application/octet-stream", json!(BIG));
    wait_card(&ada, "second.bin", "moving", &format!("c.upload === 'sending' && {PART_WAY}"));
    click_action(&ada, "second.bin", "Cancel");
    wait_line(&ada, "not sent: you cancelled second.bin");
    assert_eq!(ada.eval("return !card('second.bin')", &[]), json!(true));
    relay.throttle(0);
    drop_file(&ada, "after.txt", "text/plain", json!(b"after the cancel"));
    wait_file_sent(&ada, "after.txt");
    let (_, name, _) = file_msg(&mut carol);
    assert_eq!(name, "after.txt", "the cancelled file was never posted");
    assert!(!text_of(&ada, "#status-text").contains("sending"), "{}", ada.describe());

    // A download shows its progress and can be stopped; the card offers it again.
    relay.throttle(2 << 20);
    click_action(&bob, "big.bin", "Download");
    let c = wait_card(&bob, "big.bin", "downloading", PART_WAY);
    assert!(c["status"].as_str().unwrap().starts_with("downloading "), "{c}");
    click_action(&bob, "big.bin", "Cancel");
    let c = wait_card(&bob, "big.bin", "stopped", "c.status === 'download cancelled'");
    assert_eq!((&c["actions"], &c["bar"]), (&json!(["Download"]), &Value::Null));
    // Started again, it goes on after a cut, and is saved whole.
    click_action(&bob, "big.bin", "Download");
    wait_card(&bob, "big.bin", "downloading again", PART_WAY);
    relay.cut();
    bob.wait("offline", "return statusState() === 'waiting'", &[]);
    relay.throttle(0);
    relay.restore();
    bob.wait_for(BACK, "back", "return statusState() === 'connected'", &[]);
    assert_eq!(bob.downloaded("big.bin"), big, "saved whole after the cut");
    let found: Vec<_> = std::fs::read_dir(bob.downloads()).expect("downloads").flatten().collect();
    assert_eq!(found.len(), 1, "one file saved: {found:?}");
    assert_quiet(&[&ada, &bob]);
}

#[test]
fn refusals_are_shown_in_words_and_can_be_retried() {
    let _one = exclusive();
    // A server without --files: no Attach button; a drop is refused in words.
    let plain = Server::start(&[]);
    let ada = Browser::start(DESKTOP);
    sign_in(&ada, &front(plain.port()).url(), "ada");
    assert_eq!(ada.eval("return document.getElementById('attach').hidden", &[]), json!(true));
    drop_file(&ada, "notes.txt", "text/plain", json!(b"some notes"));
    wait_line(&ada, "not sent: this server does not take files");
    assert_eq!(ada.eval("return cards().length", &[]), json!(0));

    // With --max-file 1000: a guest is told files need an account...
    let dir = TempDir::new("web-files-refused");
    let s = files_server(&dir, &["--max-file", "1000"]);
    let mut carol = raw_member(s.addr, "carol", "lobby");
    sign_in(&ada, &front(s.port()).url(), "ada");
    assert_eq!(ada.eval("return document.getElementById('attach').hidden", &[]), json!(false));
    drop_file(&ada, "notes.txt", "text/plain", json!(b"some notes"));
    let c = wait_card(&ada, "notes.txt", "refused", "c.upload === 'failed'");
    assert_eq!(
        c["status"],
        json!(
            "refused by the server: files need an account: sign in with your password or /register"
        )
    );
    assert_eq!(c["actions"], json!(["Remove"]));
    let mark = "return msgs().find((m) => m.text === 'notes.txt').mark";
    let mark = ada.eval(mark, &[]);
    assert!(mark.as_str().unwrap().starts_with("not sent: FILE_REFUSED: files need an account"));
    // ...who registers and retries: the same file goes.
    send(&ada, &format!("/register {PW}"));
    let registered = "return lines().some((t) => t.startsWith('ada is now registered'))";
    ada.wait_for(HASH_WAIT, "registered", registered, &[]);
    ada.click("#messages .msg.failed .retry");
    wait_file_sent(&ada, "notes.txt");
    let (_, name, _) = file_msg(&mut carol);
    assert_eq!(name, "notes.txt");

    // Over the server's limit: refused with the limit; Remove takes it away.
    drop_file(&ada, "big.bin", "application/octet-stream", json!(2000));
    let c = wait_card(&ada, "big.bin", "refused", "c.upload === 'failed'");
    assert_eq!(
        c["status"],
        json!(
            "refused by the server: the file is over the server's limit of 1000 bytes (--max-file)"
        )
    );
    click_action(&ada, "big.bin", "Remove");
    ada.wait("removed", "return !card('big.bin')", &[]);
    // An empty file is refused before sending.
    drop_file(&ada, "empty.txt", "text/plain", json!([]));
    wait_line(&ada, "not sent: \"empty.txt\" is empty: nothing to send");
    assert!(!text_of(&ada, "#status-text").contains("sending"), "{}", ada.describe());
    assert_quiet(&[&ada]);
}
