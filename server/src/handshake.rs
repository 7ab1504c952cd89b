//! HELLO: version, name, name taken or resumed, password, accounts-only,
//! in the spec's order; then WELCOME, a new session or a resumed one (the
//! old connection of a resumed session gets SUPERSEDED). Also REGISTER,
//! which shares the hasher round trip.
//!
//! Password hashing never runs here: it goes to the hasher thread and the
//! answer comes back through the poll's waker (`on_auth_result`).

use crate::auth::{AuthJob, AuthOutcome, AuthResult};
use crate::conn::{Outcome, Reason, State};
use crate::server::Server;
use crate::session::Session;
use banter_proto::validate::{is_valid_name, is_valid_password_len, name_key};
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame, VERSION};

/// What to do when the hasher answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// A HELLO: WELCOME if the password matched (or the name is free).
    Login { registered: bool },
    /// A HELLO in accounts-only mode with no usable password: refuse
    /// (after the same delay as a wrong password).
    RequireAccount,
    /// A HELLO in accounts-only mode for a free name: create the account.
    CreateOnLogin,
    /// A REGISTER from a logged-in session.
    Register { session: u32, token: u64 },
}

/// A HELLO or REGISTER waiting for the hasher.
#[derive(Debug)]
pub struct PendingHello {
    /// Connection slab key.
    key: usize,
    /// Its generation, so a reused slot is not answered.
    gen: u32,
    /// The name asked for.
    name: String,
    /// HELLO.resume.
    resume: u64,
    /// What to do with the answer.
    then: Then,
}

fn fatal(code: ErrorCode, why: impl Into<std::borrow::Cow<'static, str>>) -> Outcome {
    Outcome::Close(Reason::fatal(code, types::HELLO, why))
}

impl Server {
    /// The first frame of a connection.
    pub(crate) fn on_first_frame(&mut self, key: usize, frame: &[u8]) -> Outcome {
        let ty = frame[4];
        if ty != types::HELLO {
            let why = format!("the first frame must be HELLO, not {}", types::name(ty));
            return Outcome::Close(Reason::fatal(ErrorCode::HelloFirst, ty, why));
        }
        let Some(v) = frame.get(5..7) else {
            return fatal(ErrorCode::BadFrame, "HELLO frame too short: missing version");
        };
        let version = u16::from_be_bytes([v[0], v[1]]);
        if version != VERSION {
            return fatal(
                ErrorCode::BadVersion,
                format!("version {version} not supported; this server speaks {VERSION}"),
            );
        }
        match banter_proto::decode_client(frame) {
            Ok(ClientFrame::Hello { name, password, resume, .. }) => {
                self.on_hello(key, name, password, resume)
            }
            Ok(_) => unreachable!("type checked above"),
            Err(e) => fatal(ErrorCode::BadFrame, e.to_string()),
        }
    }

    fn on_hello(&mut self, key: usize, mut name: String, password: String, resume: u64) -> Outcome {
        if !is_valid_name(&name) {
            return fatal(
                ErrorCode::NameInvalid,
                "names are 1-32 of A-Z a-z 0-9 _ . - and start with a letter or digit",
            );
        }
        if let Err(o) = self.check_name_free(&name, resume) {
            return o;
        }
        let account = match self.store.account(&name_key(&name)) {
            Ok(a) => a,
            Err(e) => return fatal(ErrorCode::Storage, format!("account lookup failed: {e}")),
        };
        let accounts_only = self.cfg.accounts_only;
        let (job, then) = match account {
            Some(crate::store::Account { name: registered, phc }) => {
                name = registered; // shown as its owner registered it
                let job = AuthJob::Verify { phc: Some(phc), password };
                (job, Then::Login { registered: true })
            }
            None if accounts_only && is_valid_password_len(&password) => {
                (AuthJob::Hash { password }, Then::CreateOnLogin)
            }
            None if accounts_only => {
                (AuthJob::Verify { phc: None, password }, Then::RequireAccount)
            }
            None if !password.is_empty() => {
                // Same time as a wrong password: nothing tells a name is free.
                (AuthJob::Verify { phc: None, password }, Then::Login { registered: false })
            }
            None => return self.welcome(key, &name, resume),
        };
        self.submit_auth(PendingHello { key, gen: self.conns[key].gen, name, resume, then }, job);
        self.conns[key].state = State::Authenticating;
        Outcome::Continue
    }

    /// NAME_TAKEN unless the name is free or `resume` is its session's token.
    fn check_name_free(&self, name: &str, resume: u64) -> Result<Option<u32>, Outcome> {
        match self.names.get(&*name_key(name)) {
            None => Ok(None),
            Some(&s) if resume != 0 && self.sessions[s as usize].token == resume => Ok(Some(s)),
            Some(_) => Err(fatal(ErrorCode::NameTaken, format!("the name {name} is in use"))),
        }
    }

    fn submit_auth(&mut self, p: PendingHello, job: AuthJob) {
        let ticket = (u64::from(p.gen) << 32) | p.key as u64;
        self.hasher.submit(ticket, &name_key(&p.name), job);
        self.auth_wait.insert(ticket, p);
    }

    /// Creates or resumes the session and sends WELCOME and the greeting.
    fn welcome(&mut self, key: usize, name: &str, resume: u64) -> Outcome {
        let found = match self.check_name_free(name, resume) {
            Ok(found) => found,
            Err(o) => return o,
        };
        let (s, resumed) = match found {
            Some(s) => {
                self.take_over(s, key);
                (s, 1)
            }
            None => {
                let s = self.sessions.insert(Session::new(name, new_token(), key as u32)) as u32;
                self.names.insert(name_key(name).into(), s);
                (s, 0)
            }
        };
        self.conns[key].state = State::Active { session: s };
        let session = &self.sessions[s as usize];
        let (name, token) = (session.name.to_string(), session.token);
        log::info!("#{key} is {name}{}", if resumed == 1 { " (resumed)" } else { "" });
        let cfg = &self.cfg;
        let welcome = ServerFrame::Welcome {
            features: vec![],
            version: VERSION,
            name: name.clone(),
            token,
            resumed,
            heartbeat_ms: cfg.heartbeat_ms.min(u64::from(u32::MAX)) as u32,
            max_frame: cfg.max_frame,
            max_text: cfg.max_text,
            server: format!("banterd {}", env!("CARGO_PKG_VERSION")),
        };
        self.send(key, &welcome);
        let online = self.names.len();
        let text = format!("Welcome to Banter, {name}. {online} signed in. /help lists commands.");
        self.send(key, &ServerFrame::Notice { text });
        Outcome::Continue
    }

    /// Moves session `s` to connection `key`; an old connection still open
    /// gets SUPERSEDED.
    fn take_over(&mut self, s: u32, key: usize) {
        let session = &mut self.sessions[s as usize];
        let old = session.conn;
        session.conn = key as u32;
        session.gen = session.gen.wrapping_add(1); // the linger timer, if any, is stale now
        if old != crate::session::NO_CONN && old as usize != key {
            let why = "session resumed on another connection";
            self.close_conn(old as usize, Reason::fatal(ErrorCode::Superseded, 0, why));
        }
    }

    /// The hasher answered a HELLO or a REGISTER.
    pub(crate) fn on_auth_result(&mut self, r: AuthResult) {
        let Some(p) = self.auth_wait.remove(&r.ticket) else {
            return;
        };
        if let Then::Register { session, token } = p.then {
            return self.finish_register(session, token, &p.name, r.outcome);
        }
        let alive = self
            .conns
            .get(p.key)
            .is_some_and(|c| c.gen == p.gen && c.state == State::Authenticating);
        if !alive {
            return;
        }
        let outcome = match (p.then, r.outcome) {
            (Then::Login { registered }, AuthOutcome::Verified(ok)) if ok || !registered => {
                self.welcome(p.key, &p.name, p.resume)
            }
            (Then::Login { .. }, _) => fatal(ErrorCode::AuthFailed, "wrong password"),
            (Then::CreateOnLogin, AuthOutcome::Hashed(Ok(phc))) => self.create_on_login(&p, &phc),
            (Then::CreateOnLogin, _) => fatal(ErrorCode::Storage, "could not hash the password"),
            _ => fatal(
                ErrorCode::AuthRequired,
                "this server admits registered names only: give a password of 8-256 bytes",
            ),
        };
        match outcome {
            Outcome::Close(reason) => self.close_conn(p.key, reason),
            Outcome::Continue => self.resume_input(p.key),
        }
    }

    fn create_on_login(&mut self, p: &PendingHello, phc: &str) -> Outcome {
        match self.store.create_account(&name_key(&p.name), &p.name, phc) {
            Ok(true) => {
                log::info!("account {} created at login", p.name);
                self.welcome(p.key, &p.name, p.resume)
            }
            Ok(false) => fatal(ErrorCode::AuthFailed, "the name was registered meanwhile"),
            Err(e) => fatal(ErrorCode::Storage, format!("could not store the account: {e}")),
        }
    }

    /// REGISTER from a logged-in session.
    pub(crate) fn on_register(&mut self, key: usize, s: u32, password: String) {
        let about = types::REGISTER;
        if !is_valid_password_len(&password) {
            return self.send_error(
                key,
                ErrorCode::PasswordWeak,
                about,
                0,
                "a password is 8 to 256 bytes",
            );
        }
        let session = &self.sessions[s as usize];
        let (name, token) = (session.name.to_string(), session.token);
        match self.store.account(&name_key(&name)) {
            Ok(None) => {}
            Ok(Some(_)) => {
                return self.send_error(
                    key,
                    ErrorCode::AlreadyRegistered,
                    about,
                    0,
                    "this name is registered already",
                )
            }
            Err(e) => {
                return self.send_error(
                    key,
                    ErrorCode::Storage,
                    about,
                    0,
                    &format!("account lookup failed: {e}"),
                )
            }
        }
        let p = PendingHello {
            key,
            gen: self.conns[key].gen,
            name,
            resume: 0,
            then: Then::Register { session: s, token },
        };
        self.submit_auth(p, AuthJob::Hash { password });
    }

    fn finish_register(&mut self, s: u32, token: u64, name: &str, outcome: AuthOutcome) {
        let about = types::REGISTER;
        let result = match outcome {
            AuthOutcome::Hashed(Ok(phc)) => self.store.create_account(&name_key(name), name, &phc),
            _ => Err(crate::store::StoreError("could not hash the password".into())),
        };
        let conn =
            self.sessions.get(s as usize).filter(|x| x.token == token).map(|x| x.conn as usize);
        let Some(key) = conn.filter(|&k| self.conns.contains(k)) else {
            return;
        };
        match result {
            Ok(true) => {
                log::info!("account {name} registered");
                self.send(key, &ServerFrame::Registered { name: name.to_string() });
            }
            Ok(false) => self.send_error(
                key,
                ErrorCode::AlreadyRegistered,
                about,
                0,
                "this name is registered already",
            ),
            Err(e) => self.send_error(
                key,
                ErrorCode::Storage,
                about,
                0,
                &format!("could not store the account: {e}"),
            ),
        }
    }
}

/// A fresh random non-zero session token.
fn new_token() -> u64 {
    loop {
        let mut b = [0u8; 8];
        if getrandom::getrandom(&mut b).is_err() {
            // No OS randomness: fall back to a clock-seeded value rather than crash.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            b = (t.as_nanos() as u64 ^ 0x9E37_79B9_7F4A_7C15).to_be_bytes();
        }
        let t = u64::from_be_bytes(b);
        if t != 0 {
            return t;
        }
    }
}
