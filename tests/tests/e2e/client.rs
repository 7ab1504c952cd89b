//! The `banter` client end to end: the real client in a pseudo-terminal
//! (tmux) or in line mode, against a real `banterd` (or, for hostile bytes
//! the real server would refuse, a scripted fake server on 127.0.0.1:0).

mod direct;
mod edges;
mod fake;
mod features;
mod files;
mod linemode;
mod outage;
mod screen;
mod signin;
mod tls;
mod tmux;

use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// A client `ada` in lobby on a `cols`×`rows` screen, connected.
fn ada(s: &Server, cols: u16, rows: u16, extra: &str) -> Tmux {
    let t = Tmux::start(&client_cmd(s.port(), &format!("--name ada {extra}")), cols, rows);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    t
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
    let fake = std::thread::spawn(move || fake::hostile(listener, hostile, 60_000));
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
    let fake = std::thread::spawn(move || fake::hostile(listener, "hi", 300));
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

/// Runs line mode with `input` on stdin; returns (exit code, stdout).
fn line_mode(port: u16, args: &[&str], input: &str) -> (i32, String) {
    line_mode_in(std::path::Path::new("."), port, args, input)
}

/// As [`line_mode`], in the working directory `cwd`.
fn line_mode_in(cwd: &std::path::Path, port: u16, args: &[&str], input: &str) -> (i32, String) {
    let mut child = spawn_line_mode(cwd, port, args);
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let code = wait_child(&mut child, Duration::from_secs(15));
    let mut out = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read stdout");
    (code, out)
}

/// Starts `banter --port PORT` plus `args` in `cwd` with stdin and stdout
/// piped (line mode), stderr dropped.
fn spawn_line_mode(cwd: &std::path::Path, port: u16, args: &[&str]) -> Child {
    Command::new(bin("banter"))
        .current_dir(cwd)
        .args(["--port", &port.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn banter")
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

/// `banter` in line mode kept running: fed a line at a time, its output
/// read a line at a time with the times taken out (see [`untimed`]).
pub(crate) struct LiveLine {
    child: Child,
    /// Its input, until [`LiveLine::end_input`].
    stdin: Option<std::process::ChildStdin>,
    /// Its output lines, as they come.
    lines: std::sync::mpsc::Receiver<String>,
    /// How long to wait for one line.
    wait: Duration,
    /// Every line read so far, for checks and failure messages.
    seen: Vec<String>,
}

impl LiveLine {
    /// Starts `banter --port PORT` plus `args` in `cwd`; `wait` bounds
    /// each wait for a line.
    pub(crate) fn start(cwd: &std::path::Path, port: u16, args: &[&str], wait: Duration) -> Self {
        let mut child = spawn_line_mode(cwd, port, args);
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(untimed(&line)).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        LiveLine { child, stdin, lines, wait, seen: Vec::new() }
    }

    /// Writes `line` and a newline to its input.
    pub(crate) fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("input still open");
        writeln!(stdin, "{line}").expect("write to banter");
    }

    /// Waits for a line starting with `prefix`; every line read so far.
    pub(crate) fn wait_line(&mut self, prefix: &str) -> &[String] {
        self.wait_for(&format!("starting {prefix:?}"), |l| l.starts_with(prefix))
    }

    /// Waits for a line containing `text`; every line read so far.
    pub(crate) fn wait_containing(&mut self, text: &str) -> &[String] {
        self.wait_for(&format!("containing {text:?}"), |l| l.contains(text))
    }

    fn wait_for(&mut self, what: &str, found: impl Fn(&str) -> bool) -> &[String] {
        loop {
            match self.lines.recv_timeout(self.wait) {
                Ok(l) => {
                    let done = found(&l);
                    self.seen.push(l);
                    if done {
                        return &self.seen;
                    }
                }
                Err(_) => panic!("no line {what} within {:?}; got {:#?}", self.wait, self.seen),
            }
        }
    }

    /// Ends its input (as a script's end of file would).
    pub(crate) fn end_input(&mut self) {
        drop(self.stdin.take());
    }

    /// Its exit code, once it has exited (within `limit`).
    pub(crate) fn exit_code(&mut self, limit: Duration) -> i32 {
        wait_child(&mut self.child, limit)
    }
}
