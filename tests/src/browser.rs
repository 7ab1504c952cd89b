//! A real headless Chromium for the web client's end-to-end tests, driven
//! over W3C WebDriver: Debian's `chromedriver` on 127.0.0.1 (port 0), spoken
//! to with plain HTTP/1.1 requests and JSON bodies. Every request and every
//! wait is bounded in time.
//!
//! It does not fake a browser and does not serve the page: see [`front`]
//! for where the page comes from.

use crate::TempDir;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod http;
use http::http;

/// How long a test waits for something to show in the page.
pub const PAGE_WAIT: Duration = Duration::from_secs(15);

/// The flags Chromium needs on this closed network: without the networking
/// ones it stalls trying to reach Google's services.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=en-US",
];

/// The WebDriver key for Enter (W3C "normalised key value" U+E007).
pub const ENTER: &str = "\u{E007}";
/// The WebDriver key for Escape.
pub const ESCAPE: &str = "\u{E00C}";
/// The WebDriver key for Tab.
pub const TAB: &str = "\u{E004}";
/// The WebDriver key for Alt (a modifier for [`Browser::keys`]).
pub const ALT: &str = "\u{E00A}";
/// The WebDriver key for the up arrow.
pub const ARROW_UP: &str = "\u{E013}";

/// One browser test at a time: two cores cannot run several Chromiums and
/// the rest of the suite without timing out.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A program on PATH (or the path in `env`), with a clear failure if missing.
fn program(env: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "{} not found on PATH (nor ${env}): the web client's tests need Debian's chromium and \
         chromium-driver (`apt-get install -y chromium chromium-driver`; .ci/run installs them)",
        names[0]
    );
}

/// The screen a browser emulates.
#[derive(Debug, Clone, Copy)]
pub enum Screen {
    /// A desktop window of this many CSS pixels.
    Desktop { width: u32, height: u32 },
    /// A phone: this viewport in CSS pixels, 3 device pixels each, touch.
    Phone { width: u32, height: u32 },
}

/// A running chromedriver with one Chromium session, ended when dropped.
pub struct Browser {
    /// The chromedriver process (it starts and ends Chromium).
    driver: Child,
    /// Where chromedriver listens.
    addr: SocketAddr,
    /// The WebDriver session id.
    session: String,
    /// Chromium's fresh profile (and its downloads folder), removed when dropped.
    profile: TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium showing `screen`.
    pub fn start(screen: Screen) -> Browser {
        let chromium = program("BANTER_CHROMIUM", &["chromium", "chromium-browser"]);
        let driver_bin = program("BANTER_CHROMEDRIVER", &["chromedriver"]);
        let (driver, addr) = start_driver(&driver_bin);
        let profile = TempDir::new("chromium");
        let caps = capabilities(&chromium, &profile.0, screen);
        let mut b = Browser { driver, addr, session: String::new(), profile };
        let v = b.request("POST", "/session", Some(&caps));
        b.session = v["sessionId"].as_str().expect("WebDriver session id").to_string();
        b.cmd("POST", "timeouts", json!({"script": 10_000, "pageLoad": 20_000, "implicit": 0}));
        b
    }

    /// Where the browser saves downloads (without asking).
    pub fn downloads(&self) -> PathBuf {
        self.profile.0.join("downloads")
    }

    /// Waits until the downloads folder holds a finished file `name`
    /// (Chromium writes `NAME.crdownload` first) and returns its bytes.
    pub fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads().join(name);
        let end = Instant::now() + PAGE_WAIT;
        loop {
            if let Ok(bytes) = std::fs::read(&path) {
                return bytes;
            }
            if Instant::now() >= end {
                let found: Vec<_> = std::fs::read_dir(self.downloads())
                    .map(|d| d.flatten().map(|e| e.file_name()).collect())
                    .unwrap_or_default();
                panic!("no download {name:?} within {PAGE_WAIT:?}; the folder holds {found:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Loads `url` and waits for it (WebDriver waits for the load event).
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "url", json!({ "url": url }));
    }

    /// Reloads the page, as the browser's reload button does.
    pub fn reload(&self) {
        self.cmd("POST", "refresh", json!({}));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page
    /// and returns its result; a returned Promise is awaited.
    pub fn eval(&self, script: &str, args: &[Value]) -> Value {
        self.cmd("POST", "execute/sync", json!({ "script": script, "args": args }))
    }

    /// Polls `script` until it returns something truthy, at most [`PAGE_WAIT`];
    /// panics saying `what` was awaited, with the page's state.
    pub fn wait(&self, what: &str, script: &str, args: &[Value]) -> Value {
        self.wait_for(PAGE_WAIT, what, script, args)
    }

    /// [`Browser::wait`] with another limit.
    pub fn wait_for(&self, limit: Duration, what: &str, script: &str, args: &[Value]) -> Value {
        let end = Instant::now() + limit;
        loop {
            let v = self.eval(script, args);
            if truthy(&v) {
                return v;
            }
            if Instant::now() >= end {
                panic!("waited {limit:?} for {what}; the page shows:\n{}", self.describe());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The visible text of the page and what its console said since the
    /// last call (for failure messages).
    pub fn describe(&self) -> String {
        let v = self.eval("return document.body ? document.body.innerText : ''", &[]);
        let text = v.as_str().unwrap_or_default();
        format!("{text}\n--- console:\n{}", self.console().join("\n"))
    }

    /// The page's console messages and errors since the last call.
    pub fn console(&self) -> Vec<String> {
        let v = self.cmd("POST", "se/log", json!({"type": "browser"}));
        let entries = v.as_array().cloned().unwrap_or_default();
        entries.iter().map(|e| format!("{} {}", e["level"], e["message"])).collect()
    }

    /// The WebDriver id of the first element matching `css`.
    pub fn find(&self, css: &str) -> String {
        let v = self.cmd("POST", "element", json!({"using": "css selector", "value": css}));
        let id = v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str);
        id.unwrap_or_else(|| panic!("no element id for {css}: {v}")).to_string()
    }

    /// Clicks the element matching `css` as a user would (it must be visible).
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("element/{id}/click"), json!({}));
    }

    /// Types `text` into the element matching `css` with real key events
    /// (it is focused first; [`ENTER`] and friends press those keys).
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("element/{id}/value"), json!({ "text": text }));
    }

    /// Empties the input matching `css`.
    pub fn clear(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("element/{id}/clear"), json!({}));
    }

    /// Presses keys wherever the focus is, e.g. `&[ESCAPE]` or Alt+Down.
    pub fn keys(&self, modifiers: &[&str], keys: &str) {
        let mut actions = Vec::new();
        for m in modifiers {
            actions.push(json!({"type": "keyDown", "value": m}));
        }
        for k in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": k.to_string()}));
            actions.push(json!({"type": "keyUp", "value": k.to_string()}));
        }
        for m in modifiers.iter().rev() {
            actions.push(json!({"type": "keyUp", "value": m}));
        }
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.cmd("POST", "actions", body);
        self.cmd("DELETE", "actions", Value::Null);
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let v = self.cmd("GET", "screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("screenshot data"))
            .expect("screenshot is base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create screenshot dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// A command of this session (`path` relative to `/session/{id}/`).
    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let full = format!("/session/{}/{path}", self.session);
        self.request(method, &full, if body.is_null() { None } else { Some(&body) })
    }

    /// One WebDriver request; panics on an error answer.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, v) = http(self.addr, method, path, body);
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if status != 200 {
            panic!("WebDriver {method} {path}: HTTP {status}: {}", value);
        }
        value
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = std::panic::catch_unwind(|| http(self.addr, "DELETE", &path, None));
        }
        // SAFETY: kill(2) on the process group we created; no memory is shared.
        unsafe { libc::kill(-(self.driver.id() as i32), libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The new-session capabilities: Debian's Chromium, our flags and profile.
fn capabilities(chromium: &Path, profile: &Path, screen: Screen) -> Value {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let downloads = profile.join("downloads");
    let mut options = json!({
        "binary": chromium.to_str().expect("utf-8 path"),
        "args": [],
        // Downloads land in the profile's folder without a prompt, and a page
        // may save more than one file (the web client's file tests).
        "prefs": {
            "download.default_directory": downloads.to_str().expect("utf-8 path"),
            "download.prompt_for_download": false,
            "profile.default_content_setting_values.automatic_downloads": 1,
        },
    });
    match screen {
        Screen::Desktop { width, height } => args.push(format!("--window-size={width},{height}")),
        Screen::Phone { width, height } => {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0, "touch": true},
            });
        }
    }
    options["args"] = json!(args);
    json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": options,
        "goog:loggingPrefs": {"browser": "ALL"},
    }}})
}

/// Starts chromedriver on a free port and learns the port from its output;
/// a start that fails (seen once in a while on a loaded machine, e.g. with
/// the ephemeral ports taken by a soak) is tried again, twice.
fn start_driver(bin: &Path) -> (Child, SocketAddr) {
    let mut why = Vec::new();
    for _ in 0..3 {
        match try_start_driver(bin) {
            Ok(started) => return started,
            Err(e) => why.push(e),
        }
    }
    panic!("chromedriver did not start, three times:\n{}", why.join("\n"));
}

fn try_start_driver(bin: &Path) -> Result<(Child, SocketAddr), String> {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(bin);
    cmd.arg("--port=0");
    // BANTER_CHROMEDRIVER_LOG=FILE keeps chromedriver's verbose log, to debug.
    match std::env::var("BANTER_CHROMEDRIVER_LOG") {
        Ok(path) => cmd.args(["--verbose", &format!("--log-path={path}")]),
        Err(_) => cmd.arg("--log-level=SEVERE"),
    };
    // Its own process group, so Chromium goes too when the group is killed.
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // "ChromeDriver was started successfully on port 34791."
            let port = line.split("successfully on port ").nth(1);
            let _ = tx.send(port.map(|p| p.trim_end_matches('.').trim().to_string()).ok_or(line));
        }
    });
    // Generous: on a loaded 2-core machine its start has taken over 20 s.
    let end = std::time::Instant::now() + Duration::from_secs(60);
    let mut said = Vec::new();
    let why = loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(port)) => match port.parse::<u16>() {
                Ok(port) => return Ok((child, SocketAddr::from(([127, 0, 0, 1], port)))),
                Err(_) => break format!("it named port {port:?}"),
            },
            Ok(Err(line)) => said.push(line),
            Err(RecvTimeoutError::Timeout) => break "not started within 60 s".to_string(),
            Err(RecvTimeoutError::Disconnected) => break "it ended its output".to_string(),
        }
    };
    let _ = child.kill();
    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
    Err(format!("{why} ({status}); it said: {}", said.join(" | ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthiness_follows_javascript() {
        for v in [json!(true), json!(1), json!("x"), json!([]), json!({})] {
            assert!(truthy(&v), "{v}");
        }
        for v in [json!(null), json!(false), json!(0), json!("")] {
            assert!(!truthy(&v), "{v}");
        }
    }
}
