//! The banterd under test, started by the scenario itself (so it can be
//! killed and restarted, and its flags are the defaults a careful operator
//! keeps): on 127.0.0.1, port 0 or a given one, its log drained on a
//! thread; its RSS and CPU read from /proc.

use crate::procstat;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running banterd.
pub struct Banterd {
    /// The process.
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Banterd {
    /// Starts `bin` with `args` (plus `--bind 127.0.0.1 --port PORT`) and
    /// waits for its `listening on` line; on CPU `cpu` only when given
    /// (`taskset`), so the harness does not compete with it.
    pub fn start(
        bin: &str,
        port: u16,
        args: &[String],
        cpu: Option<usize>,
    ) -> Result<Banterd, String> {
        let mut cmd = match cpu {
            Some(c) => {
                let mut t = Command::new("taskset");
                t.args(["-c", &c.to_string(), bin]);
                t
            }
            None => Command::new(bin),
        };
        cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--log-level", "info"]);
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {bin}: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(a) = line.split("listening on ").nth(1) {
                    let _ = tx.send(a.trim().to_string());
                } else if line.contains("ERROR") {
                    eprintln!("banterd: {line}");
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)).ok().and_then(|a| a.parse().ok()) {
            Some(addr) => Ok(Banterd { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("{bin} did not say where it listens"))
            }
        }
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in MiB.
    pub fn rss_mib(&self) -> f64 {
        procstat::rss_bytes(self.pid()).map_or(0.0, |b| b as f64 / (1 << 20) as f64)
    }

    /// CPU seconds used so far.
    pub fn cpu(&self) -> f64 {
        procstat::cpu_seconds(self.pid()).unwrap_or(0.0)
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the exit.
    pub fn stop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.pid() as i32, libc::SIGTERM) };
        for _ in 0..200 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.kill9();
    }
}

/// Keeps this process (the harness: every thread it starts from now on) on
/// CPU `cpu`.
pub fn pin_self(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes one
    // bit of it; sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

impl Drop for Banterd {
    fn drop(&mut self) {
        self.kill9();
    }
}
