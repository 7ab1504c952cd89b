//! Reads what the kernel knows about a process: the server's CPU time
//! (`/proc/PID/stat` utime + stime) and resident memory (`/proc/PID/status`
//! VmRSS), and the harness's own CPU time (getrusage).
//!
//! Parsing is separate from reading so it can be tested on fixed text.

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
