//! The attacks of issue 15, each from its own loopback "host" (one source
//! address, as one machine on the internet would be), each counting what
//! it managed: sockets trickling a frame a byte a second, JOIN/LEAVE over
//! new names, rooms filled with the largest messages, reconnecting under
//! new names to reset a rate limit, sessions dropped to linger in the honest
//! room, JOIN/LEAVE in the 5 000-member room, a REGISTER flood with wrong
//! passwords beside it, readers that never read, and frames with extreme
//! values. `all` runs every one at once.

use super::wire::{host, Wire};
use banter_proto::{ClientFrame, ServerFrame};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The probes, in the order the scenario runs them.
pub const NAMES: [&str; 10] = [
    "trickle",
    "idle",
    "rooms",
    "history",
    "reconnect",
    "linger",
    "bigroom",
    "register",
    "slow",
    "extremes",
];

/// A running probe and what it counts.
pub struct Probe {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// What it managed (its meaning is in [`describe`]).
    pub count: Arc<AtomicU64>,
    /// A second figure (refusals, mostly).
    pub refused: Arc<AtomicU64>,
}

/// What `count` and `refused` mean for probe `name`.
pub fn describe(name: &str) -> (&'static str, &'static str) {
    match name {
        "trickle" => ("sockets reaped", "refused at connect"),
        "idle" => ("sockets in", "refused"),
        "rooms" => ("JOINs answered", "RATE_LIMITED"),
        "history" => ("4 KB SAYs stored", "RATE_LIMITED"),
        "reconnect" => ("SAYs stored", "RATE_LIMITED"),
        "linger" => ("sessions dropped", "refused at connect"),
        "bigroom" => ("JOIN/LEAVE answered", "RATE_LIMITED"),
        "register" => ("hashes asked", "RATE_LIMITED/AUTH_FAILED"),
        "slow" => ("readers dropped", "readers held"),
        _ => ("MSGs replayed for since=2^64-1", "connections closed"),
    }
}

impl Probe {
    /// Starts probe `name` against `to`.
    pub fn start(name: &str, to: SocketAddr) -> Probe {
        let mut p = Probe {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            count: Arc::new(AtomicU64::new(0)),
            refused: Arc::new(AtomicU64::new(0)),
        };
        let k = NAMES.iter().position(|n| *n == name).unwrap_or(0);
        let h = host(2, k);
        let f: fn(Ctx) = match name {
            "trickle" => trickle,
            "idle" => idle,
            "rooms" => rooms,
            "history" => history,
            "reconnect" => reconnect,
            "linger" => linger,
            "bigroom" => bigroom,
            "register" => register,
            "slow" => slow,
            _ => extremes,
        };
        let threads = if name == "history" || name == "register" { 4 } else { 1 };
        for t in 0..threads {
            let c = Ctx {
                to,
                host: h,
                t,
                stop: p.stop.clone(),
                count: p.count.clone(),
                refused: p.refused.clone(),
            };
            p.threads.push(std::thread::spawn(move || f(c)));
        }
        p
    }

    /// Stops it (threads finish within about a second).
    pub fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.threads.into_iter().for_each(|t| drop(t.join()));
        (self.count.load(Ordering::Relaxed), self.refused.load(Ordering::Relaxed))
    }
}

/// What a probe thread gets.
struct Ctx {
    to: SocketAddr,
    host: std::net::Ipv4Addr,
    /// Thread number within the probe.
    t: usize,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
}

impl Ctx {
    fn going(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    /// A logged-in connection as `name`, or `None` (counted as refused).
    fn login(&self, name: &str) -> Option<Wire> {
        let w = Wire::connect(self.host, self.to)
            .ok()
            .and_then(|mut w| w.hello(name, "", 0, Duration::from_secs(5)).ok().map(|_| w));
        if w.is_none() {
            self.refused.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(50));
        }
        w
    }

    /// Reads for `d`, counting ACKs, JOINEDs and RATE_LIMITEDs; false once
    /// the connection is gone.
    fn read_for(&self, w: &mut Wire, d: Duration, counted: fn(&ServerFrame) -> bool) -> bool {
        let end = Instant::now() + d;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            match w.recv(left) {
                Ok(Some(ServerFrame::Error { code: 15, .. })) => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(f)) if counted(&f) => {
                    self.count.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }
}

fn is_ack(f: &ServerFrame) -> bool {
    matches!(f, ServerFrame::Ack { .. })
}

fn is_joined(f: &ServerFrame) -> bool {
    matches!(f, ServerFrame::Joined { .. })
}

/// 100 logged-in sockets trickling a SAY a byte a second.
fn trickle(c: Ctx) {
    let frame =
        ClientFrame::Say { room: "x".into(), seq: 1, text: "y".repeat(900), flags: 0 }.to_bytes();
    let mut socks: Vec<(Wire, usize)> = Vec::new();
    let mut n = 0;
    while c.going() {
        while socks.len() < 100 && c.going() {
            n += 1;
            match c.login(&format!("trk{n}")) {
                Some(w) => socks.push((w, 0)),
                None => break,
            }
        }
        let before = socks.len();
        socks.retain_mut(|(w, at)| {
            *at = (*at + 1) % frame.len();
            // Never read (a PONG would land inside the trickled frame): a
            // socket the server closed fails its next writes.
            std::io::Write::write_all(&mut w.sock, &frame[*at..*at + 1]).is_ok()
        });
        c.count.fetch_add((before - socks.len()) as u64, Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// 100 sockets that log in and answer PINGs, holding places.
fn idle(c: Ctx) {
    let spec = super::crowd::Spec {
        hosts: vec![c.host],
        per_host: 100,
        prefix: "idle".into(),
        room: None,
        answer_ping: true,
    };
    let crowd = super::crowd::Crowd::start(c.to, spec);
    while c.going() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (joined, closed) =
        (crowd.joined.load(Ordering::Relaxed), crowd.closed.load(Ordering::Relaxed));
    c.count.store(joined.saturating_sub(closed) as u64, Ordering::Relaxed);
    c.refused.store(closed as u64, Ordering::Relaxed);
    crowd.stop();
}

/// JOIN and LEAVE over new room names, 100 pairs a write.
fn rooms(c: Ctx) {
    let mut n = 0u64;
    while c.going() {
        let Some(mut w) = c.login(&format!("roomer{}", n)) else { continue };
        while c.going() {
            let mut frames = Vec::new();
            for _ in 0..100 {
                n += 1;
                frames.push(ClientFrame::Join { room: format!("r{n}"), since: 0, limit: 0 });
                frames.push(ClientFrame::Leave { room: format!("r{n}") });
            }
            if w.send_all(&frames).is_err()
                || !c.read_for(&mut w, Duration::from_millis(200), is_joined)
            {
                break;
            }
        }
    }
}

/// Rooms filled with 4 000-byte messages as fast as the server takes them.
fn history(c: Ctx) {
    let text = "h".repeat(4000);
    let mut seq = 0u32;
    while c.going() {
        let Some(mut w) = c.login(&format!("filler{}-{seq}", c.t)) else { continue };
        let room = format!("fill{}", c.t);
        let _ = w.send(&ClientFrame::Join { room: room.clone(), since: 0, limit: 0 });
        while c.going() {
            let says: Vec<ClientFrame> = (0..20)
                .map(|_| {
                    seq += 1;
                    ClientFrame::Say { room: room.clone(), seq, text: text.clone(), flags: 0 }
                })
                .collect();
            if w.send_all(&says).is_err() || !c.read_for(&mut w, Duration::from_millis(250), is_ack)
            {
                break;
            }
        }
    }
}

/// Reconnects under a new name each time to start with a full bucket.
fn reconnect(c: Ctx) {
    let text = "r".repeat(4000);
    let mut n = 0;
    while c.going() {
        n += 1;
        let Some(mut w) = c.login(&format!("rc{n}")) else { continue };
        let mut frames = vec![ClientFrame::Join { room: "rc".into(), since: 0, limit: 0 }];
        frames.extend((1..=20).map(|seq| ClientFrame::Say {
            room: "rc".into(),
            seq,
            text: text.clone(),
            flags: 0,
        }));
        if w.send_all(&frames).is_ok() {
            c.read_for(&mut w, Duration::from_millis(100), is_ack);
        }
    }
}

/// Joins the honest room and drops without QUIT, again and again.
fn linger(c: Ctx) {
    let mut n = 0;
    while c.going() {
        n += 1;
        let Some(mut w) = c.login(&format!("ghost{n}")) else { continue };
        if w.send(&ClientFrame::Join { room: "honest".into(), since: 0, limit: 0 }).is_ok() {
            c.count.fetch_add(1, Ordering::Relaxed);
        }
        let _ = w.recv(Duration::from_millis(20));
    }
}

/// JOIN and LEAVE of the 5 000-member room, pipelined.
fn bigroom(c: Ctx) {
    while c.going() {
        let Some(mut w) = c.login("churner") else { continue };
        while c.going() {
            let pair = [
                ClientFrame::Join { room: "big".into(), since: 0, limit: 0 },
                ClientFrame::Leave { room: "big".into() },
            ];
            let frames: Vec<ClientFrame> = pair.iter().cycle().take(20).cloned().collect();
            if w.send_all(&frames).is_err()
                || !c.read_for(&mut w, Duration::from_millis(100), is_joined)
            {
                break;
            }
        }
    }
}

/// 3 000 REGISTERs in one write, and wrong passwords for a real account.
fn register(c: Ctx) {
    let mut n = 0;
    while c.going() {
        n += 1;
        if c.t == 0 {
            let Some(mut w) = c.login(&format!("reg{n}")) else { continue };
            let frames: Vec<ClientFrame> = (0..3000)
                .map(|i| ClientFrame::Register { password: format!("password {i}") })
                .collect();
            c.count.fetch_add(3000, Ordering::Relaxed);
            if w.send_all(&frames).is_ok() {
                c.read_for(&mut w, Duration::from_secs(5), |_| false);
            }
            continue;
        }
        // The guessers are hosts of their own: the flood above must not
        // spend their address's new-connection budget.
        let Ok(mut w) = Wire::connect(host(2, 20 + c.t), c.to) else { continue };
        c.count.fetch_add(1, Ordering::Relaxed);
        if w.hello(&format!("acct{}", c.t), "a wrong guess", 0, Duration::from_secs(6)).is_err() {
            c.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// 32 members of the big room and a busy one that never read.
fn slow(c: Ctx) {
    let mut held = Vec::new();
    for i in 0..32 {
        let Some(mut w) = c.login(&format!("slow{i}")) else { continue };
        let _ = w.send_all(&[
            ClientFrame::Join { room: "big".into(), since: 0, limit: 0 },
            ClientFrame::Join { room: "busy0".into(), since: 0, limit: 1000 },
        ]);
        held.push(w);
    }
    c.refused.store(held.len() as u64, Ordering::Relaxed);
    while c.going() {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Read now: a reader the server dropped finds SLOW_CONSUMER, then EOF.
    let dropped = held.iter_mut().map(dropped_slow).filter(|&d| d).count();
    c.count.store(dropped as u64, Ordering::Relaxed);
}

/// Whether the server dropped this reader (its stream ends with the close).
fn dropped_slow(w: &mut Wire) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match w.recv(Duration::from_millis(200)) {
            Err(_) => return true,
            Ok(None) if Instant::now() > end => return false,
            Ok(None) => return false,
            Ok(Some(_)) => {}
        }
    }
}

/// Frames at their extremes: JOIN since 2^64-1 (must replay nothing),
/// HISTORY before 2^64-1, a limit of 65 535, and bytes that are no frame.
fn extremes(c: Ctx) {
    let mut n = 0;
    while c.going() {
        n += 1;
        let Some(mut w) = c.login(&format!("ext{n}")) else { continue };
        let frames = [
            ClientFrame::Join { room: "busy1".into(), since: u64::MAX, limit: u16::MAX },
            ClientFrame::History { room: "busy1".into(), before: u64::MAX, limit: u16::MAX },
            ClientFrame::Join { room: "busy1".into(), since: u64::MAX - 1, limit: 1 },
        ];
        if w.send_all(&frames).is_err() {
            continue;
        }
        // MSGs before the first HISTORY_END would be a replay of since=MAX.
        let end = Instant::now() + Duration::from_secs(2);
        while let Ok(Some(f)) = w.recv(end.saturating_duration_since(Instant::now())) {
            match f {
                ServerFrame::Msg { .. } => {
                    c.count.fetch_add(1, Ordering::Relaxed);
                }
                ServerFrame::HistoryEnd { .. } => break,
                _ => {}
            }
        }
        let _ = std::io::Write::write_all(&mut w.sock, &[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
        if w.recv(Duration::from_millis(300)).is_err()
            || w.recv(Duration::from_millis(300)).is_err()
        {
            c.refused.fetch_add(1, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
