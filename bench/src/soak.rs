//! `banter-bench soak`: a long run against a banterd with `--db` that is
//! killed (`kill -9`) and restarted on the same port every few minutes,
//! while writers say numbered lines and resend what was not acknowledged
//! after each restart (resuming their sessions), sessions come and go,
//! readers never read and pagers read whole rooms. At the end every
//! acknowledged line must be in the rooms' history exactly once, with the
//! id its ACK gave, and the server's memory must not have grown from one
//! life to the next. Exit status 1 when a line is missing or doubled.

mod load;
mod writer;

use crate::attack::server::Banterd;
use crate::attack::wire::{host, Wire};
use banter_proto::{ClientFrame, ServerFrame};
use std::collections::HashMap;
use std::fmt::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use writer::Ledger;

const USAGE: &str = "usage: banter-bench soak [options]

Runs banterd --db (default flags otherwise) under churn, slow readers,
history floods and writers that resume and resend, killing it with SIGKILL
and restarting it every --restart-every seconds, for --seconds in all; then
checks that every acknowledged message is stored exactly once.";

/// The entry point: `args` after `soak`.
pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let mut o = getopts::Options::new();
    o.optopt("", "banterd", "banterd binary (next to this one)", "PATH");
    o.optopt("", "seconds", "length of the run (default 3600)", "N");
    o.optopt("", "restart-every", "seconds between kill -9 and restart (default 300)", "N");
    o.optopt("", "writers", "resuming writers (default 8)", "N");
    o.optflag("h", "help", "print this help");
    let m = o.parse(args).map_err(|e| e.to_string())?;
    if m.opt_present("help") {
        print!("{}", o.usage(USAGE));
        return Ok(ExitCode::SUCCESS);
    }
    let num = |name: &str, d: u64| -> Result<u64, String> {
        m.opt_str(name).map_or(Ok(d), |s| s.parse().map_err(|_| format!("--{name}: not a number")))
    };
    let (secs, every, writers) =
        (num("seconds", 3600)?, num("restart-every", 300)?.max(5), num("writers", 8)?);
    let bin = m.opt_str("banterd").unwrap_or_else(crate::attack::sibling);
    let dir = std::env::temp_dir().join(format!("banter-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let args = vec!["--db".to_string(), dir.join("soak.db").display().to_string()];
    let report = run(&bin, &args, secs, every, writers as usize);
    let _ = std::fs::remove_dir_all(&dir);
    let (text, ok) = report?;
    print!("{text}");
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn run(
    bin: &str,
    args: &[String],
    secs: u64,
    every: u64,
    writers: usize,
) -> Result<(String, bool), String> {
    let mut server = Banterd::start(bin, 0, args, None)?;
    let to = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let ledger: writer::Shared = Arc::new(Mutex::new(Ledger::default()));
    let mut threads = Vec::new();
    for i in 0..writers {
        let (s, l) = (stop.clone(), ledger.clone());
        threads.push(std::thread::spawn(move || writer::run(i, to, &s, &l)));
    }
    let (s, l) = (stop.clone(), ledger.clone());
    threads.push(std::thread::spawn(move || load::churn(to, &s, &l)));
    for i in 0..4 {
        let s = stop.clone();
        threads.push(std::thread::spawn(move || load::slow(i, to, &s)));
    }
    for i in 0..2 {
        let s = stop.clone();
        threads.push(std::thread::spawn(move || load::history(i, to, &s)));
    }
    let start = Instant::now();
    let mut lives: Vec<(f64, f64)> = Vec::new(); // (RSS a minute in, RSS at the end) per life
    let mut life_start = Instant::now();
    let mut early = 0.0;
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(1));
        if early == 0.0 && life_start.elapsed() >= Duration::from_secs(every.min(60) / 2) {
            early = server.rss_mib();
        }
        if life_start.elapsed() >= Duration::from_secs(every)
            && start.elapsed() + Duration::from_secs(10) < Duration::from_secs(secs)
        {
            lives.push((early, server.rss_mib()));
            eprintln!(
                "soak: kill -9 after {:.0} s ({} ACKed so far)",
                start.elapsed().as_secs_f64(),
                acked(&ledger)
            );
            server.kill9();
            server = Banterd::start(bin, to.port(), args, None)?;
            life_start = Instant::now();
            early = 0.0;
        }
    }
    lives.push((early, server.rss_mib()));
    stop.store(true, Ordering::Relaxed);
    threads.into_iter().for_each(|t| drop(t.join()));
    let stored = read_all(to)?;
    server.stop();
    let l = ledger.lock().unwrap_or_else(|e| e.into_inner());
    Ok(report(&l, &stored, &lives, secs, every))
}

fn acked(ledger: &writer::Shared) -> usize {
    ledger.lock().unwrap_or_else(|e| e.into_inner()).acked.len()
}

/// Every message of the soak rooms: text -> [(room, id)].
fn read_all(to: std::net::SocketAddr) -> Result<HashMap<String, Vec<(String, u64)>>, String> {
    let mut w = Wire::connect(host(9, 0), to).map_err(|e| e.to_string())?;
    w.hello("auditor", "", 0, Duration::from_secs(10))?;
    let mut all: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for r in 0..3 {
        let room = format!("soak{r}");
        w.send(&ClientFrame::Join { room: room.clone(), since: 0, limit: 0 })
            .map_err(|e| e.to_string())?;
        let mut before = 0;
        loop {
            w.send(&ClientFrame::History { room: room.clone(), before, limit: 1000 })
                .map_err(|e| e.to_string())?;
            let (mut oldest, mut more, mut limited) = (u64::MAX, false, false);
            loop {
                match w.recv(Duration::from_secs(30)).map_err(|e| e.to_string())? {
                    Some(ServerFrame::Msg { id, text, .. }) => {
                        oldest = oldest.min(id);
                        all.entry(text).or_default().push((room.clone(), id));
                    }
                    Some(ServerFrame::HistoryEnd { more: m, .. }) => {
                        more = m == 1;
                        break;
                    }
                    Some(ServerFrame::Error { code: 15, .. }) => {
                        limited = true;
                        break;
                    }
                    Some(_) => {}
                    None => return Err(format!("no answer paging {room}")),
                }
            }
            if limited {
                std::thread::sleep(Duration::from_millis(300));
                continue;
            }
            if !more || oldest == u64::MAX {
                break;
            }
            before = oldest;
        }
    }
    Ok(all)
}

fn report(
    l: &Ledger,
    stored: &HashMap<String, Vec<(String, u64)>>,
    lives: &[(f64, f64)],
    secs: u64,
    every: u64,
) -> (String, bool) {
    let missing =
        l.acked.iter().filter(|(t, at)| !stored.get(*t).is_some_and(|v| v.contains(at))).count();
    let doubled = stored.values().filter(|v| v.len() > 1).count();
    let total: usize = stored.values().map(Vec::len).sum();
    let ok = missing == 0 && doubled == 0 && l.conflicts == 0;
    let mut s = String::new();
    let _ = writeln!(s, "| soak | figure |\n|---|---|");
    let _ = writeln!(
        s,
        "| length, restarts (kill -9) | {secs} s, {} (every {every} s) |",
        lives.len().saturating_sub(1)
    );
    let _ = writeln!(s, "| messages ACKed / stored | {} / {total} |", l.acked.len());
    let _ = writeln!(s, "| ACKed and missing | {missing} |");
    let _ = writeln!(s, "| stored more than once | {doubled} |");
    let _ = writeln!(s, "| seqs ACKed with two ids | {} |", l.conflicts);
    let _ =
        writeln!(s, "| writer reconnects resumed / new session | {} / {} |", l.resumed, l.fresh);
    let rss: Vec<String> = lives.iter().map(|(a, b)| format!("{a:.0}->{b:.0}")).collect();
    let _ = writeln!(s, "| server RSS per life, MiB (early->end) | {} |", rss.join(", "));
    let _ = writeln!(
        s,
        "| verdict | {} |",
        if ok { "every ACKed message stored exactly once" } else { "FAILED" }
    );
    (s, ok)
}
