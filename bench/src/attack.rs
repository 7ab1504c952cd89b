//! `banter-bench attack`: issue 15's probes against a banterd with its
//! default limits, while honest users chat, sign in and catch up. Each
//! probe runs alone for a phase, then all at once, then none; for each
//! phase the table gives honest sign-ins, honest catch-ups, honest delivery
//! latency, the server's RSS and CPU, and what the probe managed.
//!
//! Loopback only: every "host" is a 127.x.y.z source address. Bounded in
//! time (about 13 phases of `--phase-secs`, plus set-up).

mod crowd;
mod honest;
mod probes;
pub mod server;
pub mod wire;

use crate::stats::latency;
use honest::{Honest, Window};
use probes::Probe;
use server::Banterd;
use std::fmt::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: banter-bench attack [options]

Starts banterd (default flags but --max-clients 6000 and --db in a temporary
directory, or none with --memory), sets up honest users and a room of --big-room members, then runs
each attack of issue 15 for --phase-secs, all of them together, and none,
printing one Markdown row per phase.";

/// One phase's figures.
struct Row {
    phase: String,
    window: Window,
    rss_end: f64,
    rss_max: f64,
    cpu_pct: f64,
    figures: String,
}

/// The entry point: `args` after `attack`.
pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let mut o = getopts::Options::new();
    o.optopt("", "banterd", "banterd binary (next to this one)", "PATH");
    o.optopt("", "phase-secs", "length of each phase (default 15)", "N");
    o.optopt("", "big-room", "members of the big room (default 5000)", "N");
    o.optflag("", "memory", "run banterd without --db (history in memory)");
    o.optflag("", "pin", "pin banterd to CPU 0 and the harness to CPU 1");
    o.optflag("h", "help", "print this help");
    let m = o.parse(args).map_err(|e| e.to_string())?;
    if m.opt_present("help") {
        print!("{}", o.usage(USAGE));
        return Ok(ExitCode::SUCCESS);
    }
    let bin = m.opt_str("banterd").unwrap_or_else(sibling);
    let secs: u64 =
        m.opt_str("phase-secs").map_or(Ok(15), |s| s.parse()).map_err(|_| "--phase-secs")?;
    let big: usize =
        m.opt_str("big-room").map_or(Ok(5000), |s| s.parse()).map_err(|_| "--big-room")?;
    let dir = std::env::temp_dir().join(format!("banter-attack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("attack.db").display().to_string();
    let mut args: Vec<String> = ["--max-clients", "6000"].map(String::from).to_vec();
    if !m.opt_present("memory") {
        args.extend(["--db".to_string(), db]);
    }
    let pin = m.opt_present("pin") && cpus() >= 2;
    let server = Banterd::start(&bin, 0, &args, pin.then_some(0))?;
    if pin {
        server::pin_self(1);
    }
    let result = run(&server, secs, big);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let rows = result?;
    print!("{}", render(&rows, secs, big));
    Ok(ExitCode::SUCCESS)
}

/// CPUs this process may use.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The banterd next to this binary.
pub fn sibling() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("banterd")))
        .map_or("banterd".into(), |p| p.display().to_string())
}

fn run(server: &Banterd, secs: u64, big: usize) -> Result<Vec<Row>, String> {
    let to = server.addr;
    eprintln!("attack: setting up (accounts, busy rooms, {big} members in room big)");
    honest::register_accounts(to)?;
    fill_busy_rooms(to);
    let hosts: Vec<_> = (0..big.div_ceil(32)).map(|i| wire::host(4, i)).collect();
    let spec = crowd::Spec {
        hosts,
        per_host: 32,
        prefix: "m".into(),
        room: Some("big".into()),
        answer_ping: true,
    };
    let members = crowd::Crowd::start(to, spec);
    let end = Instant::now() + Duration::from_secs(120);
    while members.joined.load(std::sync::atomic::Ordering::Relaxed) < big && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "attack: room big has {} members, busy rooms {:?} messages",
        members_of(to, "big"),
        honest::BUSY.map(|r| last_id_of(to, r))
    );
    let honest = Honest::start(to);
    std::thread::sleep(Duration::from_secs(3));
    honest.take();
    let mut rows = Vec::new();
    let mut phases: Vec<Vec<&str>> = vec![vec![]];
    phases.extend(probes::NAMES.iter().map(|n| vec![*n]));
    phases.push(probes::NAMES.to_vec());
    phases.push(vec![]);
    for (i, names) in phases.iter().enumerate() {
        let label = match (i, names.len()) {
            (0, _) => "none (before)".to_string(),
            (_, 0) => "none (after)".to_string(),
            (_, 1) => names[0].to_string(),
            _ => "all at once".to_string(),
        };
        eprintln!("attack: phase {label}");
        rows.push(phase(server, &honest, &label, names, secs));
        std::thread::sleep(Duration::from_secs(2));
    }
    honest.stop();
    members.stop();
    eprint!("{}", loop_times(to));
    Ok(rows)
}

/// The server's own turn and commit histograms (from `/metrics`): were
/// slow deliveries the loop's doing or the machine's?
fn loop_times(to: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(to) else { return String::new() };
    let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.lines()
        .filter(|l| l.starts_with("banter_turn_seconds") || l.starts_with("banter_commit_seconds"))
        .map(|l| format!("attack: {l}\n"))
        .collect()
}

/// JOINED of `room` for a fresh session: (members, last_id).
fn joined(to: std::net::SocketAddr, room: &str) -> (u32, u64) {
    let Ok(mut w) = wire::Wire::connect(wire::host(1, 99), to) else { return (0, 0) };
    if w.hello("counter", "", 0, Duration::from_secs(5)).is_err() {
        return (0, 0);
    }
    let _ = w.send(&banter_proto::ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
    let mut got = (0, 0);
    while let Ok(Some(f)) = w.recv(Duration::from_secs(5)) {
        if let banter_proto::ServerFrame::Joined { members, last_id, .. } = f {
            got = (members.saturating_sub(1), last_id);
            break;
        }
    }
    let _ = w.send(&banter_proto::ClientFrame::Quit { reason: String::new() });
    got
}

fn members_of(to: std::net::SocketAddr, room: &str) -> u32 {
    joined(to, room).0
}

fn last_id_of(to: std::net::SocketAddr, room: &str) -> u64 {
    joined(to, room).1
}

/// Puts 1 000 messages in each busy room, from many hosts in parallel
/// (the server's rate limits hold for set-up too).
fn fill_busy_rooms(to: std::net::SocketAddr) {
    let threads: Vec<_> = (0..60)
        .map(|i| {
            std::thread::spawn(move || {
                let room = honest::BUSY[i % 3].to_string();
                let Ok(mut w) = wire::Wire::connect(wire::host(3, i), to) else { return };
                if w.hello(&format!("filler{i}"), "", 0, Duration::from_secs(5)).is_err() {
                    return;
                }
                let _ = w.send(&banter_proto::ClientFrame::Join {
                    room: room.clone(),
                    since: 0,
                    limit: 0,
                });
                for seq in 1..=50 {
                    let text = format!("busy message {seq} from filler {i} {}", "z".repeat(150));
                    let say =
                        banter_proto::ClientFrame::Say { room: room.clone(), seq, text, flags: 0 };
                    if w.send(&say).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(120));
                    let _ = w.recv(Duration::from_millis(1));
                }
                let _ = w.recv(Duration::from_millis(500));
            })
        })
        .collect();
    threads.into_iter().for_each(|t| drop(t.join()));
}

fn phase(server: &Banterd, honest: &Honest, label: &str, names: &[&str], secs: u64) -> Row {
    let cpu0 = server.cpu();
    let t0 = Instant::now();
    let running: Vec<(&str, Probe)> =
        names.iter().map(|n| (*n, Probe::start(n, server.addr))).collect();
    let mut rss_max: f64 = 0.0;
    while t0.elapsed() < Duration::from_secs(secs) {
        rss_max = rss_max.max(server.rss_mib());
        std::thread::sleep(Duration::from_millis(250));
    }
    let mut figures = String::new();
    for (name, p) in running {
        let (count, refused) = p.stop();
        let (what, other) = probes::describe(name);
        let _ = write!(
            figures,
            "{}{name}: {count} {what}, {refused} {other}",
            if figures.is_empty() { "" } else { "; " }
        );
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu_pct = (server.cpu() - cpu0) / elapsed * 100.0;
    let rss_end = server.rss_mib();
    let rss_max = rss_max.max(rss_end);
    Row { phase: label.into(), window: honest.take(), rss_end, rss_max, cpu_pct, figures }
}

fn render(rows: &[Row], secs: u64, big: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| phase ({secs} s each) | honest sign-ins | honest catch-ups | honest p50 / p99 ms | chat drops | lost PRESENCE seen | server RSS end / max MiB | server CPU | what the attack managed |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let w = &r.window;
        let l = latency(&w.lat);
        let _ = writeln!(
            s,
            "| {} | {}/{} | {}/{} | {:.1} / {:.1} | {} | {} | {:.0} / {:.0} | {:.0}% | {} |",
            r.phase,
            w.logins.1,
            w.logins.0,
            w.replays.1,
            w.replays.0,
            l.p50 / 1000.0,
            l.p99 / 1000.0,
            w.drops,
            w.lost,
            r.rss_end,
            r.rss_max,
            r.cpu_pct,
            if r.figures.is_empty() { "-" } else { &r.figures }
        );
    }
    let _ = writeln!(s, "\n{big} idle members in room `big` throughout; honest users: 8 chatters (4 messages/s each), a registered sign-in per second, a 3-room catch-up every 3 s.");
    s
}
