//! Signing in with a password and registering, in the full-screen client
//! and in line mode: a password never shows, is never kept, and a script's
//! chat text is never sent as one.

use super::*;

/// A server with `reg` registered with password `sesame-open`.
fn server_with_account() -> Server {
    let s = Server::start(&[]);
    let (code, out) = line_mode(s.port(), &["--name", "reg"], "/register sesame-open\n");
    assert_eq!(code, 0, "{out}");
    s
}

#[test]
fn register_in_capitals_is_masked_and_not_kept_in_history() {
    let s = Server::start(&[]);
    let t = Tmux::start(&client_cmd(s.port(), "--name ada"), 80, 12);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    t.type_text("/REGISTER Sesame-Open-9");
    let sc = t.wait_for("/REGISTER ");
    assert!(!sc.contains("Sesame"), "masked while typed:\n{sc}");
    t.keys(&["Enter"]);
    let sc = t.wait_for("ada is now registered");
    assert!(!sc.contains("Sesame"), "{sc}");
    t.keys(&["Up"]);
    std::thread::sleep(Duration::from_millis(300));
    let sc = t.screen();
    assert!(!sc.contains("Sesame") && !sc.contains("/REGISTER"), "not in history:\n{sc}");
}

#[test]
fn the_password_prompt_asks_without_an_error_and_takes_quit() {
    let s = server_with_account();
    let t = Tmux::start(&client_cmd(s.port(), "--name reg"), 80, 12);
    let sc = t.wait_for("needs its password");
    assert!(!sc.contains("AUTH_FAILED"), "no error before anything was typed:\n{sc}");
    t.type_text("/quit");
    t.keys(&["Enter"]);
    t.wait_for("EXIT=0");

    let t = Tmux::start(&client_cmd(s.port(), "--name reg"), 80, 12);
    t.wait_for("needs its password");
    t.type_text("wrong-password");
    t.keys(&["Enter"]);
    t.wait_for("AUTH_FAILED");
    t.type_text("sesame-open");
    t.keys(&["Enter"]);
    let sc = t.wait("connected", |sc| status_bar(sc).contains("connected"));
    assert!(!sc.contains("sesame"), "{sc}");
}

#[test]
fn line_mode_never_sends_chat_text_as_a_second_password() {
    let s = server_with_account();
    let (code, out) =
        line_mode(s.port(), &["--name", "reg"], "wrong-password\nsesame-open\nchat\n");
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("AUTH_FAILED").count(), 1, "one password try:\n{out}");
    assert!(!out.contains("connected"), "{out}");
}
