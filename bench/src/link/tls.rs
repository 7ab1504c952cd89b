//! The harness's TLS client configuration (rustls with the `ring`
//! provider): which certificates it trusts (the system's roots, plus a PEM
//! file given with `--ca`), the ALPN it offers, and no session resumption,
//! so that every new connection costs the server a full handshake.
//!
//! `--insecure-skip-verify` accepts any server certificate, for benchmarks
//! only; the handshake signature is still checked, so the client does the
//! same work per handshake as one that verifies (minus the chain).
//! It opens no connection (`link.rs` does).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::{ring, CryptoProvider};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::PathBuf;
use std::sync::Arc;

/// ALPN of Banter over TLS (§7).
pub const ALPN_BANTER: &[u8] = b"banter/1";
/// ALPN of HTTP (a WebSocket upgrade over TLS).
pub const ALPN_HTTP: &[u8] = b"http/1.1";

/// How the harness checks the servers it talks TLS to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOpts {
    /// A PEM file of certificates to trust besides the system's roots
    /// (the throwaway CA of a benchmark, or a self-signed server certificate).
    pub ca: Option<PathBuf>,
    /// Accept any certificate (INSECURE: benchmarks on loopback only).
    pub insecure: bool,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The client configuration for `opts`, offering `alpn`.
pub fn client_config(opts: &TlsOpts, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let mut cfg = if opts.insecure {
        let verifier = Arc::new(AnyCertificate(provider()));
        builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
    } else {
        builder.with_root_certificates(roots(opts)?).with_no_client_auth()
    };
    cfg.resumption = Resumption::disabled();
    cfg.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
    Ok(Arc::new(cfg))
}

/// The system's roots plus the certificates of `opts.ca`.
fn roots(opts: &TlsOpts) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    store.add_parsable_certificates(system.certs);
    if let Some(path) = &opts.ca {
        let shown = path.display();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("--ca {shown}: {e}"))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--ca {shown}: {e}"))?;
        if certs.is_empty() {
            return Err(format!("--ca {shown}: no PEM certificate in it"));
        }
        for c in certs {
            store.add(c).map_err(|e| format!("--ca {shown}: {e}"))?;
        }
    }
    if store.is_empty() {
        return Err("TLS: no trusted certificates (no system roots): give --ca PATH".into());
    }
    Ok(store)
}

/// The name the certificate must be valid for: the URL's host.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string()).map_err(|e| format!("TLS server name {host:?}: {e}"))
}

/// Accepts any certificate but still checks the handshake's signature
/// against it (`--insecure-skip-verify`).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a finished handshake negotiated, for reports:
/// `TLSv1_3 TLS13_AES_256_GCM_SHA384 X25519`.
pub fn summary(c: &rustls::ClientConnection) -> String {
    let v = c.protocol_version().map_or("?".into(), |v| format!("{v:?}"));
    let s = c.negotiated_cipher_suite().map_or("?".into(), |s| format!("{:?}", s.suite()));
    let g = c.negotiated_key_exchange_group().map_or("?".into(), |g| format!("{:?}", g.name()));
    format!("{v} {s} {g}")
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
