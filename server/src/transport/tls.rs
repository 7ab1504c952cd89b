//! TLS settings: the certificate and key loaded from PEM files into a
//! rustls `ServerConfig` (TLS 1.2 and 1.3 only, ALPN `banter/1` and
//! `http/1.1`, the `ring` provider), and reloading them on SIGHUP. A new
//! pair applies to new connections; open ones keep theirs (each holds its
//! own `Arc` of the config). A pair that fails to load leaves the old one.

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// ALPN protocols offered, most preferred first.
pub const ALPN: [&[u8]; 2] = [b"banter/1", b"http/1.1"];

/// The server's TLS identity and where it came from.
pub struct TlsIdentity {
    /// The PEM certificate chain file.
    cert: PathBuf,
    /// The PEM private key file.
    key: PathBuf,
    /// What new connections use.
    current: Arc<ServerConfig>,
}

impl TlsIdentity {
    /// Loads the pair; the error is one line naming the file at fault.
    pub fn load(cert: &Path, key: &Path) -> Result<TlsIdentity, String> {
        let current = Arc::new(server_config(cert, key)?);
        Ok(TlsIdentity { cert: cert.to_path_buf(), key: key.to_path_buf(), current })
    }

    /// The config for a new connection.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current.clone()
    }

    /// Reads the files again; keeps the old pair if the new one fails.
    pub fn reload(&mut self) -> Result<(), String> {
        self.current = Arc::new(server_config(&self.cert, &self.key)?);
        Ok(())
    }
}

/// A `ServerConfig` from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: cannot read certificates: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: bad PEM certificate: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: no usable private key: {e}", key.display()))?;
    let provider = Arc::new(ring::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("{}: the key does not fit the certificate: {e}", cert.display()))?;
    cfg.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(cfg)
}
