//! INTERIM (not committed): same API as auth.rs being written by a helper.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
pub enum AuthJob {
    Verify {
        phc: Option<String>,
        password: String,
    },
    Hash {
        password: String,
    },
}
pub enum AuthOutcome {
    Verified(bool),
    Hashed(Result<String, String>),
}
pub struct AuthResult {
    pub ticket: u64,
    pub outcome: AuthOutcome,
}
pub struct Hasher {
    tx: Sender<(u64, AuthJob)>,
    out: Arc<Mutex<Vec<AuthResult>>>,
}
impl Hasher {
    pub fn start(waker: Arc<mio::Waker>) -> std::io::Result<Hasher> {
        let (tx, rx) = channel::<(u64, AuthJob)>();
        let out = Arc::new(Mutex::new(Vec::new()));
        let o2 = out.clone();
        std::thread::spawn(move || {
            for (ticket, job) in rx {
                let a = Argon2::default();
                let outcome = match job {
                    AuthJob::Verify { phc, password } => {
                        AuthOutcome::Verified(phc.is_some_and(|p| {
                            PasswordHash::new(&p)
                                .is_ok_and(|h| a.verify_password(password.as_bytes(), &h).is_ok())
                        }))
                    }
                    AuthJob::Hash { password } => {
                        let mut b = [0u8; 16];
                        getrandom::getrandom(&mut b).unwrap();
                        let salt = SaltString::encode_b64(&b).unwrap();
                        AuthOutcome::Hashed(
                            a.hash_password(password.as_bytes(), &salt)
                                .map(|h| h.to_string())
                                .map_err(|e| e.to_string()),
                        )
                    }
                };
                o2.lock().unwrap().push(AuthResult { ticket, outcome });
                let _ = waker.wake();
            }
        });
        Ok(Hasher { tx, out })
    }
    pub fn submit(&self, ticket: u64, _key: &str, job: AuthJob) {
        let _ = self.tx.send((ticket, job));
    }
    pub fn drain(&self, out: &mut Vec<AuthResult>) {
        out.append(&mut self.out.lock().unwrap());
    }
}
