//! Unit tests of the hasher: the pure [`Throttle`] with made-up instants,
//! and the threads with cheap Argon2 parameters (plus one hash with the
//! production ones) and a real `mio::Waker`.

use super::*;
use mio::{Events, Poll, Token, Waker};
use std::time::Duration;

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
    fn collect(&mut self, h: &Hasher, n: usize, limit: Duration) -> Vec<(Instant, AuthResult)> {
        let end = Instant::now() + limit;
        let mut events = Events::with_capacity(8);
        let mut got = Vec::new();
        while got.len() < n {
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "only {} of {n} results", got.len());
            self.poll.poll(&mut events, Some(left)).unwrap();
            let mut out = Vec::new();
            h.drain(&mut out);
            got.extend(out.into_iter().map(|r| (Instant::now(), r)));
        }
        got
    }
}

fn cheap(throttle: ThrottleRules) -> HasherConfig {
    HasherConfig { params: Params::new(256, 2, 1, None).unwrap(), workers: 2, throttle }
}

fn verify_job(phc: Option<&str>, password: &str) -> AuthJob {
    AuthJob::Verify { phc: phc.map(str::to_string), password: password.into() }
}

fn hash_now(l: &mut Loop, h: &Hasher, password: &str) -> String {
    let password = password.into();
    h.submit(1, "ada", AuthJob::Hash { password });
    let got = l.collect(h, 1, Duration::from_secs(20));
    match &got[0].1.outcome {
        AuthOutcome::Hashed(Ok(phc)) => phc.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn hash_then_verify() {
    let mut l = Loop::new();
    let h = Hasher::with_config(l.waker.clone(), cheap(ThrottleRules::default())).unwrap();
    let phc = hash_now(&mut l, &h, "correct horse");
    assert!(phc.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{phc}");
    assert_ne!(phc, hash_now(&mut l, &h, "correct horse"), "salted");
    h.submit(2, "ada", verify_job(Some(&phc), "correct horse"));
    h.submit(3, "ada", verify_job(Some(&phc), "wrong horse"));
    h.submit(4, "nobody", verify_job(None, "correct horse"));
    h.submit(5, "ada", verify_job(Some("not a phc"), "correct horse"));
    let mut got: Vec<_> = l.collect(&h, 4, Duration::from_secs(20));
    got.sort_by_key(|g| g.1.ticket);
    let outcomes: Vec<_> = got.into_iter().map(|g| g.1.outcome).collect();
    let want = [true, false, false, false].map(AuthOutcome::Verified);
    assert_eq!(outcomes, want);
}

#[test]
fn production_parameters_are_owasp() {
    let mut l = Loop::new();
    let mut cfg = HasherConfig::owasp().unwrap();
    cfg.workers = 1;
    let h = Hasher::with_config(l.waker.clone(), cfg).unwrap();
    let phc = hash_now(&mut l, &h, "a fine password");
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
}

#[test]
fn unknown_names_take_as_long_as_wrong_passwords() {
    let mut l = Loop::new();
    let mut cfg = cheap(ThrottleRules::default());
    cfg.params = Params::new(4096, 2, 1, None).unwrap();
    cfg.workers = 1;
    let h = Hasher::with_config(l.waker.clone(), cfg).unwrap();
    let phc = hash_now(&mut l, &h, "the real one");
    let time = |l: &mut Loop, phc: Option<&str>| {
        let start = Instant::now();
        for i in 0..4 {
            h.submit(i, &format!("n{i}"), verify_job(phc, "a guess"));
        }
        l.collect(&h, 4, Duration::from_secs(30));
        start.elapsed()
    };
    let wrong = time(&mut l, Some(&phc));
    let unknown = time(&mut l, None);
    assert!(unknown * 2 > wrong && wrong * 2 > unknown, "{unknown:?} vs {wrong:?}");
}

#[test]
fn a_throttled_name_does_not_delay_others() {
    let mut l = Loop::new();
    let r = ThrottleRules { first: Duration::from_millis(400), ..ThrottleRules::default() };
    let h = Hasher::with_config(l.waker.clone(), cheap(r)).unwrap();
    let phc = hash_now(&mut l, &h, "the real one");
    for i in 0..3 {
        h.submit(10 + i, "eve", verify_job(Some(&phc), "guess"));
    }
    l.collect(&h, 3, Duration::from_secs(20));
    let start = Instant::now();
    h.submit(20, "eve", verify_job(Some(&phc), "the real one"));
    h.submit(21, "bob", verify_job(Some(&phc), "the real one"));
    let got = l.collect(&h, 2, Duration::from_secs(20));
    assert_eq!(got[0].1.ticket, 21, "bob first");
    assert!(got[0].0 - start < Duration::from_millis(300));
    assert_eq!(got[1].1, AuthResult { ticket: 20, outcome: AuthOutcome::Verified(true) });
    assert!(got[1].0 - start >= Duration::from_millis(400), "eve held back");
}

#[test]
fn no_dummy_hash_means_no_hasher() {
    assert!(dummy_phc(|_| Err("out of memory".into())).is_err(), "no cheap fallback");
    let argon =
        Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(256, 2, 1, None).unwrap());
    let dummy = dummy_phc(|p| hash(&argon, p)).unwrap();
    assert!(dummy.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{dummy}");
}
