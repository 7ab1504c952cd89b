//! `banter-bench` smoke tests: every scenario runs for about a second
//! against a real server and reports a sane structure (JSON that has the
//! figures, deliveries, no loss; for receipts every READ within §9's
//! rules, for files every byte back as sent). Servers: banterd (with
//! `--files` for the files scenario); redis-server over TLS
//! (`rediss://`, skipped with a message when redis-server or openssl is not
//! installed); the Node `ws` baseline, plain and over TLS (`wsbase://`,
//! `wsbases://`, skipped when node or npm is missing). No speed figure is
//! asserted.

use banter_tests::*;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Runs `banter-bench SCENARIO --target URL --json -q …`, bounded in time.
fn run_bench(url: &str, pid: u32, scenario: &str, args: &[&str]) -> (ExitStatus, String, String) {
    run_timed(url, pid, scenario, ("0.2", "1"), args)
}

/// [`run_bench`] with (warm-up, measured) seconds per window.
fn run_timed(
    url: &str,
    pid: u32,
    scenario: &str,
    (warmup, duration): (&str, &str),
    args: &[&str],
) -> (ExitStatus, String, String) {
    let pid = pid.to_string();
    let target = ["--target", url, "--server-pid", &pid];
    run_args(scenario, &target, (warmup, duration), args)
}

/// Runs `banter-bench SCENARIO TARGET… --json -q …` with (warm-up,
/// measured) seconds per window, bounded in time.
pub(crate) fn run_args(
    scenario: &str,
    target: &[&str],
    (warmup, duration): (&str, &str),
    args: &[&str],
) -> (ExitStatus, String, String) {
    let mut child = Command::new(bin("banter-bench"))
        .arg(scenario)
        .args(target)
        .args(["--json", "--quiet", "--warmup", warmup, "--duration", duration])
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
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    (status, text(&out.stdout), text(&out.stderr))
}

/// As [`run_bench`], which must succeed; returns its JSON line.
fn bench_at(url: &str, pid: u32, scenario: &str, args: &[&str]) -> String {
    let (status, line, stderr) = run_bench(url, pid, scenario, args);
    assert!(status.success(), "{scenario} {url} failed: {status}\n{line}\n{stderr}");
    assert!(line.starts_with('{') && line.ends_with('}'), "not JSON: {line}");
    line
}

/// Runs `banter-bench SCENARIO` against banterd `s`; returns its JSON line.
fn bench(s: &Server, scenario: &str, args: &[&str]) -> String {
    bench_at(&format!("banter://{}", s.addr), s.pid(), scenario, args)
}

/// The number after `"key":` in a flat JSON object.
pub(crate) fn num(json: &str, key: &str) -> f64 {
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

/// Checks a fan-out run to `r` receivers: all delivered, nothing lost.
pub(crate) fn check_fanout(j: &str, r: f64) {
    assert!(num(j, "delivered") > 0.0, "{j}");
    assert_eq!(num(j, "delivered"), num(j, "sent") * r, "{j}");
    assert_eq!((num(j, "lost"), num(j, "reordered")), (0.0, 0.0), "{j}");
}

#[test]
fn fanout_closed_and_open_loop() {
    let s = server();
    let j = bench(&s, "fanout", &["-r", "20", "-s", "3", "-w", "4", "-b", "64"]);
    check_fanout(&j, 20.0);
    assert!(num(&j, "p99_us") > 0.0 && num(&j, "server_cpu_s") >= 0.0, "{j}");
    assert!(num(&j, "harness_loops_per_s") > 0.0 && num(&j, "sends_per_loop") > 0.0, "{j}");
    assert!(j.contains("\"harness_wait_pct\":") && j.contains("\"disturbed\":"), "{j}");
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

/// Until banterd speaks WebSocket the harness must say so clearly (and
/// fast); once it does, the same run must deliver everything.
#[test]
fn banter_over_websocket_delivers_everything() {
    let s = server();
    let url = format!("ws://{}/ws", s.addr);
    let (status, line, stderr) = run_bench(&url, s.pid(), "fanout", &["-r", "5", "-w", "2"]);
    assert!(status.success(), "ws:// against banterd: {stderr}");
    check_fanout(&line, 5.0);
}

#[test]
fn banter_over_tls_and_wss_deliver_everything() {
    let pki = banter_tests::pki::Pki::new("bench");
    let (cert, key) = pki.server("server");
    let (cert, key) = (cert.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let s = Server::start(&[
        "--rate",
        "0",
        "--max-clients",
        "2000",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let ca = pki.ca_pem.to_string_lossy().into_owned();
    for url in
        [format!("banters://localhost:{}", s.port()), format!("wss://localhost:{}/ws", s.port())]
    {
        let (status, line, stderr) =
            run_bench(&url, s.pid(), "fanout", &["-r", "5", "-w", "2", "--ca", &ca]);
        assert!(status.success(), "{url}: {stderr}");
        check_fanout(&line, 5.0);
    }
    let url = format!("banters://localhost:{}", s.port());
    let line = bench_at(&url, s.pid(), "connections", &["-n", "20", "--ca", &ca]);
    assert!(num(&line, "handshakes") >= 20.0, "a full TLS handshake per connection: {line}");
}

/// A child process killed (by its pid) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// A throwaway CA and a certificate for 127.0.0.1 it signed, made with
/// openssl in `dir`: (ca.pem, server.pem, server.key).
fn make_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |n: &str| dir.join(n);
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let s = |x: &PathBuf| x.to_str().expect("utf-8 path").to_string();
    let (ca, ca_key, csr) = (s(&p("ca.pem")), s(&p("ca.key")), s(&p("server.csr")));
    let (cert, key, ext) = (s(&p("server.pem")), s(&p("server.key")), s(&p("ext.cnf")));
    let mut req = vec!["req", "-x509", "-days", "1", "-subj", "/CN=test CA"];
    req.extend(ec);
    ssl(&[&req[..], &["-keyout", &ca_key, "-out", &ca]].concat());
    let mut req = vec!["req", "-subj", "/CN=localhost"];
    req.extend(ec);
    ssl(&[&req[..], &["-keyout", &key, "-out", &csr]].concat());
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n").expect("ext");
    let sign = ["x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-CAcreateserial"];
    ssl(&[&sign[..], &["-days", "1", "-extfile", &ext, "-out", &cert]].concat());
    (p("ca.pem"), p("server.pem"), p("server.key"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port()
}

/// Waits until `addr` accepts a TCP connection (10 s at most).
fn wait_accepting(addr: SocketAddr, child: &mut Child) {
    let end = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(child.try_wait().expect("try_wait").is_none(), "the server exited");
        assert!(Instant::now() < end, "nothing accepts on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn redis_over_tls_every_scenario_with_full_handshakes() {
    if !have("redis-server") || !have("openssl") {
        eprintln!("SKIPPED: rediss:// needs redis-server and openssl (apt-get install redis-server openssl)");
        return;
    }
    let dir = TempDir::new("bench-tls");
    let (ca, cert, key) = make_pki(&dir.0);
    let port = free_port();
    let mut child = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-key-file")
        .arg(&key)
        .arg("--tls-ca-cert-file")
        .arg(&ca)
        .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
        .args(["--protected-mode", "no", "--daemonize", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    wait_accepting(([127, 0, 0, 1], port).into(), &mut child);
    let redis = Proc(child);
    let (url, pid) = (format!("rediss://127.0.0.1:{port}"), redis.0.id());
    let ca = ca.to_str().expect("utf-8 path");
    let j = bench_at(&url, pid, "fanout", &["--ca", ca, "-r", "20", "-s", "2", "-w", "4"]);
    check_fanout(&j, 20.0);
    assert!(j.contains("\"tls\":\"TLSv1_3 "), "{j}");
    let j = bench_at(&url, pid, "connections", &["--ca", ca, "-n", "100"]);
    assert_eq!((num(&j, "reached"), num(&j, "handshakes")), (100.0, 100.0), "{j}");
    let j = bench_at(&url, pid, "churn", &["--ca", ca, "-n", "5"]);
    // Each cycle is a full handshake (one may have begun before the window).
    assert!(num(&j, "cycles") > 0.0 && num(&j, "handshakes") + 5.0 >= num(&j, "cycles"), "{j}");
    // A server whose certificate the harness does not trust is refused,
    // unless verification is skipped on purpose.
    let (status, _, err) = run_bench(&url, pid, "churn", &["-n", "1"]);
    assert!(!status.success() && err.contains("certificate"), "{status} {err}");
    let j = bench_at(&url, pid, "churn", &["--insecure-skip-verify", "-n", "2"]);
    assert!(num(&j, "cycles") > 0.0, "{j}");
}

/// The baseline's folder, its dependencies installed (`npm ci`) if need be.
fn ws_baseline() -> Option<PathBuf> {
    if !have("node") || !have("npm") {
        eprintln!("SKIPPED: wsbase:// needs node and npm (apt-get install nodejs npm)");
        return None;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/ws-baseline");
    if !dir.join("node_modules/ws/package.json").exists() {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .expect("run npm ci");
        assert!(st.success(), "npm ci in bench/ws-baseline failed");
    }
    Some(dir)
}

/// Starts the Node baseline with `args`; its address once it listens.
fn start_baseline(dir: &Path, args: &[&str]) -> (Proc, SocketAddr) {
    let mut child = Command::new("node")
        .arg(dir.join("server.js"))
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(10)).expect("the baseline said nothing");
    let addr = first.split("listening on ").nth(1).unwrap_or_else(|| panic!("{first}"));
    (Proc(child), addr.trim().parse().expect("listening address"))
}

#[test]
fn node_ws_baseline_plain_and_over_tls() {
    let Some(dir) = ws_baseline() else {
        return;
    };
    let (node, addr) = start_baseline(&dir, &[]);
    let (url, pid) = (format!("wsbase://{addr}/ws"), node.0.id());
    let j = bench_at(&url, pid, "fanout", &["-r", "20", "-s", "2", "-w", "4"]);
    check_fanout(&j, 20.0);
    let j = bench_at(&url, pid, "fanout", &["-r", "10", "--rate", "200"]);
    check_fanout(&j, 10.0);
    let j = bench_at(&url, pid, "connections", &["-n", "100"]);
    assert_eq!(num(&j, "reached"), 100.0, "{j}");
    let j = bench_at(&url, pid, "churn", &["-n", "5"]);
    assert!(num(&j, "cycles") > 0.0, "{j}");
    drop(node);
    if !have("openssl") {
        return eprintln!("SKIPPED: wsbases:// needs openssl");
    }
    let tmp = TempDir::new("bench-wss");
    let (ca, cert, key) = make_pki(&tmp.0);
    let s = |p: &PathBuf| p.to_str().expect("utf-8 path").to_string();
    let (node, addr) = start_baseline(&dir, &["--tls-cert", &s(&cert), "--tls-key", &s(&key)]);
    let url = format!("wsbases://localhost:{}/ws", addr.port());
    let j = bench_at(&url, node.0.id(), "fanout", &["--ca", &s(&ca), "-r", "10", "-s", "2"]);
    check_fanout(&j, 10.0);
    let j = bench_at(&url, node.0.id(), "churn", &["--ca", &s(&ca), "-n", "3"]);
    assert!(num(&j, "cycles") > 0.0 && num(&j, "handshakes") + 3.0 >= num(&j, "cycles"), "{j}");
}

/// Receipts: a room of 6 where everyone marks everything (windows of 2.5 s,
/// long enough that READs faster than one a second would show), then one
/// of 101 members, where no READ may come at all.
#[test]
fn receipts_mark_everything_and_reads_keep_the_pace() {
    let s = server();
    let url = format!("banter://{}", s.addr);
    let args = ["--members", "6", "-s", "1", "-w", "2", "--runs", "1"];
    let (status, j, err) = run_timed(&url, s.pid(), "receipts", ("0.3", "2.5"), &args);
    assert!(status.success(), "{err}\n{j}");
    assert_eq!((num(&j, "members"), num(&j, "receivers"), num(&j, "pairs")), (6.0, 5.0, 1.0));
    assert!(num(&j, "marks_per_s") > 0.0 && num(&j, "reads_per_s") > 0.0, "{j}");
    assert_eq!((num(&j, "read_pairs"), num(&j, "read_pairs_expected")), (30.0, 30.0), "{j}");
    let (max, bound) = (num(&j, "read_pair_max"), num(&j, "read_bound"));
    assert!(max >= 2.0 && max <= bound, "READs of one pair: {j}");
    assert_eq!((num(&j, "read_violations"), num(&j, "read_pairs_missing")), (0.0, 0.0), "{j}");
    assert!(num(&j, "off_server_cpu_s_per_m") > 0.0 && num(&j, "cpu_ratio") > 0.0, "{j}");
    assert!(num(&j, "off_delivered_per_s") > 0.0 && num(&j, "on_p99_us") > 0.0, "{j}");
    assert_eq!((num(&j, "lost"), num(&j, "reordered")), (0.0, 0.0), "{j}");
    let big = ["--members", "101", "-s", "1", "--rate", "50", "--runs", "1"];
    let j = bench(&s, "receipts", &big);
    assert!(num(&j, "marks_per_s") > 0.0, "{j}");
    assert_eq!((num(&j, "reads_per_s"), num(&j, "read_pairs_expected")), (0.0, 0.0), "{j}");
}

/// Files: a 2 MiB file up and down over TCP and TLS while three
/// connections chat; a server without `--files` is named as the reason.
#[test]
fn files_move_up_and_down_while_others_chat() {
    let dir = TempDir::new("bench-files");
    let files = dir.0.join("files").display().to_string();
    let pki = banter_tests::pki::Pki::new("bench-files");
    let (cert, key) = pki.server("server");
    let (cert, key) = (cert.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let s =
        Server::start(&["--rate", "0", "--files", &files, "--tls-cert", &cert, "--tls-key", &key]);
    let ca = pki.ca_pem.to_string_lossy().into_owned();
    let args = ["--file-size", "2M", "--rate", "300", "--runs", "1"];
    let tcp = format!("banter://127.0.0.1:{}", s.port());
    let tls = format!("banters://localhost:{}", s.port());
    for (url, extra) in [(tcp, vec![]), (tls, vec!["--ca", ca.as_str()])] {
        let j = bench_at(&url, s.pid(), "files", &[&args[..], &extra[..]].concat());
        assert!(num(&j, "uploads") >= 1.0 && num(&j, "downloads") >= 1.0, "{j}");
        assert!(num(&j, "upload_mb_per_s") > 0.0 && num(&j, "download_mb_per_s") > 0.0, "{j}");
        assert!(num(&j, "upload_wire_mb_per_s") >= num(&j, "upload_mb_per_s"), "{j}");
        for phase in ["idle", "upload", "download"] {
            for side in ["same", "other"] {
                assert!(num(&j, &format!("{phase}_{side}_p99_us")) > 0.0, "{phase} {side}: {j}");
            }
        }
        assert_eq!((num(&j, "file_errors"), num(&j, "lost"), num(&j, "errors")), (0.0, 0.0, 0.0));
        assert_eq!(url.starts_with("banters"), j.contains("\"tls\":\"TLSv1_3"), "{j}");
    }
    let plain = server();
    let (status, _, err) =
        run_bench(&format!("banter://{}", plain.addr), plain.pid(), "files", &args);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("--files"), "{err}");
}
