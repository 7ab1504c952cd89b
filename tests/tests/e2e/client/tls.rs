//! `banter --tls` and `--ca` against a real `banterd` with a certificate:
//! chat with a self-signed server (a certificate marked as a CA, as
//! `openssl req -x509` makes it), each refused certificate as one line
//! naming `--ca` with no retrying, and a reconnect over TLS that resumes.

use super::outage::Proxy;
use super::*;
use banter_tests::pki::Pki;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use std::path::{Path, PathBuf};

/// A self-signed certificate for localhost and 127.0.0.1 that says it is
/// a CA, written as (cert, key) PEM files into `dir`.
pub(super) fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = params.self_signed(&key).expect("self-signed");
    let (c, k) = (dir.join("self.pem"), dir.join("self.key"));
    std::fs::write(&c, cert.pem()).expect("write cert");
    std::fs::write(&k, key.serialize_pem()).expect("write key");
    (c, k)
}

pub(super) fn path(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

/// A `banterd` with the certificate `cert` and `key`, plus `args`.
pub(super) fn tls_server(cert: &Path, key: &Path, args: &[&str]) -> Server {
    let (c, k) = (path(cert), path(key));
    let mut all = vec!["--tls-cert", c.as_str(), "--tls-key", k.as_str()];
    all.extend_from_slice(args);
    Server::start(&all)
}

#[test]
fn chat_over_tls_with_a_self_signed_server() {
    let dir = TempDir::new("client-tls-self");
    let (cert, key) = self_signed(&dir.0);
    // Nothing in clear from anywhere: whoever chats here speaks TLS.
    let s = tls_server(&cert, &key, &["--require-tls", "--trust-plain", "none"]);
    let ca = path(&cert);
    let t = Tmux::start(&client_cmd(s.port(), &format!("--name ada --ca {ca}")), 100, 20);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    let (code, out) = line_mode(s.port(), &["--ca", &ca, "--name", "carl"], "from carl\n");
    assert_eq!((code, untimed(&out).contains("[lobby] <carl> from carl")), (0, true), "{out}");
    t.wait_for("<carl> from carl");
    t.type_text("hello over TLS");
    t.keys(&["Enter"]);
    t.wait("acked", |sc| sc.contains("<ada> hello over TLS") && !sc.contains("sending"));
    let (code, out) = line_mode(s.port(), &["--tls", "--ca", &ca, "--name", "dora"], "");
    assert_eq!(code, 0, "{out}");
    assert!(untimed(&out).contains("[lobby] ~ <ada> hello over TLS"), "{out}");
    // In clear, the same server refuses: the chat above really was TLS.
    let (code, out) = line_mode(s.port(), &["--name", "eve"], "hi\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! offline") && out.contains("TLS_REQUIRED"), "{out}");
    assert!(out.contains("connect with --tls"), "{out}");
}

/// Runs line mode against `port` trusting `ca`, retrying for ever; the
/// one line it printed about the refusal.
fn refused(port: u16, ca: &Path, host: &str) -> String {
    let args = ["--ca", &path(ca), "--host", host, "--name", "ada", "--reconnect-attempts", "0"];
    let (code, out) = line_mode(port, &args, "hello\n");
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("TLS")).collect();
    assert_eq!(lines.len(), 1, "one line, no retries:\n{out}");
    assert!(!out.contains("reconnecting"), "{out}");
    let line = lines[0].to_string();
    assert!(line.starts_with("! offline: no connection to "), "{line}");
    assert!(line.contains("--ca"), "{line}");
    line
}

#[test]
fn a_refused_certificate_is_one_line_and_not_retried() {
    let (ours, theirs) = (Pki::new("ours"), Pki::new("theirs"));
    let (cert, key) = theirs.server("server");
    let s = tls_server(&cert, &key, &[]);
    let line = refused(s.port(), &ours.ca_pem, "127.0.0.1");
    assert!(line.contains("is self-signed or from an authority"), "{line}");

    let (cert, key) = ours.leaf("other-name", &["chat.example.org"], false);
    let s = tls_server(&cert, &key, &[]);
    let line = refused(s.port(), &ours.ca_pem, "127.0.0.1");
    assert!(line.contains("is for chat.example.org, not 127.0.0.1"), "{line}");
    assert!(line.contains("--host"), "{line}");

    let (cert, key) = ours.leaf("expired", &["localhost"], true);
    let s = tls_server(&cert, &key, &[]);
    let line = refused(s.port(), &ours.ca_pem, "localhost");
    assert!(line.contains("expired on 2021-01-01"), "{line}");

    // The full-screen client says it on its one line and goes offline.
    let ca = path(&theirs.ca_pem);
    let (cert, key) = ours.server("server");
    let s = tls_server(&cert, &key, &[]);
    let cmd = client_cmd(s.port(), &format!("--name ada --ca {ca} --reconnect-attempts 0"));
    let t = Tmux::start(&cmd, 200, 12);
    let sc = t.wait("offline", |sc| status_bar(sc).contains("offline"));
    assert!(sc.contains("is self-signed or from an authority") && sc.contains("--ca"), "{sc}");
    assert_eq!(count(&sc, "TLS:"), 1, "{sc}");
}

#[test]
fn tls_to_a_server_without_tls_and_a_missing_ca_file_say_so() {
    let s = Server::start(&[]);
    let args = ["--tls", "--name", "ada", "--reconnect-attempts", "1"];
    let (code, out) = line_mode(s.port(), &args, "hello\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("during the TLS handshake (does it have a certificate?)"), "{out}");
    let out = Command::new(bin("banter"))
        .args(["--ca", "/nonexistent/ca.pem", "--name", "ada"])
        .stdin(Stdio::null())
        .output()
        .expect("run banter");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        "banter: --ca /nonexistent/ca.pem: cannot read it: No such file or directory"
    );
}

#[test]
fn a_reconnect_over_tls_resumes_with_nothing_lost_or_doubled() {
    let pki = Pki::new("resume");
    let (cert, key) = pki.server("server");
    let s = tls_server(&cert, &key, &[]);
    let proxy = Proxy::start(s.addr);
    let ca = path(&pki.ca_pem);
    let extra = format!("--name ada --host localhost --ca {ca} --reconnect-attempts 0");
    // The client is built (if it must be) before bob starts to wait.
    let cmd = client_cmd(proxy.port, &extra);
    let mut bob = member(s.addr, "bob", "lobby");
    let t = Tmux::start(&cmd, 100, 30);
    t.wait("connected", |sc| status_bar(sc).contains("connected") && sc.contains("#lobby"));
    say(&mut bob, "lobby", 1, "before outage");
    t.wait_for("before outage");
    proxy.cut();
    t.wait("reconnecting", |sc| status_bar(sc).contains("reconnecting"));
    say(&mut bob, "lobby", 2, "missed one");
    t.type_text("sent while away");
    t.keys(&["Enter"]);
    t.wait("a pending line", |sc| status_bar(sc).contains("1 unsent"));
    proxy.restore();
    let sc = t.wait("caught up", |sc| {
        status_bar(sc).contains("connected") && sc.contains("missed one") && !sc.contains("sending")
    });
    assert!(sc.contains("session resumed as ada"), "resumed, not a new session:\n{sc}");
    for line in ["before outage", "missed one", "sent while away"] {
        assert_eq!(count(&sc, line), 1, "{line:?} shown once:\n{sc}");
    }
    assert_eq!(next_msg(&mut bob), ("ada".into(), "sent while away".into()));
    no_msg_within(&mut bob, Duration::from_millis(300));
    let tls = ["--host", "localhost", "--ca", ca.as_str()];
    super::outage::line_mode_resumes_through_a_cut(&s, &tls);
}
