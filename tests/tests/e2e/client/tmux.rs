//! Runs a program in a real pseudo-terminal through tmux (a private server
//! socket per test), types into it and reads the screen, every wait bounded.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a screen condition may take to appear.
pub const SCREEN_WAIT: Duration = Duration::from_secs(10);

/// A tmux server with one session running a command; killed when dropped.
pub struct Tmux {
    /// The `-L` socket name, unique per test.
    sock: String,
}

fn require_tmux() {
    let ok = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the client's end-to-end tests need tmux (apt-get install -y tmux); it was not found"
    );
}

impl Tmux {
    /// Starts `cmd` (a shell command line) in a `cols`×`rows` terminal.
    pub fn start(cmd: &str, cols: u16, rows: u16) -> Tmux {
        require_tmux();
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let t = Tmux { sock: format!("banter-e2e-{}-{n}", std::process::id()) };
        let (x, y) = (cols.to_string(), rows.to_string());
        t.run(&["-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", &x, "-y", &y, cmd]);
        t
    }

    /// Runs a tmux command against this server (e.g. `resize-window`).
    pub fn run_tmux(&self, args: &[&str]) -> String {
        self.run(args)
    }

    fn run(&self, args: &[&str]) -> String {
        let out =
            Command::new("tmux").arg("-L").arg(&self.sock).args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Sends named keys (`Enter`, `C-r`, `PPage`, ...).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// The screen with its colours and attributes as SGR escape sequences.
    pub fn styled_screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", "t"])
    }

    /// Copies everything the program writes from now on to `path`.
    pub fn record(&self, path: &std::path::Path) {
        let cmd = format!("cat >> '{}'", path.display());
        self.run(&["pipe-pane", "-o", "-t", "t", &cmd]);
    }

    /// The pane's title (an OSC sequence that got through would change it).
    pub fn title(&self) -> String {
        self.run(&["display-message", "-p", "-t", "t", "#{pane_title}"])
    }

    /// Waits until `pred` holds for the screen; returns that screen.
    pub fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + SCREEN_WAIT;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(Instant::now() < end, "screen never showed {what}:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen contains `needle`.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait(needle, |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.sock, "kill-server"]).output();
    }
}

/// The status bar (second to last row) of a screen.
pub fn status_bar(screen: &str) -> String {
    let rows: Vec<&str> = screen.lines().collect();
    rows.len().checked_sub(2).and_then(|i| rows.get(i)).unwrap_or(&"").to_string()
}

/// The input line (last row) of a screen.
pub fn input_line(screen: &str) -> String {
    screen.lines().last().unwrap_or("").trim_end().to_string()
}
