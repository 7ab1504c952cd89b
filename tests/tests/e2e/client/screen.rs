//! The full-screen client's drawing under stress: text whose width the
//! terminal and the client disagree on, long names in narrow panes, and
//! messages taller than the screen.

use super::*;

/// Rows of a screen, the last (input) row included.
fn rows(screen: &str) -> Vec<String> {
    screen.lines().map(str::to_string).collect()
}

#[test]
fn width_disagreements_cost_at_most_a_cell_on_their_own_row() {
    let s = Server::start(&["--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = Tmux::start(&client_cmd(s.port(), "--name ada"), 40, 12);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    // 👍🏽 is 4 cells in tmux and 2 for banter; ❤️ the reverse (1 and 2).
    say(&mut bob, "lobby", 1, "thumbs 👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽 end");
    say(&mut bob, "lobby", 2, "hearts ❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️ end");
    say(&mut bob, "lobby", 3, &format!("{}👍🏽", "x".repeat(24)));
    say(&mut bob, "lobby", 4, "the last line");
    let sc = t.wait_for("the last line");
    let r = rows(&sc);
    assert_eq!(r.len(), 12, "{sc}");
    assert!(r[9].contains("the last line"), "the newest message sits above the status bar:\n{sc}");
    assert!(status_bar(&sc).contains("connected"), "the status bar is intact:\n{sc}");
    let top = r[0].clone();
    for _ in 0..6 {
        t.type_text("👍🏽❤️");
    }
    let sc = t.wait("the typed emoji", |sc| input_line(sc).matches('❤').count() >= 4);
    let r = rows(&sc);
    assert_eq!(r[0], top, "typing into the input line does not scroll the screen:\n{sc}");
    assert!(r[9].contains("the last line"), "{sc}");
    assert!(status_bar(&sc).contains("connected"), "{sc}");
    assert!(input_line(&sc).starts_with("[lobby] "), "{sc}");
}

#[test]
fn a_long_name_in_a_narrow_pane_loses_no_text() {
    let s = Server::start(&[]);
    let long = "abcdefghijklmnopqrstuvwxyz012345";
    let mut bob = member(s.addr, long, "lobby");
    let t = Tmux::start(&client_cmd(s.port(), "--name ada"), 40, 20);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    let words: Vec<String> = (1..=24).map(|i| format!("w{i:02}")).collect();
    say(&mut bob, "lobby", 1, &words.join(" "));
    let sc = t.wait_for("w24");
    for w in &words {
        assert!(sc.contains(w.as_str()), "{w} is shown:\n{sc}");
    }
    let body: Vec<&str> = sc.lines().filter(|l| l.contains('w') && !l.contains('<')).collect();
    for l in &body {
        assert!(l.trim().len() > 8, "no narrow continuation rows: {l:?}\n{sc}");
    }
}

#[test]
fn page_up_reaches_the_first_row_of_a_message_taller_than_the_screen() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = Tmux::start(&client_cmd(s.port(), "--name ada"), 60, 12);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    let tall: Vec<String> = (1..=30).map(|i| format!("row{i:02}")).collect();
    say(&mut bob, "lobby", 1, &tall.join("\n"));
    let bottom = t.wait_for("row30");
    let mut seen = Vec::new();
    for i in 0..7 {
        let sc = if i == 0 {
            bottom.clone()
        } else {
            t.keys(&["PPage"]);
            std::thread::sleep(Duration::from_millis(200));
            t.screen()
        };
        for r in &tall {
            if sc.contains(r.as_str()) && !seen.contains(r) {
                seen.push(r.clone());
            }
        }
        if sc.contains("connected as ada") {
            let pane: Vec<&str> = sc.lines().take(10).collect();
            assert!(pane.iter().all(|l| !l.trim().is_empty()), "the top page is full:\n{sc}");
        }
    }
    assert_eq!(seen.len(), tall.len(), "every row could be seen; saw {seen:?}");
}
