//! The Markdown document of a comparison: machine, commands, one table per
//! scenario with both servers' medians and the Banter/Redis ratios, and the
//! notes a reader needs to judge them.
//!
//! It measures nothing; it formats what `markdown.rs` gathered.

use crate::compare::Settings;
use crate::markdown::{config, flags, fmt, median, triple, Results};
use crate::report::Figures;
use std::fmt::Write;
use std::process::Command;

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The CPU model, core count, memory and kernel of this machine.
fn hardware() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo.lines().find(|l| l.starts_with("model name"));
    let model = model.and_then(|l| l.split(':').nth(1)).unwrap_or("unknown");
    // SAFETY: sysconf has no memory effects. (The harness is pinned by now,
    // so available_parallelism would say 1.)
    let cores = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let meminfo = read("/proc/meminfo");
    let mem = meminfo.lines().next().unwrap_or("").replace("MemTotal:", "");
    let kernel = read("/proc/sys/kernel/osrelease");
    format!(
        "- CPU: {}, {cores} cores; memory {}; Linux {}",
        model.trim(),
        mem.trim(),
        kernel.trim()
    )
}

fn machine(out: &mut String, s: &Settings) {
    let _ = writeln!(out, "## Machine\n");
    let _ = writeln!(out, "{}", hardware());
    let _ = writeln!(
        out,
        "- {}; {}",
        crate::servers::version(&s.redis),
        sh(&s.banterd, &["--version"])
    );
    let _ = writeln!(
        out,
        "- commit {}; open-file limit {}",
        sh("git", &["rev-parse", "--short", "HEAD"]),
        crate::net::raise_fd_limit()
    );
    let pin = match s.cpus {
        Some((a, b)) => format!("servers pinned to CPU {a}, harness to CPU {b} (`taskset`)"),
        None => "no CPU pinning".into(),
    };
    let _ = writeln!(
        out,
        "- {pin}; every figure is the median of {} measured windows of {} s, each after {} s of warm-up\n",
        s.runs, s.duration, s.warmup
    );
}

fn commands(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Commands\n\n```sh\nbench/compare.sh   # builds, installs redis-server if missing, runs:");
    let _ =
        writeln!(out, "taskset -c 1 target/release/banter-bench compare --out bench/RESULTS.md");
    let mut seen: Vec<String> = Vec::new();
    for c in &r.commands {
        let mut words: Vec<&str> = c.split(' ').collect();
        if let Some(i) = words.iter().position(|w| *w == "--port") {
            if words.get(i + 1).is_some_and(|p| *p != "0") {
                words[i + 1] = "PORT";
            }
        }
        let generic = words.join(" ");
        if !seen.contains(&generic) {
            let _ = writeln!(out, "{generic}");
            seen.push(generic);
        }
    }
    let _ = writeln!(out, "# each row below is one harness run per server, e.g.:");
    for row in r
        .throughput
        .iter()
        .chain(&r.latency)
        .take(1)
        .chain(&r.connections)
        .chain(&r.churn)
        .chain(&r.replay)
    {
        let _ = writeln!(out, "{}", row.command);
    }
    let _ = writeln!(out, "```\n");
}

fn throughput(out: &mut String, r: &Results, s: &Settings) {
    let _ =
        writeln!(out, "## Fan-out throughput (closed loop, {} in flight per sender)\n", s.window);
    let _ = writeln!(out, "Messages published per second, deliveries per second (= messages x R), and server CPU seconds per million deliveries. Ratio = Banter / Redis (above 1: Banter delivers more, or burns more CPU).\n");
    let _ = writeln!(out, "| R | B | S | Redis msg/s | Banter msg/s | ratio | Redis deliv/s | Banter deliv/s | ratio | Redis CPU s/M | Banter CPU s/M | ratio | harness CPU % (Redis / Banter runs) | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &r.throughput {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} / {} | {} |",
            config(row),
            triple(row, "sent_per_s"),
            triple(row, "delivered_per_s"),
            triple(row, "server_cpu_s_per_m"),
            fmt(median(&row.redis, "harness_cpu_pct")),
            fmt(median(&row.banter, "harness_cpu_pct")),
            flags(row)
        );
    }
    let _ = writeln!(out);
}

fn latency(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Latency at 50% of Redis's peak (open loop)\n");
    let _ = writeln!(out, "Both servers get the same fixed rate (half of Redis's closed-loop median above); latency is measured from the intended send time, so a stall counts in full (no coordinated omission). Microseconds; ratio = Banter / Redis (above 1: Banter slower).\n");
    let _ = writeln!(out, "| R | B | S | rate msg/s | Redis p50 | Banter p50 | ratio | Redis p99 | Banter p99 | ratio | Redis p99.9 | Banter p99.9 | Redis max | Banter max | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &r.latency {
        let m = |runs: &[Result<Figures, String>], k: &str| fmt(median(runs, k));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            config(row),
            fmt(median(&row.redis, "rate")),
            triple(row, "p50_us"),
            triple(row, "p99_us"),
            m(&row.redis, "p999_us"),
            m(&row.banter, "p999_us"),
            m(&row.redis, "max_us"),
            m(&row.banter, "max_us"),
            flags(row)
        );
    }
    let _ = writeln!(out);
}

fn connections(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Idle connections\n");
    let _ = writeln!(out, "Ramp to N logged-in, joined connections (rooms of 10) as fast as the server takes them (128 handshakes in flight), hold them 6 s. Memory = the server's RSS growth / connections (kernel socket buffers are not in RSS); idle CPU = server CPU share while holding. Each run on a freshly started server.\n");
    let _ = writeln!(out, "| N asked | Redis reached | Banter reached | Redis conn/s | Banter conn/s | ratio | Redis B/conn | Banter B/conn | ratio | Redis idle CPU % | Banter idle CPU % | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &r.connections {
        let m = |runs: &[Result<Figures, String>], k: &str| fmt(median(runs, k));
        let n = row.command.split(" -n ").nth(1).and_then(|s| s.split(' ').next()).unwrap_or("-");
        let _ = writeln!(
            out,
            "| {n} | {} | {} | {} | {} | {} | {} | {} |",
            m(&row.redis, "reached"),
            m(&row.banter, "reached"),
            triple(row, "connects_per_s"),
            triple(row, "rss_per_conn"),
            m(&row.redis, "server_cpu_pct"),
            m(&row.banter, "server_cpu_pct"),
            flags(row)
        );
    }
    let _ = writeln!(out);
}

fn churn_replay(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Churn and replay\n");
    let _ = writeln!(out, "Churn: 50 concurrent loops of connect, log in (Banter HELLO / Redis PING), join (Banter JOIN; Redis publishers need none), say (SAY / PUBLISH), QUIT, wait for the close. Replay (Banter only: Redis pub/sub keeps no history): 4 readers JOIN a 10 000-message room with limit 1000, again and again.\n");
    let _ = writeln!(
        out,
        "| scenario | Redis | Banter | ratio | Redis p99 us | Banter p99 us | checks |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for row in &r.churn {
        let _ = writeln!(
            out,
            "| churn, cycles/s | {} | {} | {} | {} |",
            triple(row, "cycles_per_s"),
            fmt(median(&row.redis, "p99_us")),
            fmt(median(&row.banter, "p99_us")),
            flags(row)
        );
    }
    for row in &r.replay {
        let b = |k| fmt(median(&row.banter, k));
        let _ = writeln!(
            out,
            "| replay, messages/s | - | {} | - | - | {} | {} |",
            b("replayed_per_s"),
            b("p99_us"),
            flags(row)
        );
    }
    let _ = writeln!(out);
}

const NOTES: &str = "## Reading these figures\n\n\
- Both servers get exactly the same connections, payloads and pacing from the same engine; only the wire adapter differs.\n\
- In Banter a sender must be a room member, so with S senders each message also goes to the S-1 other senders. Those extra deliveries are real work for banterd but are not counted in deliveries/s (Redis publishers are not subscribed and get none).\n\
- Every receiver checks every sender's sequence numbers; `lost/reordered` in the checks column would mean a message was missed or out of order after the drain. `harness busy` means the harness used over 90% of its CPU in a run, so that run may understate the server.\n\
- msg/s counts the publishes the server acknowledged (Banter ACK, the reply to PUBLISH). Redis replies once a message is queued for its subscribers, not written to them, so where deliveries/s is below msg/s x R, messages were piling up in the server during the window; deliveries/s is what receivers really got.\n\
- Closed-loop latency with many messages in flight is mostly queueing (Little's law); the open-loop table is the one to read for latency.\n\
- Idle CPU includes banterd's heartbeat (it PINGs a connection silent for 5 s and the harness answers PONG); Redis sends nothing to idle clients.\n\
- The harness and the servers share one 2-core machine with nothing else pinned; the figures are comparable with each other, not with other machines.\n";

/// The whole Markdown document.
pub fn render(r: &Results, s: &Settings) -> String {
    let mut out = String::new();
    let date = sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let _ = writeln!(out, "# Banter vs Redis pub/sub\n\nWritten by `bench/compare.sh` on {date}; the whole comparison took {:.0} s.\n", r.elapsed_s);
    machine(&mut out, s);
    commands(&mut out, r);
    throughput(&mut out, r, s);
    latency(&mut out, r);
    connections(&mut out, r);
    churn_replay(&mut out, r);
    out.push_str(NOTES);
    out
}
