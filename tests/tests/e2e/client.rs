//! The `banter` client end to end: the real client in a pseudo-terminal
//! (tmux) or in line mode, against a real `banterd` (or, for hostile bytes
//! the real server would refuse, a scripted fake server on 127.0.0.1:0).

mod edges;
mod screen;
mod signin;
mod tmux;

use banter_proto::{check, decode_client, ClientFrame, ServerFrame};
use banter_tests::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tmux::{input_line, status_bar, Tmux};

/// The shell command running the client in tmux, then showing its exit code.
fn client_cmd(port: u16, extra: &str) -> String {
    let bin = bin("banter");
    format!("{} --port {port} {extra}; echo EXIT=$?; sleep 60", bin.display())
}

/// A raw connection that joined `room` and read the whole JOIN answer.
fn member(server_addr: std::net::SocketAddr, name: &str, room: &str) -> Conn {
    let mut c = Conn::connect(server_addr);
    c.hello(name, "", 0);
    c.expect_welcome();
    c.send(&ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
    // limit 0: no history, so the answer ends with the last ROSTER.
    loop {
        if let ServerFrame::Roster { more: 0, .. } = c.recv_app() {
            return c;
        }
    }
}

/// Sends a SAY and waits for its ACK.
fn say(c: &mut Conn, room: &str, seq: u32, text: &str) {
    c.send(&ClientFrame::Say { flags: 0, room: room.into(), seq, text: text.into() });
    loop {
        match c.recv_app() {
            ServerFrame::Ack { seq: s, .. } if s == seq => return,
            ServerFrame::Error { .. } => panic!("SAY {text:?} refused"),
            _ => {}
        }
    }
}

/// The next MSG a raw connection receives.
fn next_msg(c: &mut Conn) -> (String, String) {
    loop {
        if let ServerFrame::Msg { from, text, .. } = c.recv_app() {
            return (from, text);
        }
    }
}

/// Asserts that no MSG arrives for `d` (presence and typing may).
fn no_msg_within(c: &mut Conn, d: Duration) {
    let end = std::time::Instant::now() + d;
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        match c.recv_within(left) {
            Some(f @ ServerFrame::Msg { .. }) => panic!("unexpected {f:?}"),
            Some(_) => {}
            None => return,
        }
    }
}

fn count(screen: &str, needle: &str) -> usize {
    screen.matches(needle).count()
}

#[test]
fn type_send_and_receive_while_typing() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = Tmux::start(&client_cmd(s.port(), "--name ada"), 100, 30);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    t.type_text("hello bob");
    t.keys(&["Enter"]);
    assert_eq!(next_msg(&mut bob), ("ada".into(), "hello bob".into()));
    t.wait("the ACKed line", |sc| sc.contains("<ada> hello bob") && !sc.contains("sending"));

    t.type_text("b");
    t.keys(&["Tab"]);
    t.wait_for("[lobby] bob:");
    t.keys(&["C-u"]);
    t.type_text("half wri");
    let typed = t.wait_for("[lobby] half wri");
    let cursor_line = input_line(&typed);
    say(&mut bob, "lobby", 1, "interrupt one");
    say(&mut bob, "lobby", 2, "interrupt two \u{202e}evil 日本語 👍 ok");
    let sc = t.wait_for("interrupt two");
    assert_eq!(input_line(&sc), cursor_line, "the input line did not change");
    assert!(sc.contains("evil 日本語 👍 ok"), "wide text intact:\n{sc}");
    assert!(sc.contains("<U+202E>evil"), "bidi override shown as a placeholder:\n{sc}");
    t.type_text("tten");
    t.keys(&["Enter"]);
    assert_eq!(next_msg(&mut bob).1, "half written");
    t.type_text("/nonsense");
    t.keys(&["Enter"]);
    t.wait_for("unknown command /nonsense");
    t.type_text("/quit bye");
    t.keys(&["Enter"]);
    t.wait_for("EXIT=0");
}

#[test]
fn outage_shows_reconnecting_then_replays_missed_messages_once() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let proxy = Proxy::start(s.addr);
    let cmd = client_cmd(proxy.port, "--name ada --reconnect-attempts 0");
    let t = Tmux::start(&cmd, 100, 30);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    say(&mut bob, "lobby", 1, "before outage");
    t.wait_for("before outage");

    proxy.cut();
    t.wait("reconnecting", |sc| status_bar(sc).contains("reconnecting"));
    say(&mut bob, "lobby", 2, "missed one");
    say(&mut bob, "lobby", 3, "missed two");
    t.type_text("sent while away");
    t.keys(&["Enter"]);
    t.wait("a pending line", |sc| sc.contains("sending") && status_bar(sc).contains("1 unsent"));
    proxy.restore();
    let sc = t.wait("caught up", |sc| {
        status_bar(sc).contains("connected") && sc.contains("missed two") && !sc.contains("sending")
    });
    for line in ["before outage", "missed one", "missed two", "sent while away"] {
        assert_eq!(count(&sc, line), 1, "{line:?} shown once:\n{sc}");
    }
    let one = sc.find("missed one").expect("shown");
    assert!(one < sc.find("missed two").expect("shown"), "in order:\n{sc}");
    assert_eq!(next_msg(&mut bob), ("ada".into(), "sent while away".into()));
    bob.expect_silence(Duration::from_millis(300));
}

#[test]
fn server_restart_reconnects_and_delivers_the_pending_message_once() {
    let mut s = Server::start(&[]);
    let port = s.port();
    let bob = member(s.addr, "bob", "lobby");
    let t = Tmux::start(&client_cmd(port, "--name ada --reconnect-attempts 0"), 100, 30);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    drop(bob);
    s.signal(libc::SIGTERM);
    s.wait_exit(Duration::from_secs(10));
    t.wait("reconnecting", |sc| status_bar(sc).contains("reconnecting in"));
    t.type_text("queued while down");
    t.keys(&["Enter"]);
    t.wait("a pending line", |sc| status_bar(sc).contains("1 unsent"));
    let _s2 = Banterd::start_on(port, &[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let sc =
        t.wait("reconnected", |sc| status_bar(sc).contains("connected") && !sc.contains("sending"));
    assert_eq!(count(&sc, "queued while down"), 1, "{sc}");
    assert_eq!(next_msg(&mut bob), ("ada".into(), "queued while down".into()));
    bob.expect_silence(Duration::from_millis(300));
}

#[test]
fn server_restart_with_db_replays_missed_messages_once() {
    let dir = TempDir::new("client-restart-db");
    let db = dir.0.join("chat.db");
    let db = db.to_str().expect("utf-8 path");
    let mut s = Server::start(&["--db", db]);
    let port = s.port();
    let mut bob = member(s.addr, "bob", "lobby");
    let t = Tmux::start(&client_cmd(port, "--name ada --reconnect-attempts 1"), 100, 30);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    say(&mut bob, "lobby", 1, "before restart");
    t.wait_for("before restart");
    drop(bob);
    s.signal(libc::SIGTERM);
    s.wait_exit(Duration::from_secs(10));
    t.wait("reconnecting", |sc| status_bar(sc).contains("reconnecting"));
    t.wait("offline", |sc| status_bar(sc).contains("offline"));
    let _s2 = Banterd::start_on(port, &["--db", db]);
    let mut bob = member(s.addr, "bob", "lobby");
    say(&mut bob, "lobby", 1, "missed one");
    say(&mut bob, "lobby", 2, "missed two");
    t.keys(&["C-r"]);
    let sc =
        t.wait("caught up", |sc| status_bar(sc).contains("connected") && sc.contains("missed two"));
    for line in ["before restart", "missed one", "missed two"] {
        assert_eq!(count(&sc, line), 1, "{line:?} shown once:\n{sc}");
    }
    assert!(sc.find("missed one") < sc.find("missed two"), "in order:\n{sc}");
}

/// A TCP relay in front of the server that can simulate an outage: `cut`
/// drops every relayed connection and refuses new ones until `restore`.
struct Proxy {
    /// The port clients connect to.
    port: u16,
    /// Whether the outage is on.
    down: Arc<AtomicBool>,
    /// Both ends of every relayed connection, to cut them.
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let down = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (d, c) = (down.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if d.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                relay(client, server, &c);
            }
        });
        Proxy { port, down, conns }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Copies bytes both ways on two threads.
fn relay(a: TcpStream, b: TcpStream, conns: &Mutex<Vec<TcpStream>>) {
    let clones = [a.try_clone(), b.try_clone(), a.try_clone(), b.try_clone()];
    let [Ok(a2), Ok(b2), Ok(a3), Ok(b3)] = clones else {
        return;
    };
    conns.lock().expect("lock").extend([a3, b3]);
    for (mut from, mut to) in [(a, b2), (b, a2)] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    }
}

#[test]
fn name_prompt_paste_rooms_unread_and_scrolling() {
    let s = Server::start(&["--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = Tmux::start(&client_cmd(s.port(), ""), 100, 20);
    t.wait_for("Type your name");
    for (name, answer) in [("bad name", "is 1-32 of"), ("BOB", "NAME_TAKEN")] {
        t.type_text(name);
        t.keys(&["Enter"]);
        t.wait_for(answer);
    }
    t.type_text("ada");
    t.keys(&["Enter"]);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));

    t.run_tmux(&["set-buffer", "-b", "p", "first line\nsecond line"]);
    t.run_tmux(&["paste-buffer", "-p", "-b", "p", "-t", "t"]);
    t.keys(&["Enter"]);
    assert_eq!(next_msg(&mut bob).1, "first line\nsecond line", "one message");
    t.run_tmux(&["set-buffer", "-b", "q", "bad\u{7}bell"]);
    t.run_tmux(&["paste-buffer", "-p", "-b", "q", "-t", "t"]);
    t.keys(&["Enter"]);
    let sc = t.wait_for("not sent: control character U+0007");
    assert_eq!(input_line(&sc), "[lobby] bad\u{2407}bell", "the text is kept");
    t.keys(&["C-u"]);

    let mut dev = member(s.addr, "dave", "dev");
    t.type_text("/join dev");
    t.keys(&["Enter"]);
    t.wait("dev shown", |sc| status_bar(sc).contains("#dev"));
    t.keys(&["M-1"]);
    t.wait("lobby shown", |sc| status_bar(sc).contains("#lobby"));
    say(&mut dev, "dev", 1, "psst in dev");
    t.wait("unread", |sc| status_bar(sc).contains("2:dev(1)"));
    t.keys(&["M-2"]);
    let sc = t.wait("the unread marker", |sc| sc.contains("psst in dev") && sc.contains(" new "));
    assert!(!status_bar(&sc).contains("2:dev("), "{sc}");
    t.keys(&["M-1"]);

    for i in 1..=40 {
        say(&mut bob, "lobby", 10 + i, &format!("filler {i}"));
    }
    t.wait_for("filler 40");
    t.keys(&["PPage"]);
    let up = t.wait("scrolled up", |sc| !sc.contains("filler 40"));
    assert!(up.contains("filler 2"), "an older page:\n{up}");
    t.keys(&["NPage", "NPage", "NPage"]);
    t.wait_for("filler 40");
}

#[test]
fn hostile_message_arrives_inert() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hostile = "A\u{1b}[2J\u{1b}[31mRED\u{1b}]0;pwned\u{7}\u{9b}H\u{8}\u{202e}Z";
    let fake = std::thread::spawn(move || fake_server(listener, hostile, 60_000));
    let t = Tmux::start(&client_cmd(port, "--name ada"), 100, 30);
    let sc = t.wait_for("sentinel");
    assert!(
        sc.contains(
            "A\u{241b}[2J\u{241b}[31mRED\u{241b}]0;pwned\u{2407}<U+009B>H\u{2408}<U+202E>Z"
        ),
        "{sc}"
    );
    assert!(sc.contains("connected as ada"), "the screen was not cleared:\n{sc}");
    assert!(!t.title().contains("pwned"), "the title was not changed");
    drop(t);
    let _ = fake.join();
}

#[test]
fn a_silent_server_is_noticed_after_two_heartbeats() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let fake = std::thread::spawn(move || fake_server(listener, "hi", 300));
    let t = Tmux::start(&client_cmd(port, "--name ada"), 100, 30);
    t.wait_for("sentinel");
    let started = std::time::Instant::now();
    let sc = t.wait("reconnecting", |sc| status_bar(sc).contains("reconnecting"));
    assert!(started.elapsed() < Duration::from_secs(3), "noticed late");
    assert!(sc.contains("no answer from the server"), "{sc}");
    drop(t);
    let _ = fake.join();
}

#[test]
fn typing_resize_and_terminal_restored_on_sigterm() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let dir = TempDir::new("client-sigterm");
    let pidfile = dir.0.join("pid");
    let cmd = format!(
        "sh -c 'echo $$ > {}; exec {} --port {} --name ada'; echo EXIT=$?; \
         stty -a | grep -q -- ' icanon' && echo COOKED || echo RAW; sleep 60",
        pidfile.display(),
        bin("banter").display(),
        s.port()
    );
    let t = Tmux::start(&cmd, 100, 30);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    bob.send(&ClientFrame::Typing { room: "lobby".into(), active: 1 });
    t.wait("typing", |sc| status_bar(sc).contains("bob is typing"));
    t.type_text("x");
    let mut states = Vec::new();
    while states.len() < 2 {
        // Typing starts at the key and stops by itself after a few idle seconds.
        match bob.recv_within(Duration::from_secs(8)) {
            Some(ServerFrame::Typing { name, active, .. }) if name == "ada" => states.push(active),
            Some(_) => {}
            None => panic!("typing states so far: {states:?}"),
        }
    }
    assert_eq!(states, vec![1, 0]);
    t.run_tmux(&["resize-window", "-t", "t", "-x", "50", "-y", "12"]);
    let sc = t.wait("the resized screen", |sc| {
        sc.lines().count() == 12 && status_bar(sc).contains("connected")
    });
    assert!(sc.lines().all(|l| l.chars().count() <= 50), "{sc}");
    assert_eq!(input_line(&sc), "[lobby] x");
    let pid: i32 =
        std::fs::read_to_string(&pidfile).expect("pid file").trim().parse().expect("pid");
    // SAFETY: kill(2) of the client process this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let sc = t.wait("the shell after exit", |sc| sc.contains("COOKED") || sc.contains("RAW"));
    assert!(sc.contains("EXIT=0"), "{sc}");
    assert!(!sc.contains("[lobby] x"), "the alternate screen is gone:\n{sc}");
    assert!(sc.contains("COOKED"), "the terminal left raw mode:\n{sc}");
}

/// A scripted server: WELCOME, the JOIN answer, a hostile MSG, a sentinel;
/// then it reads and never answers (not even PING).
fn fake_server(listener: TcpListener, hostile: &str, heartbeat_ms: u32) {
    let (mut sock, _) = listener.accept().expect("accept");
    sock.set_read_timeout(Some(WAIT)).ok();
    let mut buf = Vec::new();
    let mut next = |sock: &mut TcpStream| loop {
        if let Ok(n) = check(&buf, 1 << 20) {
            let f = decode_client(&buf[..n]).expect("client frame");
            buf.drain(..n);
            return f;
        }
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).expect("read");
        assert!(n > 0, "client closed");
        buf.extend_from_slice(&chunk[..n]);
    };
    assert!(matches!(next(&mut sock), ClientFrame::Hello { .. }));
    let welcome = ServerFrame::Welcome {
        features: vec![],
        version: 1,
        name: "ada".into(),
        token: 7,
        resumed: 0,
        heartbeat_ms,
        max_frame: 65_536,
        max_text: 4096,
        server: "fake".into(),
    };
    sock.write_all(&welcome.to_bytes()).expect("write");
    assert!(matches!(next(&mut sock), ClientFrame::Join { .. }));
    let room = || "lobby".to_string();
    let msg = |id, text: &str| ServerFrame::Msg {
        file: None,
        room: room(),
        id,
        ts: 1_764_300_000_000,
        from: "mallory".into(),
        flags: 0,
        text: text.into(),
    };
    for f in [
        ServerFrame::Joined { read: 0, room: room(), last_id: 0, members: 2 },
        ServerFrame::Roster { room: room(), more: 0, names: vec!["ada".into(), "mallory".into()] },
        ServerFrame::HistoryEnd { room: room(), count: 0, more: 0 },
        msg(1, hostile),
        msg(2, "sentinel"),
    ] {
        sock.write_all(&f.to_bytes()).expect("write");
    }
    // Keep the connection open until the client goes away.
    let mut rest = [0u8; 1024];
    while matches!(sock.read(&mut rest), Ok(n) if n > 0) {}
}

/// Runs line mode with `input` on stdin; returns (exit code, stdout).
fn line_mode(port: u16, args: &[&str], input: &str) -> (i32, String) {
    let mut child = Command::new(bin("banter"))
        .args(["--port", &port.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn banter");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let code = wait_child(&mut child, Duration::from_secs(15));
    let mut out = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read stdout");
    (code, out)
}

/// Line-mode output with the "HH:MM " of message lines taken out, for
/// comparing lines whatever the time.
fn untimed(out: &str) -> String {
    let strip = |l: &str| -> String {
        let Some(i) = l.find("] ").filter(|_| l.starts_with('[')) else { return l.to_string() };
        let rest = &l[i + 2..];
        let b = rest.as_bytes();
        let timed = b.len() >= 6 && b[2] == b':' && b[5] == b' ';
        match timed && b[..2].iter().chain(&b[3..5]).all(u8::is_ascii_digit) {
            true => format!("{}{}", &l[..i + 2], &rest[6..]),
            false => l.to_string(),
        }
    };
    out.lines().map(strip).collect::<Vec<_>>().join("\n")
}

fn wait_child(child: &mut Child, limit: Duration) -> i32 {
    let end = std::time::Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st.code().unwrap_or(-1);
        }
        if std::time::Instant::now() > end {
            let _ = child.kill();
            panic!("banter did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn line_mode_sends_in_order_and_exits_zero() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let input = "one\ntwo\n/join dev\nin dev\n/who\n/go lobby\n/bogus\nthree\n";
    let (code, out) = line_mode(s.port(), &["--name", "carl"], input);
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    for m in ["one", "two", "three"] {
        assert_eq!(next_msg(&mut bob), ("carl".into(), m.into()));
    }
    let want = [
        "= joined lobby (2 members)",
        "[lobby] <carl> one",
        "[lobby] <carl> two",
        "= joined dev (1 member)",
        "= members of dev: carl",
        "[dev] <carl> in dev",
        "= members of dev: carl",
        "= now in lobby",
        "! unknown command /bogus; /help lists the commands",
        "[lobby] <carl> three",
    ];
    let lines: Vec<&str> = out.lines().filter(|l| want.contains(l)).collect();
    assert_eq!(lines, want, "in input order:\n{out}");
}

#[test]
fn line_mode_exits_nonzero_when_a_message_is_not_acknowledged() {
    let s = Server::start(&[]);
    let (code, out) = line_mode(s.port(), &["--name", "dora"], "/leave\nlost words\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! not in any room"), "{out}");
    let dead = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let (code, out) = line_mode(port, &["--name", "dora", "--reconnect-attempts", "1"], "hello\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! offline"), "{out}");
}

#[test]
fn line_mode_reconnects_and_resumes() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let proxy = Proxy::start(s.addr);
    let mut child = Command::new(bin("banter"))
        .args(["--port", &proxy.port.to_string(), "--name", "carl"])
        .args(["--reconnect-attempts", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn banter");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(untimed(&line));
        }
    });
    let mut seen = Vec::new();
    let mut wait_line = |prefix: &str| loop {
        match rx.recv_timeout(WAIT) {
            Ok(l) if l.starts_with(prefix) => {
                seen.push(l);
                return seen.clone();
            }
            Ok(l) => seen.push(l),
            Err(_) => panic!("no line starting {prefix:?}; got {seen:#?}"),
        }
    };
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"one\n").expect("write");
    assert_eq!(next_msg(&mut bob), ("carl".into(), "one".into()));
    proxy.cut();
    wait_line("= connection lost");
    stdin.write_all(b"two\n").expect("write");
    proxy.restore();
    wait_line("= resumed as carl");
    assert_eq!(next_msg(&mut bob), ("carl".into(), "two".into()));
    drop(stdin);
    assert_eq!(wait_child(&mut child, Duration::from_secs(10)), 0);
    let all = wait_line("[lobby] <carl> two");
    assert_eq!(all.iter().filter(|l| l.as_str() == "[lobby] <carl> one").count(), 1, "{all:#?}");
    no_msg_within(&mut bob, Duration::from_millis(300));
}

#[test]
fn line_mode_history_and_lag_in_the_status_bar() {
    let s = Server::start(&["--heartbeat-ms", "300", "--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    for i in 1..=60 {
        say(&mut bob, "lobby", i, &format!("m{i}"));
    }
    let input = "/history 5\n/register short\n/register long-enough-pass\n";
    let (code, out) = line_mode(s.port(), &["--name", "eve"], input);
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("! usage: /register PASSWORD"), "{out}");
    assert!(out.contains("= registered eve"), "{out}");
    let msgs: Vec<&str> = out.lines().filter(|l| l.starts_with("[lobby] ~ <bob> ")).collect();
    let want: Vec<String> =
        (11..=60).chain(6..=10).map(|i| format!("[lobby] ~ <bob> m{i}")).collect();
    assert_eq!(msgs, want, "the JOIN's 50 newest, then 5 older ones, each once:\n{out}");
    let t = Tmux::start(&client_cmd(s.port(), "--name ada"), 100, 30);
    t.wait("a lag measurement", |sc| status_bar(sc).contains(" ms"));
}

#[test]
fn a_registered_name_is_asked_for_its_password() {
    let s = Server::start(&[]);
    let (code, out) = line_mode(s.port(), &["--name", "reg"], "/register sesame-open\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("= registered reg"), "{out}");
    let (code, out) = line_mode(s.port(), &["--name", "reg"], "wrong-password\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! AUTH_FAILED"), "{out}");
    let (code, out) = line_mode(s.port(), &["--name", "reg"], "sesame-open\nin at last\n");
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[lobby] <reg> in at last"), "{out}");

    let t = Tmux::start(&client_cmd(s.port(), "--name reg"), 100, 20);
    t.wait_for("needs its password");
    t.type_text("sesame-open");
    t.wait_for("password: ***********");
    t.keys(&["Enter"]);
    let sc = t.wait("connected", |sc| status_bar(sc).contains("connected"));
    assert!(!sc.contains("sesame"), "the password never shows:\n{sc}");
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let out = Command::new(bin("banter")).arg("--port=nope").output().expect("run banter");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--port"), "{err}");
}

/// A `banterd` on a chosen port (the harness always asks for port 0), for
/// restarting a server where its clients expect it.
struct Banterd(Child);

impl Banterd {
    fn start_on(port: u16, extra: &[&str]) -> Banterd {
        let mut child = Command::new(bin("banterd"))
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(extra)
            .env_remove("PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn banterd");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(10)).is_err() {
            let _ = child.kill();
            panic!("banterd did not restart on port {port}");
        }
        Banterd(child)
    }
}

impl Drop for Banterd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
