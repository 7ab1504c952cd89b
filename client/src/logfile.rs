//! Logging to files (`--log-dir DIR`, config `log_dir`): each room's
//! messages, as they arrive live or are caught up after a reconnect, are
//! appended to `DIR/ROOM.log` as "YYYY-MM-DD HH:MM <name> text" (actions as
//! "* name text", shared files as "<name> [file] NAME (SIZE, TYPE)"),
//! sanitised, one line per message. The directory is
//! created (mode 0700) and the files are private (0600).
//!
//! History replays (a first JOIN, /history) are not logged: they were
//! logged when they were live. It shows nothing; errors go to the caller.

use crate::clock::{hhmm, iso_day};
use crate::sanitize::sanitize_line;
use crate::session::Event;
use crate::transfer::names::describe;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

/// The log directory and its open files.
#[derive(Debug)]
pub struct Logs {
    /// Where the files go.
    dir: PathBuf,
    /// Open files by room.
    files: HashMap<String, File>,
}

impl Logs {
    /// Logs into `dir` (created when the first line is written).
    pub fn new(dir: PathBuf) -> Logs {
        Logs { dir, files: HashMap::new() }
    }

    /// Appends the line of `e`, if it is a message to log; `me` is our name.
    pub fn event(&mut self, e: &Event, me: &str) -> std::io::Result<()> {
        match e {
            Event::Msg { room, ts, from, text, action, replay, catch_up, file, .. }
                if !*replay || *catch_up =>
            {
                match file {
                    Some(f) => {
                        let what = describe(text, f.file.size, &f.file.mime);
                        self.line(room, *ts, from, &format!("[file] {what}"), false)
                    }
                    None => self.line(room, *ts, from, text, *action),
                }
            }
            Event::Acked { room, ts, text, action, .. } => self.line(room, *ts, me, text, *action),
            _ => Ok(()),
        }
    }

    fn line(
        &mut self,
        room: &str,
        ts: u64,
        from: &str,
        text: &str,
        action: bool,
    ) -> std::io::Result<()> {
        let (from, text) = (sanitize_line(from), sanitize_line(text));
        let who = if action { format!("* {from}") } else { format!("<{from}>") };
        let line = format!("{} {} {who} {text}\n", iso_day(ts), hhmm(ts));
        self.file(room)?.write_all(line.as_bytes())
    }

    fn file(&mut self, room: &str) -> std::io::Result<&mut File> {
        if !self.files.contains_key(room) {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir)?;
            // Room names are [A-Za-z0-9_.-] (and `@name`), never a path.
            let name = room.replace('/', "_");
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(self.dir.join(format!("{name}.log")))?;
            self.files.insert(room.to_string(), f);
        }
        Ok(self.files.get_mut(room).expect("just inserted"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_appended_per_room_and_history_is_not() {
        let dir = std::env::temp_dir().join(format!("banter-logs-{}", std::process::id()));
        let mut logs = Logs::new(dir.clone());
        let msg = |text: &str, replay, action| Event::Msg {
            room: "lobby".into(),
            id: 1,
            ts: 1_764_300_000_000,
            from: "bob".into(),
            text: text.into(),
            action,
            replay,
            catch_up: false,
            file: None,
        };
        logs.event(&msg("hi\u{1b}[2J", false, false), "ada").unwrap();
        logs.event(&msg("old", true, false), "ada").unwrap();
        logs.event(&msg("waves", false, true), "ada").unwrap();
        let text = std::fs::read_to_string(dir.join("lobby.log")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].ends_with(" <bob> hi\u{241b}[2J"), "{text}");
        assert!(lines[1].ends_with(" * bob waves"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
