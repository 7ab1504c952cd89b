//! A refused server certificate as one line for the user: what failed,
//! and what fixes it (`--ca`, `--host`, or the server's operator).
//!
//! Wording only: it neither verifies nor decides whether to retry.

use super::is_ca_as_end_entity;
use crate::clock::iso_day;
use rustls::pki_types::UnixTime;
use rustls::CertificateError;

/// The line for a certificate of server `host` that TLS refused.
pub fn explain(e: &CertificateError, host: &str) -> String {
    use CertificateError::*;
    let what = format!("TLS: the certificate of {host}");
    match e {
        UnknownIssuer => untrusted(&what),
        Other(o) if is_ca_as_end_entity(o) => untrusted(&what),
        NotValidForNameContext { presented, .. } if presented.iter().any(|n| bare(n).is_some()) => {
            let names: Vec<&str> = presented.iter().filter_map(|n| bare(n)).collect();
            format!(
                "{what} is for {}, not {host}: connect with --host set to one of those \
                 (--ca trusts a certificate, it does not change the name checked)",
                names.join(", ")
            )
        }
        NotValidForName | NotValidForNameContext { .. } => format!(
            "{what} does not name {host}: connect with --host set to a name it has \
             (--ca trusts a certificate, it does not change the name checked)"
        ),
        ExpiredContext { not_after, .. } => expired(&what, Some(*not_after)),
        Expired => expired(&what, None),
        NotValidYetContext { not_before, .. } => format!(
            "{what} is not valid before {}: check this computer's clock \
             (--ca cannot change a certificate's dates)",
            date(*not_before)
        ),
        NotValidYet => format!("{what} is not valid yet: check this computer's clock"),
        Revoked => format!("{what} was revoked by its authority: the server must replace it"),
        other => format!(
            "{what} was refused ({other:?}): the server must fix it, or trust a certificate \
             of your own with --ca PATH"
        ),
    }
}

/// The name in WebPKI's `DnsName("x")` or `IpAddress(1.2.3.4)`; other
/// kinds of name (a URI, a directory name) are no use to `--host`.
fn bare(presented: &str) -> Option<&str> {
    let (kind, rest) = presented.split_once('(')?;
    let inner = rest.strip_suffix(')')?;
    matches!(kind, "DnsName" | "IpAddress").then(|| inner.trim_matches('"'))
}

/// The words for a certificate no trusted authority signed.
fn untrusted(what: &str) -> String {
    format!(
        "{what} is self-signed or from an authority this computer does not trust: \
         if you trust it, pass it (or its CA) as a PEM file with --ca PATH"
    )
}

fn expired(what: &str, not_after: Option<UnixTime>) -> String {
    let when = not_after.map_or(String::new(), |t| format!(" on {}", date(t)));
    format!(
        "{what} expired{when}: the server's operator must renew it \
         (--ca cannot make an expired certificate valid)"
    )
}

/// "2021-01-01" (local day) of a certificate time.
fn date(t: UnixTime) -> String {
    iso_day(t.as_secs().saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use std::time::Duration;

    #[test]
    fn each_refusal_says_what_failed_and_the_fix_in_one_line() {
        let t = UnixTime::since_unix_epoch(Duration::from_secs(1_609_459_200 + 43_200));
        let cases = [
            (CertificateError::UnknownIssuer, "--ca PATH"),
            (CertificateError::ExpiredContext { time: t, not_after: t }, "expired on 2021-01-01"),
            (CertificateError::Expired, "renew"),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("wrong.example").unwrap(),
                    presented: vec![
                        "DnsName(\"localhost\")".into(),
                        "DirectoryName".into(),
                        "IpAddress(127.0.0.1)".into(),
                    ],
                },
                "is for localhost, 127.0.0.1, not 127.0.0.1: connect with --host",
            ),
            (CertificateError::NotValidYet, "clock"),
            (CertificateError::BadSignature, "--ca PATH"),
        ];
        for (e, want) in cases {
            let line = explain(&e, "127.0.0.1");
            assert!(line.contains(want), "{e:?}: {line}");
            assert!(line.starts_with("TLS: the certificate of 127.0.0.1 "), "{line}");
            assert!(line.contains("--ca") || line.contains("clock"), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
