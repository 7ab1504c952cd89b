//! Line mode (stdin or stdout not a terminal), for scripts: order of
//! effects, exit codes, history, passwords and command-line errors.

use super::*;

#[test]
fn line_mode_sends_in_order_and_exits_zero() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let input = "one\ntwo\n/join dev\nin dev\n/who\n/go lobby\n/bogus\nthree\n";
    let (code, out) = line_mode(s.port(), &["--name", "carl"], input);
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    for m in ["one", "two", "three"] {
        assert_eq!(next_msg(&mut bob), ("carl".into(), m.into()));
    }
    let want = [
        "= joined lobby (2 members)",
        "[lobby] <carl> one",
        "[lobby] <carl> two",
        "= joined dev (1 member)",
        "= members of dev: carl",
        "[dev] <carl> in dev",
        "= members of dev: carl",
        "= now in lobby",
        "! unknown command /bogus; /help lists the commands",
        "[lobby] <carl> three",
    ];
    let lines: Vec<&str> = out.lines().filter(|l| want.contains(l)).collect();
    assert_eq!(lines, want, "in input order:\n{out}");
}

#[test]
fn line_mode_exits_nonzero_when_a_message_is_not_acknowledged() {
    let s = Server::start(&[]);
    let (code, out) = line_mode(s.port(), &["--name", "dora"], "/leave\nlost words\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! not in any room"), "{out}");
    let dead = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let (code, out) = line_mode(port, &["--name", "dora", "--reconnect-attempts", "1"], "hello\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! offline"), "{out}");
}

#[test]
fn line_mode_history_and_lag_in_the_status_bar() {
    let s = Server::start(&["--heartbeat-ms", "300", "--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    for i in 1..=60 {
        say(&mut bob, "lobby", i, &format!("m{i}"));
    }
    let input = "/history 5\n/register short\n/register long-enough-pass\n";
    let (code, out) = line_mode(s.port(), &["--name", "eve"], input);
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("! usage: /register PASSWORD"), "{out}");
    assert!(out.contains("= registered eve"), "{out}");
    let msgs: Vec<&str> = out.lines().filter(|l| l.starts_with("[lobby] ~ <bob> ")).collect();
    let want: Vec<String> =
        (11..=60).chain(6..=10).map(|i| format!("[lobby] ~ <bob> m{i}")).collect();
    assert_eq!(msgs, want, "the JOIN's 50 newest, then 5 older ones, each once:\n{out}");
    let t = Tmux::start(&client_cmd(s.port(), "--name ada"), 100, 30);
    t.wait("a lag measurement", |sc| status_bar(sc).contains(" ms"));
}

#[test]
fn a_registered_name_is_asked_for_its_password() {
    let s = Server::start(&[]);
    let (code, out) = line_mode(s.port(), &["--name", "reg"], "/register sesame-open\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("= registered reg"), "{out}");
    let (code, out) = line_mode(s.port(), &["--name", "reg"], "wrong-password\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! AUTH_FAILED"), "{out}");
    let (code, out) = line_mode(s.port(), &["--name", "reg"], "sesame-open\nin at last\n");
    let out = untimed(&out);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[lobby] <reg> in at last"), "{out}");

    let t = Tmux::start(&client_cmd(s.port(), "--name reg"), 100, 20);
    t.wait_for("needs its password");
    t.type_text("sesame-open");
    t.wait_for("password: ***********");
    t.keys(&["Enter"]);
    let sc = t.wait("connected", |sc| status_bar(sc).contains("connected"));
    assert!(!sc.contains("sesame"), "the password never shows:\n{sc}");
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let out = Command::new(bin("banter")).arg("--port=nope").output().expect("run banter");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--port"), "{err}");
}
