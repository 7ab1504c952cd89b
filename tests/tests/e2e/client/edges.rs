//! The rough edges of daily use: scrolling and jumping back, /history,
//! a server that is down, rate limits, Ctrl-C, word kills and a narrow
//! status bar.

use super::*;

#[test]
fn scrolled_up_shows_what_is_new_below_and_end_or_sending_jumps_back() {
    let s = Server::start(&["--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = ada(&s, 60, 12, "");
    for i in 1..=30 {
        say(&mut bob, "lobby", i, &format!("filler {i}"));
    }
    t.wait_for("filler 30");
    t.keys(&["PPage"]);
    t.wait("scrolled up", |sc| !sc.contains("filler 30"));
    say(&mut bob, "lobby", 31, "late news");
    let sc = t.wait_for("1 new below");
    assert!(!sc.contains("late news"), "the view stays put:\n{sc}");
    t.keys(&["End"]);
    let sc = t.wait_for("late news");
    assert!(!sc.contains("new below"), "{sc}");
    t.keys(&["PPage"]);
    t.wait("scrolled up", |sc| !sc.contains("late news"));
    t.type_text("my answer");
    t.keys(&["Enter"]);
    let sc = t.wait("the own line", |sc| sc.contains("<ada> my answer"));
    assert!(sc.contains("late news") && !sc.contains("below"), "sending jumps down:\n{sc}");
}

#[test]
fn history_says_what_it_added_and_puts_it_above_the_session() {
    let s = Server::start(&["--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    for i in 1..=60 {
        say(&mut bob, "lobby", i, &format!("m{i}"));
    }
    let t = ada(&s, 80, 12, "");
    t.wait_for("older messages exist");
    t.type_text("/history 5");
    t.keys(&["Enter"]);
    t.wait_for("5 older messages of lobby added above");
    let mut top = String::new();
    for _ in 0..12 {
        t.keys(&["PPage"]);
        std::thread::sleep(Duration::from_millis(100));
        top = t.screen();
        if top.contains(" m6\n") || top.contains(" m6 ") {
            break;
        }
    }
    assert!(top.lines().next().is_some_and(|l| l.ends_with("<bob> m6")), "m6 at the top:\n{top}");
    let (m10, conn) = (top.find("<bob> m10"), top.find("connected as ada"));
    assert!(m10.is_some() && (conn.is_none() || m10 < conn), "history above:\n{top}");
}

#[test]
fn a_server_down_at_start_is_one_line_with_its_address() {
    let dead = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let t = Tmux::start(&client_cmd(port, "--name ada"), 100, 12);
    let addr = format!("127.0.0.1:{port}");
    t.wait_for(&addr);
    // Attempts are spaced to ride out a 30 s restart: the second one waits
    // about 8 s (the third about 30 s).
    let sc = t.wait("the second wait", |sc| status_bar(sc).contains("attempt 2 of 3"));
    let bar = status_bar(&sc);
    let secs: u64 = bar
        .split("reconnecting in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a countdown: {bar}"));
    assert!((5..=8).contains(&secs), "{bar}");
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(300));
        t.keys(&["C-r"]);
    }
    let sc = t.wait("offline", |sc| status_bar(sc).contains("offline"));
    assert_eq!(count(&sc, &addr), 1, "one line, updated in place:\n{sc}");
    assert!(!sc.contains("connection lost"), "{sc}");
    assert!(sc.contains("Ctrl-R"), "says how to retry:\n{sc}");
}

#[test]
fn rate_limited_lines_are_held_and_sent_not_shown_as_errors() {
    let s = Server::start(&["--rate", "1"]);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = ada(&s, 100, 20, "");
    for i in 1..=4 {
        t.type_text(&format!("quick {i}"));
        t.keys(&["Enter"]);
    }
    for i in 1..=4 {
        assert_eq!(next_msg(&mut bob).1, format!("quick {i}"));
    }
    let sc = t.wait("all acknowledged", |sc| !sc.contains("sending") && !sc.contains("rate"));
    assert!(!sc.contains("RATE_LIMITED") && !sc.contains("!!"), "no errors shown:\n{sc}");
}

#[test]
fn ctrl_c_asks_before_losing_typed_text() {
    let s = Server::start(&[]);
    let t = ada(&s, 100, 12, "");
    t.type_text("a careful draft");
    t.keys(&["C-c"]);
    let sc = t.wait_for("Ctrl-C again quits");
    assert_eq!(input_line(&sc), "[lobby] a careful draft");
    t.type_text("!");
    t.keys(&["C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!t.screen().contains("EXIT="), "a key in between asks again");
    t.keys(&["C-c"]);
    t.wait_for("EXIT=0");
}

#[test]
fn alt_backspace_and_alt_d_kill_words() {
    let s = Server::start(&[]);
    let t = ada(&s, 100, 12, "");
    t.type_text("one two/three four");
    t.keys(&["M-BSpace"]);
    t.wait("Alt-Backspace", |sc| input_line(sc) == "[lobby] one two/three");
    t.keys(&["M-BSpace"]);
    t.wait("Alt-Backspace", |sc| input_line(sc) == "[lobby] one two/");
    t.keys(&["Home", "M-d"]);
    t.wait("Alt-D", |sc| input_line(sc) == "[lobby]  two/");
}

#[test]
fn a_narrow_status_bar_keeps_every_room_with_news() {
    let s = Server::start(&["--rate", "0"]);
    let t = ada(&s, 60, 12, "");
    let mut others = Vec::new();
    for room in ["dev", "ops", "qa"] {
        t.type_text(&format!("/join {room}"));
        t.keys(&["Enter"]);
        t.wait_for(&format!("joined {room} (1 member)"));
        others.push(member(s.addr, &format!("{room}bot"), room));
    }
    t.keys(&["M-1"]);
    t.wait("lobby shown", |sc| status_bar(sc).contains("#lobby"));
    for (i, (c, room)) in others.iter_mut().zip(["dev", "ops", "qa"]).enumerate() {
        let text = if i == 2 { "ada: are you there?" } else { "news" };
        say(c, room, 1, text);
    }
    let sc = t.wait("all three", |sc| status_bar(sc).contains("4:qa(1!)"));
    let bar = status_bar(&sc);
    assert!(bar.contains("2:dev(1)") && bar.contains("3:ops(1)"), "{bar}");
    assert!(bar.trim_end().chars().count() < 60, "{bar}");
}
