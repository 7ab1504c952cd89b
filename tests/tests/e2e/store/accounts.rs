//! Accounts with a database: a REGISTER outlives the server, the password
//! is then checked at HELLO (AUTH_FAILED), and `--accounts-only` registers
//! a new name that brings a valid password and refuses one that does not
//! (AUTH_REQUIRED). The hash, never the password, reaches the disk.

use super::*;

const PASSWORD: &str = "correct horse battery";

/// HELLO, and the connection must be closed after exactly this fatal ERROR
/// about HELLO.
fn refused(s: &Server, name: &str, password: &str, code: ErrorCode) {
    let mut c = s.connect();
    c.hello(name, password, 0);
    let frames: Vec<ServerFrame> = (c.expect_closed().into_iter())
        .filter(|f| !matches!(f, ServerFrame::Notice { .. } | ServerFrame::Ping { .. }))
        .collect();
    match frames.as_slice() {
        [ServerFrame::Error { code: got, about, .. }] => assert_eq!(
            (ErrorCode::from_code(*got), *about),
            (Some(code), types::HELLO),
            "{name}/{password:?}"
        ),
        other => panic!("{name}/{password:?}: expected ERROR {code} and close, got {other:?}"),
    }
}

/// HELLO with a password; must be welcomed under `shown`.
fn welcomed(s: &Server, name: &str, password: &str, shown: &str) -> Conn {
    let mut c = s.connect();
    c.hello(name, password, 0);
    match c.expect_welcome() {
        ServerFrame::Welcome { name: got, .. } => assert_eq!(got, shown),
        _ => unreachable!(),
    }
    c
}

/// QUIT, so the name is free at once (no linger).
fn quit(mut c: Conn) {
    c.send(&ClientFrame::Quit { reason: "bye".into() });
    c.expect_closed();
}

fn register(c: &mut Conn, password: &str) -> ServerFrame {
    c.send(&ClientFrame::Register { password: password.into() });
    c.recv_app()
}

#[test]
fn an_account_survives_a_restart() {
    let dir = TempDir::new("store-accounts");
    let mut s = start_db(&dir, &[]);
    let mut ada = s.login("Ada");
    c_weak(&mut ada);
    let got = register(&mut ada, PASSWORD);
    assert_eq!(got, ServerFrame::Registered { name: "Ada".into() });
    quit(ada);
    stop(&mut s);
    let bytes = std::fs::read(dir.0.join("banter.db")).expect("read db");
    let clear = PASSWORD.as_bytes();
    assert!(!bytes.windows(clear.len()).any(|w| w == clear), "clear password on disk");

    let s = start_db(&dir, &[]);
    refused(&s, "ada", "", ErrorCode::AuthFailed);
    refused(&s, "ADA", "wrong horse battery", ErrorCode::AuthFailed);
    // The name is shown as its owner registered it, whatever the HELLO's case.
    let ada = welcomed(&s, "aDA", PASSWORD, "Ada");
    quit(ada);
    let mut ada = welcomed(&s, "Ada", PASSWORD, "Ada");
    let got = register(&mut ada, "another password");
    assert!(
        matches!(got, ServerFrame::Error { code, .. } if code == ErrorCode::AlreadyRegistered as u16),
        "{got:?}"
    );
    // An unregistered name still logs in without a password.
    s.login("bob");
}

/// PASSWORD_WEAK for too short and too long, and the name stays free.
fn c_weak(c: &mut Conn) {
    for weak in ["1234567", &"p".repeat(257)] {
        c.send(&ClientFrame::Register { password: weak.into() });
        expect_error(c, ErrorCode::PasswordWeak, types::REGISTER, 0);
    }
}

#[test]
fn accounts_only_registers_new_names_that_bring_a_password() {
    let dir = TempDir::new("store-accounts-only");
    let mut s = start_db(&dir, &["--accounts-only"]);
    refused(&s, "cy", "", ErrorCode::AuthRequired);
    refused(&s, "cy", "short", ErrorCode::AuthRequired);
    let mut cy = welcomed(&s, "Cy", PASSWORD, "Cy");
    let got = register(&mut cy, "yet another one");
    assert!(
        matches!(got, ServerFrame::Error { code, .. } if code == ErrorCode::AlreadyRegistered as u16),
        "registered by its HELLO: {got:?}"
    );
    quit(cy);
    refused(&s, "cy", "not the password", ErrorCode::AuthFailed);
    stop(&mut s);

    let s = start_db(&dir, &["--accounts-only"]);
    refused(&s, "cy", "", ErrorCode::AuthFailed);
    quit(welcomed(&s, "Cy", PASSWORD, "Cy"));
    refused(&s, "dee", "", ErrorCode::AuthRequired);
}
