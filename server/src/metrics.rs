//! Operational figures in the Prometheus text format (`GET /metrics`):
//! counters the core keeps as it works, gauges read at scrape time, and
//! two latency histograms the reactor observes. Names follow Prometheus
//! practice: a `banter_` prefix, base units (seconds, bytes), `_total` on
//! counters, and no per-user labels (labels are transports and error codes,
//! a small fixed set).
//!
//! This module counts and formats; it decides nothing.

use banter_proto::ErrorCode;
use std::fmt::Write;
use std::time::Duration;

/// What the core counts.
#[derive(Debug, Default)]
pub struct Counters {
    /// Whole frames received from clients.
    pub frames_in: u64,
    /// Bytes of plaintext received from clients.
    pub bytes_in: u64,
    /// Frames queued to clients (a fanned-out MSG counts once per receiver).
    pub frames_out: u64,
    /// Messages stored (SAYs accepted and committed).
    pub messages: u64,
    /// MSG frames queued to receivers, live or replayed.
    pub deliveries: u64,
    /// ERROR frames sent, by code (index = code - 1).
    pub errors: [u64; ErrorCode::ALL.len()],
    /// Peers dropped for their output limit.
    pub slow_consumers: u64,
    /// Bytes of files stored (finished uploads).
    pub file_bytes: u64,
    /// Uploads finished.
    pub uploads: u64,
    /// Downloads finished.
    pub downloads: u64,
    /// UPLOADs refused with FILE_REFUSED.
    pub file_refusals: u64,
}

impl Counters {
    /// Counts an ERROR of `code`.
    pub fn error(&mut self, code: u16) {
        if let Some(slot) = usize::from(code).checked_sub(1).and_then(|i| self.errors.get_mut(i)) {
            *slot += 1;
        }
    }
}

/// A latency histogram with fixed buckets (seconds).
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Upper bounds of the buckets, seconds.
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative), the last one for +Inf.
    counts: Vec<u64>,
    /// Sum of all observations, seconds.
    sum: f64,
}

/// Bounds for loop turns and commits: 10 µs to 1 s.
pub const LATENCY_BOUNDS: &[f64] =
    &[0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

impl Histogram {
    /// An empty histogram over `bounds`.
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram { bounds, counts: vec![0; bounds.len() + 1], sum: 0.0 }
    }

    /// Records one observation.
    pub fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        let i = self.bounds.iter().position(|&b| s <= b).unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += s;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut total = 0;
        for (i, b) in self.bounds.iter().enumerate() {
            total += self.counts[i];
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {total}");
        }
        total += self.counts[self.bounds.len()];
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {total}\n{name}_sum {}\n{name}_count {total}",
            self.sum
        );
    }
}

/// Everything one scrape reports.
pub struct Snapshot<'a> {
    pub counters: &'a Counters,
    /// Open connections by transport label.
    pub connections: &'a [(&'static str, u64)],
    pub sessions: u64,
    pub rooms: u64,
    /// Banter bytes taken by transports.
    pub bytes_out: u64,
    pub tls_handshakes: u64,
    pub commit: &'a Histogram,
    pub turn: &'a Histogram,
}

/// The Prometheus text exposition of `s`.
pub fn render(s: &Snapshot<'_>) -> String {
    let mut out = String::with_capacity(4096);
    let c = s.counters;
    let mut one = |name: &str, kind: &str, help: &str, v: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
    };
    one("banter_sessions", "gauge", "Sessions, live or lingering.", s.sessions);
    one("banter_rooms", "gauge", "Rooms held in memory.", s.rooms);
    one(
        "banter_frames_received_total",
        "counter",
        "Whole frames received from clients.",
        c.frames_in,
    );
    one("banter_frames_sent_total", "counter", "Frames queued to clients.", c.frames_out);
    one(
        "banter_received_bytes_total",
        "counter",
        "Plaintext bytes received from clients.",
        c.bytes_in,
    );
    one(
        "banter_sent_bytes_total",
        "counter",
        "Banter bytes taken by transports (framing excluded).",
        s.bytes_out,
    );
    one("banter_messages_total", "counter", "Messages stored.", c.messages);
    one("banter_deliveries_total", "counter", "MSG frames queued to receivers.", c.deliveries);
    one(
        "banter_slow_consumers_total",
        "counter",
        "Clients dropped for their output limit.",
        c.slow_consumers,
    );
    one("banter_tls_handshakes_total", "counter", "TLS handshakes completed.", s.tls_handshakes);
    one(
        "banter_file_stored_bytes_total",
        "counter",
        "Bytes of files stored by finished uploads.",
        c.file_bytes,
    );
    one("banter_uploads_total", "counter", "File uploads finished.", c.uploads);
    one("banter_downloads_total", "counter", "File downloads finished.", c.downloads);
    one(
        "banter_file_refusals_total",
        "counter",
        "UPLOADs refused (FILE_REFUSED).",
        c.file_refusals,
    );
    let _ = writeln!(
        out,
        "# HELP banter_connections Open connections by transport.\n# TYPE banter_connections gauge"
    );
    for (t, n) in s.connections {
        let _ = writeln!(out, "banter_connections{{transport=\"{t}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP banter_errors_total ERROR frames sent, by code.\n# TYPE banter_errors_total counter");
    for code in ErrorCode::ALL {
        let n = c.errors[usize::from(code.code()) - 1];
        let _ = writeln!(out, "banter_errors_total{{code=\"{}\"}} {n}", code.name());
    }
    s.commit.render(
        &mut out,
        "banter_commit_seconds",
        "Time to commit a turn's messages and release them.",
    );
    s.turn.render(
        &mut out,
        "banter_turn_seconds",
        "Time the event loop spends per turn, poll excluded.",
    );
    let _ = writeln!(
        out,
        "# HELP banter_build_info The running build.\n# TYPE banter_build_info gauge"
    );
    let _ = writeln!(out, "banter_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::new(&[0.001, 0.01]);
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_secs(2));
        let mut out = String::new();
        h.render(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"0.001\"} 1\n"));
        assert!(out.contains("x_bucket{le=\"0.01\"} 2\n"));
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\nx_sum 2.0055\nx_count 3\n"), "{out}");
    }

    #[test]
    fn every_line_is_a_comment_or_a_sample() {
        let mut c = Counters::default();
        c.error(13);
        c.error(0);
        c.error(999);
        let h = Histogram::new(LATENCY_BOUNDS);
        let snap = Snapshot {
            counters: &c,
            connections: &[("tcp", 2), ("wss", 1)],
            sessions: 3,
            rooms: 1,
            bytes_out: 10,
            tls_handshakes: 1,
            commit: &h,
            turn: &h,
        };
        let text = render(&snap);
        assert!(text.contains("banter_errors_total{code=\"NOT_IN_ROOM\"} 1\n"));
        assert!(text.contains("banter_connections{transport=\"wss\"} 1\n"));
        for line in text.lines() {
            let sample = line.split(' ').count() == 2 && line.starts_with("banter_");
            assert!(line.starts_with("# ") || sample, "{line}");
        }
    }
}
