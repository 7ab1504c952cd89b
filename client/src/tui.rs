//! The full-screen UI: one thread, one `mio::Poll` over stdin, the server
//! socket and signals (SIGWINCH, SIGINT, SIGTERM, SIGHUP), with every timer
//! (reconnect, heartbeat, typing, ESC) folded into the poll timeout, so the
//! process sleeps until something happens. Keys are handled in `tui_keys.rs`.
//!
//! Each event is handled, then the screen is redrawn at once (only changed
//! rows are written), so a keystroke is echoed without waiting.

use crate::args::Args;
use crate::editor::Editor;
use crate::keys::KeyDecoder;
use crate::net::{Net, SOCKET};
use crate::render::{draw, paint, usable, Frame, Screen};
use crate::session::Event;
use crate::status::{next_tick, status_text, StatusInfo, Win};
use crate::stdin;
use crate::term::Terminal;
use crate::tls::TlsTarget;
use crate::view::View;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGWINCH};
use signal_hook_mio::v1_0::Signals;
use std::io;
use std::time::{Duration, Instant};

const STDIN: Token = Token(0);
const SIGNALS: Token = Token(2);
/// How long a lone ESC waits for the rest of a key sequence.
pub const ESC_WAIT: Duration = Duration::from_millis(30);

/// Our own typing notifications.
#[derive(Debug, Default)]
pub struct TypingOut {
    /// The room told we are typing.
    pub room: Option<String>,
    /// When `active = 1` was last sent (repeated at most every 3 s).
    pub sent_at: Option<Instant>,
    /// When to send `active = 0` if no key comes.
    pub idle_at: Option<Instant>,
}

/// The UI state.
pub struct Tui {
    /// The connection.
    pub net: Net,
    /// What the screen shows.
    pub view: View,
    /// The input line.
    pub editor: Editor,
    /// Key decoding of stdin bytes.
    pub keys: KeyDecoder,
    /// Terminal size.
    pub size: (u16, u16),
    /// The screen as last painted (`None`: repaint everything).
    pub prev: Option<Screen>,
    /// Whether the message pane of `prev` still holds: false after events,
    /// resizes and any key that is not an input edit.
    pub pane_valid: bool,
    /// The input line asks for a name.
    pub asking_name: bool,
    /// The input line asks for the password of the name (registered names).
    pub asking_password: bool,
    /// The rooms joined after the first WELCOME; the first is shown.
    pub first_rooms: Vec<String>,
    /// Rooms joined this session or configured, for Tab after `/join`.
    pub known_rooms: Vec<String>,
    /// Command printing the password (config `password_command`).
    pub password_command: Option<String>,
    /// Per-room log files (`--log-dir`).
    pub log: Option<crate::logfile::Logs>,
    /// Typing notifications sent.
    pub typing: TypingOut,
    /// When an incomplete key sequence is flushed.
    pub esc_at: Option<Instant>,
    /// Set to leave, with the QUIT reason.
    pub quit: Option<String>,
    /// The first room was joined (a later WELCOME re-joins through the session).
    pub joined_first: bool,
    /// Ctrl-C was pressed once with text typed: a second one quits.
    pub quit_asked: bool,
    /// Ring the terminal bell when a message names us (`/set bell`).
    pub bell: bool,
    /// Read markers to send (MARK) for what was on screen.
    pub marks: crate::marks::Marks,
}

/// Runs the UI; returns the exit code.
pub fn run(args: Args, tls: Option<TlsTarget>) -> i32 {
    let result = Terminal::enter().and_then(|mut term| event_loop(args, tls, &mut term));
    crate::term::restore();
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("banter: {e}");
            1
        }
    }
}

fn event_loop(args: Args, tls: Option<TlsTarget>, term: &mut Terminal) -> io::Result<()> {
    let mut poll = Poll::new()?;
    poll.registry().register(&mut SourceFd(&0), STDIN, Interest::READABLE)?;
    let mut signals = Signals::new([SIGWINCH, SIGINT, SIGTERM, SIGHUP])?;
    poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
    let now = Instant::now();
    let mut ui = Tui::new(&args, tls, now);
    let mut ev = Vec::new();
    ui.begin(args.name.as_deref(), poll.registry(), now, &mut ev);
    let mut events = Events::with_capacity(64);
    loop {
        let now = Instant::now();
        ui.absorb(&mut ev, poll.registry(), now);
        if let Some(reason) = ui.quit.take() {
            let marks = ui.marks.take();
            marks.iter().for_each(|f| ui.net.send(f));
            ui.net.quit(&reason, poll.registry(), now, &mut ev);
            return Ok(());
        }
        ui.mark_seen(poll.registry(), now, &mut ev);
        ui.repaint(term, now)?;
        let timeout = ui.deadline(now).map(|d| d.saturating_duration_since(now));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let now = Instant::now();
        for e in events.iter() {
            match e.token() {
                STDIN => ui.on_stdin(poll.registry(), now, &mut ev)?,
                SOCKET => ui.net.on_socket(poll.registry(), now, &mut ev),
                SIGNALS => ui.on_signals(&mut signals),
                _ => {}
            }
        }
        ui.on_timers(poll.registry(), now, &mut ev);
    }
}

impl Tui {
    fn new(args: &Args, tls: Option<TlsTarget>, now: Instant) -> Tui {
        Tui {
            net: Net::new(&args.host, args.port, tls, args.reconnect_attempts, now),
            view: View::with_joins(args.joins),
            editor: Editor::default(),
            keys: KeyDecoder::default(),
            size: Terminal::size(),
            prev: None,
            pane_valid: false,
            asking_name: args.name.is_none(),
            asking_password: false,
            first_rooms: args.rooms.clone(),
            known_rooms: args.rooms.clone(),
            password_command: args.password_command.clone(),
            log: args.log_dir.clone().map(crate::logfile::Logs::new),
            typing: TypingOut::default(),
            esc_at: None,
            quit: None,
            joined_first: false,
            quit_asked: false,
            bell: args.bell,
            marks: Default::default(),
        }
    }

    /// Connects as `name`, or asks for a name.
    fn begin(
        &mut self,
        name: Option<&str>,
        reg: &mio::Registry,
        now: Instant,
        ev: &mut Vec<Event>,
    ) {
        match name {
            Some(n) => {
                self.net.session.password = self.password_for(n);
                self.net.start(n, reg, now, ev)
            }
            None => self.view.info("Welcome to Banter. Type your name and press Enter."),
        }
    }

    /// Applies session events to the view (and reacts to the few that need it).
    fn absorb(&mut self, ev: &mut Vec<Event>, reg: &mio::Registry, now: Instant) {
        self.net.flush(reg, now, ev);
        self.pane_valid &= ev.is_empty();
        while !ev.is_empty() {
            for e in std::mem::take(ev) {
                self.react(&e);
                if let Some(log) = self.log.as_mut() {
                    if let Err(err) = log.event(&e, &self.net.session.name) {
                        self.view.error(&format!("logging stopped: {err}"));
                        self.log = None;
                    }
                }
                self.view.apply(e, now);
            }
            self.net.flush(reg, now, ev);
        }
    }

    fn react(&mut self, e: &Event) {
        match e {
            Event::Welcome { .. } if !self.joined_first => {
                self.joined_first = true;
                for room in self.first_rooms.clone() {
                    let f = self.net.session.join(&room);
                    self.net.send(&f);
                    self.view.room_mut(&room);
                }
                if let Some(first) = self.first_rooms.first().cloned() {
                    self.view.switch(&first);
                }
            }
            Event::NameRefused { code, .. } if code.starts_with("AUTH_") => {
                self.asking_password = true;
                self.view.info(
                    "This name needs its password: type it and press Enter \
                     (an empty line picks another name, /quit leaves).",
                );
            }
            Event::NameRefused { .. } => {
                self.asking_name = true;
                self.view.info("Choose another name and press Enter.");
            }
            Event::Joined { room, read, .. } | Event::Unread { room, read, .. } => {
                self.marks.told(room, *read)
            }
            Event::Left { room } => self.marks.forget(room),
            _ => {}
        }
    }

    fn on_stdin(
        &mut self,
        reg: &mio::Registry,
        now: Instant,
        ev: &mut Vec<Event>,
    ) -> io::Result<()> {
        let (bytes, eof) = stdin::read_available()?;
        if eof {
            self.quit = Some(String::new());
        }
        for key in self.keys.feed(&bytes) {
            self.on_key(key, reg, now, ev);
        }
        self.esc_at = self.keys.has_pending().then_some(now + ESC_WAIT);
        Ok(())
    }

    fn on_signals(&mut self, signals: &mut Signals) {
        for sig in signals.pending() {
            if sig == SIGWINCH {
                self.size = Terminal::size();
                self.prev = None;
                self.pane_valid = false;
            } else {
                self.quit = Some(String::new());
            }
        }
    }

    fn deadline(&self, now: Instant) -> Option<Instant> {
        let typing_in = self.view.rooms.iter().flat_map(|(_, r)| r.typing.values().copied()).min();
        [
            self.net.deadline(),
            self.typing.idle_at,
            self.esc_at,
            typing_in,
            self.marks.deadline(),
            next_tick(self.net.rc.phase(), now),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn on_timers(&mut self, reg: &mio::Registry, now: Instant, ev: &mut Vec<Event>) {
        if self.net.deadline().is_some_and(|d| d <= now) {
            self.net.on_timer(reg, now, ev);
        }
        if self.typing.idle_at.is_some_and(|t| t <= now) {
            self.stop_typing();
        }
        if self.esc_at.is_some_and(|t| t <= now) {
            self.esc_at = None;
            for key in self.keys.flush() {
                self.on_key(key, reg, now, ev);
            }
        }
        self.view.expire_typing(now);
    }

    fn repaint(&mut self, term: &mut Terminal, now: Instant) -> io::Result<()> {
        let status = self.status(now);
        let room = self.view.current.clone();
        let prompt = match (&room, self.asking_name) {
            _ if self.asking_password => "password: ".to_string(),
            (_, true) => "name: ".to_string(),
            (Some(r), _) => format!("[{r}] "),
            (None, _) => "> ".to_string(),
        };
        let pane_rows = usize::from(self.size.1).saturating_sub(2);
        let cached = self.prev.as_ref().filter(|_| self.pane_valid).map(|p| &p.rows[..]);
        let frame = Frame {
            me: &self.net.session.name,
            status: &status,
            prompt: &prompt,
            editor: &self.editor,
            size: self.size,
            masked: self.asking_password,
            pane: cached.and_then(|r| r.get(..pane_rows)),
        };
        let screen = draw(&self.view, &frame);
        self.pane_valid = true;
        let mut bytes = paint(self.prev.as_ref(), &screen, usable(self.size.0));
        if std::mem::take(&mut self.view.bell) && self.bell {
            bytes.push('\x07');
        }
        self.prev = Some(screen);
        term.write(&bytes)
    }

    fn status(&self, now: Instant) -> String {
        let room = self.view.current.as_deref();
        let rv = room.and_then(|r| self.view.room(r));
        let info = StatusInfo {
            phase: self.net.rc.phase(),
            max: self.net.rc.max(),
            lag: self.net.lag,
            room,
            members: rv.map_or(0, |r| r.members),
            typing: rv.map_or(Vec::new(), |r| r.typing.keys().map(String::as_str).collect()),
            unsent: self.net.session.unacked(),
            transfers: self.net.files.status(),
            windows: self.windows(),
        };
        status_text(&info, now, usable(self.size.0))
    }

    /// MARKs the newest message of the room shown when it is on screen
    /// (the pane follows the newest line, no prompt covers it), at most
    /// once a second.
    fn mark_seen(&mut self, reg: &mio::Registry, now: Instant, ev: &mut Vec<Event>) {
        let room = self.view.current.clone().filter(|r| self.net.session.rooms.contains_key(r));
        let prompt = self.asking_name || self.asking_password;
        if let Some(r) = room.as_deref().and_then(|r| self.view.room(r)).filter(|_| !prompt) {
            if r.scroll.at_bottom() && r.newest > 0 {
                let newest = r.newest;
                self.marks.seen(room.as_deref().unwrap_or_default(), newest);
            }
        }
        if !self.net.online() {
            return;
        }
        for f in self.marks.due(now) {
            if let banter_proto::ClientFrame::Mark { room, id } = &f {
                let r = self.view.room_mut(room);
                r.read = r.read.max(*id);
            }
            self.net.send(&f);
        }
        self.net.flush(reg, now, ev);
    }

    /// The password to send for `name`: the output of the configured
    /// password command, or none (the server then says if one is needed).
    pub fn password_for(&mut self, name: &str) -> String {
        let Some(cmd) = self.password_command.clone() else { return String::new() };
        match crate::secret::run(&cmd) {
            Ok(pw) => pw,
            Err(e) => {
                self.view.error(&format!("password_command for {name}: {e}"));
                String::new()
            }
        }
    }

    /// The windows for the status bar.
    fn windows(&self) -> Vec<Win> {
        let current = self.view.current.as_deref();
        let names = self.view.windows();
        let wins = names.iter().enumerate().filter_map(|(i, name)| {
            let r = self.view.room(name)?;
            let current = current == Some(*name);
            let (unread, mentions) = (r.unread, r.mentions);
            Some(Win { n: i + 1, name: name.to_string(), unread, mentions, current })
        });
        wins.collect()
    }
}
