//! `banter-bench` smoke test: every scenario runs for about a second
//! against a real banterd and reports a sane structure (JSON that has the
//! figures, deliveries, no loss). No speed figure is asserted.

use banter_tests::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `banter-bench SCENARIO --json` against `s`, bounded in time;
/// returns its JSON line.
fn bench(s: &Server, scenario: &str, args: &[&str]) -> String {
    let target = format!("banter://{}", s.addr);
    let pid = s.pid().to_string();
    let mut child = Command::new(bin("banter-bench"))
        .args([scenario, "--target", &target, "--server-pid", &pid])
        .args(["--json", "--quiet", "--warmup", "0.2", "--duration", "1"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn banter-bench");
    let end = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("banter-bench {scenario} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "{scenario} failed: {status}\n{stdout}\n{stderr}");
    let line = stdout.trim().to_string();
    assert!(line.starts_with('{') && line.ends_with('}'), "not JSON: {line}");
    line
}

/// The number after `"key":` in a flat JSON object.
fn num(json: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\":");
    let at = json.find(&pat).unwrap_or_else(|| panic!("no {key} in {json}")) + pat.len();
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].parse().unwrap_or_else(|_| panic!("{key} is not a number in {json}"))
}

fn server() -> Server {
    Server::start(&[
        "--rate",
        "0",
        "--max-clients",
        "2000",
        "--max-per-ip",
        "0",
        "--conn-rate",
        "0",
        "--join-rate",
        "0",
        "--query-rate",
        "0",
    ])
}

#[test]
fn fanout_closed_and_open_loop() {
    let s = server();
    let j = bench(&s, "fanout", &["-r", "20", "-s", "3", "-w", "4", "-b", "64"]);
    assert!(num(&j, "delivered") > 0.0, "{j}");
    assert_eq!(num(&j, "delivered"), num(&j, "sent") * 20.0, "{j}");
    assert_eq!((num(&j, "lost"), num(&j, "reordered")), (0.0, 0.0), "{j}");
    assert!(num(&j, "p99_us") > 0.0 && num(&j, "server_cpu_s") >= 0.0, "{j}");
    let j = bench(&s, "fanout", &["-r", "10", "-s", "2", "--rate", "500", "-b", "100"]);
    assert!(num(&j, "delivered") > 0.0 && num(&j, "lost") == 0.0, "{j}");
    assert!(j.contains("\"loop\":\"open\""), "{j}");
}

#[test]
fn connections_churn_and_replay() {
    let s = server();
    let j = bench(&s, "connections", &["-n", "200", "--connect-rate", "2000"]);
    assert_eq!(num(&j, "reached"), 200.0, "{j}");
    assert!(num(&j, "rss_after") > 0.0, "{j}");
    let j = bench(&s, "churn", &["-n", "5"]);
    assert!(num(&j, "cycles") > 0.0, "{j}");
    let j = bench(&s, "replay", &["-n", "2", "--history", "500", "--limit", "200"]);
    assert!(num(&j, "replayed_per_s") > 0.0, "{j}");
}
