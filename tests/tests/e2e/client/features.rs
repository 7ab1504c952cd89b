//! What irssi and WeeChat users expect: nick colours, own lines set apart,
//! mentions (highlight, bell, level in the status bar), numbered windows,
//! day-change lines, /me, Tab completion of rooms and members, hiding
//! joins, search, log files, the config file and line mode's times.

use super::*;
use banter_proto::FLAG_ACTION;

/// The SGR sequence right before `needle` on a styled screen.
fn style_before(styled: &str, needle: &str) -> String {
    let at = styled.find(needle).unwrap_or_else(|| panic!("{needle} not on screen"));
    let esc = styled[..at].rfind('\u{1b}').expect("a style");
    styled[esc..at].to_string()
}

#[test]
fn nicks_have_colours_own_lines_stand_apart_and_mentions_ring() {
    let s = Server::start(&["--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    let mut eve = member(s.addr, "eve", "lobby");
    let t = ada(&s, 100, 20, "");
    let dir = TempDir::new("client-bell");
    let rec = dir.0.join("out");
    t.record(&rec);
    say(&mut bob, "lobby", 1, "from bob");
    say(&mut eve, "lobby", 1, "from eve");
    t.type_text("from me");
    t.keys(&["Enter"]);
    t.wait("acked", |sc| sc.contains("<ada> from me") && !sc.contains("sending"));
    let st = t.styled_screen();
    assert!(style_before(&st, "<bob>").contains("38;5;"), "bob has a colour: {st:?}");
    assert!(style_before(&st, "<ada>").contains("[1m"), "our own nick is bold: {st:?}");
    assert!(std::fs::read(&rec).is_ok_and(|b| !b.contains(&7)), "no bell yet");
    say(&mut bob, "lobby", 2, "ada: lunch?");
    t.wait_for("lunch?");
    let st = t.styled_screen();
    let line = st.lines().find(|l| l.contains("lunch?")).expect("the mention");
    assert!(style_before(line, "<bob>").contains("48;5;3"), "highlighted: {line:?}");
    let plain = st.lines().find(|l| l.contains("from bob")).expect("a plain line");
    assert!(!style_before(plain, "<bob>").contains("48;5;3"), "{plain:?}");
    let end = std::time::Instant::now() + WAIT;
    while !std::fs::read(&rec).is_ok_and(|b| b.contains(&7)) {
        assert!(std::time::Instant::now() < end, "the bell rang");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn numbered_windows_alt_keys_and_next_previous() {
    let s = Server::start(&["--rate", "0"]);
    let t = ada(&s, 120, 12, "");
    for i in 2..=10 {
        t.type_text(&format!("/join r{i}"));
        t.keys(&["Enter"]);
        t.wait_for(&format!("joined r{i}"));
    }
    t.keys(&["M-1"]);
    let sc = t.wait("window 1", |sc| status_bar(sc).contains("#lobby"));
    assert!(status_bar(&sc).contains("[1:lobby] 2:r2"), "{sc}");
    for (keys, room) in [
        (&["M-0"][..], "#r10"),
        (&["C-p"], "#r9"),
        (&["C-n"], "#r10"),
        (&["C-n"], "#lobby"),
        (&["M-Left"], "#r10"),
        (&["M-Right"], "#lobby"),
    ] {
        t.keys(keys);
        t.wait(room, |sc| status_bar(sc).contains(&format!("{room},")));
    }
    t.type_text("/go 3");
    t.keys(&["Enter"]);
    t.wait("/go 3", |sc| status_bar(sc).contains("#r3,"));
}

#[test]
fn day_changes_actions_and_me_sends_flag_action() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let today = now.as_millis() as u64;
    let earlier = today - 3 * 86_400_000;
    let msgs = vec![
        fake::msg(1, earlier, "mallory", 0, "three days ago"),
        fake::msg(2, today, "mallory", 0, "today"),
        fake::msg(3, today, "mallory", FLAG_ACTION, "waves"),
    ];
    let (tx, rx) = std::sync::mpsc::channel();
    let fake = std::thread::spawn(move || fake::serve(listener, msgs, 60_000, Some(tx)));
    let t = Tmux::start(&client_cmd(port, "--name ada"), 100, 20);
    let sc = t.wait_for("* mallory waves");
    let (old, new) = (sc.find("three days ago").unwrap(), sc.find("today").unwrap());
    let between = &sc[old..new];
    let day = between.lines().nth(1).unwrap_or("");
    assert!(day.starts_with("---") && day.contains(" 20"), "a day line between:\n{sc}");
    t.type_text("/me waves back");
    t.keys(&["Enter"]);
    t.wait_for("* ada waves back");
    let say = loop {
        if let f @ ClientFrame::Say { .. } = rx.recv_timeout(WAIT).expect("a SAY") {
            break f;
        }
    };
    assert!(
        matches!(&say, ClientFrame::Say { flags: FLAG_ACTION, text, .. } if text == "waves back"),
        "{say:?}"
    );
    drop(t);
    let _ = fake.join();
}

#[test]
fn tab_completes_rooms_after_join_and_go_and_members_first() {
    let s = Server::start(&["--rate", "0"]);
    let _quiet = member(s.addr, "bobby", "lobby");
    let mut chatty = member(s.addr, "bobcat", "elsewhere");
    let t = ada(&s, 100, 20, "");
    t.type_text("/join elsewhere");
    t.keys(&["Enter"]);
    t.wait("elsewhere", |sc| status_bar(sc).contains("#elsewhere"));
    say(&mut chatty, "elsewhere", 1, "hi from bobcat");
    t.wait_for("hi from bobcat");
    t.type_text("/go lo");
    t.keys(&["Tab"]);
    t.wait("room completed", |sc| input_line(sc).ends_with("/go lobby"));
    t.keys(&["Enter"]);
    t.wait("lobby", |sc| status_bar(sc).contains("#lobby"));
    t.type_text("/join els");
    t.keys(&["Tab"]);
    t.wait("room completed", |sc| input_line(sc).ends_with("/join elsewhere"));
    t.keys(&["C-u"]);
    t.type_text("bob");
    t.keys(&["Tab"]);
    t.wait("a member of lobby first", |sc| input_line(sc) == "[lobby] bobby:");
    t.keys(&["Tab"]);
    t.wait("then other speakers", |sc| input_line(sc) == "[lobby] bobcat:");
}

#[test]
fn joins_can_be_hidden_and_the_scrollback_searched() {
    let s = Server::start(&["--rate", "0"]);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = ada(&s, 100, 20, "");
    t.type_text("/set joins off");
    t.keys(&["Enter"]);
    t.wait_for("joins off");
    let mut carl = member(s.addr, "carl", "lobby");
    t.wait("3 members", |sc| status_bar(sc).contains("3 members"));
    say(&mut bob, "lobby", 1, "deploy at noon");
    say(&mut bob, "lobby", 2, "lunch first?");
    say(&mut bob, "lobby", 3, "Deploy done");
    let sc = t.wait_for("Deploy done");
    assert!(!sc.contains("carl joined"), "{sc}");
    t.type_text("/search deploy");
    t.keys(&["Enter"]);
    let sc = t.wait_for("search \"deploy\": 2 line(s)");
    assert_eq!(count(&sc, "deploy at noon"), 2, "listed again:\n{sc}");
    t.type_text("/set joins on");
    t.keys(&["Enter"]);
    carl.send(&ClientFrame::Quit { reason: "bye".into() });
    t.wait_for("carl quit (bye)");
}

#[test]
fn messages_are_logged_to_files_per_room() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    let dir = TempDir::new("client-logs");
    let logs = dir.0.join("logs");
    let t = ada(&s, 100, 20, &format!("--log-dir {}", logs.display()));
    say(&mut bob, "lobby", 1, "hello log");
    t.wait_for("hello log");
    t.type_text("hi back");
    t.keys(&["Enter"]);
    t.wait("acked", |sc| sc.contains("<ada> hi back") && !sc.contains("sending"));
    let text = std::fs::read_to_string(logs.join("lobby.log")).expect("lobby.log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with(" <bob> hello log") && lines[1].ends_with(" <ada> hi back"));
    assert!(lines[0].starts_with("20") && lines[0].as_bytes()[4] == b'-', "{text}");
}

#[test]
fn the_config_file_sets_everything_and_flags_override_it() {
    let s = Server::start(&[]);
    let (code, out) = line_mode(s.port(), &["--name", "cfg"], "/register sesame-open\n");
    assert_eq!(code, 0, "{out}");
    let dir = TempDir::new("client-config");
    let conf = dir.0.join("banter");
    std::fs::create_dir_all(&conf).expect("mkdir");
    let text = format!(
        "# test config\nport = {}\nname = \"cfg\"\nrooms = [\"dev\", \"lobby\"]\n\
         password_command = \"printf 'sesame-open\\\\n'\"\njoins = false\n",
        s.port()
    );
    std::fs::write(conf.join("config.toml"), text).expect("write config");
    let bin = bin("banter");
    let cmd = |extra: &str| {
        format!(
            "env -u PORT XDG_CONFIG_HOME={} {} {extra}; echo EXIT=$?; sleep 60",
            dir.0.display(),
            bin.display()
        )
    };
    let t = Tmux::start(&cmd(""), 100, 12);
    let sc = t.wait_for("connected as cfg");
    assert!(!sc.contains("password"), "no password asked for:\n{sc}");
    t.wait("both rooms", |sc| {
        status_bar(sc).contains("#dev") && status_bar(sc).contains("2:lobby")
    });
    t.type_text("/quit");
    t.keys(&["Enter"]);
    t.wait_for("EXIT=0");
    let t = Tmux::start(&cmd("--room ops --name other"), 100, 12);
    let sc = t.wait("flags win", |sc| status_bar(sc).contains("#ops"));
    assert!(sc.contains("connected as other") && !status_bar(&sc).contains("lobby"), "{sc}");
    std::fs::write(conf.join("config.toml"), "colour = true\n").expect("write config");
    let out = Command::new(&bin).env("XDG_CONFIG_HOME", &dir.0).output().expect("run banter");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.toml:1: colour"));
}

#[test]
fn line_mode_prints_times_day_lines_and_marks_history() {
    let s = Server::start(&[]);
    let mut bob = member(s.addr, "bob", "lobby");
    say(&mut bob, "lobby", 1, "before you came");
    let (code, out) = line_mode(s.port(), &["--name", "carl"], "/me waves\nhello\n");
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let day = lines.iter().position(|l| l.starts_with("= day 20")).expect("a day line");
    let old = lines.iter().position(|l| l.contains("~ <bob> before you came")).expect("marked");
    assert!(day < old, "{out}");
    let timed = |l: &str| l.len() > 14 && l.as_bytes()[10] == b':' && l.starts_with("[lobby] ");
    assert!(lines.iter().any(|l| timed(l) && l.ends_with(" * carl waves")), "{out}");
    assert!(lines.iter().any(|l| timed(l) && l.ends_with(" <carl> hello")), "{out}");
}
