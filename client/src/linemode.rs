//! Line mode, for scripts and pipes (stdin or stdout not a terminal): each
//! input line is a message or a command, each event one sanitised line on
//! stdout (format in `--help`). A message printed counts as read (MARK).
//! At end of input it waits until every SAY is acknowledged, sends QUIT
//! and exits 0, or 1 if any SAY was not.
//!
//! It reconnects and resends like the terminal UI (same `net`). Lines are
//! only acted on while connected, so their effects keep their order.

use crate::actions::{self, Outcome};
use crate::args::Args;
use crate::commands::{self, Command, Input};
use crate::net::{Net, SOCKET};
use crate::reconnect::Phase;
use crate::session::Event;
use crate::stdin;
use crate::tls::TlsTarget;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

mod events;

use events::Await;

const STDIN: Token = Token(0);
const SIGNALS: Token = Token(2);
/// How long to wait for the server to close after QUIT.
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// Line-mode state.
struct LineApp {
    /// The connection.
    net: Net,
    /// The room messages go to.
    room: Option<String>,
    /// Input lines not yet acted on.
    lines: VecDeque<String>,
    /// A partial last line.
    partial: Vec<u8>,
    /// Standard input reached its end.
    eof: bool,
    /// The name comes from stdin (no --name): a refused one is asked again.
    name_from_stdin: bool,
    /// Waiting for a name line.
    need_name: bool,
    /// The name needs its password: the next line is it.
    need_password: bool,
    /// The rooms to join at start; the first is current.
    first_rooms: Vec<String>,
    /// Command printing the password (config `password_command`).
    password_command: Option<String>,
    /// Presence lines are not printed (`/set joins off`, config `joins`).
    hide_joins: bool,
    /// The local day of the last message printed (a day line precedes
    /// the first message of another day).
    last_day: u32,
    /// Per-room log files (`--log-dir`).
    log: Option<crate::logfile::Logs>,
    /// QUIT was sent at this time.
    quit_at: Option<Instant>,
    /// Set when the run is over: the exit code.
    exit: Option<i32>,
    /// The answer the last line waits for before the next line runs, so
    /// output keeps the order of the input.
    awaiting: Option<Await>,
    /// A message line (or a /send, a /get) was refused before it could be
    /// sent (exit 1).
    refused_locally: bool,
    /// An upload or a download failed (exit 1).
    files_failed: bool,
    /// Read markers to send for the messages printed.
    marks: crate::marks::Marks,
    /// Our direct messages of this run not yet read, by room and id: their
    /// text, and whether "delivered" was printed.
    receipts: events::Receipts,
}

/// Moves the whole lines at the front of `buf` to `lines` (without their
/// `\n` or `\r\n`), leaving the unfinished rest; the rest moves once, so
/// a large piped input is split in time linear in its size.
fn split_lines(buf: &mut Vec<u8>, lines: &mut VecDeque<String>) {
    let mut start = 0;
    while let Some(i) = buf[start..].iter().position(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(&buf[start..start + i]);
        lines.push_back(text.trim_end_matches('\r').to_string());
        start += i + 1;
    }
    buf.drain(..start);
}

/// Runs line mode; returns the exit code.
pub fn run(args: Args, tls: Option<TlsTarget>) -> i32 {
    match try_run(args, tls) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("banter: {e}");
            1
        }
    }
}

fn try_run(args: Args, tls: Option<TlsTarget>) -> std::io::Result<i32> {
    let mut poll = Poll::new()?;
    let now = Instant::now();
    let mut app = LineApp::new(&args, tls, now);
    let stdin_polled =
        poll.registry().register(&mut SourceFd(&0), STDIN, Interest::READABLE).is_ok();
    if !stdin_polled {
        // A regular file cannot be polled; it never blocks, so read it all.
        while !app.eof {
            app.read_stdin()?;
        }
    }
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
    let mut ev = Vec::new();
    if let Some(name) = &args.name {
        app.start(name, poll.registry(), now, &mut ev);
    }
    let mut events = Events::with_capacity(64);
    loop {
        let now = Instant::now();
        if let Some(code) = app.settle(poll.registry(), now, &mut ev) {
            return Ok(code);
        }
        let timeout = app.deadline().map(|d| d.saturating_duration_since(now));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let now = Instant::now();
        for e in events.iter() {
            match e.token() {
                STDIN => app.read_stdin()?,
                SOCKET => app.net.on_socket(poll.registry(), now, &mut ev),
                SIGNALS if signals.pending().next().is_some() => {
                    app.interrupted(poll.registry(), now, &mut ev);
                }
                _ => {}
            }
        }
        if app.net.deadline().is_some_and(|d| d <= now) {
            app.net.on_timer(poll.registry(), now, &mut ev);
        }
    }
}

impl LineApp {
    fn new(args: &Args, tls: Option<TlsTarget>, now: Instant) -> LineApp {
        LineApp {
            net: Net::new(&args.host, args.port, tls, args.reconnect_attempts, now),
            room: None,
            lines: VecDeque::new(),
            partial: Vec::new(),
            eof: false,
            name_from_stdin: args.name.is_none(),
            need_name: args.name.is_none(),
            need_password: false,
            first_rooms: args.rooms.clone(),
            password_command: args.password_command.clone(),
            hide_joins: !args.joins,
            last_day: 0,
            log: args.log_dir.clone().map(crate::logfile::Logs::new),
            quit_at: None,
            exit: None,
            awaiting: None,
            refused_locally: false,
            files_failed: false,
            marks: Default::default(),
            receipts: Default::default(),
        }
    }

    /// Shows events and acts on input until nothing changes; the exit code
    /// once the run is over.
    fn settle(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) -> Option<i32> {
        loop {
            self.show(ev);
            self.step(reg, now, ev);
            if self.net.online() && self.quit_at.is_none() {
                let marks = self.marks.due(now);
                marks.iter().for_each(|f| self.net.send(f));
                self.net.flush(reg, now, ev);
            }
            if ev.is_empty() {
                return self.exit;
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let q = self.quit_at.map(|t| t + QUIT_WAIT);
        [self.net.deadline(), q, self.marks.deadline()].into_iter().flatten().min()
    }

    fn read_stdin(&mut self) -> std::io::Result<()> {
        let (bytes, eof) = stdin::read_available()?;
        self.partial.extend_from_slice(&bytes);
        split_lines(&mut self.partial, &mut self.lines);
        if eof {
            self.eof = true;
            if !self.partial.is_empty() {
                let rest = std::mem::take(&mut self.partial);
                self.lines.push_back(String::from_utf8_lossy(&rest).to_string());
            }
        }
        Ok(())
    }

    /// Acts on whatever can be acted on now.
    fn step(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        self.step_inner(reg, now, ev);
        let offline = self.net.rc.phase() == Phase::Offline;
        if offline && self.exit.is_none() && self.quit_at.is_none() {
            self.exit = Some(1);
        }
    }

    fn step_inner(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if self.need_password {
            return self.take_password(reg, now, ev);
        }
        if self.need_name {
            return self.take_name(reg, now, ev);
        }
        if let Some(at) = self.quit_at {
            if self.net.closed() || now >= at + QUIT_WAIT {
                self.exit = Some(self.exit_code());
            }
            return;
        }
        if self.net.online() {
            while self.awaiting.is_none() {
                let Some(line) = self.lines.pop_front() else {
                    break;
                };
                self.execute(&line, reg, now, ev);
                if self.quit_at.is_some() {
                    return;
                }
            }
            let idle = self.awaiting.is_none() && self.lines.is_empty();
            if idle && self.eof && self.net.session.unacked() == 0 {
                self.quit(String::new(), reg, now, ev);
            }
        }
        self.net.flush(reg, now, ev);
    }

    /// Connects as `name`, with the password command's password if set.
    fn start(&mut self, name: &str, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if let Some(cmd) = &self.password_command {
            match crate::secret::run(cmd) {
                Ok(pw) => self.net.session.password = pw,
                Err(e) => {
                    println!("! password_command: {}", crate::sanitize::sanitize_line(&e));
                    self.exit = Some(1);
                    return;
                }
            }
        }
        self.net.start(name, reg, now, ev);
    }

    fn take_password(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        match self.lines.pop_front() {
            Some(pw) => {
                self.need_password = false;
                self.net.session.password = pw;
                let name = self.net.session.name.clone();
                self.net.start(&name, reg, now, ev);
            }
            None if self.eof => {
                println!("! no password given for {}", self.net.session.name);
                self.exit = Some(1);
            }
            None => {}
        }
    }

    fn take_name(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        match self.lines.pop_front() {
            Some(name) => {
                let name = name.trim().to_string();
                if banter_proto::validate::is_valid_name(&name) {
                    self.need_name = false;
                    self.start(&name, reg, now, ev);
                } else {
                    println!(
                        "! {:?} is not a valid name; give another",
                        crate::sanitize::sanitize_line(&name)
                    );
                }
            }
            None if self.eof => {
                println!("! no name given (use --name or give it as the first line)");
                self.exit = Some(1);
            }
            None => {}
        }
    }

    fn execute(&mut self, line: &str, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if line.trim().is_empty() {
            return;
        }
        let input = commands::parse(line);
        let here = self.room.clone().unwrap_or_default();
        let is_say = matches!(
            input,
            Ok(Input::Say(_)
                | Input::Cmd(Command::Msg(_, Some(_)) | Command::Send(_) | Command::Get(..)))
        );
        let wait = match &input {
            Ok(Input::Cmd(Command::Join(r))) => Some(Await::Join(r.clone())),
            Ok(Input::Cmd(Command::Msg(n, None))) => {
                Some(Await::Join(format!("@{}", n.to_ascii_lowercase())))
            }
            Ok(Input::Cmd(Command::Leave(r))) => Some(Await::Left(r.clone().unwrap_or(here))),
            Ok(Input::Cmd(Command::Who)) => Some(Await::Roster(here)),
            Ok(Input::Cmd(Command::History(_))) => Some(Await::History(here)),
            Ok(Input::Cmd(Command::Register(_))) => Some(Await::Register),
            _ => None,
        };
        match input.and_then(|i| actions::run(i, &mut self.net, &mut self.room)) {
            Ok(Outcome::Said { seq, .. }) => self.awaiting = Some(Await::Ack(seq)),
            Ok(Outcome::Sent) => self.awaiting = wait,
            Ok(Outcome::Quit(reason)) => self.quit(reason, reg, now, ev),
            Ok(Outcome::Help) => commands::HELP.iter().for_each(|h| println!("= {h}")),
            Ok(Outcome::Reconnect) => println!("= already connected"),
            Ok(Outcome::Switched(r)) => println!("= now in {r}"),
            Ok(Outcome::GoNumber(_)) => {
                println!("! windows are numbered in the terminal UI; /go ROOM")
            }
            Ok(Outcome::Search(_)) => {
                println!("! /search is for the terminal UI; grep this output")
            }
            Ok(Outcome::Set(s)) => self.set(s),
            Ok(Outcome::Resent(s)) => println!("= resending {} message(s)", s.len()),
            Ok(Outcome::Sending(s)) => {
                println!("= {}", crate::sanitize::sanitize_line(&s.text()));
                self.awaiting = Some(Await::Upload(s.seq));
            }
            Ok(Outcome::Fetching(f)) => {
                println!("= {}", crate::sanitize::sanitize_line(&f.text()));
                self.awaiting = Some(Await::Fetch(f.n));
            }
            Err(e) => {
                self.refused_locally |= is_say;
                println!("! {}", crate::sanitize::sanitize_line(&e));
            }
        }
    }

    /// `/set joins on|off` (the only setting line mode has).
    fn set(&mut self, s: Option<(String, String)>) {
        let on = if self.hide_joins { "off" } else { "on" };
        match s {
            None => println!("= settings: joins {on}"),
            Some((k, v)) => match (k.as_str(), crate::config::switch(&v)) {
                ("joins", Some(b)) => {
                    self.hide_joins = !b;
                    println!("= joins {}", if b { "on" } else { "off" });
                }
                _ => println!("! /set: line mode has one setting: joins on|off"),
            },
        }
    }

    fn quit(&mut self, reason: String, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let marks = self.marks.take();
        marks.iter().for_each(|f| self.net.send(f));
        self.net.quit(&reason, reg, now, ev);
        self.quit_at = Some(now);
    }

    fn interrupted(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        println!("= interrupted");
        if self.quit_at.is_none() {
            self.quit("interrupted".into(), reg, now, ev);
        }
    }

    fn exit_code(&self) -> i32 {
        let s = &self.net.session;
        if s.unacked() == 0 && s.failed() == 0 && !self.refused_locally && !self.files_failed {
            0
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_cut_into_lines_keeping_the_unfinished_rest() {
        let mut buf = b"one\r\ntwo\n\nthr".to_vec();
        let mut lines = VecDeque::new();
        split_lines(&mut buf, &mut lines);
        assert_eq!(lines, ["one", "two", ""]);
        assert_eq!(buf, b"thr");
        buf.extend_from_slice(b"ee\n");
        split_lines(&mut buf, &mut lines);
        assert_eq!(lines.back().map(String::as_str), Some("three"));
        assert!(buf.is_empty());
    }
}
