//! Accounts without a database (spec §4 "Accounts" and "Handshake"):
//! REGISTER / REGISTERED / ALREADY_REGISTERED / PASSWORD_WEAK, then
//! AUTH_FAILED on a HELLO (and a resume) for the registered name.
//!
//! Persistence across restarts and accounts-only mode need `--db`: they are
//! the SQLite tests' (AUTH_REQUIRED and STORAGE are not covered here).

use crate::server_util::*;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use std::time::Duration;

const PASSWORD: &str = "correct horse";
/// Bound on answers that wait on password hashing: tens of milliseconds
/// normally, more on a busy machine, plus the failure slowdown (up to 4 s).
const HASH_WAIT: Duration = Duration::from_secs(20);

fn register(c: &mut Conn, password: &str) -> ServerFrame {
    c.send(&ClientFrame::Register { password: password.into() });
    next_app_within(c, HASH_WAIT)
}

/// Sends HELLO and waits for WELCOME (NOTICE and PING skipped).
fn welcome(c: &mut Conn, name: &str, password: &str, resume: u64) -> ServerFrame {
    c.hello(name, password, resume);
    let f = next_app_within(c, HASH_WAIT);
    assert!(matches!(f, ServerFrame::Welcome { .. }), "expected WELCOME, got {f:?}");
    f
}

#[test]
fn register_binds_the_name_once() {
    let s = Server::start(&[]);
    let mut c = s.login("Ada");
    for weak in ["", "1234567", &"x".repeat(257)] {
        let f = register(&mut c, weak);
        assert_error(&f, ErrorCode::PasswordWeak, types::REGISTER, 0);
    }
    assert_eq!(register(&mut c, "12345678"), ServerFrame::Registered { name: "Ada".into() });
    for again in ["12345678", PASSWORD] {
        let f = register(&mut c, again);
        assert_error(&f, ErrorCode::AlreadyRegistered, types::REGISTER, 0);
    }
    assert_alive(&mut c);
    // The longest password is fine for another name.
    let mut b = s.login("bob");
    let f = register(&mut b, &"p".repeat(256));
    assert_eq!(f, ServerFrame::Registered { name: "bob".into() });
}

#[test]
fn a_registered_name_needs_its_password() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    assert!(matches!(register(&mut c, PASSWORD), ServerFrame::Registered { .. }));
    c.send(&ClientFrame::Quit { reason: "".into() });
    c.expect_closed();
    for wrong in ["", "correct horsE", "wrong password"] {
        let mut c = s.connect();
        c.hello("ADA", wrong, 0);
        expect_fatal_within(&mut c, ErrorCode::AuthFailed, types::HELLO, HASH_WAIT);
    }
    let mut c = s.connect();
    welcome(&mut c, "aDa", PASSWORD, 0);
    assert_alive(&mut c);
}

#[test]
fn name_taken_is_checked_before_the_password() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    assert!(matches!(register(&mut c, PASSWORD), ServerFrame::Registered { .. }));
    let mut other = s.connect();
    other.hello("ada", "wrong password", 0);
    expect_fatal(&mut other, ErrorCode::NameTaken, types::HELLO);
    let mut other = s.connect();
    other.hello("ada", PASSWORD, 0);
    expect_fatal(&mut other, ErrorCode::NameTaken, types::HELLO);
    assert_alive(&mut c);
}

#[test]
fn a_resume_of_a_registered_name_checks_the_password_too() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    assert!(matches!(register(&mut c, PASSWORD), ServerFrame::Registered { .. }));
    let token = c.token;
    drop(c); // lingers
    let mut r = s.connect();
    r.hello("ada", "wrong password", token);
    expect_fatal_within(&mut r, ErrorCode::AuthFailed, types::HELLO, HASH_WAIT);
    let mut r = s.connect();
    let ServerFrame::Welcome { resumed, .. } = welcome(&mut r, "ada", PASSWORD, token) else {
        unreachable!()
    };
    assert_eq!(resumed, 1);
}

#[test]
fn frames_pipelined_behind_a_password_hello_wait_for_its_check() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    assert!(matches!(register(&mut c, PASSWORD), ServerFrame::Registered { .. }));
    c.send(&ClientFrame::Quit { reason: "".into() });
    c.expect_closed();
    let pipelined = |password: &str| {
        batch(&[hello_f("ada", password, 0), join_f("lobby", 0, 0), ClientFrame::Ping { nonce: 4 }])
    };
    // Wrong password: AUTH_FAILED and nothing else is handled.
    let mut c = s.connect();
    c.send_raw(&pipelined("wrong password"));
    expect_fatal_within(&mut c, ErrorCode::AuthFailed, types::HELLO, HASH_WAIT);
    // Right password: WELCOME, then the JOIN and PING in order.
    let mut c = s.connect();
    c.send_raw(&pipelined(PASSWORD));
    let f = next_app_within(&mut c, HASH_WAIT);
    assert!(matches!(f, ServerFrame::Welcome { resumed: 0, .. }), "{f:?}");
    assert_eq!(read_join(&mut c, "lobby", 0).names(), ["ada"]);
    assert_eq!(c.recv_app(), ServerFrame::Pong { nonce: 4 });
}

#[test]
fn no_log_level_shows_a_password_or_a_token() {
    let s = Server::start(&["--log-level", "trace"]);
    let mut c = s.login("ada");
    let first = c.token;
    assert!(matches!(register(&mut c, PASSWORD), ServerFrame::Registered { .. }));
    drop(c);
    let mut c = s.connect();
    let f = welcome(&mut c, "ada", PASSWORD, first);
    let ServerFrame::Welcome { token: second, .. } = f else { unreachable!() };
    c.hello("ada", "a wrong guess", 0); // after WELCOME: a logged, refused HELLO
    expect_error(&mut c, ErrorCode::BadFrame, types::HELLO, 0);
    assert_alive(&mut c);
    let log = s.log().join("\n");
    assert!(log.contains("<- Hello"), "frames are traced: {log}");
    for secret in [PASSWORD.to_string(), "a wrong guess".into()] {
        assert!(!log.contains(&secret), "{secret:?} in the log");
    }
    for t in [first, second] {
        for shown in [t.to_string(), format!("{t:x}"), format!("{t:X}")] {
            assert!(!log.contains(&shown), "token {shown} in the log");
        }
    }
}

/// The server's resident memory in KiB, from /proc.
fn rss_kib(s: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid())).expect("status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number")
}

#[test]
fn a_register_flood_does_not_lock_out_logins() {
    let s = Server::start(&[]);
    let mut bob = s.login("bob");
    assert!(matches!(register(&mut bob, PASSWORD), ServerFrame::Registered { .. }));
    bob.send(&ClientFrame::Quit { reason: String::new() });
    bob.expect_closed();
    let mut flood = s.login("flood");
    let frames: Vec<ClientFrame> =
        (0..3000).map(|i| ClientFrame::Register { password: format!("password {i}") }).collect();
    flood.send_raw(&batch(&frames));
    // One check per connection: the rest are refused at once, not queued.
    let mut limited = 0;
    for _ in 0..3000 {
        match next_app_within(&mut flood, HASH_WAIT) {
            ServerFrame::Registered { .. } => {}
            f => {
                assert_error(&f, ErrorCode::RateLimited, types::REGISTER, 0);
                limited += 1;
            }
        }
    }
    assert!(limited >= 2990, "{limited}");
    // The registered user gets in (within the handshake deadline).
    let mut c = s.connect();
    welcome(&mut c, "bob", PASSWORD, 0);
}

#[test]
fn memory_goes_back_after_a_hashing_burst() {
    let s = Server::start(&["--max-per-ip", "0", "--conn-rate", "0"]);
    let idle = rss_kib(&s);
    // Ten: an address may REGISTER 12 at once.
    let mut conns: Vec<Conn> = (0..10).map(|i| s.login(&format!("user{i}"))).collect();
    for c in &mut conns {
        c.send(&ClientFrame::Register { password: PASSWORD.into() });
    }
    for c in &mut conns {
        assert!(matches!(next_app_within(c, HASH_WAIT), ServerFrame::Registered { .. }));
    }
    // Each hash maps 19 MiB; idle workers give it back. Allow for the
    // connections and the allocator's slack, not for one 19 MiB block.
    let end = std::time::Instant::now() + WAIT;
    loop {
        let now = rss_kib(&s);
        if now < idle + 12 * 1024 {
            break;
        }
        assert!(std::time::Instant::now() < end, "RSS {now} KiB, idle {idle} KiB");
        std::thread::sleep(Duration::from_millis(50));
    }
}
