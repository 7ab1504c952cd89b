//! Certificates made inside the tests (nothing committed that expires): a
//! throwaway CA, server certificates it signs (for `localhost` and
//! 127.0.0.1, or other names, or already expired), written as PEM files a
//! `banterd --tls-cert` can read, and a rustls client config trusting the CA.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::CertificateDer;
use rustls::ClientConfig;
use std::path::PathBuf;
use std::sync::Arc;

/// A CA and the directory its files live in (removed on drop).
pub struct Pki {
    /// Where the PEM files are written.
    pub dir: crate::TempDir,
    /// The CA's certificate, PEM file.
    pub ca_pem: PathBuf,
    /// The CA's certificate, DER, for client configs.
    ca_der: CertificateDer<'static>,
    /// What signs server certificates.
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    /// A new CA named `name` in a fresh temporary directory.
    pub fn new(name: &str) -> Pki {
        let dir = crate::TempDir::new(&format!("pki-{name}"));
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, format!("Banter test CA {name}"));
        let cert = params.self_signed(&key).expect("CA cert");
        let ca_pem = dir.0.join("ca.pem");
        std::fs::write(&ca_pem, cert.pem()).expect("write CA");
        let ca_der = cert.der().clone();
        Pki { dir, ca_pem, ca_der, issuer: Issuer::new(params, key) }
    }

    /// A server certificate for `localhost` and 127.0.0.1 as (cert, key) files.
    pub fn server(&self, tag: &str) -> (PathBuf, PathBuf) {
        self.leaf(tag, &["localhost"], false)
    }

    /// A server certificate for `names` (and 127.0.0.1 when `localhost` is
    /// one), expired a year ago if `expired`.
    pub fn leaf(&self, tag: &str, names: &[&str], expired: bool) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().expect("leaf key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("params");
        if names.iter().any(|n| n == "localhost") {
            params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
        }
        params.distinguished_name.push(DnType::CommonName, tag);
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let (c, k) = (self.dir.0.join(format!("{tag}.pem")), self.dir.0.join(format!("{tag}.key")));
        std::fs::write(&c, cert.pem()).expect("write cert");
        std::fs::write(&k, key.serialize_pem()).expect("write key");
        (c, k)
    }

    /// A client config that trusts this CA only.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        client_config(std::slice::from_ref(&self.ca_der), &[b"banter/1"])
    }
}

/// A rustls client config trusting `roots`, offering `alpn`.
pub fn client_config(roots: &[CertificateDer<'static>], alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r.clone()).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}
