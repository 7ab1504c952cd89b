//! Password hashing off the event loop: Argon2id hashes (REGISTER) and
//! verifications (HELLO) run on worker threads, and their results come back
//! to the loop through a shared queue and a `mio::Waker`.
//!
//! An unknown name is verified against a fixed dummy hash of the same cost,
//! so it takes as long as a wrong password. Each worker hashes into one
//! block buffer of its own (see `argon`), reused while jobs keep coming and
//! given back to the kernel when it goes idle, so memory returns to its
//! idle figure after a burst.
//!
//! It does not decide who may log in, in what order jobs run, or how long
//! a result waits (the core's queue does: a fair share per address, one
//! check per connection, the failure slowdown); it keeps no password after
//! a job and logs none: no type here that holds a password implements
//! `Debug`.

mod argon;
pub mod throttle;

use argon::BlockBuf;
use argon2::Params;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

pub use throttle::{Throttle, ThrottleRules};

/// OWASP's Argon2id parameters: 19 MiB of memory, 2 passes, 1 lane.
pub const OWASP_M_KIB: u32 = 19_456;
/// OWASP's pass count.
pub const OWASP_T: u32 = 2;
/// OWASP's parallelism.
pub const OWASP_P: u32 = 1;

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
}

impl HasherConfig {
    /// OWASP parameters on `workers` threads.
    pub fn owasp(workers: usize) -> std::io::Result<HasherConfig> {
        let params = Params::new(OWASP_M_KIB, OWASP_T, OWASP_P, None)
            .map_err(|e| std::io::Error::other(format!("argon2 parameters: {e}")))?;
        Ok(HasherConfig { params, workers })
    }
}

/// A job as a worker gets it.
struct Work {
    /// The caller's ticket.
    ticket: u64,
    /// The job.
    job: AuthJob,
}

/// Jobs not yet taken, and whether the hasher is gone.
#[derive(Default)]
struct Jobs {
    /// Oldest first.
    queue: VecDeque<Work>,
    /// Set when the [`Hasher`] is dropped: workers exit.
    closed: bool,
}

/// What every worker shares.
struct Shared {
    /// Jobs, taken by whichever worker is free.
    jobs: Mutex<Jobs>,
    /// Signalled when a job arrives or the hasher closes.
    ready: Condvar,
    /// Finished results not yet drained by the loop.
    out: Mutex<Vec<AuthResult>>,
    /// Wakes the loop after a result.
    waker: Arc<mio::Waker>,
    /// Cost of new hashes.
    params: Params,
    /// The hash unknown names are checked against.
    dummy: String,
    /// Workers holding a block buffer right now.
    mapped: std::sync::atomic::AtomicUsize,
}

/// The loop's handle on the hashing threads; dropping it stops them.
pub struct Hasher {
    /// Jobs, results and the workers' shared state.
    shared: Arc<Shared>,
}

impl Hasher {
    /// Starts `workers` threads with OWASP parameters.
    pub fn start(waker: Arc<mio::Waker>, workers: usize) -> std::io::Result<Hasher> {
        Hasher::with_config(waker, HasherConfig::owasp(workers)?)
    }

    /// Starts the threads with `cfg`; fails only if a thread cannot start
    /// or the dummy hash cannot be made.
    pub fn with_config(waker: Arc<mio::Waker>, cfg: HasherConfig) -> std::io::Result<Hasher> {
        // Without the dummy hash an unknown name would be answered faster
        // than a registered one: refuse to start rather than leak that.
        let dummy = argon::hash(&cfg.params, &mut None, "banterd dummy password, matches nothing")
            .map_err(|e| std::io::Error::other(format!("cannot make the dummy hash: {e}")))?;
        let shared = Arc::new(Shared {
            jobs: Mutex::new(Jobs::default()),
            ready: Condvar::new(),
            out: Mutex::new(Vec::new()),
            waker,
            params: cfg.params,
            dummy,
            mapped: std::sync::atomic::AtomicUsize::new(0),
        });
        for i in 0..cfg.workers.max(1) {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("hasher-{i}"))
                .spawn(move || worker(&shared))?;
        }
        Ok(Hasher { shared })
    }

    /// Queues a job; its result comes back through [`Hasher::drain`] after
    /// a wake-up. The core hands over no more jobs than there are workers.
    pub fn submit(&self, ticket: u64, job: AuthJob) {
        let mut jobs = self.shared.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.queue.push_back(Work { ticket, job });
        drop(jobs);
        self.shared.ready.notify_one();
    }

    /// How many workers hold a block buffer now (0 once all are idle).
    pub fn mapped(&self) -> usize {
        self.shared.mapped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves every finished result into `out`.
    pub fn drain(&self, out: &mut Vec<AuthResult>) {
        let mut done = self.shared.out.lock().unwrap_or_else(|e| e.into_inner());
        out.append(&mut done);
    }
}

impl Drop for Hasher {
    fn drop(&mut self) {
        self.shared.jobs.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.shared.ready.notify_all();
    }
}

/// A worker thread: runs jobs until the [`Hasher`] is dropped. While jobs
/// wait it keeps its block buffer; once none does, it unmaps it.
fn worker(shared: &Shared) {
    lower_priority();
    let mut buf: Option<BlockBuf> = None;
    loop {
        let next = {
            let mut jobs = shared.jobs.lock().unwrap_or_else(|e| e.into_inner());
            while buf.is_none() && jobs.queue.is_empty() && !jobs.closed {
                jobs = shared.ready.wait(jobs).unwrap_or_else(|e| e.into_inner());
            }
            if jobs.closed {
                return;
            }
            jobs.queue.pop_front()
        };
        let Some(w) = next else {
            buf = None; // idle: give the memory back, then wait
            shared.mapped.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            continue;
        };
        let had = buf.is_some();
        let outcome = run(shared, &mut buf, w.job);
        if !had && buf.is_some() {
            shared.mapped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let mut out = shared.out.lock().unwrap_or_else(|e| e.into_inner());
        out.push(AuthResult { ticket: w.ticket, outcome });
        drop(out);
        if let Err(e) = shared.waker.wake() {
            log::error!("cannot wake the event loop: {e}");
        }
    }
}

/// One job, in `buf`.
fn run(shared: &Shared, buf: &mut Option<BlockBuf>, job: AuthJob) -> AuthOutcome {
    match job {
        AuthJob::Verify { phc, password } => {
            let known = phc.is_some();
            let ok = argon::verify(buf, phc.as_deref().unwrap_or(&shared.dummy), &password);
            AuthOutcome::Verified(ok && known)
        }
        AuthJob::Hash { password } => {
            AuthOutcome::Hashed(argon::hash(&shared.params, buf, &password))
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

#[cfg(test)]
mod tests;
