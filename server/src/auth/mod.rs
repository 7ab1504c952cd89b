//! Password hashing off the event loop: Argon2id hashes (REGISTER) and
//! verifications (HELLO) run on worker threads, and their results come back
//! to the loop through a shared queue and a `mio::Waker`.
//!
//! An unknown name is verified against a fixed dummy hash of the same cost,
//! so it takes as long as a wrong password. Repeated failures for one name
//! hold that name's later results back (see [`Throttle`]) without delaying
//! anyone else's and without blocking the loop: a dispatcher thread keeps
//! the held results and releases them when due.
//!
//! It does not decide who may log in (the loop compares names, checks
//! password lengths and reads accounts), keep passwords after a job, or log
//! them: no type here that holds a password implements `Debug`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// OWASP's Argon2id parameters: 19 MiB of memory, 2 passes, 1 lane.
pub const OWASP_M_KIB: u32 = 19_456;
/// OWASP's pass count.
pub const OWASP_T: u32 = 2;
/// OWASP's parallelism.
pub const OWASP_P: u32 = 1;

mod throttle;

use throttle::Throttle;
pub use throttle::ThrottleRules;

/// Work for the hasher.
pub enum AuthJob {
    /// Check `password` against a stored PHC hash; `phc: None` for a name
    /// with no account (always false, in the time a wrong password takes).
    Verify { phc: Option<String>, password: String },
    /// Hash a new password with a fresh random salt.
    Hash { password: String },
}

/// What a job found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Whether the password matched.
    Verified(bool),
    /// The PHC string, or why hashing failed.
    Hashed(Result<String, String>),
}

/// A finished job, tagged with the caller's ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    pub ticket: u64,
    pub outcome: AuthOutcome,
}

/// How a [`Hasher`] is set up; production uses [`HasherConfig::owasp`].
pub struct HasherConfig {
    /// Argon2id cost parameters for new hashes and the dummy hash.
    pub params: Params,
    /// Worker threads hashing in parallel.
    pub workers: usize,
    /// The failure slowdown.
    pub throttle: ThrottleRules,
}

impl HasherConfig {
    /// OWASP parameters, one worker per CPU (at most 4), default slowdown.
    pub fn owasp() -> std::io::Result<HasherConfig> {
        let params = Params::new(OWASP_M_KIB, OWASP_T, OWASP_P, None)
            .map_err(|e| std::io::Error::other(format!("argon2 parameters: {e}")))?;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(HasherConfig { params, workers: cpus.clamp(1, 4), throttle: ThrottleRules::default() })
    }
}

/// What the dispatcher thread receives.
enum Cmd {
    /// A job from the loop.
    Job { ticket: u64, key: String, job: AuthJob },
    /// A result from a worker; `verify` carries the name key and the
    /// earliest release time of a verification.
    Done { ticket: u64, verify: Option<(String, Instant)>, outcome: AuthOutcome },
    /// The [`Hasher`] was dropped.
    Stop,
}

/// A job as a worker runs it.
struct Work {
    /// The caller's ticket.
    ticket: u64,
    /// Name key and release time, for verifications.
    verify: Option<(String, Instant)>,
    /// The job, an unknown name's `phc` already replaced by the dummy's.
    job: AuthJob,
    /// Whether a Verify is for a real account (else always false).
    known: bool,
}

/// The loop's handle on the hashing threads.
pub struct Hasher {
    /// Jobs to the dispatcher thread.
    tx: Sender<Cmd>,
    /// Results released and not yet drained by the loop.
    out: Arc<Mutex<Vec<AuthResult>>>,
}

impl Hasher {
    /// Starts the dispatcher and workers with OWASP parameters.
    pub fn start(waker: Arc<mio::Waker>) -> std::io::Result<Hasher> {
        Hasher::with_config(waker, HasherConfig::owasp()?)
    }

    /// Starts the threads with `cfg`; fails only if a thread cannot start.
    pub fn with_config(waker: Arc<mio::Waker>, cfg: HasherConfig) -> std::io::Result<Hasher> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, cfg.params);
        let (tx, rx) = channel();
        let (work_tx, work_rx) = channel::<Work>();
        let work_rx = Arc::new(Mutex::new(work_rx));
        for i in 0..cfg.workers.max(1) {
            let (jobs, done, argon) = (work_rx.clone(), tx.clone(), argon.clone());
            std::thread::Builder::new()
                .name(format!("hasher-{i}"))
                .spawn(move || worker(&jobs, &done, &argon))?;
        }
        // Without the dummy hash an unknown name would be answered faster
        // than a registered one: refuse to start rather than leak that.
        let dummy = dummy_phc(|p| hash(&argon, p))?;
        let out = Arc::new(Mutex::new(Vec::new()));
        let d = Dispatcher {
            rx,
            work: work_tx,
            out: out.clone(),
            waker,
            throttle: Throttle::new(cfg.throttle),
            held: Vec::new(),
        };
        std::thread::Builder::new().name("hasher-dispatch".into()).spawn(move || d.run(dummy))?;
        Ok(Hasher { tx, out })
    }

    /// Queues a job; its result comes back through [`Hasher::drain`] after a
    /// wake-up. `key` = the lower-case name, for the failure slowdown.
    pub fn submit(&self, ticket: u64, key: &str, job: AuthJob) {
        let key = key.to_string();
        if self.tx.send(Cmd::Job { ticket, key, job }).is_err() {
            log::error!("password hasher stopped; job {ticket} dropped");
        }
    }

    /// Moves every finished result into `out`.
    pub fn drain(&self, out: &mut Vec<AuthResult>) {
        let mut done = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.append(&mut done);
    }
}

impl Drop for Hasher {
    fn drop(&mut self) {
        let _ = self.tx.send(Cmd::Stop);
    }
}

/// The thread between the loop and the workers: applies the slowdown and
/// releases results when due.
struct Dispatcher {
    /// Jobs from the loop and results from the workers.
    rx: Receiver<Cmd>,
    /// Jobs to the workers.
    work: Sender<Work>,
    /// Released results, drained by the loop.
    out: Arc<Mutex<Vec<AuthResult>>>,
    /// Wakes the loop after results are released.
    waker: Arc<mio::Waker>,
    /// Per-name failure memory.
    throttle: Throttle,
    /// Finished results held back, with their release time.
    held: Vec<(Instant, AuthResult)>,
}

impl Dispatcher {
    fn run(mut self, dummy: String) {
        loop {
            self.release(Instant::now());
            let due = self.held.iter().map(|h| h.0).min();
            let cmd = match due {
                Some(due) => {
                    match self.rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                        Ok(cmd) => cmd,
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                None => match self.rx.recv() {
                    Ok(cmd) => cmd,
                    Err(_) => return,
                },
            };
            match cmd {
                Cmd::Job { ticket, key, job } => self.dispatch(ticket, key, job, &dummy),
                Cmd::Done { ticket, verify, outcome } => self.finished(ticket, verify, outcome),
                Cmd::Stop => return,
            }
        }
    }

    fn dispatch(&mut self, ticket: u64, key: String, job: AuthJob, dummy: &str) {
        let now = Instant::now();
        let (job, known, verify) = match job {
            AuthJob::Verify { phc, password } => {
                let not_before = now + self.throttle.begin(&key, now);
                let known = phc.is_some();
                let phc = Some(phc.unwrap_or_else(|| dummy.to_string()));
                (AuthJob::Verify { phc, password }, known, Some((key, not_before)))
            }
            hash @ AuthJob::Hash { .. } => (hash, true, None),
        };
        let work = Work { ticket, verify, job, known };
        if let Err(lost) = self.work.send(work) {
            log::error!("password hashing workers are gone");
            let w = lost.0;
            let outcome = match w.job {
                AuthJob::Verify { .. } => AuthOutcome::Verified(false),
                AuthJob::Hash { .. } => AuthOutcome::Hashed(Err("hashing workers are gone".into())),
            };
            self.finished(w.ticket, w.verify, outcome);
        }
    }

    fn finished(&mut self, ticket: u64, verify: Option<(String, Instant)>, outcome: AuthOutcome) {
        let mut release = Instant::now();
        if let Some((key, not_before)) = verify {
            let ok = outcome == AuthOutcome::Verified(true);
            self.throttle.finish(&key, ok, release);
            release = release.max(not_before);
        }
        self.held.push((release, AuthResult { ticket, outcome }));
    }

    /// Moves the results due by `now` to the loop and wakes it.
    fn release(&mut self, now: Instant) {
        if !self.held.iter().any(|h| h.0 <= now) {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let mut i = 0;
        while i < self.held.len() {
            if self.held[i].0 <= now {
                out.push(self.held.swap_remove(i).1);
            } else {
                i += 1;
            }
        }
        drop(out);
        if let Err(e) = self.waker.wake() {
            log::error!("cannot wake the event loop: {e}");
        }
    }
}

/// A worker thread: runs jobs until the dispatcher goes away.
fn worker(jobs: &Mutex<Receiver<Work>>, done: &Sender<Cmd>, argon: &Argon2<'static>) {
    lower_priority();
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(w) = next else { return };
        let outcome = match w.job {
            AuthJob::Verify { phc, password } => {
                let ok = verify(argon, phc.as_deref().unwrap_or(""), &password);
                AuthOutcome::Verified(ok && w.known)
            }
            AuthJob::Hash { password } => AuthOutcome::Hashed(hash(argon, &password)),
        };
        let (ticket, verify) = (w.ticket, w.verify);
        if done.send(Cmd::Done { ticket, verify, outcome }).is_err() {
            return;
        }
    }
}

/// Hashing threads yield to the event loop when the CPU is short.
fn lower_priority() {
    // SAFETY: gettid and setpriority on the calling thread; no memory shared.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// A new PHC string for `password` with a random 16-byte salt.
fn hash(argon: &Argon2<'_>, password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| format!("salt: {e}"))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

/// Whether `password` matches `phc`. An unreadable `phc` is a mismatch.
fn verify(argon: &Argon2<'_>, phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => argon.verify_password(password.as_bytes(), &h).is_ok(),
        Err(e) => {
            log::warn!("a stored password hash is unreadable ({e}); login refused");
            false
        }
    }
}

/// The hash unknown names are checked against: same cost as real ones. No
/// fallback: an empty or cheap dummy would answer unknown names faster.
fn dummy_phc(hash: impl FnOnce(&str) -> Result<String, String>) -> std::io::Result<String> {
    hash("banterd dummy password, matches nothing")
        .map_err(|e| std::io::Error::other(format!("cannot make the dummy password hash: {e}")))
}

#[cfg(test)]
mod tests;
