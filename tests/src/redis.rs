//! A `redis-server` for the cluster tests: started on a free loopback port
//! in a temporary directory (append-only file on, fsync at every write, so
//! a restart keeps everything acknowledged), stopped or killed on demand,
//! restarted on the same port and directory.
//!
//! Tests that need it fail with the `apt-get` line to run when
//! `redis-server` is missing (`.ci/run` installs it).

use crate::TempDir;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Redis, killed when dropped.
pub struct Redis {
    /// The process, while running.
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its data directory (the append-only file lives here).
    dir: TempDir,
    /// More arguments for every start (e.g. `--requirepass`).
    extra: Vec<String>,
}

impl Redis {
    /// Starts Redis on a free port with an append-only file.
    pub fn start() -> Redis {
        Redis::start_with(&[])
    }

    /// As [`Redis::start`], with more arguments for `redis-server`.
    pub fn start_with(extra: &[&str]) -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let extra = extra.iter().map(|s| s.to_string()).collect();
        let mut r = Redis { child: None, port, dir: TempDir::new("redis"), extra };
        r.spawn();
        r
    }

    /// Its pid while it runs (for the bench's CPU figures).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let dir = self.dir.0.display().to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--dir", &dir, "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed: apt-get install -y redis-server");
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(10);
        while !self.ping() {
            assert!(Instant::now() < end, "redis-server did not answer PING within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether Redis answers PING now.
    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        s.set_read_timeout(Some(Duration::from_secs(1))).ok();
        let mut b = [0u8; 7];
        // A Redis with a password answers too, refusing: it is up.
        s.write_all(b"PING\r\n").is_ok()
            && s.read_exact(&mut b).is_ok()
            && (&b == b"+PONG\r\n" || &b == b"-NOAUTH")
    }

    /// How many keys Redis holds.
    pub fn dbsize(&self) -> u64 {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Redis");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(b"DBSIZE\r\n").expect("DBSIZE");
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            s.read_exact(&mut b).expect("DBSIZE answer");
            line.push(b[0]);
        }
        let text = String::from_utf8_lossy(&line);
        text.trim().trim_start_matches(':').parse().unwrap_or_else(|_| panic!("DBSIZE: {text}"))
    }

    /// Stops Redis cleanly (SIGTERM: it writes its append-only file) and
    /// starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Starts a stopped Redis again on the same port and directory.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "Redis is running");
        self.spawn();
    }

    /// Stops Redis cleanly and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
