//! The command line of `banterd` (spec §6): `--help` and `--version` exit 0,
//! a bad flag or value exits non-zero with a one-line message, the `PORT`
//! environment variable, and the `listening on IP:PORT` line.
//!
//! `MAX_CLIENTS` from the environment is in `server_limits` (it needs
//! connections); `--db` and `--accounts-only` proper are the SQLite tests'.

use crate::server_util::*;
use banter_tests::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `banterd args` with `env` to its end (killed after [`WAIT`]).
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin("banterd"));
    cmd.args(args).env_remove("PORT").env_remove("MAX_CLIENTS");
    cmd.envs(env.iter().copied());
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn banterd");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(WAIT) {
        Ok(out) => out.expect("wait banterd"),
        Err(_) => {
            // SAFETY: kill(2) on the child we spawned and have not reaped.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("banterd {args:?} did not exit within {WAIT:?}");
        }
    }
}

/// A `banterd` started by hand, killed when dropped.
struct Running(
    /// The child process, killed and reaped on drop.
    Child,
);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_lists_every_flag_and_exits_0() {
    let out = run(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let flags = [
        "--bind",
        "--port",
        "--max-clients",
        "--heartbeat-ms",
        "--linger-ms",
        "--db",
        "--accounts-only",
        "--rate",
        "--out-limit",
        "--max-frame",
        "--max-text",
        "--log-level",
        "--max-per-ip",
        "--conn-rate",
        "--join-rate",
        "--query-rate",
        "--max-lingering",
        "--max-rooms",
        "--history-memory",
        "--min-rate",
        "--hash-workers",
        "--proxy-from",
        "--help",
        "--version",
    ];
    for flag in flags {
        assert!(text.contains(flag), "--help does not mention {flag}:\n{text}");
    }
}

#[test]
fn version_prints_the_version_and_exits_0() {
    let out = run(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text:?}");
}

#[test]
fn bad_flags_and_values_exit_non_zero_with_one_line() {
    let base = ["--bind", "127.0.0.1", "--port", "0"];
    let cases: &[&[&str]] = &[
        &["--bogus"],
        &["--port", "abc"],
        &["--port", "70000"],
        &["--bind", "not-an-ip"],
        &["--max-clients", "many"],
        &["--heartbeat-ms", "-5"],
        &["--linger-ms", "soon"],
        &["--rate", "fast"],
        &["--out-limit", "lots"],
        &["--max-frame", "100"],
        &["--max-text", "0"],
        &["--max-frame", "2048", "--max-text", "4096"],
        &["--log-level", "loud"],
        &["--accounts-only"],
        &["stray"],
    ];
    for case in cases {
        let args: Vec<&str> = base.iter().chain(case.iter()).copied().collect();
        check_refused(&args, &[]);
    }
    check_refused(&["--bind", "127.0.0.1"], &[("PORT", "abc")]);
    check_refused(&base, &[("MAX_CLIENTS", "lots")]);
}

fn check_refused(args: &[&str], env: &[(&str, &str)]) {
    let out = run(args, env);
    assert!(!out.status.success(), "{args:?} {env:?} was accepted");
    let err = String::from_utf8_lossy(&out.stderr);
    // The reason on one line; a pointer to --help may follow it.
    let lines: Vec<&str> =
        err.lines().filter(|l| !l.trim().is_empty() && !l.contains("--help")).collect();
    assert_eq!(lines.len(), 1, "{args:?} {env:?}: stderr {err:?}");
}

#[test]
fn port_comes_from_the_environment() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let child = Command::new(bin("banterd"))
        .args(["--bind", "127.0.0.1"])
        .env("PORT", port.to_string())
        .env_remove("MAX_CLIENTS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn banterd");
    let mut running = Running(child);
    let stderr = running.0.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(10)).expect("listening line");
    assert!(line.contains(&format!("listening on 127.0.0.1:{port}")), "{line}");
    let mut c = Conn::connect(format!("127.0.0.1:{port}").parse().expect("addr"));
    c.hello("ada", "", 0);
    c.expect_welcome();
    assert_alive(&mut c);
}

#[test]
fn listening_line_names_the_real_port() {
    let s = Server::start(&[]);
    assert_ne!(s.port(), 0);
    s.wait_log(&format!("listening on 127.0.0.1:{}", s.port()));
}
