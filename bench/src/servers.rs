//! Starts and stops the servers a comparison measures: our own
//! `redis-server` on a free port (never a system service) and `banterd`
//! with benchmark settings, each optionally pinned to one CPU with
//! `taskset`. Their output is drained by a thread so a full pipe never
//! stalls them.
//!
//! It measures nothing; it only gives `compare` a pid and a target URL.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to start.
const START: Duration = Duration::from_secs(15);

/// A server we started; killed when dropped.
pub struct ServerProc {
    /// The process (taskset execs the server, so the pid is the server's).
    child: Child,
    /// Its pid, for CPU and memory.
    pub pid: u32,
    /// The harness target (`banter://…` / `redis://…`).
    pub url: String,
    /// The command line that started it, for the report.
    pub command: String,
}

fn pinned(cpu: Option<usize>, program: &str, args: &[String]) -> (Command, String) {
    let mut line = Vec::new();
    if let Some(c) = cpu {
        line.extend(["taskset".to_string(), "-c".into(), c.to_string()]);
    }
    line.push(program.to_string());
    line.extend(args.iter().cloned());
    let mut cmd = Command::new(&line[0]);
    cmd.args(&line[1..]).stdin(Stdio::null());
    let shown = line
        .iter()
        .map(|a| if a.is_empty() { "''".into() } else { a.clone() })
        .collect::<Vec<_>>()
        .join(" ");
    (cmd, shown)
}

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

fn give_up(child: &mut Child, why: String) -> Result<ServerProc, String> {
    let _ = child.kill();
    let _ = child.wait();
    Err(why)
}

/// Starts `banterd` on 127.0.0.1, port 0, and learns its port from its log.
pub fn banterd(bin: &str, cpu: Option<usize>, max_clients: usize) -> Result<ServerProc, String> {
    let mut args =
        words("--bind 127.0.0.1 --port 0 --rate 0 --out-limit 67108864 --log-level info");
    // The harness is one host opening thousands of connections: no
    // per-address limits (the attack scenario runs its own server).
    args.extend(words("--max-per-ip 0 --conn-rate 0 --join-rate 0 --query-rate 0"));
    args.extend(["--max-clients".into(), max_clients.to_string()]);
    let (mut cmd, command) = pinned(cpu, bin, &args);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {bin}: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.split("listening on ").nth(1) {
                let _ = tx.send(a.trim().to_string());
            }
        }
    });
    let Ok(addr) = rx.recv_timeout(START) else {
        return give_up(&mut child, format!("{bin} did not say `listening on` in {START:?}"));
    };
    Ok(ServerProc { pid: child.id(), child, url: format!("banter://{addr}"), command })
}

/// Starts `redis-server` without persistence on a free 127.0.0.1 port.
pub fn redis(bin: &str, cpu: Option<usize>, max_clients: usize) -> Result<ServerProc, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut args = vec!["--save".to_string(), String::new()];
    args.extend(words("--appendonly no --bind 127.0.0.1 --protected-mode no --daemonize no"));
    args.extend(["--port".into(), port.to_string()]);
    args.extend(["--maxclients".into(), max_clients.to_string()]);
    let (mut cmd, command) = pinned(cpu, bin, &args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {bin}: {e}"))?;
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || BufReader::new(out).lines().map_while(Result::ok).count());
    }
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let end = Instant::now() + START;
    while TcpStream::connect(addr).is_err() {
        if Instant::now() > end || matches!(child.try_wait(), Ok(Some(_))) {
            return give_up(&mut child, format!("{bin} did not accept connections on {addr}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(ServerProc { pid: child.id(), child, url: format!("redis://{addr}"), command })
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the child we started.
        unsafe { libc::kill(self.pid as i32, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line `program --version` prints, for the report.
pub fn version(program: &str) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}
