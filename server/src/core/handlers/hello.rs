//! HELLO: version, name, name taken or resumed, password, accounts-only, in
//! the spec's order; then WELCOME, a new session or a resumed one (with a
//! fresh token; the old connection of a resumed session gets SUPERSEDED).
//! Also REGISTER, which shares the password-check round trip.
//!
//! Password hashing never runs here: jobs wait in the core's queue
//! (`authq`) until the reactor hands them to the hasher threads, and
//! results come back through [`Core::auth_result`].

use crate::auth::{AuthJob, AuthOutcome, AuthResult};
use crate::core::authq::{Pending, Then};
use crate::core::peer::{Outcome, Reason, State};
use crate::core::saved::Found;
use crate::core::session::{Session, NO_PEER};
use crate::core::{Core, PeerId};
use banter_proto::validate::{is_valid_name, is_valid_password_len, name_key};
use banter_proto::{hello_version, types, ClientFrame, ErrorCode, ServerFrame, VERSION};

fn fatal(code: ErrorCode, why: impl Into<std::borrow::Cow<'static, str>>) -> Outcome {
    Outcome::Close(Reason::fatal(code, types::HELLO, why))
}

impl Core {
    /// The first frame of a peer: HELLO, its version read first.
    pub(super) fn on_first_frame(&mut self, p: PeerId, frame: &[u8]) -> Outcome {
        let ty = banter_proto::frame_type(frame).unwrap_or(0);
        if self.cfg.require_tls && !self.secure_or_trusted(p) {
            let why = "this server requires TLS from your address: connect with TLS";
            return Outcome::Close(Reason::fatal(ErrorCode::TlsRequired, ty, why));
        }
        if ty != types::HELLO {
            let why = format!("the first frame must be HELLO, not {}", types::name(ty));
            return Outcome::Close(Reason::fatal(ErrorCode::HelloFirst, ty, why));
        }
        let Some(version) = hello_version(frame) else {
            return fatal(ErrorCode::BadFrame, "HELLO frame too short: missing version");
        };
        if version != VERSION {
            let why = format!("version {version} not supported; this server speaks {VERSION}");
            return fatal(ErrorCode::BadVersion, why);
        }
        match banter_proto::decode_client(frame) {
            Ok(ClientFrame::Hello { password, .. })
                if !password.is_empty() && !self.password_may_travel(p) =>
            {
                fatal(
                    ErrorCode::TlsRequired,
                    "passwords travel only over TLS from your address: connect with TLS",
                )
            }
            Ok(hello @ ClientFrame::Hello { .. }) => {
                log::trace!("#{p} <- {hello:?}"); // password and token redacted
                let ClientFrame::Hello { name, password, resume, .. } = hello else {
                    unreachable!("matched above")
                };
                self.on_hello(p, name, password, resume)
            }
            Ok(_) => unreachable!("type checked above"),
            Err(e) => fatal(ErrorCode::BadFrame, e.to_string()),
        }
    }

    fn on_hello(&mut self, p: PeerId, name: String, password: String, resume: u64) -> Outcome {
        if !is_valid_name(&name) {
            return fatal(
                ErrorCode::NameInvalid,
                "names are 1-32 of A-Z a-z 0-9 _ . - and start with a letter or digit",
            );
        }
        if self.clustered() {
            return self.c_hello(p, name, password, resume);
        }
        if let Err(o) = self.find_name(&name, resume) {
            return o;
        }
        let account = match self.store.account(&name_key(&name)) {
            Ok(a) => a,
            Err(e) => return fatal(ErrorCode::Storage, format!("account lookup failed: {e}")),
        };
        self.check_password(p, name, password, resume, account)
    }

    /// HELLO after the name check: the password of a registered name,
    /// accounts-only mode, or straight to WELCOME.
    pub(in crate::core) fn check_password(
        &mut self,
        p: PeerId,
        mut name: String,
        password: String,
        resume: u64,
        account: Option<crate::store::Account>,
    ) -> Outcome {
        let (job, then) = match account {
            Some(crate::store::Account { name: registered, phc }) => {
                name = registered; // shown as its owner registered it
                (AuthJob::Verify { phc: Some(phc), password }, Then::Login { registered: true })
            }
            None if self.cfg.accounts_only && is_valid_password_len(&password) => {
                (AuthJob::Hash { password }, Then::CreateOnLogin)
            }
            None if self.cfg.accounts_only => {
                (AuthJob::Verify { phc: None, password }, Then::RequireAccount)
            }
            None if !password.is_empty() => {
                // Same time as a wrong password: nothing tells a name is free.
                (AuthJob::Verify { phc: None, password }, Then::Login { registered: false })
            }
            None => return self.welcome(p, &name, resume, false),
        };
        let gen = self.peers[p].gen;
        self.submit_auth(Pending { peer: p, gen, name, resume, then }, job);
        self.peers[p].state = State::Authenticating;
        Outcome::Continue
    }

    /// Whether `p` arrived over TLS or from a `--trust-plain` address.
    fn secure_or_trusted(&self, p: PeerId) -> bool {
        let peer = &self.peers[p];
        peer.secure || self.cfg.trust_plain.iter().any(|c| c.contains(peer.addr.ip()))
    }

    /// Whether a password may come from `p`: over TLS, from a trusted
    /// address, or on a server with no certificate (which warned at start).
    fn password_may_travel(&self, p: PeerId) -> bool {
        self.cfg.tls.is_none() || self.secure_or_trusted(p)
    }

    /// Creates or resumes the session and sends WELCOME, the UNREAD counts
    /// and the greeting; `account` when it signed in with a password.
    fn welcome(&mut self, p: PeerId, name: &str, resume: u64, account: bool) -> Outcome {
        if self.clustered() {
            return self.c_claim(p, name, resume, account);
        }
        let found = match self.find_name(name, resume) {
            Ok(found) => found,
            Err(o) => return o,
        };
        let Some(token) = new_token(self.random) else {
            return fatal(ErrorCode::Storage, "no randomness for a session token; try again later");
        };
        let (s, resumed) = match found {
            Found::Live(s) => {
                self.take_over(s, p, token);
                (s, 1)
            }
            Found::Saved(saved, acks) => {
                let s = self.restore(p, saved, acks);
                self.sessions[s as usize].token = token;
                (s, 1)
            }
            Found::Free => {
                self.next_uid += 1;
                let addr = crate::core::addrs::key_of(self.peers[p].addr.ip());
                let session = Session::new(name, token, self.next_uid, p as u32, addr);
                let s = self.sessions.insert(session) as u32;
                self.names.insert(name_key(name).into(), s);
                self.save_fresh(s);
                (s, 0)
            }
        };
        self.peers[p].state = State::Active { session: s };
        let session = &mut self.sessions[s as usize];
        let newly = account && !session.account;
        session.account |= account;
        if newly {
            self.load_marks(s);
        }
        let name = self.sessions[s as usize].name.to_string();
        let how = if resumed == 1 { " (resumed)" } else { "" };
        log::debug!("#{p} ({}) is {name}{how}", self.peers[p].addr);
        self.send_welcome(p, &name, token, resumed);
        if self.sessions[s as usize].account {
            self.send_unread(p, s);
        }
        self.send_greeting(p, &name, self.names.len());
        Outcome::Continue
    }

    /// WELCOME with this server's settings.
    pub(in crate::core) fn send_welcome(&mut self, p: PeerId, name: &str, token: u64, resumed: u8) {
        let welcome = ServerFrame::Welcome {
            version: VERSION,
            name: name.to_string(),
            token,
            resumed,
            heartbeat_ms: self.cfg.heartbeat_ms.min(u64::from(u32::MAX)) as u32,
            max_frame: self.cfg.max_frame,
            max_text: self.cfg.max_text,
            server: format!("banterd {}", env!("CARGO_PKG_VERSION")),
            features: self.features(),
        };
        self.send(p, &welcome);
    }

    /// The NOTICE that greets a new login.
    pub(in crate::core) fn send_greeting(&mut self, p: PeerId, name: &str, online: usize) {
        let text = format!("Welcome to Banter, {name}. {online} signed in. /help lists commands.");
        self.send(p, &ServerFrame::Notice { text });
    }

    /// What `WELCOME.features` lists: `tls` whenever a certificate is
    /// loaded (on every transport), direct messages and receipts always,
    /// `files` with `--files`.
    fn features(&self) -> Vec<String> {
        let mut f = Vec::new();
        if self.cfg.tls.is_some() {
            f.push("tls".to_string());
        }
        f.extend(["dm", "receipts"].map(String::from));
        if self.files.is_some() {
            f.push("files".to_string());
        }
        f
    }

    /// Moves session `s` to peer `p` under a fresh token; an old peer still
    /// open gets SUPERSEDED.
    pub(in crate::core) fn take_over(&mut self, s: u32, p: PeerId, token: u64) {
        self.stop_lingering(s);
        let addr = crate::core::addrs::key_of(self.peers[p].addr.ip());
        let session = &mut self.sessions[s as usize];
        session.addr = addr; // its budgets now share this address's
        let old = session.peer;
        session.peer = p as u32;
        session.token = token;
        session.gen = session.gen.wrapping_add(1); // the linger timer, if any, is stale now
        self.save(s); // the new token
        if old != NO_PEER && old as usize != p {
            let why = "session resumed on another connection";
            self.close(old as usize, Reason::fatal(ErrorCode::Superseded, 0, why));
        }
    }

    /// The hasher answered a HELLO or a REGISTER.
    pub fn auth_result(&mut self, r: AuthResult) {
        self.on_auth_result(r);
        self.settle();
    }

    fn on_auth_result(&mut self, r: AuthResult) {
        let ok = r.outcome == AuthOutcome::Verified(true);
        let Some(pending) = self.answered(r.ticket, ok) else { return };
        if let Then::Register { session, uid } = pending.then {
            return self.finish_register(session, uid, &pending.name, r.outcome);
        }
        let p = pending.peer;
        let alive = self
            .peers
            .get(p)
            .is_some_and(|x| x.gen == pending.gen && x.state == State::Authenticating);
        if !alive {
            return;
        }
        let outcome = match (pending.then, r.outcome) {
            (Then::Login { registered }, AuthOutcome::Verified(ok)) if ok || !registered => {
                self.welcome(p, &pending.name, pending.resume, registered)
            }
            (Then::Login { .. }, _) => fatal(ErrorCode::AuthFailed, "wrong password"),
            (Then::CreateOnLogin, AuthOutcome::Hashed(Ok(phc))) => {
                self.create_on_login(&pending, &phc)
            }
            (Then::CreateOnLogin, _) => fatal(ErrorCode::Storage, "could not hash the password"),
            _ => fatal(
                ErrorCode::AuthRequired,
                "this server admits registered names only: give a password of 8-256 bytes",
            ),
        };
        match outcome {
            Outcome::Close(reason) => self.close(p, reason),
            Outcome::Continue | Outcome::Retry => self.resume_input(p),
        }
    }

    fn create_on_login(&mut self, pending: &Pending, phc: &str) -> Outcome {
        let name = &pending.name;
        if self.clustered() {
            return self.c_create(pending.peer, name, pending.resume, phc);
        }
        match self.store.create_account(&name_key(name), name, phc) {
            Ok(true) => {
                log::info!("account {name} created at login");
                self.welcome(pending.peer, name, pending.resume, true)
            }
            Ok(false) => fatal(ErrorCode::AuthFailed, "the name was registered meanwhile"),
            Err(e) => fatal(ErrorCode::Storage, format!("could not store the account: {e}")),
        }
    }

    /// REGISTER from a logged-in session.
    pub(super) fn on_register(&mut self, p: PeerId, s: u32, password: String) -> Outcome {
        let about = types::REGISTER;
        if !self.password_may_travel(p) {
            let why = "passwords travel only over TLS from your address: connect with TLS";
            return Outcome::Close(Reason::fatal(ErrorCode::TlsRequired, about, why));
        }
        self.register(p, s, password);
        Outcome::Continue
    }

    fn register(&mut self, p: PeerId, s: u32, password: String) {
        let about = types::REGISTER;
        if !is_valid_password_len(&password) {
            return self.send_error(
                p,
                ErrorCode::PasswordWeak,
                about,
                0,
                "a password is 8 to 256 bytes",
            );
        }
        if !self.spend_or_refuse(p, s, crate::core::budget::Kind::Register, about, 0) {
            return;
        }
        if self.peers[p].auth_ticket().is_some() {
            let detail = "a password check of this connection is already under way";
            return self.send_error(p, ErrorCode::RateLimited, about, 0, detail);
        }
        let session = &self.sessions[s as usize];
        let (name, uid) = (session.name.to_string(), session.uid);
        let lookup = match self.clustered() {
            true => Ok(self.known_account(&name_key(&name))),
            false => self.store.account(&name_key(&name)),
        };
        match lookup {
            Ok(None) => {}
            Ok(Some(_)) => {
                let detail = "this name is registered already";
                return self.send_error(p, ErrorCode::AlreadyRegistered, about, 0, detail);
            }
            Err(e) => {
                let detail = format!("account lookup failed: {e}");
                return self.send_error(p, ErrorCode::Storage, about, 0, &detail);
            }
        }
        let gen = self.peers[p].gen;
        let pending =
            Pending { peer: p, gen, name, resume: 0, then: Then::Register { session: s, uid } };
        self.submit_auth(pending, AuthJob::Hash { password });
    }

    fn finish_register(&mut self, s: u32, uid: u64, name: &str, outcome: AuthOutcome) {
        let about = types::REGISTER;
        if self.clustered() {
            return match outcome {
                AuthOutcome::Hashed(Ok(phc)) => self.c_register(s, uid, name, &phc),
                _ => self.c_register_failed(s, uid, "could not hash the password"),
            };
        }
        let result = match outcome {
            AuthOutcome::Hashed(Ok(phc)) => self.store.create_account(&name_key(name), name, &phc),
            _ => Err(crate::store::StoreError("could not hash the password".into())),
        };
        let session = self.sessions.get_mut(s as usize).filter(|x| x.uid == uid);
        if let (Some(session), Ok(true)) = (session, &result) {
            session.account = true; // signed in from now on (§8)
        }
        let live = self.sessions.get(s as usize).filter(|x| x.uid == uid).map(|x| x.peer);
        let Some(p) = live.filter(|&k| k != NO_PEER).map(|k| k as usize) else { return };
        match result {
            Ok(true) => {
                log::info!("account {name} registered");
                self.send(p, &ServerFrame::Registered { name: name.to_string() });
            }
            Ok(false) => {
                let detail = "this name is registered already";
                self.send_error(p, ErrorCode::AlreadyRegistered, about, 0, detail);
            }
            Err(e) => {
                let detail = format!("could not store the account: {e}");
                self.send_error(p, ErrorCode::Storage, about, 0, &detail);
            }
        }
    }
}

/// A fresh random non-zero session token from `random`, or `None` when it
/// has no randomness to give: a guessable token would let anyone take the
/// session over, so the login fails instead (fail closed).
pub(in crate::core) fn new_token(random: super::super::Random) -> Option<u64> {
    loop {
        let mut b = [0u8; 8];
        if !random(&mut b) {
            return None;
        }
        let t = u64::from_be_bytes(b);
        if t != 0 {
            return Some(t);
        }
    }
}

/// The operating system's randomness.
pub fn os_random(b: &mut [u8; 8]) -> bool {
    getrandom::getrandom(b).is_ok()
}
