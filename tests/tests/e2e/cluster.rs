//! Several `banterd` nodes over one Redis (issue 17): clients on different
//! nodes see one server. Ids gapless and in order across nodes, names
//! unique across nodes, a session resumed on another node, a node killed
//! (its users resume elsewhere; PRESENCE lost once after the linger),
//! Redis restarted with nothing acknowledged lost, and the whole server
//! suite run once against three nodes behind a round-robin proxy.

use crate::server_util::*;
use banter_proto::{ClientFrame, ErrorCode, ServerFrame};
use banter_tests::cluster::Cluster;
use banter_tests::*;
use std::time::Duration;

/// Logs `name` in on node `i`.
fn login(c: &Cluster, i: usize, name: &str) -> Conn {
    c.node(i).login(name)
}

#[test]
fn clients_on_three_nodes_chat_with_gapless_ids() {
    let c = Cluster::start(3, &["--rate", "0"]);
    let names = ["ada", "bob", "cy", "dee", "eve", "fay"];
    let mut conns: Vec<Conn> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut x = login(&c, i % 3, name);
        let a = join(&mut x, "lobby", "lobby", 0, 0);
        assert_eq!(a.names().len(), i + 1, "{:?}", a.names());
        for earlier in conns.iter_mut() {
            assert_eq!(next_app(earlier), presence("lobby", name, JOINED_EV));
        }
        conns.push(x);
    }
    const EACH: u32 = 30;
    for seq in 1..=EACH {
        for x in conns.iter_mut() {
            x.send(&say_f("lobby", seq, &format!("m{seq}")));
        }
    }
    let total = EACH as u64 * names.len() as u64;
    for (i, x) in conns.iter_mut().enumerate() {
        let (mut msgs, mut acks) = (Vec::new(), Vec::new());
        while msgs.len() + acks.len() < total as usize {
            match next_app(x) {
                ServerFrame::Msg { id, from, .. } => {
                    assert_ne!(from, names[i], "no echo of one's own message");
                    msgs.push(id);
                }
                ServerFrame::Ack { id, .. } => acks.push(id),
                f => panic!("{}: unexpected {f:?}", names[i]),
            }
        }
        assert_eq!(acks.len(), EACH as usize);
        assert!(msgs.windows(2).all(|w| w[0] < w[1]), "{}: MSGs in id order", names[i]);
        let mut all = [msgs, acks].concat();
        all.sort_unstable();
        assert_eq!(all, (1..=total).collect::<Vec<u64>>(), "{}: every id once", names[i]);
    }
}

#[test]
fn a_name_is_taken_across_nodes_and_resumes_on_another() {
    let c = Cluster::start(2, &[]);
    let mut ada = login(&c, 0, "ada");
    let token = ada.token;
    let mut other = c.node(1).connect();
    other.hello("Ada", "", 0);
    expect_fatal(&mut other, ErrorCode::NameTaken, banter_proto::types::HELLO);
    join(&mut ada, "lobby", "lobby", 0, 0);
    let mut bob = login(&c, 1, "bob");
    join(&mut bob, "lobby", "lobby", 0, 0);
    assert_eq!(next_app(&mut ada), presence("lobby", "bob", JOINED_EV));
    let (id, ts) = say(&mut ada, "lobby", 1, "before");
    assert!(matches!(next_app(&mut bob), ServerFrame::Msg { id: 1, .. }));
    // Resume on node 1: the old connection on node 0 is superseded.
    let mut again = c.node(1).connect();
    again.hello("ada", "", token);
    let ServerFrame::Welcome { resumed: 1, .. } = again.expect_welcome() else { panic!("resumed") };
    expect_fatal(&mut ada, ErrorCode::Superseded, 0);
    // A repeated seq is answered from the ACK memory, stored once.
    again.send(&say_f("lobby", 1, "before"));
    assert_eq!(next_app(&mut again), ServerFrame::Ack { seq: 1, room: "lobby".into(), id, ts });
    // Memberships carried over, no PRESENCE; live traffic reaches it here.
    bob.send(&say_f("lobby", 1, "hi"));
    assert!(matches!(next_app(&mut bob), ServerFrame::Ack { id: 2, .. }));
    assert!(matches!(next_app(&mut again), ServerFrame::Msg { id: 2, .. }));
    again.send(&ClientFrame::Who { room: "lobby".into() });
    assert_eq!(roster_names(&read_rosters(&mut again, "lobby")), ["ada", "bob"]);
}

/// Tests of the server suite that do not apply to a cluster behind a
/// proxy, and why. Everything else runs unchanged against three nodes.
const NOT_FOR_A_CLUSTER: &[(&str, &str)] = &[
    ("client::", "the terminal client's tests (their names say 'server')"),
    ("web::", "the web client's tests"),
    ("bench::", "the bench's tests"),
    ("cluster::", "this module"),
    ("server_admission::", "per-address limits are each node's own"),
    ("server_bounds::", "--db, --history-memory and --max-rooms bound one process"),
    ("server_direct::offline_messages_survive_a_restart", "restarts one server on its --db"),
    ("server_cli::listening_line_names_the_real_port", "reads one process's log"),
    ("server_files::an_upload_resumes_after", "an unfinished upload is on the node that took it; the proxy sends the reconnect elsewhere"),
    ("server_files::kill_9_mid_upload", "restarts one server"),
    ("server_history::at_least_ten_thousand", "the memory-only bound: a cluster keeps every message, as --db does"),
    ("server_history::replays_asked_in_one_write", "pages asked in one write are sized in one turn; a cluster answers each after a Redis round trip"),
    ("server_http::metrics_in_the_prometheus", "/metrics counts one node"),
    ("server_limits::a_resumed_session_keeps_its_rate_bucket", "budgets are each node's; a resume may land elsewhere"),
    ("server_limits::reconnecting_under_new_names", "per-address budgets are each node's"),
    ("server_limits::server_full_refuses", "--max-clients is each node's"),
    ("server_slow::a_closing_connection_no_longer_counts", "--max-clients is each node's"),
    ("server_tls::sighup_swaps", "SIGHUP reaches each node in its own time; the test waits for one node's log line"),
    ("server_shutdown::sig", "a message ACKed on one node may still be on its way to a reader on another when the signal comes (the reader gets it on reconnect)"),
];

/// The end-to-end server suite, once more, against three nodes over one
/// Redis behind a round-robin proxy (every connection to the next node):
/// this test binary runs itself with `BANTER_E2E_CLUSTER=3`.
#[test]
fn the_server_suite_passes_against_three_nodes() {
    if cluster_mode().is_some() {
        return; // the inner run
    }
    let exe = std::env::current_exe().expect("test binary");
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("server_").env("BANTER_E2E_CLUSTER", "3");
    for (prefix, _why) in NOT_FOR_A_CLUSTER {
        cmd.args(["--skip", prefix]);
    }
    let out = cmd.output().expect("run the suite");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.lines().filter(|l| l.starts_with("test result")).collect::<Vec<_>>();
    eprintln!("the server suite against three nodes: {summary:?}");
    assert!(
        out.status.success() && summary.iter().any(|l| !l.contains(" 0 passed")),
        "the server suite failed against a cluster:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads frames until `n` MSGs came; returns their (id, text), skipping
/// anything else but what `other` accepts.
fn msgs(c: &mut Conn, n: usize) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    while out.len() < n {
        match next_app(c) {
            ServerFrame::Msg { id, text, .. } => out.push((id, text)),
            ServerFrame::Read { .. } => {}
            f => panic!("expected MSG, got {f:?}"),
        }
    }
    out
}

#[test]
fn a_killed_node_s_users_resume_elsewhere_and_the_others_are_lost_once() {
    let args = ["--rate", "0", "--linger-ms", "1000", "--heartbeat-ms", "60000"];
    let mut c = Cluster::start(3, &args);
    let mut ada = login(&c, 0, "ada");
    let mut dee = login(&c, 0, "dee");
    let mut bob = login(&c, 1, "bob");
    let mut cy = login(&c, 2, "cy");
    for x in [&mut ada, &mut dee, &mut bob, &mut cy] {
        join(x, "lobby", "lobby", 0, 0);
    }
    for (x, k) in [(&mut ada, 3), (&mut dee, 2), (&mut bob, 1)] {
        for _ in 0..k {
            assert!(matches!(next_app(x), ServerFrame::Presence { .. }));
        }
    }
    // ada sends ten SAYs; node 0 dies with some of them perhaps unanswered.
    let says: Vec<ClientFrame> = (1..=10).map(|i| say_f("lobby", i, &format!("m{i}"))).collect();
    ada.send_raw(&batch(&says));
    assert!(matches!(next_app(&mut ada), ServerFrame::Ack { seq: 1, .. }));
    let token = ada.token;
    c.kill9(0);
    // She resumes on node 1 and resends all ten: each is stored once.
    let mut ada = c.node(1).connect();
    ada.hello("ada", "", token);
    let ServerFrame::Welcome { resumed: 1, .. } = ada.expect_welcome() else { panic!("resumed") };
    ada.send_raw(&batch(&says));
    let acks: Vec<u64> = (1..=10)
        .map(|seq| match next_app(&mut ada) {
            ServerFrame::Ack { seq: s, id, .. } if s == seq => id,
            f => panic!("expected the ACK of {seq}, got {f:?}"),
        })
        .collect();
    assert_eq!(acks, (1..=10).collect::<Vec<u64>>(), "stored once each, in order");
    for x in [&mut bob, &mut cy] {
        let got = msgs(x, 10);
        let want: Vec<(u64, String)> = (1..=10).map(|i| (i, format!("m{i}"))).collect();
        assert_eq!(got, want, "nothing lost or doubled");
        // dee never came back: lost once, after the node's liveness ran out
        // and the linger; ada resumed, so nothing of her.
        let f = next_app_within(x, Duration::from_secs(10));
        assert_eq!(f, presence("lobby", "dee", 4));
        x.expect_silence(Duration::from_millis(2500));
    }
    assert_eq!(next_app(&mut ada), presence("lobby", "dee", 4));
    ada.send(&ClientFrame::Who { room: "lobby".into() });
    assert_eq!(roster_names(&read_rosters(&mut ada, "lobby")), ["ada", "bob", "cy"]);
}

#[test]
fn a_redis_restart_loses_nothing_acknowledged() {
    let mut c = Cluster::start(2, &["--rate", "0"]);
    let mut ada = login(&c, 0, "ada");
    let mut bob = login(&c, 1, "bob");
    let mut dee = login(&c, 0, "dee");
    join(&mut ada, "lobby", "lobby", 0, 0);
    join(&mut bob, "lobby", "lobby", 0, 0);
    next_app(&mut ada); // PRESENCE bob joined
    for seq in 1..=20 {
        say(&mut ada, "lobby", seq, &format!("m{seq}"));
    }
    assert_eq!(msgs(&mut bob, 20).last().map(|m| m.0), Some(20));
    // Redis down: a SAY is refused with STORAGE, nothing is stored.
    c.redis.stop();
    ada.send(&say_f("lobby", 21, "while down"));
    expect_error(&mut ada, ErrorCode::Storage, banter_proto::types::SAY, 21);
    // dee leaves while Redis cannot hear it: the session still ends there
    // once Redis is back, so the name is free again on every node.
    dee.send(&ClientFrame::Quit { reason: "bye".into() });
    dee.expect_closed();
    c.redis.start_again();
    // The nodes reconnect on their own; the SAY resent goes through.
    let end = std::time::Instant::now() + Duration::from_secs(10);
    let id = loop {
        ada.send(&say_f("lobby", 21, "after"));
        match next_app(&mut ada) {
            ServerFrame::Ack { id, .. } => break id,
            ServerFrame::Error { code, .. } if code == ErrorCode::Storage.code() => {
                assert!(std::time::Instant::now() < end, "Redis not back within 10 s");
                std::thread::sleep(Duration::from_millis(200));
            }
            f => panic!("unexpected {f:?}"),
        }
    };
    assert_eq!(id, 21);
    assert_eq!(msgs(&mut bob, 1), [(21, "after".to_string())]);
    // Everything acknowledged is in the history, once.
    let mut cy = login(&c, 1, "cy");
    let a = join(&mut cy, "lobby", "lobby", 0, 100);
    assert_eq!(ids(&a.history), (1..=21).collect::<Vec<u64>>());
    login(&c, 1, "dee");
}

/// A JOIN/LEAVE loop over new room names (the attack of issue 15) leaves
/// nothing behind in Redis: a room without members or messages is gone.
#[test]
fn rooms_joined_and_left_leave_no_keys_in_redis() {
    let c = Cluster::start(2, &["--rate", "0", "--join-rate", "0"]);
    let mut ada = login(&c, 0, "ada");
    let mut bob = login(&c, 1, "bob");
    join(&mut bob, "kept", "kept", 0, 0);
    join(&mut ada, "kept", "kept", 0, 0);
    next_app(&mut bob); // PRESENCE ada joined
    let before = c.redis.dbsize();
    for i in 0..20 {
        let room = format!("tmp{i}");
        join(&mut ada, &room, &room, 0, 0);
        ada.send(&ClientFrame::Leave { room: room.clone() });
        assert_eq!(next_app(&mut ada), ServerFrame::Left { room });
    }
    // LEAVE is answered at once; a WHO goes to Redis after its scripts.
    ada.send(&ClientFrame::Who { room: "kept".into() });
    assert_eq!(roster_names(&read_rosters(&mut ada, "kept")), ["bob", "ada"]);
    assert_eq!(c.redis.dbsize(), before, "keys left by rooms joined and left");
}

/// A password in the URL is sent as AUTH on both of a node's connections,
/// and never logged; a wrong one is said in the log, and sign-ins get
/// STORAGE rather than a hang.
#[test]
fn a_redis_password_is_sent_and_a_wrong_one_is_said() {
    let redis = banter_tests::redis::Redis::start_with(&["--requirepass", "s3cret"]);
    let url = |pw: &str| format!("redis://:{pw}@127.0.0.1:{}", redis.port);
    let good = Server::spawn_one(0, &["--cluster", &url("s3cret"), "--node-id", "good"], &[]);
    let mut ada = good.login("ada");
    join(&mut ada, "lobby", "lobby", 0, 0);
    say(&mut ada, "lobby", 1, "hello");
    let mut bob = good.login("bob");
    let a = join(&mut bob, "lobby", "lobby", 0, 10);
    assert_eq!(ids(&a.history), [1], "stored in Redis through the password");
    let bad = Server::spawn_one(0, &["--cluster", &url("wrong"), "--node-id", "bad"], &[]);
    bad.wait_log("Redis refused the password of --cluster");
    let mut cy = bad.connect();
    cy.hello("cy", "", 0);
    let frames = cy.expect_closed();
    assert!(
        matches!(frames.last(), Some(ServerFrame::Error { code, .. }) if *code == ErrorCode::Storage.code()),
        "{frames:?}"
    );
    for (node, pw) in [(&good, "s3cret"), (&bad, "wrong")] {
        assert!(node.log().iter().all(|l| !l.contains(pw)), "the password in the log");
    }
}
