//! The PROXY protocol (HAProxy's `proxy-protocol.txt`), versions 1 and 2:
//! the header a TCP proxy sends first to say whose connection it relays.
//! Parsed only from peers listed with `--proxy-from`, and before anything
//! else of the stream (before a TLS or Banter byte), so per-address limits
//! see the real client.
//!
//! Pure: it looks at bytes and says how many the header takes and what
//! source it names. Reading them off the socket is the reactor's job.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

/// The v2 signature.
const SIG_V2: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// A v1 header's start.
const V1: &[u8] = b"PROXY ";
/// The longest v1 header, CRLF included (the specification's figure).
pub const MAX_V1: usize = 107;
/// The longest v2 header accepted (16 bytes + addresses + TLVs).
pub const MAX_V2: usize = 16 + 1024;

/// What the bytes so far hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// Not all of it yet.
    Incomplete,
    /// A whole header of `len` bytes; `source` is the client (`None`: the
    /// proxy speaks for itself, e.g. a health check, or a family without
    /// an IP address).
    Done { len: usize, source: Option<SocketAddr> },
    /// Not a PROXY header, or a broken one.
    Invalid(&'static str),
}

/// Parses the PROXY header at the front of `buf`.
pub fn parse(buf: &[u8]) -> Header {
    if buf.len() < SIG_V2.len() && SIG_V2.starts_with(buf) {
        return Header::Incomplete;
    }
    if buf.starts_with(SIG_V2) {
        return v2(buf);
    }
    if buf.len() < V1.len() && V1.starts_with(buf) {
        return Header::Incomplete;
    }
    if buf.starts_with(V1) {
        return v1(buf);
    }
    Header::Invalid("not a PROXY protocol header")
}

fn v1(buf: &[u8]) -> Header {
    let Some(end) = buf.windows(2).take(MAX_V1 - 1).position(|w| w == b"\r\n") else {
        return if buf.len() >= MAX_V1 {
            Header::Invalid("v1 line too long")
        } else {
            Header::Incomplete
        };
    };
    let Ok(line) = std::str::from_utf8(&buf[V1.len()..end]) else {
        return Header::Invalid("v1 line is not text");
    };
    let len = end + 2;
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        ["UNKNOWN", ..] => Header::Done { len, source: None },
        [fam @ ("TCP4" | "TCP6"), src, _dst, sport, _dport] => {
            let ip = if *fam == "TCP4" {
                src.parse::<Ipv4Addr>().map(Into::into)
            } else {
                src.parse::<Ipv6Addr>().map(Into::into)
            };
            match (ip, sport.parse::<u16>()) {
                (Ok(ip), Ok(port)) => Header::Done { len, source: Some(SocketAddr::new(ip, port)) },
                _ => Header::Invalid("v1 address or port unreadable"),
            }
        }
        _ => Header::Invalid("v1 line malformed"),
    }
}

fn v2(buf: &[u8]) -> Header {
    if buf.len() < 16 {
        return Header::Incomplete;
    }
    let (ver_cmd, fam) = (buf[12], buf[13]);
    let body = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    let len = 16 + body;
    if ver_cmd >> 4 != 2 {
        return Header::Invalid("v2 version is not 2");
    }
    if len > MAX_V2 {
        return Header::Invalid("v2 header too long");
    }
    if buf.len() < len {
        return Header::Incomplete;
    }
    let addr = &buf[16..len];
    match (ver_cmd & 0x0f, fam) {
        (0, _) => Header::Done { len, source: None }, // LOCAL: the proxy itself
        (1, 0x11) if addr.len() >= 12 => {
            let ip = Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]);
            let port = u16::from_be_bytes([addr[8], addr[9]]);
            Header::Done { len, source: Some(SocketAddr::new(ip.into(), port)) }
        }
        (1, 0x21) if addr.len() >= 36 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&addr[..16]);
            let port = u16::from_be_bytes([addr[32], addr[33]]);
            Header::Done { len, source: Some(SocketAddr::new(Ipv6Addr::from(octets).into(), port)) }
        }
        (1, 0x00 | 0x31) => Header::Done { len, source: None }, // unspecified, unix stream
        (1, 0x11 | 0x21) => Header::Invalid("v2 address block too short"),
        (1, _) => Header::Invalid("v2 family is not a stream"),
        _ => Header::Invalid("v2 command unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(len: usize, src: &str) -> Header {
        Header::Done { len, source: Some(src.parse().unwrap()) }
    }

    fn v2_header(cmd: u8, fam: u8, addr: &[u8]) -> Vec<u8> {
        let mut h = SIG_V2.to_vec();
        h.extend([0x20 | cmd, fam]);
        h.extend((addr.len() as u16).to_be_bytes());
        h.extend_from_slice(addr);
        h
    }

    #[test]
    fn v1_lines() {
        let line = b"PROXY TCP4 192.0.2.7 10.0.0.1 51000 3000\r\n\x00\x00\x00\x12";
        assert_eq!(parse(line), done(42, "192.0.2.7:51000"));
        let six = b"PROXY TCP6 2001:db8::9 2001:db8::1 4000 3000\r\n";
        assert_eq!(parse(six), done(six.len(), "[2001:db8::9]:4000"));
        assert_eq!(parse(b"PROXY UNKNOWN\r\n"), Header::Done { len: 15, source: None });
        for part in [&b"PRO"[..], b"PROXY TCP4 192.0.2.7 10.0"] {
            assert_eq!(parse(part), Header::Incomplete, "{part:?}");
        }
        for bad in [
            &b"PROXY TCP4 nonsense 10.0.0.1 1 2\r\n"[..],
            b"PROXY TCP5 a b 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 1.2.3.4 99999 1\r\n",
        ] {
            assert!(matches!(parse(bad), Header::Invalid(_)), "{bad:?}");
        }
        let long = [b"PROXY ".as_slice(), &[b'x'; 200]].concat();
        assert!(matches!(parse(&long), Header::Invalid(_)));
    }

    #[test]
    fn v2_headers() {
        let mut addr = vec![198, 51, 100, 4, 10, 0, 0, 1];
        addr.extend(40000u16.to_be_bytes());
        addr.extend(3000u16.to_be_bytes());
        addr.extend([0x04, 0, 1, 0x42]); // a TLV, ignored
        let h = v2_header(1, 0x11, &addr);
        assert_eq!(parse(&h), done(h.len(), "198.51.100.4:40000"));
        for cut in [5, 12, 15, h.len() - 1] {
            assert_eq!(parse(&h[..cut]), Header::Incomplete, "cut at {cut}");
        }
        let mut six = [0u8; 36];
        six[15] = 1; // ::1
        six[32..34].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(parse(&v2_header(1, 0x21, &six)), done(52, "[::1]:7"));
        assert_eq!(parse(&v2_header(0, 0x00, &[])), Header::Done { len: 16, source: None });
        assert!(matches!(parse(&v2_header(1, 0x12, &addr)), Header::Invalid(_)), "UDP");
        assert!(matches!(parse(&v2_header(1, 0x11, &addr[..4])), Header::Invalid(_)));
        let mut v3 = v2_header(1, 0x11, &addr);
        v3[12] = 0x31;
        assert!(matches!(parse(&v3), Header::Invalid(_)));
        let mut huge = SIG_V2.to_vec();
        huge.extend([0x21, 0x11, 0xff, 0xff]);
        assert!(matches!(parse(&huge), Header::Invalid(_)));
    }

    #[test]
    fn anything_else_is_refused_at_once() {
        let hello = [0u8, 0, 0, 0x12, 1, 0, 1];
        assert!(matches!(parse(&hello), Header::Invalid(_)));
        assert!(matches!(parse(b"GET / HTTP/1.1\r\n"), Header::Invalid(_)));
        assert_eq!(parse(b""), Header::Incomplete);
    }
}
