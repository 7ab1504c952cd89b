//! The honest users the attacks must not hurt: chatters in room `honest`
//! (each from its own address) whose messages carry their send time, so
//! every receiver measures delivery latency; a prober that signs in as a
//! registered account once a second (a password check each time); and a
//! reconnecting client that re-JOINs three busy rooms with `limit 1000` in
//! one write, as `banter` does after an outage.
//!
//! Figures go to a [`Window`] the scenario takes at the end of each phase.

use super::wire::{host, Wire};
use crate::net::now_ns;
use crate::stats::histogram;
use banter_proto::{ClientFrame, ServerFrame};
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Honest chatters.
pub const CHATTERS: usize = 8;
/// Registered accounts the prober signs in as.
pub const ACCOUNTS: usize = 10;
/// Their password.
pub const PASSWORD: &str = "an honest password";
/// Rooms the replayer re-JOINs.
pub const BUSY: [&str; 3] = ["busy0", "busy1", "busy2"];

/// What honest users saw during one phase.
pub struct Window {
    /// Delivery latency of chat messages, ns.
    pub lat: Histogram<u64>,
    /// Sign-ins tried and the ones that got WELCOME within 5 s.
    pub logins: (u32, u32),
    /// Replays of three busy rooms tried and the ones read through.
    pub replays: (u32, u32),
    /// Chat connections lost (and resumed).
    pub drops: u32,
    /// PRESENCE lost frames honest chatters got.
    pub lost: u32,
}

impl Default for Window {
    fn default() -> Window {
        Window { lat: histogram(), logins: (0, 0), replays: (0, 0), drops: 0, lost: 0 }
    }
}

/// The running honest users.
pub struct Honest {
    stop: Arc<AtomicBool>,
    window: Arc<Mutex<Window>>,
    threads: Vec<JoinHandle<()>>,
}

impl Honest {
    /// Starts them against `to`.
    pub fn start(to: SocketAddr) -> Honest {
        let stop = Arc::new(AtomicBool::new(false));
        let window = Arc::new(Mutex::new(Window::default()));
        let mut threads = Vec::new();
        for i in 0..CHATTERS {
            let (s, w) = (stop.clone(), window.clone());
            threads.push(std::thread::spawn(move || chatter(to, i, &s, &w)));
        }
        let (s, w) = (stop.clone(), window.clone());
        threads.push(std::thread::spawn(move || prober(to, &s, &w)));
        let (s, w) = (stop.clone(), window.clone());
        threads.push(std::thread::spawn(move || replayer(to, &s, &w)));
        Honest { stop, window, threads }
    }

    /// What they saw since the last call.
    pub fn take(&self) -> Window {
        std::mem::take(&mut *self.window.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Stops them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.threads.into_iter().for_each(|t| drop(t.join()));
    }
}

/// Registers the prober's accounts (before any attack).
pub fn register_accounts(to: SocketAddr) -> Result<(), String> {
    for i in 0..ACCOUNTS {
        let mut w = Wire::connect(host(1, 60 + i), to).map_err(|e| e.to_string())?;
        w.hello(&format!("acct{i}"), "", 0, Duration::from_secs(5))?;
        w.send(&ClientFrame::Register { password: PASSWORD.into() }).map_err(|e| e.to_string())?;
        loop {
            match w.recv(Duration::from_secs(20)).map_err(|e| e.to_string())? {
                Some(ServerFrame::Registered { .. }) => break,
                Some(ServerFrame::Error { detail, .. }) => return Err(detail),
                Some(_) => {}
                None => return Err("REGISTER not answered".into()),
            }
        }
        let _ = w.send(&ClientFrame::Quit { reason: String::new() });
    }
    Ok(())
}

fn with<T>(w: &Mutex<Window>, f: impl FnOnce(&mut Window) -> T) -> T {
    f(&mut w.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Chatter `i`: says a stamped line every 250 ms and times the others'.
fn chatter(to: SocketAddr, i: usize, stop: &AtomicBool, window: &Mutex<Window>) {
    let (name, mut token, mut seq) = (format!("honest{i}"), 0, 0u32);
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut w) = Wire::connect(host(1, i), to) else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        match w.hello(&name, "", token, Duration::from_secs(5)) {
            Ok(t) => token = t,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        }
        let _ = w.send(&ClientFrame::Join { room: "honest".into(), since: 0, limit: 0 });
        let mut next = Instant::now();
        let ok = loop {
            if stop.load(Ordering::Relaxed) {
                break true;
            }
            if Instant::now() >= next {
                seq += 1;
                let text = format!("t{}", now_ns());
                let say = ClientFrame::Say { room: "honest".into(), seq, text, flags: 0 };
                if w.send(&say).is_err() {
                    break false;
                }
                next += Duration::from_millis(250);
            }
            let left = next.saturating_duration_since(Instant::now());
            match w.recv(left.max(Duration::from_millis(1))) {
                Ok(Some(f)) => see(&f, window),
                Ok(None) => {}
                Err(_) => break false,
            }
        };
        if !ok {
            with(window, |w| w.drops += 1);
        }
    }
}

fn see(f: &ServerFrame, window: &Mutex<Window>) {
    match f {
        ServerFrame::Msg { text, flags: 0, .. } => {
            if let Some(ns) = text.strip_prefix('t').and_then(|t| t.parse::<u64>().ok()) {
                let lat = now_ns().saturating_sub(ns).max(1);
                with(window, |w| {
                    let _ = w.lat.record(lat);
                });
            }
        }
        ServerFrame::Presence { event: 4, .. } => with(window, |w| w.lost += 1),
        _ => {}
    }
}

/// Signs in as a registered account once a second.
fn prober(to: SocketAddr, stop: &AtomicBool, window: &Mutex<Window>) {
    let mut k = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let ok = Wire::connect(host(1, 40 + k % 20), to).is_ok_and(|mut w| {
            let ok = w.hello(&format!("acct{}", k % ACCOUNTS), PASSWORD, 0, Duration::from_secs(5));
            let _ = w.send(&ClientFrame::Quit { reason: String::new() });
            ok.is_ok()
        });
        with(window, |w| {
            w.logins.0 += 1;
            w.logins.1 += u32::from(ok);
        });
        k += 1;
        std::thread::sleep(Duration::from_secs(1).saturating_sub(start.elapsed()));
    }
}

/// Re-JOINs the three busy rooms with `limit 1000` every 3 s.
fn replayer(to: SocketAddr, stop: &AtomicBool, window: &Mutex<Window>) {
    while !stop.load(Ordering::Relaxed) {
        let ok = Wire::connect(host(1, 90), to).is_ok_and(|mut w| {
            if w.hello("replayer", "", 0, Duration::from_secs(5)).is_err() {
                return false;
            }
            let joins: Vec<ClientFrame> = BUSY
                .iter()
                .map(|r| ClientFrame::Join { room: r.to_string(), since: 0, limit: 1000 })
                .collect();
            let ok = w.send_all(&joins).is_ok() && read_ends(&mut w, BUSY.len());
            let _ = w.send(&ClientFrame::Quit { reason: String::new() });
            ok
        });
        with(window, |w| {
            w.replays.0 += 1;
            w.replays.1 += u32::from(ok);
        });
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// Reads until `n` HISTORY_ENDs; false on a fatal ERROR or a close.
fn read_ends(w: &mut Wire, mut n: usize) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while n > 0 {
        match w.recv(end.saturating_duration_since(Instant::now())) {
            Ok(Some(ServerFrame::HistoryEnd { .. })) => n -= 1,
            Ok(Some(ServerFrame::Error { code: 11, .. })) | Ok(None) | Err(_) => return false,
            Ok(Some(_)) => {}
        }
    }
    true
}
