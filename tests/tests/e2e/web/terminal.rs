//! The terminal client and the web client share files through banterd:
//! a file sent with `/send` from the terminal (line mode, as a script or a
//! user would run it) is downloaded intact in the browser, and a file
//! dropped in the browser is saved intact by `/get` in the terminal.

use super::files::*;
use super::page::*;
use super::DESKTOP;
use crate::client::LiveLine;
use banter_tests::browser::{exclusive, Browser};
use banter_tests::front::front;
use banter_tests::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn a_file_goes_from_the_terminal_to_the_browser_and_back() {
    let _one = exclusive();
    let dir = TempDir::new("web-terminal-files");
    let s = files_server(&dir, &[]);
    let web = front(s.port());
    let work = dir.0.join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let there = bytes(300_000);
    std::fs::write(work.join("report.bin"), &there).expect("write");

    let bob = Browser::start(DESKTOP);
    sign_in_with(&bob, &web.url(), "bob", PW, true);
    let mut ada = LiveLine::start(&work, s.port(), &["--name", "ada"], Duration::from_secs(30));
    ada.send("/register long-enough-pass");
    ada.send("/send report.bin");
    ada.wait_containing("[file 1] <ada> report.bin");

    // In the browser: offered, downloaded byte for byte.
    wait_card(&bob, "report.bin", "offered", "c.actions.includes('Download')");
    click_action(&bob, "report.bin", "Download");
    assert_eq!(sha(&bob.downloaded("report.bin")), sha(&there), "intact in the browser");

    // And back: dropped in the browser, saved by /get in the terminal.
    drop_file(&bob, "reply.bin", "application/octet-stream", json!(200_000));
    wait_file_sent(&bob, "reply.bin");
    ada.wait_containing("[file 2] <bob> reply.bin");
    ada.send("/get 2");
    ada.wait_containing("= saved [file 2]");
    let saved = std::fs::read(work.join("reply.bin")).expect("saved by /get");
    assert_eq!(sha(&saved), sha(&bytes(200_000)), "intact in the terminal");
    ada.end_input();
    let code = ada.exit_code(Duration::from_secs(30));
    assert_eq!(code, 0, "every message and file acknowledged");
}
