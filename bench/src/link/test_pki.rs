//! Test support: a throwaway CA and a server certificate for 127.0.0.1 and
//! localhost it signed (rcgen), a rustls server configuration using them,
//! temporary PEM files, and the subprotocol answer of a tungstenite server.
//! Tests only.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::crypto::ring;
use rustls::ServerConfig;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// A CA and a server certificate signed by it.
pub struct Pki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// A server configuration presenting the signed certificate.
    pub server: Arc<ServerConfig>,
}

impl Pki {
    /// A fresh CA and server certificate; the server offers `alpn`.
    pub fn new(alpn: &[&[u8]]) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(params, ca_key);
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(names).unwrap().signed_by(&leaf_key, &issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let mut server = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap();
        server.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
        Pki { ca_pem: ca.pem(), server: Arc::new(server) }
    }
}

/// Writes `text` to a fresh file in the temporary directory.
pub fn temp_file(text: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!("banter-bench-{}-{n}.pem", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

/// A tungstenite server callback that agrees to subprotocol `banter.1`
/// (its signature is tungstenite's, hence the large error type).
#[allow(clippy::result_large_err)]
pub fn agree_banter(
    _req: &tungstenite::handshake::server::Request,
    mut resp: tungstenite::handshake::server::Response,
) -> Result<tungstenite::handshake::server::Response, tungstenite::handshake::server::ErrorResponse>
{
    resp.headers_mut().insert("Sec-WebSocket-Protocol", super::WS_PROTOCOL.parse().unwrap());
    Ok(resp)
}
