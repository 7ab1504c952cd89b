//! Tests of the TLS client configuration.

use super::*;
use crate::link::test_pki::{temp_file, Pki};

#[test]
fn a_ca_file_is_trusted_and_bad_files_are_refused_with_the_reason() {
    let pki = Pki::new(&[]);
    let ca = temp_file(&pki.ca_pem);
    let opts = TlsOpts { ca: Some(ca.clone()), insecure: false };
    let cfg = client_config(&opts, &[ALPN_BANTER]).unwrap();
    assert_eq!(cfg.alpn_protocols, vec![b"banter/1".to_vec()]);
    let _ = std::fs::remove_file(ca);

    let none = TlsOpts { ca: Some("/nonexistent/ca.pem".into()), insecure: false };
    let e = client_config(&none, &[]).unwrap_err();
    assert!(e.contains("--ca /nonexistent/ca.pem"), "{e}");
    let empty = temp_file("not a certificate\n");
    let e = client_config(&TlsOpts { ca: Some(empty.clone()), insecure: false }, &[]).unwrap_err();
    assert!(e.contains("no PEM certificate"), "{e}");
    let _ = std::fs::remove_file(empty);
}

#[test]
fn insecure_mode_builds_and_names_are_checked() {
    let cfg = client_config(&TlsOpts { ca: None, insecure: true }, &[ALPN_HTTP]).unwrap();
    assert_eq!(cfg.alpn_protocols, vec![b"http/1.1".to_vec()]);
    assert!(server_name("127.0.0.1").is_ok());
    assert!(server_name("localhost").is_ok());
    assert!(server_name("bad name!").unwrap_err().contains("bad name!"));
}
