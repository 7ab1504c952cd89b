//! Starts and stops the servers a comparison measures: our own
//! `redis-server` on a free port (never a system service; over TLS with
//! `--tls-port` when asked), `banterd` with benchmark settings (with a
//! certificate when asked), and the Node `ws` baseline, each optionally
//! pinned to one CPU with `taskset`. Their output is drained by a thread so
//! a full pipe never stalls them.
//!
//! It measures nothing; it only gives `compare` a pid and an address.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to start.
const START: Duration = Duration::from_secs(15);
/// Output limit given to every server (banterd's `--out-limit`, the
/// baseline's equivalent): large, so a benchmark never drops a receiver.
const OUT_LIMIT: &str = "67108864";

/// A server we started; killed when dropped.
pub struct ServerProc {
    /// The process (taskset execs the server, so the pid is the server's).
    child: Child,
    /// Its pid, for CPU and memory.
    pub pid: u32,
    /// Where it listens (for Redis over TLS: the TLS port).
    pub addr: SocketAddr,
    /// The command line that started it, for the report.
    pub command: String,
}

impl ServerProc {
    /// The harness target for this server in `scheme` (`banters`, `ws`, …).
    pub fn url(&self, scheme: &str) -> String {
        let path = if scheme.starts_with("ws") { "/ws" } else { "" };
        format!("{scheme}://{}{path}", self.addr)
    }
}

/// A certificate and key (PEM) for a server, and the CA that signed them.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate chain.
    pub cert: String,
    /// Its private key.
    pub key: String,
    /// The CA the harness trusts.
    pub ca: String,
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

fn give_up<T>(child: &mut Child, why: String) -> Result<T, String> {
    let _ = child.kill();
    let _ = child.wait();
    Err(why)
}

/// Reads the server's log on a thread; sends the address of its
/// `listening on` line, and the last lines it wrote if it ends first.
fn watch_log(stderr: ChildStderr) -> mpsc::Receiver<Result<String, String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut last = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.split("listening on ").nth(1) {
                let _ = tx.send(Ok(a.trim().to_string()));
            }
            last.push(line);
            if last.len() > 3 {
                last.remove(0);
            }
        }
        let _ = tx.send(Err(last.join(" / ")));
    });
    rx
}

/// Starts `prog` (run as `cmd`), a server that logs `listening on ADDR`
/// (banterd, the baseline).
fn start_logging(prog: &str, mut cmd: Command, command: String) -> Result<ServerProc, String> {
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {prog}: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let addr = match watch_log(stderr).recv_timeout(START) {
        Ok(Ok(a)) => a,
        Ok(Err(last)) => return give_up(&mut child, format!("{prog} exited: {last}")),
        Err(_) => return give_up(&mut child, format!("{prog} did not say `listening on`")),
    };
    let Ok(addr) = addr.parse() else {
        return give_up(&mut child, format!("{prog} listens on {addr:?}?"));
    };
    Ok(ServerProc { pid: child.id(), child, addr, command })
}

/// Starts `banterd` on 127.0.0.1, port 0 (with a certificate when `tls`).
pub fn banterd(
    bin: &str,
    cpu: Option<usize>,
    max_clients: usize,
    tls: Option<&TlsFiles>,
) -> Result<ServerProc, String> {
    banterd_with(bin, cpu, max_clients, tls, &[])
}

/// [`banterd`] with `extra` arguments (`--files DIR`, …).
pub fn banterd_with(
    bin: &str,
    cpu: Option<usize>,
    max_clients: usize,
    tls: Option<&TlsFiles>,
    extra: &[String],
) -> Result<ServerProc, String> {
    let mut args = words("--bind 127.0.0.1 --port 0 --rate 0 --log-level info --out-limit");
    args.push(OUT_LIMIT.into());
    // The harness is one host opening thousands of connections: no
    // per-address limits (the attack scenario runs its own server).
    args.extend(words("--max-per-ip 0 --conn-rate 0 --join-rate 0 --query-rate 0"));
    args.extend(["--max-clients".into(), max_clients.to_string()]);
    if let Some(t) = tls {
        args.extend(["--tls-cert".into(), t.cert.clone(), "--tls-key".into(), t.key.clone()]);
    }
    args.extend(extra.iter().cloned());
    let (cmd, command) = pinned(cpu, bin, &args);
    start_logging(bin, cmd, command)
}

/// Starts the Node `ws` baseline (`script`) on 127.0.0.1, port 0.
pub fn node_ws(
    node: &str,
    script: &str,
    cpu: Option<usize>,
    tls: Option<&TlsFiles>,
) -> Result<ServerProc, String> {
    let mut args = vec![script.to_string()];
    args.extend(words("--bind 127.0.0.1 --port 0 --out-limit"));
    args.push(OUT_LIMIT.into());
    if let Some(t) = tls {
        args.extend(["--tls-cert".into(), t.cert.clone(), "--tls-key".into(), t.key.clone()]);
    }
    let (cmd, command) = pinned(cpu, node, &args);
    start_logging(script, cmd, command)
}

/// Starts `redis-server` without persistence on a free 127.0.0.1 port;
/// with `tls`, it listens only for TLS (`--port 0 --tls-port P`).
pub fn redis(
    bin: &str,
    cpu: Option<usize>,
    max_clients: usize,
    tls: Option<&TlsFiles>,
) -> Result<ServerProc, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut args = vec!["--save".to_string(), String::new()];
    args.extend(words("--appendonly no --bind 127.0.0.1 --protected-mode no --daemonize no"));
    match tls {
        None => args.extend(["--port".into(), port.to_string()]),
        Some(t) => {
            args.extend(words("--port 0 --tls-auth-clients no --tls-port"));
            args.push(port.to_string());
            args.extend(["--tls-cert-file".into(), t.cert.clone()]);
            args.extend(["--tls-key-file".into(), t.key.clone()]);
            args.extend(["--tls-ca-cert-file".into(), t.ca.clone()]);
        }
    }
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
    Ok(ServerProc { pid: child.id(), child, addr, command })
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
