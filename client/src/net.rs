//! The connection driver shared by the terminal UI and line mode: opens
//! connections when the reconnect machine says so, does the handshake,
//! answers and sends PINGs (measuring lag), notices a silent server after
//! twice its heartbeat, and feeds frames to the [`Session`] (those of
//! file transfers to `net/files.rs`).
//!
//! It takes `now` from its caller and exposes its next [`Net::deadline`];
//! it never sleeps or reads the clock. It does not render anything.

use crate::conn::{plain, Broken, Conn, Input};
use crate::inbound::code_name;
use crate::reconnect::{Phase, Reconnect};
use crate::session::{Event, Session};
use crate::tls::TlsTarget;
use crate::transfer::Transfers;
use banter_proto::{ClientFrame, ErrorCode, ServerFrame};
use mio::{Registry, Token};
use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

mod downloads;
mod files;
mod uploads;
pub use downloads::Fetching;
pub use uploads::Sending;

/// The poll token of the server socket.
pub const SOCKET: Token = Token(1);

/// Pause before resending SAYs refused as RATE_LIMITED.
const THROTTLE_PAUSE: Duration = Duration::from_millis(1000);

/// Heartbeat assumed until WELCOME announces the server's.
const DEFAULT_HEARTBEAT: Duration = Duration::from_millis(5000);

/// Connection driver state.
#[derive(Debug)]
pub struct Net {
    /// Server host.
    host: String,
    /// Server port.
    port: u16,
    /// TLS settings (`--tls`, `--ca`); `None`: in clear.
    tls: Option<TlsTarget>,
    /// When to (re)connect.
    pub rc: Reconnect,
    /// The live connection, if any.
    conn: Option<Conn>,
    /// The session carried across connections.
    pub session: Session,
    /// Whether the current connection got WELCOME.
    welcomed: bool,
    /// The server's heartbeat (from WELCOME).
    heartbeat: Duration,
    /// When anything last arrived from the server (or the connect began).
    last_heard: Instant,
    /// When our next PING is due.
    next_ping: Instant,
    /// Our PING awaiting its PONG: nonce and when it left.
    ping: Option<(u64, Instant)>,
    /// The last measured round trip.
    pub lag: Option<Duration>,
    /// Nonce of the next PING.
    nonce: u64,
    /// QUIT was sent: the server closing is expected.
    pub quitting: bool,
    /// When rate-limited SAYs are sent again.
    throttle_until: Option<Instant>,
    /// File uploads and downloads.
    pub files: Transfers,
    /// A turn's worth of CHUNKs went out and more could: send more then.
    chunks_due: Option<Instant>,
}

impl Net {
    /// A driver for `host:port` (over TLS when `tls` is given) with
    /// `attempts` reconnect attempts (0: forever).
    pub fn new(host: &str, port: u16, tls: Option<TlsTarget>, attempts: u32, now: Instant) -> Net {
        let seed =
            u64::from(std::process::id()) ^ now.elapsed().as_nanos() as u64 ^ 0x9e37_79b9_7f4a_7c15;
        Net {
            host: host.to_string(),
            port,
            tls,
            rc: Reconnect::new(attempts, seed),
            conn: None,
            session: Session::new(""),
            welcomed: false,
            heartbeat: DEFAULT_HEARTBEAT,
            last_heard: now,
            next_ping: now,
            ping: None,
            lag: None,
            nonce: 1,
            quitting: false,
            throttle_until: None,
            files: Transfers::default(),
            chunks_due: None,
        }
    }

    /// Whether a welcomed connection is up.
    pub fn online(&self) -> bool {
        self.welcomed && self.conn.is_some()
    }

    /// The server address as given.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Starts the first connection as `name`.
    pub fn start(&mut self, name: &str, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        self.session.name = name.to_string();
        self.rc.start();
        self.connect(reg, now, ev);
    }

    fn connect(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if let Some(c) = self.conn.take() {
            c.close(reg);
        }
        self.welcomed = false;
        self.last_heard = now;
        let attempt = match self.rc.phase() {
            Phase::Connecting { attempt } => attempt,
            _ => 0,
        };
        ev.push(Event::Connecting { attempt });
        let addr = match (self.host.as_str(), self.port).to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(a)) => a,
            Ok(None) => return self.lost(reg, now, format!("{}: no address", self.host), ev),
            Err(e) => return self.lost(reg, now, format!("{}: {e}", self.host), ev),
        };
        match Conn::open(addr, &self.host, self.tls.as_ref(), reg, SOCKET) {
            Ok(mut c) => {
                c.queue(&self.session.hello());
                self.conn = Some(c);
            }
            Err(e) => self.lost(reg, now, plain(&e), ev),
        }
    }

    /// The connection ended (or never began): schedule a reconnect or go offline.
    pub fn lost(&mut self, reg: &Registry, now: Instant, reason: String, ev: &mut Vec<Event>) {
        if let Some(c) = self.conn.take() {
            c.close(reg);
        }
        self.welcomed = false;
        self.ping = None;
        self.session.on_disconnect();
        self.files.on_disconnect();
        self.chunks_due = None;
        if self.quitting {
            return;
        }
        self.rc.on_lost(now);
        let server = self.server();
        match self.rc.phase() {
            Phase::Offline => ev.push(Event::Offline { server, reason }),
            _ => ev.push(Event::Lost { server, reason }),
        }
    }

    /// Ends the connection without reconnecting: offline with `reason`,
    /// or idle (waiting for a new name) when `None`.
    fn stop(&mut self, reg: &Registry, ev: &mut Vec<Event>, offline: Option<String>) {
        if let Some(c) = self.conn.take() {
            c.close(reg);
        }
        self.welcomed = false;
        self.ping = None;
        self.session.on_disconnect();
        self.files.on_disconnect();
        self.chunks_due = None;
        match offline {
            Some(reason) => {
                self.rc.give_up();
                ev.push(Event::Offline { server: self.server(), reason });
            }
            None => self.rc.stop(),
        }
    }

    /// The socket is ready.
    pub fn on_socket(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let Some(c) = self.conn.as_mut() else { return };
        let result = c.read().and_then(|got| c.flush().map(|_| got));
        match result {
            Ok(Input::Bytes) => self.last_heard = now,
            Ok(Input::Nothing) => {}
            Err(broken) => {
                self.drain(reg, now, ev);
                if self.conn.is_some() {
                    self.broken(broken, reg, now, ev);
                }
                return;
            }
        }
        self.drain(reg, now, ev);
        self.pump(reg, now, ev);
    }

    /// Handles every whole frame buffered.
    fn drain(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        loop {
            let Some(c) = self.conn.as_mut() else { return };
            match c.next_frame() {
                Ok(Some(f)) => self.on_frame(f, reg, now, ev),
                Ok(None) => break,
                Err(e) => return self.lost(reg, now, e, ev),
            }
        }
        self.flush(reg, now, ev);
    }

    fn on_frame(&mut self, f: ServerFrame, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let Some(f) = self.file_frame(f, now, ev) else { return };
        match f {
            ServerFrame::Ping { nonce } => self.send(&ClientFrame::Pong { nonce }),
            ServerFrame::Pong { nonce } => {
                if let Some((n, at)) = self.ping {
                    if n == nonce {
                        self.lag = Some(now.saturating_duration_since(at));
                        self.ping = None;
                    }
                }
            }
            ServerFrame::Welcome {
                name,
                token,
                resumed,
                heartbeat_ms,
                max_frame,
                max_text,
                features,
                ..
            } => {
                self.on_welcome(name, token, resumed != 0, heartbeat_ms, now, ev);
                if let Some(c) = self.conn.as_mut() {
                    c.max_frame = max_frame.max(banter_proto::DEFAULT_MAX_FRAME);
                }
                self.session.max_text = max_text as usize;
                self.files_welcome(&features, max_frame, ev);
            }
            ServerFrame::Error { code, about, detail, .. } if is_fatal(code, about) => {
                self.on_fatal(code, detail, reg, now, ev)
            }
            f => {
                let mut out = Vec::new();
                let mut new = self.session.handle(f, &mut out);
                if self.throttle_until.is_none()
                    && new.iter().any(|e| matches!(e, Event::Throttled { .. }))
                {
                    self.throttle_until = Some(now + THROTTLE_PAUSE);
                }
                self.replayed_uploads(&mut new);
                ev.extend(new);
                out.iter().for_each(|f| self.send(f));
                self.file_turn();
            }
        }
    }

    fn on_welcome(
        &mut self,
        name: String,
        token: u64,
        resumed: bool,
        hb: u32,
        now: Instant,
        ev: &mut Vec<Event>,
    ) {
        self.welcomed = true;
        self.rc.on_connected();
        self.heartbeat = Duration::from_millis(u64::from(hb.max(100)));
        self.next_ping = now + self.heartbeat;
        self.session.name = name.clone();
        self.session.token = token;
        let mut out = Vec::new();
        self.session.on_welcome(&mut out);
        out.iter().for_each(|f| self.send(f));
        ev.push(Event::Welcome { name, resumed });
    }

    fn on_fatal(
        &mut self,
        code: u16,
        detail: String,
        reg: &Registry,
        now: Instant,
        ev: &mut Vec<Event>,
    ) {
        use ErrorCode::*;
        let name = code_name(code);
        match ErrorCode::from_code(code) {
            Some(NameTaken | NameInvalid | AuthFailed | AuthRequired) => {
                self.session.token = 0;
                self.stop(reg, ev, None);
                let password_sent = !self.session.password.is_empty();
                ev.push(Event::NameRefused { code: name, detail, password_sent });
            }
            Some(Superseded | BadVersion | HelloFirst) => {
                self.stop(reg, ev, Some(format!("{name}: {detail}")));
            }
            Some(TlsRequired) => {
                let fix = "connect with --tls (and --ca PATH for a self-signed server)";
                self.stop(reg, ev, Some(format!("{name}: {detail}; {fix}")));
            }
            _ => self.lost(reg, now, format!("{name}: {detail}"), ev),
        }
    }

    /// Queues a frame on a live connection (dropped when there is none:
    /// SAYs are kept by the session and resent on reconnect).
    pub fn send(&mut self, f: &ClientFrame) {
        if let Some(c) = self.conn.as_mut() {
            c.queue(f);
        }
    }

    /// Writes queued output.
    pub fn flush(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        let Some(c) = self.conn.as_mut() else { return };
        if let Err(broken) = c.flush() {
            self.broken(broken, reg, now, ev);
        }
    }

    /// The connection failed: try again later, or (a refused certificate)
    /// go offline at once, since trying again cannot help.
    fn broken(&mut self, b: Broken, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        match b {
            Broken::Lost(reason) => self.lost(reg, now, reason, ev),
            Broken::Certificate(reason) => self.stop(reg, ev, Some(reason)),
        }
    }

    /// When [`Net::on_timer`] must run next.
    pub fn deadline(&self) -> Option<Instant> {
        let mut d = earliest(self.rc.deadline(), self.throttle_until);
        d = earliest(d, self.chunks_due);
        if self.conn.is_some() {
            d = earliest(d, Some(self.last_heard + self.heartbeat * 2));
            if self.welcomed && self.ping.is_none() {
                d = earliest(d, Some(self.next_ping));
            }
        }
        d
    }

    /// Timers: reconnect, liveness, our PING, more CHUNKs.
    pub fn on_timer(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if self.rc.on_timer(now).is_some() {
            return self.connect(reg, now, ev);
        }
        if self.throttle_until.is_some_and(|t| t <= now) {
            self.throttle_until = None;
            let frames = self.session.release_held();
            frames.iter().for_each(|f| self.send(f));
            self.release_held_uploads();
            self.flush(reg, now, ev);
        }
        if self.chunks_due.is_some_and(|t| t <= now) {
            self.pump(reg, now, ev);
        }
        if self.conn.is_none() {
            return;
        }
        let silent = now.saturating_duration_since(self.last_heard);
        if silent >= self.heartbeat * 2 {
            let reason = format!("no answer from the server for {} ms", silent.as_millis());
            return self.lost(reg, now, reason, ev);
        }
        if self.welcomed && self.ping.is_none() && now >= self.next_ping {
            self.nonce += 1;
            self.ping = Some((self.nonce, now));
            self.next_ping = now + self.heartbeat;
            self.send(&ClientFrame::Ping { nonce: self.nonce });
            self.flush(reg, now, ev);
        }
    }

    /// Skips a reconnect wait (or leaves offline) at the user's request.
    pub fn retry_now(&mut self, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if self.rc.retry_now().is_some() {
            self.connect(reg, now, ev);
        }
    }

    /// Sends QUIT; the server closes after flushing what it owes.
    pub fn quit(&mut self, reason: &str, reg: &Registry, now: Instant, ev: &mut Vec<Event>) {
        if self.online() {
            self.send(&ClientFrame::Quit { reason: reason.to_string() });
            self.flush(reg, now, ev);
        }
        self.quitting = true;
    }

    /// Whether the connection is gone (after QUIT: the server closed it).
    pub fn closed(&self) -> bool {
        self.conn.is_none()
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Whether an ERROR ends the connection. AUTH_REQUIRED is fatal only
/// as the answer to HELLO; a guest naming a direct conversation gets it
/// too, and stays connected (§8).
fn is_fatal(code: u16, about: u8) -> bool {
    match ErrorCode::from_code(code) {
        Some(ErrorCode::AuthRequired) => about == banter_proto::types::HELLO || about == 0,
        c => c.is_some_and(ErrorCode::is_fatal),
    }
}

#[cfg(test)]
mod tests {
    use banter_proto::{types, ErrorCode};

    #[test]
    fn auth_required_is_fatal_only_as_the_answer_to_hello() {
        let auth = ErrorCode::AuthRequired.code();
        assert!(super::is_fatal(auth, types::HELLO));
        assert!(!super::is_fatal(auth, types::SAY), "a guest naming @bob stays connected");
        assert!(!super::is_fatal(auth, types::JOIN));
        assert!(super::is_fatal(ErrorCode::Superseded.code(), 0));
        assert!(!super::is_fatal(ErrorCode::NoSuchUser.code(), types::SAY));
    }
}
