//! Unit tests of the hasher threads with cheap Argon2 parameters (plus one
//! hash with the production ones) and a real `mio::Waker`. The failure
//! slowdown is pure and tested in `throttle`; the queue in the core.

use super::*;
use mio::{Events, Poll, Token, Waker};
use std::time::{Duration, Instant};

/// A poll with a waker, as the loop has.
struct Loop {
    poll: Poll,
    waker: Arc<Waker>,
}

impl Loop {
    fn new() -> Loop {
        let poll = Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), Token(7)).unwrap());
        Loop { poll, waker }
    }

    /// Waits for wake-ups until `n` results came, at most `limit`.
    fn collect(&mut self, h: &Hasher, n: usize, limit: Duration) -> Vec<AuthResult> {
        let end = Instant::now() + limit;
        let mut events = Events::with_capacity(8);
        let mut got = Vec::new();
        while got.len() < n {
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "only {} of {n} results", got.len());
            self.poll.poll(&mut events, Some(left)).unwrap();
            h.drain(&mut got);
        }
        got
    }
}

fn cheap(workers: usize) -> HasherConfig {
    HasherConfig { params: Params::new(256, 2, 1, None).unwrap(), workers }
}

fn verify_job(phc: Option<&str>, password: &str) -> AuthJob {
    AuthJob::Verify { phc: phc.map(str::to_string), password: password.into() }
}

fn hash_now(l: &mut Loop, h: &Hasher, password: &str) -> String {
    h.submit(1, AuthJob::Hash { password: password.into() });
    match &l.collect(h, 1, Duration::from_secs(20))[0].outcome {
        AuthOutcome::Hashed(Ok(phc)) => phc.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn hash_then_verify() {
    let mut l = Loop::new();
    let h = Hasher::with_config(l.waker.clone(), cheap(2)).unwrap();
    let phc = hash_now(&mut l, &h, "correct horse");
    assert!(phc.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{phc}");
    assert_ne!(phc, hash_now(&mut l, &h, "correct horse"), "salted");
    h.submit(2, verify_job(Some(&phc), "correct horse"));
    h.submit(3, verify_job(Some(&phc), "wrong horse"));
    h.submit(4, verify_job(None, "correct horse"));
    h.submit(5, verify_job(Some("not a phc"), "correct horse"));
    // The dummy's own password still fails: an unknown name never matches.
    h.submit(6, verify_job(None, "banterd dummy password, matches nothing"));
    let mut got = l.collect(&h, 5, Duration::from_secs(20));
    got.sort_by_key(|g| g.ticket);
    let outcomes: Vec<_> = got.into_iter().map(|g| g.outcome).collect();
    assert_eq!(outcomes, [true, false, false, false, false].map(AuthOutcome::Verified));
}

#[test]
fn production_parameters_are_owasp() {
    let mut l = Loop::new();
    let h = Hasher::with_config(l.waker.clone(), HasherConfig::owasp(1).unwrap()).unwrap();
    let phc = hash_now(&mut l, &h, "a fine password");
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
}

#[test]
fn idle_workers_give_their_memory_back() {
    let mut l = Loop::new();
    let h = Hasher::with_config(l.waker.clone(), cheap(2)).unwrap();
    assert_eq!(h.mapped(), 0, "nothing mapped before the first job");
    for i in 0..8 {
        h.submit(i, AuthJob::Hash { password: format!("password {i}") });
    }
    l.collect(&h, 8, Duration::from_secs(20));
    let end = Instant::now() + Duration::from_secs(10);
    while h.mapped() > 0 {
        assert!(Instant::now() < end, "{} buffers still mapped", h.mapped());
        std::thread::sleep(Duration::from_millis(5));
    }
}
