//! The comparison's Banter-only sections, for the extensions of §9 and §10
//! (no Redis or Node baseline has read receipts or file transfer, so each
//! compares banterd with itself):
//!
//! - read receipts: for each room size, the same fan-out load without and
//!   with every member marking every message, closed loop and then open
//!   loop at half the closed-loop rate without MARK;
//! - files: a 64 MiB file up and down over TCP and over TLS while others
//!   chat, against banterd with `--files` in a temporary directory.
//!
//! Each session starts on a settled server, as the other sections do.

use crate::markdown::{self, Row, Runs};
use crate::plan::{Plan, Scenario};
use crate::sections::Comparison;
use crate::servers::{self, ServerProc};
use crate::stats;
use crate::summary::split_pairs;
use std::path::PathBuf;

/// A directory removed when dropped (after the server using it stopped).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Comparison {
    /// Receipts on banterd: one closed-loop and one open-loop row per size.
    pub fn receipts(&mut self) -> Result<(), String> {
        let cpu = self.s.cpus.map(|c| c.0);
        let srv = match servers::banterd(&self.s.banterd, cpu, 6000, None) {
            Ok(srv) => srv,
            Err(e) => {
                self.results.receipts_na = Some(format!("n/a ({e})"));
                return Ok(());
            }
        };
        self.results.commands.push(srv.command.clone());
        for m in self.s.receipt_members.clone() {
            let mut rows = self.measured(&mut |c| c.receipt_rows(&srv, m));
            self.results.receipts.append(&mut rows);
        }
        Ok(())
    }

    /// A room of `members` (one sender): `runs` pairs of windows closed
    /// loop, then `runs` pairs open loop at half the closed-loop rate of
    /// the windows without MARK, on the same connections.
    fn receipt_rows(&mut self, srv: &ServerProc, members: usize) -> Vec<Row> {
        let Ok(mut p) = self.plan(Scenario::Receipts, Some(srv), "banter") else {
            return Vec::new();
        };
        (p.receivers, p.senders, p.size) = (members.saturating_sub(1).max(1), 1, 64);
        let (n, pairs) = (self.s.runs, 2 * self.s.runs);
        let half = move |done: &[f64]| {
            let off: Vec<f64> = done.iter().step_by(2).take(n).copied().collect();
            stats::median(&off).unwrap_or(0.0) / 2.0
        };
        let runs = self.session(&p, &mut |done| match done.len() {
            n if n < pairs => Some(0.0),
            n if n < 2 * pairs && half(done) > 0.0 => Some(half(done)),
            _ => None,
        });
        let (closed, open) = (runs.get(..pairs).unwrap_or(&runs), runs.get(pairs..).unwrap_or(&[]));
        let mut rows = vec![pair_row(&p, closed)];
        let rate = markdown::median(&split_pairs(&closed.to_vec()).0, "sent_per_s");
        p.rate = rate.map_or(0.0, |r| r / 2.0);
        if !open.is_empty() {
            rows.push(pair_row(&p, open));
        }
        rows
    }

    /// Files on banterd over TCP, then over TLS when certificates are given.
    pub fn files(&mut self) -> Result<(), String> {
        let mut schemes = vec!["banter"];
        if self.s.tls.is_some() {
            schemes.push("banters");
        }
        for scheme in schemes {
            let mut rows = self.measured(&mut |c| vec![c.files_row(scheme)]);
            self.results.files.append(&mut rows);
        }
        Ok(())
    }

    /// `runs` rounds of idle, upload and download windows over `scheme`,
    /// on a fresh banterd sharing files in a temporary directory.
    fn files_row(&mut self, scheme: &str) -> Row {
        let dir = TempDir(std::env::temp_dir().join(format!(
            "banter-bench-files-{}-{}",
            std::process::id(),
            crate::cli::unique_prefix()
        )));
        let mut row = Row::new(format!("files over {scheme}://"));
        if let Err(e) = std::fs::create_dir_all(&dir.0) {
            row.ours.push(Err(format!("{}: {e}", dir.0.display())));
            return row;
        }
        let extra = ["--files".into(), dir.0.display().to_string()];
        let extra = [&extra[..], &["--file-quota".into(), (1u64 << 50).to_string()]].concat();
        let (cpu, tls) =
            (self.s.cpus.map(|c| c.0), self.s.tls.as_ref().filter(|_| scheme == "banters"));
        let srv = match servers::banterd_with(&self.s.banterd, cpu, 1000, tls, &extra) {
            Ok(srv) => srv,
            Err(e) => {
                row.ours.push(Err(e));
                return row;
            }
        };
        self.results.commands.push(generic_dir(&srv.command, &dir.0));
        let Ok(mut p) = self.plan(Scenario::Files, Some(&srv), scheme) else {
            return row;
        };
        (p.conns, p.senders, p.rate) = (2, 3, self.s.chat_rate);
        (p.file_size, p.threads) = (self.s.file_size, 2);
        row.command = markdown::command(&p, &format!("{scheme}://HOST:PORT"));
        let windows = 3 * self.s.runs;
        row.ours = self.session(&p, &mut |done| (done.len() < windows).then_some(p.rate));
        drop(srv);
        row
    }
}

/// A row of receipts windows: those without MARK as the base, with as ours.
fn pair_row(p: &Plan, runs: &[Result<crate::report::Figures, String>]) -> Row {
    let mut row = Row::new(markdown::command(p, "URL"));
    let (off, on): (Runs, Runs) = split_pairs(&runs.to_vec());
    (row.base, row.ours) = (off, on);
    row
}

/// A server command with its temporary directory named `DIR`.
fn generic_dir(command: &str, dir: &std::path::Path) -> String {
    command.replace(&dir.display().to_string(), "DIR")
}
