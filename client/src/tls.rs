//! What TLS trusts and how a refusal reads. The rustls client config
//! (TLS 1.2 and 1.3, the `ring` provider, ALPN `banter/1`) trusts the
//! system's root certificates, found as OpenSSL would (`SSL_CERT_FILE`,
//! `SSL_CERT_DIR`, else Debian's `/etc/ssl/certs`), plus the certificates
//! of `--ca`. A certificate given with `--ca` is also trusted exactly as
//! it is, even when it is a self-signed certificate marked as a CA (what
//! `openssl req -x509` makes), which WebPKI alone refuses as a server's.
//!
//! It does no I/O on sockets (`conn` drives the rustls connection) and
//! decides nothing about retrying (`net` does).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use rustls::{Error, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

mod explain;
pub use explain::explain;

/// Where TLS connections go and what they trust.
#[derive(Debug, Clone)]
pub struct TlsTarget {
    /// The rustls settings shared by every connection (and its session
    /// cache, so a reconnect resumes the TLS session too).
    pub config: Arc<ClientConfig>,
    /// The name the server's certificate must carry (`--host`).
    pub name: ServerName<'static>,
}

impl TlsTarget {
    /// TLS to `host`, trusting the system's roots and the PEM file `ca`.
    pub fn new(host: &str, ca: Option<&Path>) -> Result<TlsTarget, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| format!("--host {host:?}: not a name or address TLS can check"))?;
        let pinned = match ca {
            Some(path) => read_pem(path)?,
            None => Vec::new(),
        };
        Ok(TlsTarget { config: client_config(pinned)?, name })
    }
}

/// The certificates of a PEM file; an error names the file and the fix.
fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("--ca {shown}: cannot read it: {}", plain(&e.to_string())))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--ca {shown}: not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "--ca {shown}: no certificate in it (expected PEM, BEGIN CERTIFICATE)"
        ));
    }
    Ok(certs)
}

/// "No such file or directory", without "I/O error: " and "(os error 2)".
fn plain(s: &str) -> String {
    let s = s.strip_prefix("I/O error: ").unwrap_or(s);
    s.split(" (os error").next().unwrap_or(s).to_string()
}

/// The config: system roots and `pinned`, checked by [`Verifier`].
fn client_config(pinned: Vec<CertificateDer<'static>>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for c in &pinned {
        roots.add(c.clone()).map_err(|e| format!("--ca: the certificate is unusable: {e}"))?;
    }
    if roots.is_empty() {
        return Err("TLS: this system has no root certificates (install ca-certificates) \
                    and no --ca PATH was given"
            .into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("TLS: {e}"))?;
    let verifier = Arc::new(Verifier { inner, pinned });
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"banter/1".to_vec()];
    Ok(Arc::new(cfg))
}

/// rustls' WebPKI verifier, plus the exact certificates of `--ca`.
#[derive(Debug)]
struct Verifier {
    /// Checks chains, dates and names against every trusted root.
    inner: Arc<WebPkiServerVerifier>,
    /// The certificates given with `--ca`, trusted as they are.
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let result = self.inner.verify_server_cert(end_entity, intermediates, name, ocsp, now);
        match result {
            Err(Error::InvalidCertificate(CertificateError::Other(e)))
                if is_ca_as_end_entity(&e) && self.pinned.iter().any(|p| p == end_entity) =>
            {
                // WebPKI checks the dates before it refuses a CA as a
                // server's certificate: what is left is the name.
                check_name(end_entity, name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Whether WebPKI refused a CA certificate as a server's certificate.
pub fn is_ca_as_end_entity(e: &rustls::OtherError) -> bool {
    matches!(e.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity))
}

/// Whether `cert` names `name`, as rustls reports it when it does not.
fn check_name(cert: &CertificateDer<'_>, name: &ServerName<'_>) -> Result<(), Error> {
    let ee = webpki::EndEntityCert::try_from(cert).map_err(|_| CertificateError::BadEncoding)?;
    ee.verify_is_valid_for_subject_name(name).map_err(|e| match e {
        webpki::Error::CertNotValidForName(cx) => {
            let (expected, presented) = (cx.expected, cx.presented);
            CertificateError::NotValidForNameContext { expected, presented }.into()
        }
        _ => CertificateError::NotValidForName.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ca_files_are_one_line_errors() {
        let dir = std::env::temp_dir().join(format!("banter-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "just words\n").unwrap();
        let bad = dir.join("bad.pem");
        std::fs::write(&bad, "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
            .unwrap();
        let missing = dir.join("missing.pem");
        for (path, want) in [(&empty, "no certificate"), (&bad, "not a PEM"), (&missing, "cannot")]
        {
            let e = TlsTarget::new("localhost", Some(path)).unwrap_err();
            assert!(e.starts_with("--ca ") && e.contains(want) && !e.contains('\n'), "{e}");
            assert!(!e.contains("os error"), "{e}");
        }
        let e = TlsTarget::new("not a host", None).unwrap_err();
        assert!(e.contains("--host"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
