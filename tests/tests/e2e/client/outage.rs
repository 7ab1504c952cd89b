//! The client across outages: a cut network, a restarted server (with and
//! without a database), in the terminal UI and in line mode. Nothing is
//! lost or shown twice. The relay that cuts connections serves the TLS
//! tests too.

use super::*;

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
    no_msg_within(&mut bob, Duration::from_millis(300));
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
    no_msg_within(&mut bob, Duration::from_millis(300));
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

#[test]
fn line_mode_reconnects_and_resumes() {
    let s = Server::start(&[]);
    line_mode_resumes_through_a_cut(&s, &[]);
}

/// Line mode (with `extra` flags) through a relay that is cut and
/// restored: it resumes, resends once, and exits 0 at end of input.
pub(super) fn line_mode_resumes_through_a_cut(s: &Server, extra: &[&str]) {
    let _ = bin("banter"); // built (if it must be) before bea waits
    let mut bea = member(s.addr, "bea", "lobby");
    let proxy = Proxy::start(s.addr);
    let mut args = vec!["--name", "carl", "--reconnect-attempts", "0"];
    args.extend(extra);
    let mut carl = LiveLine::start(std::path::Path::new("."), proxy.port, &args, WAIT);
    carl.send("one");
    assert_eq!(next_msg(&mut bea), ("carl".into(), "one".into()));
    proxy.cut();
    carl.wait_line("= connection lost");
    carl.send("two");
    proxy.restore();
    carl.wait_line("= resumed as carl");
    assert_eq!(next_msg(&mut bea), ("carl".into(), "two".into()));
    carl.end_input();
    assert_eq!(carl.exit_code(Duration::from_secs(10)), 0);
    let all = carl.wait_line("[lobby] <carl> two");
    assert_eq!(all.iter().filter(|l| l.as_str() == "[lobby] <carl> one").count(), 1, "{all:#?}");
    no_msg_within(&mut bea, Duration::from_millis(300));
}

/// A TCP relay in front of the server that can simulate an outage: `cut`
/// drops every relayed connection and refuses new ones until `restore`.
/// It counts the bytes relayed toward the server and can hold them
/// (`pause`), so a transfer can be caught halfway.
pub(super) struct Proxy {
    /// The port clients connect to.
    pub(super) port: u16,
    /// Whether the outage is on.
    down: Arc<AtomicBool>,
    /// Both ends of every relayed connection, to cut them.
    conns: Arc<Mutex<Vec<TcpStream>>>,
    /// What is shared with the relaying threads.
    relay: Arc<Relay>,
}

/// The state of the relaying threads.
#[derive(Default)]
struct Relay {
    /// Bytes from clients relayed to the server so far.
    up: AtomicU64,
    /// Hold the bytes toward the server (the client's writes back up).
    paused: AtomicBool,
}

impl Proxy {
    pub(super) fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let down = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(Relay::default());
        let (d, c, r) = (down.clone(), conns.clone(), state.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if d.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                relay(client, server, &c, &r);
            }
        });
        Proxy { port, down, conns, relay: state }
    }

    /// Bytes relayed toward the server so far.
    pub(super) fn up_bytes(&self) -> u64 {
        self.relay.up.load(Ordering::SeqCst)
    }

    /// Holds the bytes toward the server until `restore`.
    pub(super) fn pause(&self) {
        self.relay.paused.store(true, Ordering::SeqCst);
    }

    pub(super) fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    pub(super) fn restore(&self) {
        self.relay.paused.store(false, Ordering::SeqCst);
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Copies bytes both ways on two threads (client `a` to server `b`
/// counted, and held while paused).
fn relay(a: TcpStream, b: TcpStream, conns: &Mutex<Vec<TcpStream>>, state: &Arc<Relay>) {
    let clones = [a.try_clone(), b.try_clone(), a.try_clone(), b.try_clone()];
    let [Ok(a2), Ok(b2), Ok(a3), Ok(b3)] = clones else {
        return;
    };
    conns.lock().expect("lock").extend([a3, b3]);
    for (mut from, mut to, up) in [(a, b2, Some(state.clone())), (b, a2, None)] {
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                while up.as_ref().is_some_and(|u| u.paused.load(Ordering::SeqCst)) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                if let Some(u) = &up {
                    u.up.fetch_add(n as u64, Ordering::SeqCst);
                }
            }
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    }
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
