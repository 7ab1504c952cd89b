//! `--cluster redis://[[USER]:PASSWORD@]HOST[:PORT]`: where Redis is, and
//! the AUTH a node sends first on each of its connections when the URL
//! names a password (percent-encoded characters decoded, as in any URL).
//! The password never appears in a log line or an error: [`Target::shown`]
//! is the URL with it replaced.

use std::net::{SocketAddr, ToSocketAddrs};

/// A parsed `--cluster` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Redis's address.
    pub addr: SocketAddr,
    /// The AUTH command's arguments (`AUTH [user] password`), if any.
    pub auth: Option<Vec<Vec<u8>>>,
    /// The URL as logs may show it (a password as `***`).
    pub shown: String,
}

/// Parses `url`; the error names the URL without its password.
pub fn parse(url: &str) -> Result<Target, String> {
    let rest = url.strip_prefix("redis://").unwrap_or("");
    let (userinfo, host) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let shown = match userinfo {
        Some(u) => format!("redis://{}***@{host}", u.split_once(':').map_or("", |x| x.0)),
        None => url.to_string(),
    };
    let bad = || format!("--cluster: '{shown}' is not redis://[[USER]:PASSWORD@]HOST[:PORT]");
    let host = host.trim_end_matches('/');
    if !url.starts_with("redis://") || host.is_empty() || host.contains('/') {
        return Err(bad());
    }
    let auth = userinfo.map(auth_args).transpose().map_err(|()| bad())?;
    let with_port = if host.rsplit_once(':').is_some_and(|(_, p)| !p.contains(']')) {
        host.to_string()
    } else {
        format!("{host}:6379")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("--cluster {shown}: {e}"))?
        .next()
        .ok_or_else(bad)?;
    Ok(Target { addr, auth, shown })
}

/// `USER:PASSWORD` or `:PASSWORD` (or `PASSWORD` alone) as AUTH arguments.
fn auth_args(userinfo: &str) -> Result<Vec<Vec<u8>>, ()> {
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (decode(u)?, decode(p)?),
        None => (Vec::new(), decode(userinfo)?),
    };
    if password.is_empty() {
        return Err(());
    }
    let mut args = vec![b"AUTH".to_vec()];
    if !user.is_empty() {
        args.push(user);
    }
    args.push(password);
    Ok(args)
}

/// Percent-decoding (`%40` is `@`).
fn decode(s: &str) -> Result<Vec<u8>, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(())?;
            let hex = std::str::from_utf8(hex).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(v.iter().map(|s| s.as_bytes().to_vec()).collect())
    }

    #[test]
    fn hosts_ports_and_passwords() {
        let t = parse("redis://127.0.0.1:7000").unwrap();
        assert_eq!(
            (t.addr.port(), t.auth, t.shown.as_str()),
            (7000, None, "redis://127.0.0.1:7000")
        );
        assert_eq!(parse("redis://127.0.0.1/").unwrap().addr.port(), 6379);
        let t = parse("redis://:s%40cret@127.0.0.1:7000").unwrap();
        assert_eq!(t.auth, args(&["AUTH", "s@cret"]));
        assert_eq!(t.shown, "redis://***@127.0.0.1:7000");
        let t = parse("redis://banter:pw@127.0.0.1").unwrap();
        assert_eq!(t.auth, args(&["AUTH", "banter", "pw"]));
        assert_eq!(t.shown, "redis://banter***@127.0.0.1");
    }

    #[test]
    fn bad_urls_are_refused_without_showing_the_password() {
        for url in
            ["http://x:1", "redis://", "redis://:@127.0.0.1", "redis://:%zz@h", "redis://h/0"]
        {
            assert!(parse(url).is_err(), "{url}");
        }
        let e = parse("redis://:secret@").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
