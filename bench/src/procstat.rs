//! Reads what the kernel knows about processes: the server's CPU time
//! (`/proc/PID/stat` utime + stime) and resident memory (`/proc/PID/status`
//! VmRSS), the harness's own CPU time (getrusage), and every other
//! process's CPU time, to tell a run that something else disturbed.
//!
//! Parsing is separate from reading so it can be tested on fixed text.

use std::collections::HashMap;

/// CPU seconds (user + system) from the text of `/proc/PID/stat`.
pub fn parse_stat_cpu(text: &str, ticks_per_s: f64) -> Option<f64> {
    // The command name (field 2) may hold spaces and parentheses: skip to
    // the last ')'. utime and stime are fields 14 and 15 overall, i.e. the
    // 12th and 13th after the state field that follows the name.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / ticks_per_s)
}

/// One process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Proc {
    /// Its command name.
    pub name: String,
    /// Its parent's pid (whose children time its own time joins when it is
    /// reaped).
    pub ppid: u32,
    /// Its own CPU seconds (utime + stime).
    pub own: f64,
    /// The CPU seconds of its reaped children (cutime + cstime): a build
    /// that runs many short compilers shows here.
    pub children: f64,
    /// When it started (clock ticks after boot): tells a reused pid (the
    /// name cannot: a kernel worker renames itself as it works).
    pub start: u64,
}

/// Parses the text of `/proc/PID/stat`.
pub fn parse_proc(text: &str, ticks_per_s: f64) -> Option<Proc> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_string();
    let f: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok());
    Some(Proc {
        name,
        ppid: f.get(1)?.parse().ok()?,
        own: (num(11)? + num(12)?) / ticks_per_s,
        children: (num(13)? + num(14)?) / ticks_per_s,
        start: f.get(19)?.parse().ok()?,
    })
}

/// Resident memory in bytes from the text of `/proc/PID/status`.
pub fn parse_status_rss(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn ticks_per_s() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// The CPU seconds process `pid` has used so far, `None` if it is gone.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu(&text, ticks_per_s())
}

/// The resident memory of process `pid` in bytes, `None` if it is gone.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_rss(&text)
}

/// CPU seconds (user + system) this process has used so far, all threads.
pub fn own_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A CPU-time sample of the server (when its pid is known) and the harness.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    /// Server CPU seconds, `None` without a pid or once it is gone.
    pub server: Option<f64>,
    /// Harness CPU seconds.
    pub harness: f64,
}

impl CpuSample {
    /// Samples now.
    pub fn take(server_pid: Option<u32>) -> CpuSample {
        CpuSample { server: server_pid.and_then(cpu_seconds), harness: own_cpu_seconds() }
    }
}

/// Every process, by pid.
#[derive(Debug, Clone, Default)]
pub struct ProcTimes(HashMap<u32, Proc>);

impl ProcTimes {
    /// Reads `/proc/*/stat` now (a few milliseconds on a quiet machine).
    pub fn take() -> ProcTimes {
        let ticks = ticks_per_s();
        let mut all = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return ProcTimes(all);
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if let Some(p) = parse_proc(&text, ticks) {
                all.insert(pid, p);
            }
        }
        ProcTimes(all)
    }
}

/// For each process of `after`: the CPU its descendants that ended since
/// `before` had already used then, which its children time now includes
/// (a vanished child's parent may have vanished too: the time goes up to
/// the nearest ancestor still there).
fn reaped_before(before: &ProcTimes, after: &ProcTimes) -> HashMap<u32, f64> {
    let mut spent: HashMap<u32, f64> = HashMap::new();
    for (pid, p) in &before.0 {
        if after.0.get(pid).is_some_and(|a| a.start == p.start) {
            continue;
        }
        let mut up = p.ppid;
        for _ in 0..64 {
            match before.0.get(&up) {
                Some(q) if !after.0.contains_key(&up) => up = q.ppid,
                _ => break,
            }
        }
        *spent.entry(up).or_default() += p.own + p.children;
    }
    spent
}

/// The busiest process other than the ones measured, over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherCpu {
    /// Its command name and pid, e.g. `rustc (4242)`.
    pub name: String,
    /// Its CPU share over the window, in % of one CPU.
    pub pct: f64,
}

/// The process (not in `exclude`, not a `ksoftirqd` thread, which carries
/// the run's own loopback traffic) that used the most CPU between `before`
/// and `after`, `secs` apart, counting the children it reaped meanwhile:
/// one that appeared in between counts in full, and a child already seen
/// in `before` counts only for what it used after it.
pub fn busiest_other(
    before: &ProcTimes,
    after: &ProcTimes,
    secs: f64,
    exclude: &[u32],
) -> Option<OtherCpu> {
    let spent_before = reaped_before(before, after);
    let mut best: Option<OtherCpu> = None;
    for (pid, p1) in &after.0 {
        if exclude.contains(pid) || p1.name.starts_with("ksoftirqd/") {
            continue;
        }
        let p0 = before.0.get(pid).filter(|p0| p0.start == p1.start);
        let own = p1.own - p0.map_or(0.0, |p| p.own);
        let reaped = p1.children - p0.map_or(0.0, |p| p.children);
        let reaped = reaped - spent_before.get(pid).copied().unwrap_or(0.0);
        let pct = 100.0 * (own.max(0.0) + reaped.max(0.0)) / secs.max(1e-9);
        if best.as_ref().is_none_or(|b| pct > b.pct) {
            best = Some(OtherCpu { name: format!("{} ({pid})", p1.name), pct });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_tricky_name() {
        let text = "1234 (my (odd) srv) S 1 1234 1234 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 3 0 12345 1000000 500 18446744073709551615";
        assert_eq!(parse_stat_cpu(text, 100.0), Some(3.0));
        assert_eq!(parse_stat_cpu("garbage", 100.0), None);
    }

    fn proc(name: &str, ppid: u32, own: f64, children: f64) -> Proc {
        Proc { name: name.into(), ppid, own, children, start: 7 }
    }

    #[test]
    fn other_processes_and_their_children_count() {
        let text = "77 (cargo build) S 1 77 77 0 -1 0 0 0 0 0 100 50 300 50 20 0 1 0 7 1 1";
        assert_eq!(parse_proc(text, 100.0), Some(proc("cargo build", 1, 1.5, 3.5)));
        let (mut a, mut b) = (ProcTimes::default(), ProcTimes::default());
        a.0.insert(1, proc("srv", 1, 1.0, 0.0));
        b.0.insert(1, proc("srv", 1, 3.0, 0.0));
        a.0.insert(2, proc("cargo", 1, 1.0, 0.0));
        b.0.insert(2, proc("cargo", 1, 1.1, 0.0));
        b.0.insert(3, proc("rustc", 2, 0.5, 0.0));
        b.0.insert(4, proc("ksoftirqd/1", 2, 9.0, 0.0));
        let o = busiest_other(&a, &b, 2.0, &[1]).unwrap();
        assert_eq!(o.name, "rustc (3)");
        assert!((o.pct - 25.0).abs() < 1e-9, "{o:?}");
        assert!(busiest_other(&a, &a, 2.0, &[1, 2]).is_none());
    }

    #[test]
    fn a_child_reaped_in_the_window_counts_only_for_its_time_in_it() {
        let (mut a, mut b) = (ProcTimes::default(), ProcTimes::default());
        // A compiler that ran 60 s, 0.2 s of them in the window, then was
        // reaped by its parent; and a short one that lived in the window.
        a.0.insert(10, proc("bash", 1, 0.0, 0.0));
        a.0.insert(11, proc("rustc", 10, 60.0, 0.0));
        b.0.insert(10, proc("bash", 1, 0.0, 60.2 + 0.3));
        let o = busiest_other(&a, &b, 1.0, &[]).unwrap();
        assert_eq!(o.name, "bash (10)");
        assert!((o.pct - 50.0).abs() < 1e-6, "{o:?}");
        // Two levels: cargo (gone) had reaped a 60 s rustc (gone); bash
        // reaped cargo. Only the window's 0.5 s is bash's.
        let (mut a, mut b) = (ProcTimes::default(), ProcTimes::default());
        a.0.insert(10, proc("bash", 1, 0.0, 0.0));
        a.0.insert(11, proc("cargo", 10, 1.0, 0.0));
        a.0.insert(12, proc("rustc", 11, 60.0, 0.0));
        b.0.insert(10, proc("bash", 1, 0.0, 61.5));
        let o = busiest_other(&a, &b, 1.0, &[]).unwrap();
        assert!((o.pct - 50.0).abs() < 1e-6, "{o:?}");
    }

    #[test]
    fn a_renamed_kernel_worker_is_the_same_process() {
        let (mut a, mut b) = (ProcTimes::default(), ProcTimes::default());
        a.0.insert(12, proc("kworker/u8:0-events_unbound", 2, 30.0, 0.0));
        b.0.insert(12, proc("kworker/u8:0-writeback", 2, 30.01, 0.0));
        let o = busiest_other(&a, &b, 1.0, &[]).unwrap();
        assert!((o.pct - 1.0).abs() < 1e-6, "{o:?}");
    }

    #[test]
    fn parses_status() {
        let text = "Name:\tbanterd\nVmPeak:\t  9999 kB\nVmRSS:\t    2048 kB\nThreads: 1\n";
        assert_eq!(parse_status_rss(text), Some(2048 * 1024));
        assert_eq!(parse_status_rss("Name: x\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(rss_bytes(me).unwrap() > 0);
        assert!(cpu_seconds(me).is_some());
        assert!(own_cpu_seconds() >= 0.0);
    }
}
