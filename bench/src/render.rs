//! The Markdown document of a comparison: machine, commands, then for each
//! transport (plain TCP, TLS, WebSocket) one table per scenario with both
//! servers' medians, the ratios, each side's spread and the checks, and
//! the notes a reader needs to judge them. A "Durable storage" section
//! already in the file (written by `bench/durable.sh`) is kept.
//!
//! It measures nothing; it formats what `compare.rs` gathered.

use crate::compare::Settings;
use crate::markdown::{cell, config, flags, fmt, median, spreads, triple, Results, Row, Section};
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
    let _ = writeln!(out, "## Machine\n\n{}", hardware());
    let node = sh(&s.node, &["--version"]);
    let redis = crate::servers::version(&s.redis);
    let banterd = sh(&s.banterd, &["--version"]);
    let _ = writeln!(out, "- {redis}; {banterd}; Node.js {node} with ws (bench/ws-baseline)");
    let commit = sh("git", &["rev-parse", "--short", "HEAD"]);
    let limit = crate::net::raise_fd_limit();
    let _ = writeln!(out, "- commit {commit}; open-file limit {limit}");
    let pin = match s.cpus {
        Some((a, b)) => format!("servers pinned to CPU {a}, harness to CPU {b} (`taskset`)"),
        None => "no CPU pinning".into(),
    };
    let _ = writeln!(
        out,
        "- {pin}; every figure is the median of {} measured windows of {} s, each after {} s of warm-up; a row that another process disturbed (over 5% of a CPU in a window) is measured again, up to {} more times and {} s of reruns in all\n",
        s.runs, s.duration, s.warmup, s.max_reruns, s.rerun_budget
    );
}

fn commands(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Commands\n\n```sh\nbench/compare.sh   # builds, installs what is missing, makes a throwaway CA, runs:");
    let _ = writeln!(out, "taskset -c 1 target/release/banter-bench compare --out bench/RESULTS.md --tls-cert CERT --tls-key KEY --ca CA.pem");
    let mut seen: Vec<String> = Vec::new();
    for c in &r.commands {
        let g = generic(c);
        if !seen.contains(&g) {
            let _ = writeln!(out, "{g}");
            seen.push(g);
        }
    }
    let _ = writeln!(out, "# each row below is one harness run per server, e.g.:");
    for sec in &r.sections {
        let rows = sec.throughput.iter().chain(&sec.latency).take(1);
        for row in rows.chain(&sec.connections).chain(&sec.churn).chain(&sec.replay) {
            let _ = writeln!(out, "{}", row.command);
        }
    }
    for row in r.receipts.iter().take(2).chain(&r.files) {
        let _ = writeln!(out, "{}", row.command);
    }
    let _ = writeln!(out, "```\n");
}

/// A server command line with its run-specific values named: chosen
/// ports and the throwaway certificate files.
pub(crate) fn generic(c: &str) -> String {
    let mut words: Vec<&str> = c.split(' ').collect();
    for i in 1..words.len() {
        words[i] = match words[i - 1] {
            "--port" | "--tls-port" if words[i] != "0" => "PORT",
            "--tls-cert" | "--tls-cert-file" => "CERT",
            "--tls-key" | "--tls-key-file" => "KEY",
            "--tls-ca-cert-file" => "CA.pem",
            _ => continue,
        };
    }
    words.join(" ")
}

fn throughput(out: &mut String, sec: &Section, s: &Settings) {
    let (b, o) = (&sec.base, &sec.ours);
    let _ =
        writeln!(out, "### Fan-out throughput (closed loop, {} in flight per sender)\n", s.window);
    let _ = writeln!(out, "Messages published per second, deliveries per second (= messages x R), and server CPU seconds per million deliveries. Ratio = {o} / {b} (above 1: {o} delivers more, or burns more CPU). Spread = (max - min) / median of msg/s over the runs. W = messages in flight per sender: {}, lowered where R x S x W x B would pass 128 MiB in flight (beyond that loopback TCP stalls for seconds whatever the server). Harness: its CPU share / the share of the window it waited in poll for the servers / the messages it sent per turn of its loop.\n", s.window);
    let _ = writeln!(out, "| R | B | S | W | {b} msg/s | {o} msg/s | ratio | spread ({b} / {o}) | {b} deliv/s | {o} deliv/s | ratio | {b} CPU s/M | {o} CPU s/M | ratio | harness CPU / wait / sends per loop ({b}; {o}) | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &sec.throughput {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {}; {} | {} |",
            config(row),
            triple(sec, row, "sent_per_s"),
            spreads(sec, row, "sent_per_s"),
            triple(sec, row, "delivered_per_s"),
            triple(sec, row, "server_cpu_s_per_m"),
            harness(&row.base, &sec.base_na),
            harness(&row.ours, &sec.ours_na),
            flags(sec, row)
        );
    }
    let _ = writeln!(out);
}

/// `49% / 38% / 8.1`: the harness's median CPU share, share of the window
/// waiting in poll, and sends per loop turn.
fn harness(runs: &[Result<crate::report::Figures, String>], na: &Option<String>) -> String {
    if na.is_some() {
        return "n/a".into();
    }
    let pct = |k| median(runs, k).map_or("-".into(), |c| format!("{c:.0}%"));
    let per = median(runs, "sends_per_loop").map_or("-".into(), |c| format!("{c:.1}"));
    format!("{} / {} / {per}", pct("harness_cpu_pct"), pct("harness_wait_pct"))
}

fn latency(out: &mut String, sec: &Section) {
    let (b, o) = (&sec.base, &sec.ours);
    let _ = writeln!(out, "### Latency at 50% of {b}'s peak (open loop)\n");
    let _ = writeln!(out, "Both servers get the same fixed rate (half of {b}'s closed-loop median above); latency is measured from the intended send time, so a stall counts in full (no coordinated omission). Microseconds; ratio = {o} / {b} (above 1: {o} slower); spread of p99.\n");
    let _ = writeln!(out, "| R | B | S | W | rate msg/s | {b} p50 | {o} p50 | ratio | {b} p99 | {o} p99 | ratio | spread ({b} / {o}) | {b} p99.9 | {o} p99.9 | {b} max | {o} max | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &sec.latency {
        let rate = median(&row.base, "rate").or(median(&row.ours, "rate"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            config(row),
            fmt(rate),
            triple(sec, row, "p50_us"),
            triple(sec, row, "p99_us"),
            spreads(sec, row, "p99_us"),
            cell(&row.base, &sec.base_na, "p999_us"),
            cell(&row.ours, &sec.ours_na, "p999_us"),
            cell(&row.base, &sec.base_na, "max_us"),
            cell(&row.ours, &sec.ours_na, "max_us"),
            flags(sec, row)
        );
    }
    let _ = writeln!(out);
}

fn connections(out: &mut String, sec: &Section) {
    let (b, o) = (&sec.base, &sec.ours);
    let _ = writeln!(out, "### Idle connections\n");
    let _ = writeln!(out, "Ramp to N logged-in, joined connections (rooms of 10) as fast as the server takes them (128 handshakes in flight), hold them 6 s. Memory = the server's RSS growth / connections (kernel socket buffers are not in RSS); idle CPU = server CPU share while holding. Each run on a freshly started server.\n");
    let _ = writeln!(out, "| N asked | {b} reached | {o} reached | {b} conn/s | {o} conn/s | ratio | spread ({b} / {o}) | {b} B/conn | {o} B/conn | ratio | {b} idle CPU % | {o} idle CPU % | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &sec.connections {
        let n = row.command.split(" -n ").nth(1).and_then(|s| s.split(' ').next()).unwrap_or("-");
        let _ = writeln!(
            out,
            "| {n} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&row.base, &sec.base_na, "reached"),
            cell(&row.ours, &sec.ours_na, "reached"),
            triple(sec, row, "connects_per_s"),
            spreads(sec, row, "connects_per_s"),
            triple(sec, row, "rss_per_conn"),
            cell(&row.base, &sec.base_na, "server_cpu_pct"),
            cell(&row.ours, &sec.ours_na, "server_cpu_pct"),
            flags(sec, row)
        );
    }
    let _ = writeln!(out);
}

fn churn_replay(out: &mut String, sec: &Section) {
    let (b, o) = (&sec.base, &sec.ours);
    let _ = writeln!(out, "### Churn{}\n", if sec.replay.is_empty() { "" } else { " and replay" });
    let _ = writeln!(out, "Churn: 50 concurrent loops of connect, log in (Banter HELLO; Redis and the Node baseline: PING), join (Banter JOIN; the baselines' publishers need none), say (SAY / PUBLISH / pub), QUIT, wait for the close.{}\n", if sec.replay.is_empty() { "" } else { " Replay (Banter only: Redis pub/sub keeps no history): 4 readers JOIN a 10 000-message room with limit 1000, again and again." });
    let _ = writeln!(
        out,
        "| scenario | {b} | {o} | ratio | spread ({b} / {o}) | {b} p99 us | {o} p99 us | checks |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for row in &sec.churn {
        let _ = writeln!(
            out,
            "| churn, cycles/s | {} | {} | {} | {} | {} |",
            triple(sec, row, "cycles_per_s"),
            spreads(sec, row, "cycles_per_s"),
            cell(&row.base, &sec.base_na, "p99_us"),
            cell(&row.ours, &sec.ours_na, "p99_us"),
            flags(sec, row)
        );
    }
    for row in &sec.replay {
        let one = |k| cell(&row.ours, &sec.ours_na, k);
        let sp = spreads(sec, row, "replayed_per_s");
        let (flags, p99) = (flags(sec, row), one("p99_us"));
        let _ = writeln!(
            out,
            "| replay, messages/s | - | {} | - | {sp} | - | {p99} | {flags} |",
            one("replayed_per_s")
        );
    }
    let _ = writeln!(out);
}

fn section(out: &mut String, sec: &Section, s: &Settings) {
    let _ = writeln!(out, "## {}\n", sec.title);
    if !sec.intro.is_empty() {
        let _ = writeln!(out, "{}\n", sec.intro);
    }
    for (name, na) in [(&sec.base, &sec.base_na), (&sec.ours, &sec.ours_na)] {
        if let Some(why) = na {
            let _ = writeln!(out, "**{name}: {why}.**\n");
        }
    }
    let tls = tls_line(sec);
    if !tls.is_empty() {
        let _ = writeln!(out, "{tls}\n");
    }
    if !sec.throughput.is_empty() {
        throughput(out, sec, s);
        latency(out, sec);
    }
    if !sec.connections.is_empty() {
        connections(out, sec);
    }
    if !sec.churn.is_empty() || !sec.replay.is_empty() {
        churn_replay(out, sec);
    }
}

/// What TLS the runs of a section negotiated, side by side.
fn tls_line(sec: &Section) -> String {
    let first = |rows: &mut dyn Iterator<Item = &Row>, base: bool| {
        rows.flat_map(|r| if base { &r.base } else { &r.ours })
            .filter_map(|r| r.as_ref().ok())
            .find_map(|f| match crate::report::get(f, "tls") {
                Some(crate::report::Val::Text(t)) if !t.is_empty() => Some(t.clone()),
                _ => None,
            })
    };
    let all = || sec.throughput.iter().chain(&sec.connections).chain(&sec.churn);
    match (first(&mut all(), true), first(&mut all(), false)) {
        (None, None) => String::new(),
        (b, o) => format!(
            "Negotiated: {} `{}`; {} `{}`. Every new connection is a full handshake (the harness never resumes a session).",
            sec.base,
            b.unwrap_or_else(|| "-".into()),
            sec.ours,
            o.unwrap_or_else(|| "-".into())
        ),
    }
}

const NOTES: &str = "## Reading these figures\n\n\
- Both servers of a section get exactly the same connections, payloads and pacing from the same engine; only the wire adapter (and the transport under it) differs.\n\
- In Banter a sender must be a room member, so with S senders each message also goes to the S-1 other senders. Those extra deliveries are real work for banterd but are not counted in deliveries/s (Redis and Node-baseline publishers are not subscribed and get none).\n\
- Every receiver checks every sender's sequence numbers; `lost/reordered` in the checks column would mean a message was missed or out of order after the drain. `harness busy` means the harness used over 70% of its CPU in a run, so that run may understate the server; the harness column shows its CPU, the share of the window it spent waiting in poll for the servers, and how many messages it sent per turn of its loop. A closed-loop sender is refilled the moment its ACK is read, so few sends per turn with much waiting means a harness that keeps up; a harness that cannot keep up shows high CPU, little waiting and many sends per turn (the backlog of ACKs it finds each turn).\n\
- `disturbed by NAME x%` means another process used over 5% of a CPU during a window; such a row is measured again, and the figures kept are those of the least disturbed attempt.\n\
- Before each session the comparison waits (up to 20 s) until the server uses under 5% of a CPU, so no configuration pays for the previous one's goodbyes.\n\
- msg/s counts the publishes the server acknowledged (Banter ACK, the reply to PUBLISH, the baseline's `ok`). Redis replies once a message is queued for its subscribers, not written to them, so where deliveries/s is below msg/s x R, messages were piling up in the server during the window; deliveries/s is what receivers really got.\n\
- Closed-loop latency with many messages in flight is mostly queueing (Little's law); the open-loop table is the one to read for latency.\n\
- Idle CPU includes banterd's heartbeat (it PINGs a connection silent for 5 s and the harness answers PONG); Redis and the Node baseline send nothing to idle clients.\n\
- `n/a (server lacks TLS/WS)`: the banterd measured could not speak that transport yet (it refused the TLS options, or the first connection failed); the baseline's figures are still given.\n\
- The harness and the servers share one 2-core machine with nothing else pinned; the figures are comparable with each other, not with other machines.\n";

/// The whole Markdown document; `old` is the file it replaces, whose
/// "Durable storage" section (from `bench/durable.sh`) is kept.
pub fn render(r: &Results, s: &Settings, old: &str) -> String {
    let mut out = String::new();
    let date = sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let _ = writeln!(out, "# Banter vs Redis pub/sub and a Node ws server\n\nWritten by `bench/compare.sh` on {date}; the whole comparison took {:.0} s.\n", r.elapsed_s);
    machine(&mut out, s);
    commands(&mut out, r);
    for sec in &r.sections {
        section(&mut out, sec, s);
    }
    crate::render_ext::receipts(&mut out, r);
    crate::render_ext::files(&mut out, r);
    let header = cluster_header(s, &date);
    crate::render_cluster::cluster(&mut out, &r.cluster, s, &header);
    out.push_str(NOTES);
    if let Some(i) = old.find("\n## Durable storage") {
        let ran = !r.cluster.fanout.is_empty() || !r.cluster.idle.is_empty();
        out.push_str(&keep_tail(&old[i..], ran));
    }
    out
}

/// The sections kept from the old file (from "Durable storage" on),
/// without its cluster section when this run measured a new one.
fn keep_tail(tail: &str, new_cluster: bool) -> String {
    let heading = "\n## Cluster: ";
    match (new_cluster, tail.find(heading)) {
        (true, Some(a)) => {
            let rest = &tail[a + 1..];
            let end = rest.find("\n## ").map_or(tail.len(), |e| a + 1 + e);
            format!("{}{}", &tail[..a], &tail[end..])
        }
        _ => tail.to_string(),
    }
}

/// The cluster section's own header: it is often run alone (`--only
/// cluster`) and merged into a file written at another commit.
fn cluster_header(s: &Settings, date: &str) -> String {
    let commit = sh("git", &["rev-parse", "--short", "HEAD"]);
    let pin = match s.cpus {
        Some((a, b)) => format!("every node and Redis pinned to CPU {a}, the harness to CPU {b}"),
        None => "no CPU pinning".into(),
    };
    format!(
        "Written by `banter-bench compare` on {date}, commit {commit}; {pin}; every figure is the median of {} measured windows of {} s after {} s of warm-up, each setup on fresh servers; a disturbed row is measured again as in the other sections. Matrix: receivers {:?}, payload {:?} B, senders {:?}, nodes {:?} and the plain banterd.",
        s.runs, s.duration, s.warmup, s.cluster_receivers, s.cluster_sizes, s.cluster_senders, s.cluster_nodes
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_commands_name_their_run_specific_values() {
        let c = "redis-server --port 0 --tls-port 41234 --tls-cert-file /tmp/x/server.pem --tls-key-file /tmp/x/server.key --tls-ca-cert-file /tmp/x/ca.pem";
        let want = "redis-server --port 0 --tls-port PORT --tls-cert-file CERT --tls-key-file KEY --tls-ca-cert-file CA.pem";
        assert_eq!(generic(c), want);
        assert_eq!(
            generic("banterd --port 0 --tls-cert /a --tls-key /b"),
            "banterd --port 0 --tls-cert CERT --tls-key KEY"
        );
    }

    #[test]
    fn the_durable_section_is_kept() {
        let s = crate::compare::tests::settings();
        let r = Results::default();
        let old = "# old\n\nold figures\n\n## Durable storage (`--db`)\n\nkept\n";
        let doc = render(&r, &s, old);
        assert!(doc.ends_with("## Durable storage (`--db`)\n\nkept\n"), "{doc}");
        assert!(!doc.contains("old figures"));
    }

    #[test]
    fn an_old_cluster_section_goes_only_when_a_new_one_was_measured() {
        let tail = "\n## Durable storage\n\nd\n\n## Cluster: x\n\nold\n\n## Hostile network\n\nh\n";
        assert_eq!(keep_tail(tail, false), tail);
        assert_eq!(keep_tail(tail, true), "\n## Durable storage\n\nd\n\n## Hostile network\n\nh\n");
        let last = "\n## Durable storage\n\nd\n\n## Cluster: x\n\nold\n";
        assert_eq!(keep_tail(last, true), "\n## Durable storage\n\nd\n");
    }
}
