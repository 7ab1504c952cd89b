//! File sharing in the client (§10) against the real server: files sent
//! with `/send` from the terminal UI (1 byte, exactly one chunk, several
//! MiB) and from line mode, fetched intact by a raw client; `/get` saving
//! inside its directory without ever overwriting, whatever the names; an
//! upload resumed after a cut connection; every refusal in words. A
//! scripted server sends what the real one refuses: names with `/`, bytes
//! that do not match their hash, more bytes than announced.

use super::direct::{pw, register, signed_in};
use super::outage::Proxy;
use super::*;
use crate::server_files::{account, bytes, files_server, sha, upload};
use crate::server_util::join;
use banter_proto::FileRef;
use std::path::Path;

/// Bytes per CHUNK the client sends under the default frame limit.
const CHUNK: usize = 65_536 - 128;
/// Raw connections here wait on the client (on a busy machine, for
/// seconds) without reading: a heartbeat that does not drop them meanwhile.
const SLOW_HEARTBEAT: [&str; 2] = ["--heartbeat-ms", "30000"];

/// The next file message `c` receives (other frames are skipped).
fn next_file(c: &mut Conn) -> (String, String, FileRef) {
    let end = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = end.checked_duration_since(std::time::Instant::now()).expect("no file MSG");
        match c.next_event(left) {
            Recv::Frame(ServerFrame::Msg { from, text, file: Some(f), .. }) => {
                return (from, text, f)
            }
            Recv::Frame(ServerFrame::Ping { nonce }) => c.send(&ClientFrame::Pong { nonce }),
            Recv::Frame(_) => {}
            Recv::Timeout => panic!("no file MSG within 30 s"),
            Recv::Closed => panic!("the server closed the connection"),
        }
    }
}

/// Every byte of `hash` (FETCH from 0), other frames skipped.
fn fetch(c: &mut Conn, hash: &str) -> Vec<u8> {
    c.send(&ClientFrame::Fetch { file: hash.into(), offset: 0 });
    let mut got = Vec::new();
    loop {
        match c.recv_within(Duration::from_secs(30)) {
            Some(ServerFrame::FileData { file, offset, last, data }) => {
                assert_eq!((file.as_str(), offset), (hash, got.len() as u64));
                got.extend_from_slice(&data);
                if last == 1 {
                    return got;
                }
            }
            Some(ServerFrame::Ping { nonce }) => c.send(&ClientFrame::Pong { nonce }),
            Some(_) => {}
            None => panic!("the download stopped at {} bytes", got.len()),
        }
    }
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir).expect("read dir");
    let mut v: Vec<String> =
        entries.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn files_sent_from_the_terminal_arrive_intact() {
    let dir = TempDir::new("client-files-send");
    let s = files_server(&dir, &SLOW_HEARTBEAT);
    register(&s, "ada");
    let mut bob = member(s.addr, "bob", "lobby");
    let ada = signed_in(&s, "ada");
    let sizes = [
        (1, "one.bin", "1 byte"),
        (CHUNK, "exact.bin", "64 KiB"),
        ((5 << 20) + 3, "big.bin", "5.0 MiB"),
    ];
    for (i, (n, name, shown)) in sizes.into_iter().enumerate() {
        let data = bytes(n);
        let path = dir.0.join(name);
        std::fs::write(&path, &data).expect("write");
        ada.type_text(&format!("/send {}", path.display()));
        ada.keys(&["Enter"]);
        let (from, text, f) = next_file(&mut bob);
        assert_eq!((from.as_str(), text.as_str()), ("ada", name));
        assert_eq!((f.file.as_str(), f.size), (sha(&data).as_str(), n as u64));
        assert_eq!(sha(&fetch(&mut bob, &f.file)), f.file, "{n} bytes intact");
        let line = format!("<ada> [file {}] {name} ({shown}, application/octet-stream)", i + 1);
        ada.wait_for(&line);
    }
    let sc = ada.screen();
    assert!(!status_bar(&sc).contains('\u{2191}'), "no upload left in the status bar:\n{sc}");
    assert_eq!(count(&sc, "[file 3]"), 1, "{sc}");
}

#[test]
fn line_mode_sends_and_gets_back_a_file_without_overwriting_it() {
    let dir = TempDir::new("client-files-line");
    let s = files_server(&dir, &SLOW_HEARTBEAT);
    let mut bob = member(s.addr, "bob", "lobby");
    let work = dir.0.join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let data = bytes(100_000);
    std::fs::write(work.join("notes.txt"), &data).expect("write");
    let input = "/register long-enough-pass\n/send notes.txt\n/get 1\n/get 1\n";
    let (code, out) = line_mode_in(&work, s.port(), &["--name", "eve"], input);
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    let (_, _, f) = next_file(&mut bob);
    assert_eq!(sha(&fetch(&mut bob, &f.file)), sha(&data));
    let cwd = work.canonicalize().expect("canonical").display().to_string();
    let want = [
        "= sending notes.txt (98 KiB, text/plain) to lobby".to_string(),
        "[lobby] [file 1] <eve> notes.txt (98 KiB, text/plain)".to_string(),
        format!("= fetching [file 1] notes.txt (98 KiB) into {cwd}"),
        format!("= saved [file 1] {cwd}/notes (1).txt (98 KiB)"),
        format!("= saved [file 1] {cwd}/notes (2).txt (98 KiB)"),
    ];
    let lines: Vec<&str> = out.lines().collect();
    for w in &want {
        assert!(lines.contains(&w.as_str()), "{w:?} in:\n{out}");
    }
    assert_eq!(listing(&work), ["notes (1).txt", "notes (2).txt", "notes.txt"]);
    for name in ["notes.txt", "notes (1).txt", "notes (2).txt"] {
        assert_eq!(sha(&std::fs::read(work.join(name)).expect("read")), f.file, "{name}");
    }
}

#[test]
fn a_file_goes_up_over_tls() {
    let dir = TempDir::new("client-files-tls");
    let (cert, key) = super::tls::self_signed(&dir.0);
    let files = dir.0.join("files").display().to_string();
    let s = super::tls::tls_server(&cert, &key, &["--files", &files]);
    let data = bytes((3 << 20) + 5);
    std::fs::write(dir.0.join("tls.bin"), &data).expect("write");
    let ca = super::tls::path(&cert);
    let input = "/register long-enough-pass\n/send tls.bin\n";
    let (code, out) = line_mode_in(&dir.0, s.port(), &["--ca", &ca, "--name", "tess"], input);
    assert_eq!(code, 0, "{out}");
    let hash = sha(&data);
    let stored = dir.0.join("files").join(&hash[..2]).join(&hash[2..4]).join(&hash);
    assert_eq!(std::fs::read(stored).expect("stored under its hash"), data, "went up intact");
    // Down in clear: banterd's FILE_DATA over TLS moves one piece per
    // server turn for now (its TLS writer takes 32 KiB per write, and the
    // rest waits for a writable edge that never comes).
    let (code, out) = line_mode_in(&dir.0, s.port(), &["--name", "dora"], "/get 1\n");
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read(dir.0.join("tls (1).bin")).expect("saved"), data, "came down intact");
}

#[test]
fn get_keeps_hostile_names_inside_the_directory() {
    let dir = TempDir::new("client-files-get");
    let s = files_server(&dir, &[]);
    let mut carl = account(&s, "carl", true);
    join(&mut carl, "lobby", "lobby", 0, 0);
    let long = format!("{}.bin", "y".repeat(251));
    let names =
        ["notes.txt", "..", ".hidden", "..\\..\\evil", "\u{202e}txt.exe", "-rf", long.as_str()];
    let content = |i: usize| format!("file {i} of carl").into_bytes();
    for (i, name) in names.iter().enumerate() {
        upload(&mut carl, i as u32 + 1, "lobby", name, &content(i));
    }
    let top = TempDir::new("client-files-saved");
    let inner = top.0.join("inner");
    std::fs::create_dir_all(inner.join("out")).expect("mkdir");
    std::fs::write(inner.join("notes.txt"), b"mine").expect("write");
    let input = "/get 1\n/get 2\n/get 3\n/get 4\n/get 5\n/get 6\n/get 7\n/get 3 out\n";
    let (code, out) = line_mode_in(&inner, s.port(), &["--name", "dora"], input);
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[lobby] ~ [file 5] <carl> <U+202E>txt.exe (14 bytes, "), "{out}");
    assert_eq!(out.matches("= saved [file ").count(), 8, "{out}");
    assert_eq!(listing(&top.0), ["inner"], "nothing written outside");
    let short_long = format!("{}.bin", "y".repeat(196));
    let mut want = vec!["_.._evil", "file", "hidden", "notes (1).txt", "notes.txt", "out", "rf"];
    want.extend([short_long.as_str(), "txt.exe"]);
    want.sort();
    assert_eq!(listing(&inner), want);
    assert_eq!(std::fs::read(inner.join("notes.txt")).expect("read"), b"mine", "not overwritten");
    let saved = [(0, "notes (1).txt"), (1, "file"), (3, "_.._evil"), (6, short_long.as_str())];
    for (i, name) in saved {
        assert_eq!(std::fs::read(inner.join(name)).expect("read"), content(i), "{name}");
    }
    assert_eq!(std::fs::read(inner.join("out/hidden")).expect("read"), content(2));
}

#[test]
fn a_scripted_server_cannot_place_or_plant_a_file() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let good = |name: &str, data: &[u8]| (name.to_string(), sha(data), data.to_vec());
    let files = vec![
        good("../../escape.txt", b"escape"),
        good("/etc/passwd", b"root::0:0"),
        ("damaged.bin".to_string(), sha(b"the real bytes"), b"the fake bytes".to_vec()),
        ("long.bin".to_string(), sha(b"four"), b"four and more".to_vec()),
    ];
    let server = std::thread::spawn(move || serve_files(listener, files));
    let top = TempDir::new("client-files-fake");
    let inner = top.0.join("inner");
    std::fs::create_dir(&inner).expect("mkdir");
    let input = "/get 1\n/get 2\n/get 3\n/get 4\n";
    let (code, out) = line_mode_in(&inner, port, &["--name", "ada"], input);
    let _ = server.join();
    assert_eq!(code, 1, "two downloads failed:\n{out}");
    assert!(out.contains("! not saved [file 3] damaged.bin: the file arrived damaged"), "{out}");
    assert!(out.contains("! not saved [file 4] long.bin: the server sent more bytes"), "{out}");
    assert_eq!(listing(&top.0), ["inner"], "nothing written outside");
    assert_eq!(listing(&inner), ["_.._escape.txt", "_etc_passwd"], "and no temporary file left");
}

/// The scripted server of [`a_scripted_server_cannot_place_or_plant_a_file`]:
/// offers `files` (name, hash, the bytes it serves) as file messages and
/// answers each FETCH with those bytes, whatever they are.
fn serve_files(listener: TcpListener, files: Vec<(String, String, Vec<u8>)>) {
    let msgs = files.iter().enumerate().map(|(i, (name, hash, data))| {
        let size = if name == "long.bin" { 4 } else { data.len() as u64 };
        let file = FileRef { file: hash.clone(), size, mime: "text/plain".into() };
        let mut m = fake::msg(i as u64 + 1, 1_764_300_000_000, "mallory", 0, name);
        if let ServerFrame::Msg { file: f, .. } = &mut m {
            *f = Some(file);
        }
        m
    });
    let (mut sock, mut buf) = fake::greet(listener, msgs.collect(), 60_000, &["files"]);
    while let Some(f) = fake::next(&mut sock, &mut buf) {
        if matches!(f, ClientFrame::Quit { .. }) {
            return;
        }
        let ClientFrame::Fetch { file, offset } = f else { continue };
        let Some((_, _, data)) = files.iter().find(|(_, h, _)| *h == file) else { continue };
        let data = data[offset as usize..].to_vec();
        let answer = ServerFrame::FileData { file, offset, last: 1, data };
        if sock.write_all(&answer.to_bytes()).is_err() {
            return;
        }
    }
}

/// The percentage after `name` in a status bar ("↑ big.bin 37%").
fn percent(status: &str, name: &str) -> Option<u32> {
    let rest = status.split(&format!("\u{2191} {name} ")).nth(1)?;
    rest.split('%').next()?.parse().ok()
}

#[test]
fn an_upload_resumes_after_a_cut_connection() {
    let dir = TempDir::new("client-files-resume");
    let s = files_server(&dir, &SLOW_HEARTBEAT);
    register(&s, "ada");
    let mut bob = member(s.addr, "bob", "lobby");
    let proxy = Proxy::start(s.addr);
    let t = Tmux::start(&client_cmd(proxy.port, "--name ada --reconnect-attempts 0"), 100, 16);
    t.wait_for("needs its password");
    t.type_text(&pw("ada"));
    t.keys(&["Enter"]);
    t.wait("signed in", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    let size = 32 << 20;
    let data = bytes(size);
    let path = dir.0.join("big.bin");
    std::fs::write(&path, &data).expect("write");
    t.type_text(&format!("/send {}", path.display()));
    t.keys(&["Enter"]);
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while proxy.up_bytes() < 4 << 20 {
        assert!(std::time::Instant::now() < end, "the upload did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    proxy.pause();
    let sc = t.wait("an upload halfway", |sc| {
        percent(&status_bar(sc), "big.bin").is_some_and(|p| (1..100).contains(&p))
    });
    proxy.cut();
    t.wait("reconnecting", |sc| status_bar(sc).contains("reconnecting"));
    let before = proxy.up_bytes();
    proxy.restore();
    let resumed = t.wait_for("resuming the big.bin upload at ");
    assert!(!resumed.contains("upload at 0%"), "from where the server was:\n{sc}\n{resumed}");
    let (from, _, f) = next_file(&mut bob);
    assert_eq!((from.as_str(), f.file.as_str()), ("ada", sha(&data).as_str()));
    assert_eq!(sha(&fetch(&mut bob, &f.file)), f.file, "intact");
    let sc = t.wait_for("<ada> [file 1] big.bin (32 MiB, application/octet-stream)");
    assert!(!sc.contains("[file 2]"), "posted once:\n{sc}");
    let again = proxy.up_bytes() - before;
    assert!(again < size as u64, "{again} bytes after the cut: resumed, not sent again");
    no_msg_within(&mut bob, Duration::from_millis(300));
}

#[test]
fn every_refusal_is_said_in_words() {
    let dir = TempDir::new("client-files-refused");
    std::fs::write(dir.0.join("f.bin"), bytes(2000)).expect("write");
    let off = Server::start(&[]);
    let input = "/register long-enough-pass\n/send f.bin\n";
    let (code, out) = line_mode_in(&dir.0, off.port(), &["--name", "eve"], input);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! this server does not offer file sharing"), "{out}");

    let s = files_server(&dir, &["--max-file", "1000"]);
    let input = "/send f.bin\n/register long-enough-pass\n/send nope.bin\n/send .\n/get 9\n\
                 /send f.bin\n";
    let (code, out) = line_mode_in(&dir.0, s.port(), &["--name", "eve"], input);
    assert_eq!(code, 1, "{out}");
    let want = [
        "! files need an account: /register PASSWORD, or sign in with your name's password",
        "! nope.bin: no such file",
        "! . is a directory: send a file (an archive of it, say)",
        "! no file 9: no file has been shown yet",
        "! not sent [lobby] f.bin: FILE_REFUSED: the file is over the server's limit of \
         1000 bytes (--max-file)",
    ];
    for w in want {
        assert!(out.lines().any(|l| l == w), "{w:?} in:\n{out}");
    }

    let mut carl = account(&s, "carl", true);
    join(&mut carl, "dev", "dev", 0, 0);
    upload(&mut carl, 1, "dev", "secret.txt", b"for dev");
    let input = "/join dev\n/leave dev\n/get 1\n";
    let (code, out) = line_mode_in(&dir.0, s.port(), &["--name", "dora"], input);
    assert_eq!(code, 1, "{out}");
    let unknown = "! not saved [file 1] secret.txt: FILE_UNKNOWN: no such file where you are";
    assert!(out.contains(unknown), "a member no more:\n{out}");
    assert!(!dir.0.join("secret.txt").exists());
}
