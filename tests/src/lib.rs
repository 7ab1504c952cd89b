//! Support for the end-to-end tests: find (and once build) the real binaries,
//! start `banterd` on 127.0.0.1 with port 0 and learn its port from its log,
//! and speak raw frames to it with every read bounded in time.
//!
//! Nothing here fakes the server: tests talk to the built binary over TCP.

use banter_proto::{check, decode_server, ClientFrame, DecodeError, ServerFrame};
use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

pub mod cluster;
pub mod pki;
pub mod redis;
pub mod wire;

use std::time::{Duration, Instant};
pub use wire::Wire;

pub mod browser;
pub mod front;

/// How long a test waits for anything the server owes it.
pub const WAIT: Duration = Duration::from_secs(5);

/// The directory holding the built binaries: `BANTER_BIN_DIR` when set,
/// else the target directory this test binary lives in.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BANTER_BIN_DIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/deps/e2e-xxxx -> target/<profile>
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().and_then(|d| d.parent()).expect("target dir").to_path_buf()
}

/// Path of one of the project's binaries (`banterd`, `banter`,
/// `banter-bench`). Unless `BANTER_BIN_DIR` is set, the binary's package is
/// built once per test run (`cargo test` alone builds no plain binaries of
/// other packages), into the same target directory and profile.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let dir = bin_dir();
    if std::env::var_os("BANTER_BIN_DIR").is_some() {
        return dir.join(name);
    }
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let pkg = if name == "banterd" { "banterd" } else { name };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", pkg, "--bin", name]);
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let target = dir.parent().expect("target root");
        let status = cmd.env("CARGO_TARGET_DIR", target).status().expect("run cargo build");
        assert!(status.success(), "cargo build of {name} failed");
        built.push(name.to_string());
    }
    dir.join(name)
}

/// What waiting for a frame found.
#[derive(Debug)]
pub enum Recv {
    /// A whole frame.
    Frame(ServerFrame),
    /// Nothing within the time given; the connection is still open.
    Timeout,
    /// The server closed the connection (or it failed).
    Closed,
}

/// A running `banterd`, killed when dropped. With `BANTER_E2E_CLUSTER=N`
/// in the environment, [`Server::start`] starts N nodes over one Redis
/// behind a round-robin proxy instead, and the handle stands for all of
/// them (the server suite runs so once: see `e2e/cluster.rs`).
pub struct Server {
    /// The child process; `None` once it has been waited for (or for a cluster).
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every line it logged so far (stderr), collected by a reader thread so
    /// the pipe never fills and blocks the server.
    log: Arc<Mutex<Vec<String>>>,
    /// The nodes, Redis and proxy this handle stands for, in cluster mode.
    cluster: Option<Box<cluster::Cluster>>,
}

/// Nodes [`Server::start`] starts instead of one server (`BANTER_E2E_CLUSTER`).
pub fn cluster_mode() -> Option<usize> {
    std::env::var("BANTER_E2E_CLUSTER").ok()?.parse().ok().filter(|&n| n > 0)
}

impl Server {
    /// Starts `banterd --bind 127.0.0.1 --port 0` plus `args` (and
    /// `--log-level debug` unless `args` names a level) and waits for its
    /// `listening on` line.
    pub fn start(args: &[&str]) -> Server {
        Self::start_with_env(args, &[])
    }

    /// As [`Server::start`], with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn(0, args, env)
    }

    /// As [`Server::start`], on a chosen port: a restarted server where its
    /// clients (and the web page) expect it.
    pub fn start_on(port: u16, args: &[&str]) -> Server {
        Self::spawn(port, args, &[])
    }

    fn spawn(port: u16, args: &[&str], env: &[(&str, &str)]) -> Server {
        match cluster_mode() {
            Some(n) if port == 0 && env.is_empty() => {
                let c = cluster::Cluster::start(n, args);
                let log = Arc::new(Mutex::new(Vec::new()));
                Server { child: None, addr: c.addr, log, cluster: Some(Box::new(c)) }
            }
            _ => Self::spawn_one(port, args, env),
        }
    }

    /// Starts one `banterd` (a node of a cluster too).
    pub fn spawn_one(port: u16, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(bin("banterd"));
        let port = port.to_string();
        cmd.args(["--bind", "127.0.0.1", "--port", &port]);
        if !args.contains(&"--log-level") {
            cmd.args(["--log-level", "debug"]);
        }
        cmd.args(args);
        cmd.env_remove("PORT").env_remove("MAX_CLIENTS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn banterd");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a.parse().expect("listening address"),
            Err(_) => {
                let _ = child.kill();
                panic!("banterd did not start: {:?}", log.lock().unwrap());
            }
        };
        Server { child: Some(child), addr, log, cluster: None }
    }

    /// The servers this handle stands for: itself, or a cluster's nodes.
    fn each(&self) -> Vec<&Server> {
        match &self.cluster {
            Some(c) => c.nodes.iter().flatten().collect(),
            None => vec![self],
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.each()[0].child.as_ref().expect("running").id()
    }

    /// A copy of the log lines so far (of every node, node after node).
    pub fn log(&self) -> Vec<String> {
        self.each().iter().flat_map(|s| s.log.lock().unwrap().clone()).collect()
    }

    /// Waits until a log line contains `needle`; panics after [`WAIT`].
    pub fn wait_log(&self, needle: &str) -> String {
        let end = Instant::now() + WAIT;
        loop {
            if let Some(l) = self.log().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            assert!(Instant::now() < end, "no log line with {needle:?}: {:#?}", self.log());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends a signal (e.g. `libc::SIGTERM`).
    pub fn signal(&self, sig: i32) {
        if let (Some(c), libc::SIGTERM | libc::SIGINT) = (&self.cluster, sig) {
            c.stop_proxy();
        }
        for s in self.each() {
            let pid = s.child.as_ref().expect("running").id();
            // SAFETY: kill(2) with a pid we own; no memory is shared.
            unsafe { libc::kill(pid as i32, sig) };
        }
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        if let Some(c) = self.cluster.as_mut() {
            let statuses: Vec<ExitStatus> =
                c.nodes.iter_mut().flatten().map(|s| s.wait_exit(limit)).collect();
            let ok = <ExitStatus as std::os::unix::process::ExitStatusExt>::from_raw(0);
            return statuses.into_iter().find(|s| !s.success()).unwrap_or(ok);
        }
        let child = self.child.as_mut().expect("running");
        let end = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < end, "banterd did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(c) = self.cluster.as_mut() {
            c.nodes.iter_mut().flatten().for_each(Server::kill9);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Opens a raw connection.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.addr)
    }

    /// Opens a raw connection from the local address `src`.
    pub fn connect_from(&self, src: std::net::Ipv4Addr) -> Conn {
        Conn::connect_from(self.addr, src)
    }

    /// Opens a connection and completes the handshake as `name`.
    pub fn login(&self, name: &str) -> Conn {
        let mut c = self.connect();
        c.hello(name, "", 0);
        c.expect_welcome();
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A raw protocol connection with bounded reads, over any transport.
pub struct Conn {
    /// The socket, blocking with a read timeout (raw bytes, below any TLS).
    pub stream: TcpStream,
    /// TLS and WebSocket layers, if any.
    pub wire: Wire,
    /// Bytes read but not yet decoded.
    buf: Vec<u8>,
    /// The WELCOME's token, once seen.
    pub token: u64,
}

impl Conn {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        Conn::from_stream(stream)
    }

    /// Connects to `addr` (IPv4) from the local address `src` (any
    /// 127.0.0.0/8 address works on loopback): per-address limits see
    /// another host.
    pub fn connect_from(addr: SocketAddr, src: std::net::Ipv4Addr) -> Conn {
        Conn::from_stream(connect_from(addr, src).expect("connect from a source address"))
    }

    fn from_stream(stream: TcpStream) -> Conn {
        stream.set_nodelay(true).ok();
        stream.set_read_timeout(Some(WAIT)).ok();
        Conn { stream, wire: Wire::plain(), buf: Vec::new(), token: 0 }
    }

    /// Connects with TLS, verifying the server as `host` with `cfg`.
    pub fn connect_tls(
        addr: SocketAddr,
        cfg: Arc<rustls::ClientConfig>,
        host: &str,
    ) -> io::Result<Conn> {
        let mut c = Conn::connect(addr);
        c.wire = Wire::tls(&mut c.stream, cfg, host)?;
        Ok(c)
    }

    /// Upgrades this connection to a WebSocket at `/ws` (subprotocol
    /// `banter.1`), sending `origin` if given; panics unless the answer is 101.
    pub fn upgrade_ws(mut self, origin: Option<&str>) -> Conn {
        let req = ws_request(&self.stream.peer_addr().expect("peer"), origin, "banter.1");
        self.wire.send_bytes(&mut self.stream, req.as_bytes()).expect("send upgrade");
        let (head, rest) = self.read_head();
        assert!(head.starts_with("HTTP/1.1 101 "), "no upgrade: {head}");
        assert!(head.to_ascii_lowercase().contains("sec-websocket-protocol: banter.1"), "{head}");
        let wire = std::mem::replace(&mut self.wire, Wire::plain());
        self.wire = wire.upgraded(&rest);
        self
    }

    /// Reads an HTTP response head; returns it and the bytes after it.
    pub fn read_head(&mut self) -> (String, Vec<u8>) {
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = self.wire.read_bytes(&mut self.stream, &mut chunk).expect("read HTTP head");
            assert!(
                n > 0,
                "closed before the HTTP head ended: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&chunk[..n]);
        }
        let end = got.windows(4).position(|w| w == b"\r\n\r\n").expect("found") + 4;
        (String::from_utf8_lossy(&got[..end]).into_owned(), got[end..].to_vec())
    }

    /// Sends one frame.
    pub fn send(&mut self, f: &ClientFrame) {
        self.send_raw(&f.to_bytes());
    }

    /// Sends raw Banter bytes (in one WebSocket message when upgraded).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.wire.send(&mut self.stream, bytes).expect("write");
    }

    /// Sends HELLO.
    pub fn hello(&mut self, name: &str, password: &str, resume: u64) {
        let (name, password) = (name.into(), password.into());
        self.send(&ClientFrame::Hello { version: 1, name, password, resume });
    }

    /// Reads frames until WELCOME (skipping NOTICE), records the token, returns it.
    pub fn expect_welcome(&mut self) -> ServerFrame {
        loop {
            match self.recv() {
                f @ ServerFrame::Welcome { token, .. } => {
                    self.token = token;
                    return f;
                }
                ServerFrame::Notice { .. } => {}
                other => panic!("expected WELCOME, got {other:?}"),
            }
        }
    }

    /// The next frame; panics if none arrives within [`WAIT`] or the
    /// connection closes.
    pub fn recv(&mut self) -> ServerFrame {
        match self.recv_within(WAIT) {
            Some(f) => f,
            None => panic!("no frame within {WAIT:?} (or connection closed)"),
        }
    }

    /// The next frame that is not a NOTICE or a PING (PINGs are answered).
    pub fn recv_app(&mut self) -> ServerFrame {
        loop {
            match self.recv() {
                ServerFrame::Notice { .. } => {}
                ServerFrame::Ping { nonce } => self.send(&ClientFrame::Pong { nonce }),
                f => return f,
            }
        }
    }

    /// The next frame within `limit`, `None` on timeout or close.
    pub fn recv_within(&mut self, limit: Duration) -> Option<ServerFrame> {
        match self.next_event(limit) {
            Recv::Frame(f) => Some(f),
            Recv::Timeout | Recv::Closed => None,
        }
    }

    /// The next frame within `limit`, or why none came.
    pub fn next_event(&mut self, limit: Duration) -> Recv {
        let end = Instant::now() + limit;
        loop {
            match check(&self.buf, u32::MAX) {
                Ok(n) => {
                    let f = decode_server(&self.buf[..n]).expect("server sent a malformed frame");
                    self.buf.drain(..n);
                    return Recv::Frame(f);
                }
                Err(DecodeError::Incomplete) => {}
                Err(e) => panic!("framing error from server: {e}"),
            }
            let Some(left) = end.checked_duration_since(Instant::now()) else {
                return Recv::Timeout;
            };
            self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).ok();
            let mut chunk = [0u8; 65536];
            match self.wire.read(&mut self.stream, &mut chunk) {
                Ok(0) => return Recv::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if is_timeout(&e) => return Recv::Timeout,
                Err(_) => return Recv::Closed,
            }
        }
    }

    /// Asserts that nothing but NOTICE/PING arrives for `d`.
    pub fn expect_silence(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.next_event(left) {
                Recv::Timeout => return,
                Recv::Closed => panic!("expected silence, but the server closed the connection"),
                Recv::Frame(ServerFrame::Notice { .. }) => {}
                Recv::Frame(ServerFrame::Ping { nonce }) => self.send(&ClientFrame::Pong { nonce }),
                Recv::Frame(f) => panic!("expected silence, got {f:?}"),
            }
        }
    }

    /// Reads until the server closes the connection (within [`WAIT`]), returning
    /// every frame that came before the close.
    pub fn expect_closed(&mut self) -> Vec<ServerFrame> {
        let end = Instant::now() + WAIT;
        let mut frames = Vec::new();
        loop {
            let left = end.checked_duration_since(Instant::now()).expect("connection not closed");
            match self.recv_within(left) {
                Some(f) => frames.push(f),
                None => {
                    assert!(self.is_closed(), "connection not closed within {WAIT:?}");
                    return frames;
                }
            }
        }
    }

    /// Whether the server has closed the connection (EOF or reset now).
    pub fn is_closed(&mut self) -> bool {
        self.stream.set_read_timeout(Some(Duration::from_millis(50))).ok();
        let mut b = [0u8; 1024];
        match self.wire.read(&mut self.stream, &mut b) {
            Ok(0) => true,
            Ok(n) => {
                self.buf.extend_from_slice(&b[..n]);
                false
            }
            Err(e) => !is_timeout(&e),
        }
    }
}

/// A blocking TCP connection to `addr` bound to `src` first.
fn connect_from(addr: SocketAddr, src: std::net::Ipv4Addr) -> std::io::Result<TcpStream> {
    use std::os::unix::io::FromRawFd;
    let SocketAddr::V4(dst) = addr else {
        return Err(std::io::Error::other("connect_from needs an IPv4 server"));
    };
    let sin = |ip: std::net::Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(ip).to_be() },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a socket we create and own; the sockaddr structs live on the
    // stack for the duration of each call; the descriptor is handed to
    // TcpStream (which closes it) or closed here on failure.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        let local = sin(src, 0);
        if libc::bind(fd, (&local as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let remote = sin(*dst.ip(), dst.port());
        if libc::connect(fd, (&remote as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stream)
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

/// A WebSocket upgrade request for `/ws` on `host`.
pub fn ws_request(host: &SocketAddr, origin: Option<&str>, protocol: &str) -> String {
    let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
    format!(
        "GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocol}\r\n{origin}\r\n"
    )
}

/// One HTTP exchange over a fresh connection (TLS with `tls`): the
/// response's status, head and body, read until the server closes.
pub fn http(
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    request: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut c = match tls {
        Some(cfg) => Conn::connect_tls(addr, cfg, "localhost").expect("TLS"),
        None => Conn::connect(addr),
    };
    c.wire.send_bytes(&mut c.stream, request).expect("send request");
    let (head, mut body) = c.read_head();
    let mut chunk = [0u8; 65536];
    loop {
        match c.wire.read_bytes(&mut c.stream, &mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => panic!("server did not close after its answer"),
            Err(_) => break,
        }
    }
    let status = head.get(9..12).and_then(|s| s.parse().ok()).expect("status code");
    (status, head, body)
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/banter-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("banter-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
