//! The terminal client and the web client share files through banterd:
//! a file sent with `/send` from the terminal (line mode, as a script or a
//! user would run it) is downloaded intact in the browser, and a file
//! dropped in the browser is saved intact by `/get` in the terminal.

use super::files::*;
use super::page::*;
use super::DESKTOP;
use banter_tests::browser::{exclusive, Browser};
use banter_tests::front::front;
use banter_tests::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// `banter` in line mode, fed and read line by line.
struct LineClient {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Its stdout, a line at a time.
    lines: Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

impl LineClient {
    fn start(cwd: &Path, port: u16, name: &str) -> LineClient {
        let mut child = Command::new(bin("banter"))
            .args(["--port", &port.to_string(), "--name", name])
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start banter");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        LineClient { child, stdin, lines, seen: Vec::new() }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to banter");
    }

    /// Waits for a line that contains `text` (lines carry the time).
    fn expect(&mut self, text: &str) -> String {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(text) => return l,
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("no line with {text:?} in 30 s; got:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Ends its input and waits for its exit code.
    fn finish(mut self) -> i32 {
        drop(self.stdin.take());
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < end, "banter did not exit 30 s after its input ended");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_file_goes_from_the_terminal_to_the_browser_and_back() {
    let _one = exclusive();
    let dir = TempDir::new("web-terminal-files");
    let s = files_server(&dir, &[]);
    let web = front(s.port());
    let work = dir.0.join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let there = bytes(300_000);
    std::fs::write(work.join("report.bin"), &there).expect("write");

    let bob = Browser::start(DESKTOP);
    sign_in_with(&bob, &web.url(), "bob", PW, true);
    let mut ada = LineClient::start(&work, s.port(), "ada");
    ada.say("/register long-enough-pass");
    ada.say("/send report.bin");
    ada.expect("[file 1] <ada> report.bin");

    // In the browser: offered, downloaded byte for byte.
    wait_card(&bob, "report.bin", "offered", "c.actions.includes('Download')");
    click_action(&bob, "report.bin", "Download");
    assert_eq!(sha(&bob.downloaded("report.bin")), sha(&there), "intact in the browser");

    // And back: dropped in the browser, saved by /get in the terminal.
    drop_file(&bob, "reply.bin", "application/octet-stream", json!(200_000));
    wait_file_sent(&bob, "reply.bin");
    ada.expect("[file 2] <bob> reply.bin");
    ada.say("/get 2");
    ada.expect("= saved [file 2]");
    let saved = std::fs::read(work.join("reply.bin")).expect("saved by /get");
    assert_eq!(sha(&saved), sha(&bytes(200_000)), "intact in the terminal");
    assert_eq!(ada.finish(), 0, "every message and file acknowledged");
}
