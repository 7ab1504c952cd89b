//! Direct messages and receipts in the client against the real server:
//! two registered users talking privately in tmux with their messages'
//! marks reaching delivered and read, UNREAD at the next sign-in (also
//! across a restart with `--db`), the "new" line from the read marker,
//! `/me`, guests and strangers refused, and line mode's plain lines.

use super::*;

/// Registers `name` with the password `pw-NAME-123`.
pub(super) fn register(s: &Server, name: &str) {
    let (code, out) = line_mode(s.port(), &["--name", name], &format!("/register {}\n", pw(name)));
    assert_eq!(code, 0, "{out}");
}

pub(super) fn pw(name: &str) -> String {
    format!("pw-{name}-123")
}

/// A full-screen client signed in as `name` with its password.
pub(super) fn signed_in(s: &Server, name: &str) -> Tmux {
    let t = Tmux::start(&client_cmd(s.port(), &format!("--name {name}")), 100, 16);
    t.wait_for("needs its password");
    t.type_text(&pw(name));
    t.keys(&["Enter"]);
    t.wait("signed in", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    t
}

#[test]
fn two_accounts_talk_privately_and_see_delivered_then_read() {
    let s = Server::start(&["--rate", "0"]);
    register(&s, "ada");
    register(&s, "bob");
    let ada = signed_in(&s, "ada");
    let bob = signed_in(&s, "bob");
    ada.type_text("/msg Bob hello bob");
    ada.keys(&["Enter"]);
    let sc = ada.wait("delivered", |sc| sc.contains("hello bob \u{2713}\u{2713}"));
    assert!(status_bar(&sc).contains("@bob (private)"), "{sc}");
    assert!(!sc.contains("\u{2713}\u{2713} read"), "bob has not looked yet:\n{sc}");
    let sc = bob.wait("the window of ada", |sc| status_bar(sc).contains("2:@ada(1!)"));
    assert!(!sc.contains("hello bob"), "in its own window:\n{sc}");
    bob.keys(&["M-2"]);
    bob.wait("shown", |sc| sc.contains("<ada> hello bob") && status_bar(sc).contains("@ada"));
    ada.wait("read", |sc| sc.contains("hello bob \u{2713}\u{2713} read"));
    bob.type_text("hi ada");
    bob.keys(&["Enter"]);
    ada.wait_for("<bob> hi ada");
    ada.type_text("/me waves");
    ada.keys(&["Enter"]);
    bob.wait_for("* ada waves");
    ada.wait("both read", |sc| sc.contains("* ada waves \u{2713}\u{2713} read"));
    let sc = ada.screen();
    assert_eq!(count(&sc, "hello bob"), 1, "{sc}");

    // ada leaves; what bob says meanwhile waits as UNREAD, with the new line.
    ada.type_text("/quit");
    ada.keys(&["Enter"]);
    ada.wait_for("EXIT=0");
    bob.type_text("are you there?");
    bob.keys(&["Enter"]);
    bob.type_text("call me");
    bob.keys(&["Enter"]);
    bob.wait("stored", |sc| sc.contains("call me \u{2713}") && !sc.contains("sending"));
    let ada = signed_in(&s, "ada");
    ada.wait("unread", |sc| status_bar(sc).contains("2:@bob(2!)"));
    ada.keys(&["M-2"]);
    let sc = ada.wait("caught up", |sc| sc.contains("call me"));
    let rows: Vec<&str> = sc.lines().collect();
    let new = rows.iter().position(|r| r.contains(" new ")).expect("a new line");
    assert!(rows[new + 1].contains("are you there?"), "the line above the first unread:\n{sc}");
    assert!(rows[..new].iter().any(|r| r.contains("2 unread messages in @bob")), "{sc}");
    bob.wait("read by ada", |sc| sc.contains("call me \u{2713}\u{2713} read"));
}

#[test]
fn guests_and_strangers_are_told_what_to_do() {
    let s = Server::start(&[]);
    register(&s, "ada");
    let (code, out) =
        line_mode(s.port(), &["--name", "carl"], "/msg ada hi\n/join @ada\nstill here\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! direct messages are between registered names: /register"), "{out}");
    assert!(out.contains("! AUTH_REQUIRED: direct messages are between registered names"), "{out}");
    assert!(untimed(&out).contains("[lobby] <carl> still here"), "not disconnected:\n{out}");
    let input = format!("{}\n/msg nobody hi\n/msg ada hi\n", pw("ada"));
    let (code, out) = line_mode(s.port(), &["--name", "ada"], &input);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! NO_SUCH_USER: no account named nobody"), "{out}");
    assert!(out.contains("! that is you"), "{out}");
}

#[test]
fn line_mode_unread_across_a_restart_and_receipts_as_plain_lines() {
    let dir = TempDir::new("client-dm-db");
    let db = dir.0.join("chat.db");
    let db = db.to_str().expect("utf-8 path");
    let mut s = Server::start(&["--db", db]);
    register(&s, "ada");
    register(&s, "bob");
    let input = format!("{}\n/msg bob are you there?\n/me waves\n", pw("ada"));
    let (code, out) = line_mode(s.port(), &["--name", "ada"], &input);
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    let said = out.find("[@bob] <ada> are you there?").expect(&out);
    assert!(out[said..].contains("\n[@bob] * ada waves"), "{out}");
    s.signal(libc::SIGTERM);
    s.wait_exit(Duration::from_secs(10));
    let s = Server::start_on(s.port(), &["--db", db]);
    let (code, out) = line_mode(s.port(), &["--name", "bob"], &format!("{}\n", pw("bob")));
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    let unread = out.find("= unread [@ada] 2").unwrap_or_else(|| panic!("{out}"));
    let replay = out.find("[@ada] ~ <ada> are you there?\n[@ada] ~ * ada waves").expect(&out);
    assert!(unread < replay, "{out}");
    let (code, out) = line_mode(s.port(), &["--name", "bob"], &format!("{}\n", pw("bob")));
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("= unread"), "printed is read:\n{out}");

    // Receipts of this run's messages, one plain line per message and state.
    let here = std::path::Path::new(".");
    let mut ada = LiveLine::start(here, s.port(), &["--name", "ada"], WAIT * 2);
    ada.send(&pw("ada"));
    ada.send("/msg bob ping");
    ada.wait_line("[@bob] <ada> ping");
    let (code, out) = line_mode(s.port(), &["--name", "bob"], &format!("{}\n", pw("bob")));
    assert!(code == 0 && untimed(&out).contains("[@ada] ~ <ada> ping"), "{out}");
    ada.wait_line("= delivered [@bob] #3 ping");
    let seen = ada.wait_line("= read [@bob] #3 ping").to_vec();
    ada.end_input();
    assert_eq!(ada.exit_code(Duration::from_secs(10)), 0, "{seen:#?}");
}
