//! The Markdown of the comparison's Banter-only sections: read receipts
//! (each load without and with MARK side by side, the READ checks, and how
//! the extra cost scales from the smallest room to the largest) and files
//! (MB/s each way, chat latency idle and while the file moves).
//!
//! It measures nothing; `sections_ext.rs` gathered the rows and
//! `summary.rs` computes their medians.

use crate::markdown::{fmt, Results, Row, Section};
use crate::report::{self, Figures};
use crate::summary;
use std::fmt::Write;

/// A figure of a summary, formatted (`failed` when missing).
fn val(f: &Figures, key: &str) -> String {
    fmt(report::num(f, key))
}

/// `a / b` of two figures of a summary, formatted.
fn pair(f: &Figures, a: &str, b: &str) -> String {
    format!("{} / {}", val(f, a), val(f, b))
}

/// `a / b` of two counts.
fn counts(f: &Figures, a: &str, b: &str) -> String {
    let c = |k| report::num(f, k).map_or("-".into(), |x| format!("{x:.0}"));
    format!("{} / {}", c(a), c(b))
}

const RECEIPTS_INTRO: &str = "A room of M members, one of them the sender, 64-byte messages. Each pair of windows runs the same load on the same connections, first without MARK, then with every member sending MARK for every message it learns of (a receiver for each MSG, the sender for each ACK); closed loop first, then open loop at half the closed-loop rate without MARK. Every member checks the READs it gets: from every other member, at most one per reader and second (no two of a pair under 500 ms apart; in a measured window of T s, at most ⌊T⌋ + 2 with the edges), markers that only move forward; rooms over 100 members get none. Target (issue 12): server CPU per delivery with MARK at most 1.5× without, and no quadratic blow-up from 10 to 100 members. No baseline: neither Redis pub/sub nor the Node ws server has read markers.";

/// The read receipts section.
pub fn receipts(out: &mut String, r: &Results) {
    if r.receipts.is_empty() && r.receipts_na.is_none() {
        return;
    }
    let _ = writeln!(out, "## Read receipts (banterd only)\n\n{RECEIPTS_INTRO}\n");
    if let Some(na) = &r.receipts_na {
        let _ = writeln!(out, "**{na}.**\n");
        return;
    }
    let _ = writeln!(out, "| M | loop | rate msg/s | deliv/s (no MARK / MARK) | CPU s/M (no MARK / MARK) | CPU ratio (≤ 1.5) | p99 us (no MARK / MARK) | p99 ratio | MARKs/s | READs/s per member (≤ M − 1) | pairs heard / expected | most READs of a pair / bound | closest READs of a pair, ms | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let sec = Section::new("receipts", "no MARK", "MARK");
    for row in &r.receipts {
        let f = summary::receipts(&row.base, &row.ours);
        let open = report::num(&f, "rate").unwrap_or(0.0) > 0.0;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            val(&f, "members"),
            if open { "open" } else { "closed" },
            if open { val(&f, "rate") } else { "-".into() },
            pair(&f, "off_delivered_per_s", "on_delivered_per_s"),
            pair(&f, "off_server_cpu_s_per_m", "on_server_cpu_s_per_m"),
            val(&f, "cpu_ratio"),
            pair(&f, "off_p99_us", "on_p99_us"),
            val(&f, "p99_ratio"),
            val(&f, "marks_per_s"),
            val(&f, "reads_per_member_per_s"),
            counts(&f, "read_pairs", "read_pairs_expected"),
            counts(&f, "read_pair_max", "read_bound"),
            val(&f, "read_min_gap_ms"),
            read_checks(&f, &sec, row)
        );
    }
    let _ = writeln!(out, "\n{}\n", scaling(r));
}

/// The common checks of a row, and the READ rules.
fn read_checks(f: &Figures, sec: &Section, row: &Row) -> String {
    let mut c = vec![crate::markdown::flags(sec, row)];
    let n = |k| report::num(f, k).unwrap_or(0.0);
    if n("read_violations") > 0.0 {
        c.push(format!("READs against §9 (pace, order, room): {:.0}", n("read_violations")));
    }
    if n("read_pairs_missing") > 0.0 {
        c.push(format!("pairs that heard no READ: {:.0}", n("read_pairs_missing")));
    }
    if c.len() > 1 && c[0] == "ok" {
        c.remove(0);
    }
    c.join("; ")
}

/// How MARK's extra server CPU per delivery grows from the smallest room
/// to the largest (open-loop rows, else closed-loop ones).
fn scaling(r: &Results) -> String {
    let extra = |row: &Row| {
        let f = summary::receipts(&row.base, &row.ours);
        let on = report::num(&f, "on_server_cpu_s_per_m")?;
        Some((report::num(&f, "members")?, on - report::num(&f, "off_server_cpu_s_per_m")?))
    };
    let open = |row: &&Row| row.command.contains("--rate");
    let rows: Vec<&Row> = match r.receipts.iter().filter(open).count() {
        0 => r.receipts.iter().collect(),
        _ => r.receipts.iter().filter(open).collect(),
    };
    let points: Vec<(f64, f64)> = rows.into_iter().filter_map(extra).collect();
    let (Some(a), Some(b)) = (points.first(), points.last()) else {
        return "Scaling: not measured.".into();
    };
    let growth = if a.1 > 0.0 { format!("{:.2}×", b.1 / a.1) } else { "-".into() };
    format!(
        "Scaling: MARK's extra server CPU per delivery (with − without) is {} s per million deliveries at M = {:.0} and {} at M = {:.0}: {growth} for {:.0}× the members. One MARK per delivery costs the same per delivery at any size; READs grow as M² per second but are paced, so a flat figure means a cost linear in deliveries, and a quadratic one would grow about as M does.",
        fmt(Some(a.1)),
        a.0,
        fmt(Some(b.1)),
        b.0,
        b.0 / a.0.max(1.0)
    )
}

const FILES_INTRO: &str = "One connection, an account, uploads the file again and again (CHUNKs of `max_frame − 128` = 65 408 bytes, kept 256 KiB ahead of the socket), then downloads it again and again (every byte checked against what was sent), in windows of their own after an idle one; meanwhile it and two other connections chat at a fixed rate (open loop, latency from the intended send time). Upload MB/s runs from UPLOAD to its ACK, which waits for the server's fsync; \"wire\" stops when the last CHUNK was handed to the kernel. Chat \"same\" travels to or from the file's connection; \"other\" between the two others. Targets (issue 13): at least 500 MB/s each way over TCP on loopback; chat p99 while the file moves at most 2× idle. No baseline: neither Redis pub/sub nor the Node ws server moves files.";

/// The files section.
pub fn files(out: &mut String, r: &Results) {
    if r.files.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Files (banterd only)\n\n{FILES_INTRO}\n");
    let _ = writeln!(out, "| transport | file | chat msg/s | upload MB/s (wire) | download MB/s | uploads / downloads | idle p99 us (same / other) | upload p99 us (same / other) | × idle | download p99 us (same / other) | × idle | server CPU % (up / down) | checks |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &r.files {
        let f = summary::files(&row.ours);
        let target = row.command.split("--target ").nth(1).unwrap_or("");
        let name = match target.split("://").next() {
            Some("banters") => "TLS",
            Some("banter") => "TCP",
            _ => "?",
        };
        let mib = report::num(&f, "file_size")
            .map_or("-".into(), |b| format!("{:.0} MiB", b / 1048576.0));
        let _ = writeln!(
            out,
            "| {name} | {mib} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            val(&f, "chat_rate"),
            val(&f, "upload_mb_per_s"),
            val(&f, "upload_wire_mb_per_s"),
            val(&f, "download_mb_per_s"),
            counts(&f, "uploads", "downloads"),
            pair(&f, "idle_same_p99_us", "idle_other_p99_us"),
            pair(&f, "upload_same_p99_us", "upload_other_p99_us"),
            pair(&f, "upload_same_p99_ratio", "upload_other_p99_ratio"),
            pair(&f, "download_same_p99_us", "download_other_p99_us"),
            pair(&f, "download_same_p99_ratio", "download_other_p99_ratio"),
            pair(&f, "upload_server_cpu_pct", "download_server_cpu_pct"),
            file_checks(&f, row)
        );
    }
    let _ = writeln!(out);
}

/// The checks of a files row: bytes and chat lost or wrong, runs that
/// failed, a busy harness, a disturbing process, errors.
fn file_checks(f: &Figures, row: &Row) -> String {
    let n = |k| report::num(f, k).unwrap_or(0.0);
    let yes = |k| report::get(f, k) == Some(&crate::report::Val::Bool(true));
    let mut c = Vec::new();
    if let Some(Err(e)) = row.ours.iter().find(|r| r.is_err()) {
        c.push(format!("failed run ({e})"));
    }
    let bad = [
        ("file_errors", "transfers wrong or cut"),
        ("lost", "chat lost"),
        ("reordered", "chat reordered"),
        ("errors", "errors"),
    ];
    for (key, what) in bad {
        if n(key) > 0.0 {
            c.push(format!("{what}: {:.0}", n(key)));
        }
    }
    if let Some(crate::report::Val::Text(e)) = report::get(f, "first_errors") {
        if !e.is_empty() {
            c.push(format!("first errors: {e}"));
        }
    }
    if yes("harness_bottleneck") {
        c.push("harness busy".into());
    }
    if yes("disturbed") {
        c.push(format!("disturbed ({:.0}% of a CPU)", n("other_cpu_pct")));
    }
    if row.attempts > 1 {
        c.push(format!("measured {} times (disturbed)", row.attempts));
    }
    if c.is_empty() {
        "ok".into()
    } else {
        c.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Val;

    fn window(pairs: &[(&'static str, Val)]) -> Result<Figures, String> {
        Ok(pairs.to_vec())
    }

    fn receipts_row(members: u64, off: f64, on: f64) -> Row {
        let w = |cpu: f64| {
            window(&[
                ("members", Val::Int(members)),
                ("rate", Val::Num(100.0)),
                ("server_cpu_s_per_m", Val::Num(cpu)),
                ("read_violations", Val::Int(0)),
            ])
        };
        let mut row = Row::new("banter-bench receipts --rate 100".into());
        (row.base, row.ours) = (vec![w(off)], vec![w(on)]);
        row
    }

    #[test]
    fn both_sections_render_with_their_checks_and_the_scaling() {
        let rows = vec![receipts_row(10, 1.0, 1.5), receipts_row(100, 1.0, 2.0)];
        let mut r = Results { receipts: rows, ..Results::default() };
        let mut row = Row::new("banter-bench files --target banters://HOST:PORT".into());
        let w = |phase: &str, errors: u64| {
            let phase = Val::Text(phase.into());
            window(&[
                ("phase", phase),
                ("file_size", Val::Int(64 << 20)),
                ("file_errors", Val::Int(errors)),
            ])
        };
        row.ours = vec![w("idle", 0), w("upload", 0), w("download", 1)];
        r.files = vec![row];
        let mut out = String::new();
        receipts(&mut out, &r);
        files(&mut out, &r);
        assert!(out.contains("## Read receipts (banterd only)"), "{out}");
        assert!(out.contains("| 100 | open | 100 |"), "{out}");
        assert!(
            out.contains("0.50 s per million deliveries at M = 10 and 1.00 at M = 100: 2.00×"),
            "{out}"
        );
        assert!(out.contains("| TLS | 64 MiB |"), "{out}");
        assert!(out.contains("transfers wrong or cut: 1"), "{out}");
    }
}
