//! What a target URL names: the server's protocol (Banter, Redis, the Node
//! WebSocket baseline), the transport under it (TCP, TLS, WebSocket,
//! WebSocket over TLS), the address to connect to, and the host name that
//! TLS verifies and HTTP sends.
//!
//! | URL | protocol | transport |
//! |---|---|---|
//! | `banter://H:P` | Banter | TCP |
//! | `banters://H:P` | Banter | TLS, ALPN `banter/1` |
//! | `ws://H:P/ws`, `wss://H:P/ws` | Banter | WebSocket `banter.1` (over TLS) |
//! | `redis://H:P`, `rediss://H:P` | Redis pub/sub | TCP, TLS |
//! | `wsbase://H:P/ws`, `wsbases://H:P/ws` | the Node `ws` baseline | WebSocket (over TLS) |
//!
//! It only parses; it opens nothing.

use crate::proto::Proto;
use std::net::{SocketAddr, ToSocketAddrs};

/// One parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL scheme, for reports (`banters`, `wsbase`, …).
    pub scheme: &'static str,
    /// The application protocol.
    pub proto: Proto,
    /// The address connected to (IPv4: the harness spreads its connections
    /// over 127.0.0.x source addresses).
    pub addr: SocketAddr,
    /// The host as written in the URL: the name TLS verifies (and sends as
    /// SNI when it is not an IP address) and the WebSocket `Host` header.
    pub host: String,
    /// Whether the connection runs TLS.
    pub tls: bool,
    /// The WebSocket path (`/ws`), `None` when it is not WebSocket.
    pub ws_path: Option<String>,
}

/// Scheme, protocol, TLS, WebSocket, default port.
const SCHEMES: &[(&str, Proto, bool, bool, u16)] = &[
    ("banter", Proto::Banter, false, false, 3000),
    ("banters", Proto::Banter, true, false, 3000),
    ("ws", Proto::Banter, false, true, 3000),
    ("wss", Proto::Banter, true, true, 3000),
    ("redis", Proto::Resp, false, false, 6379),
    ("rediss", Proto::Resp, true, false, 6379),
    ("wsbase", Proto::WsBase, false, true, 8080),
    ("wsbases", Proto::WsBase, true, true, 8080),
];

/// The schemes, for messages.
pub fn schemes() -> String {
    let all: Vec<String> = SCHEMES.iter().map(|s| format!("{}://", s.0)).collect();
    all.join(", ")
}

impl Target {
    /// Parses `scheme://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Target, String> {
        let bad = |why: &str| format!("target {url:?}: {why}");
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let &(scheme, proto, tls, ws, port) = SCHEMES
            .iter()
            .find(|s| s.0 == scheme)
            .ok_or_else(|| bad(&format!("unknown scheme; expected one of {}", schemes())))?;
        let (hostport, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let ws_path = match (ws, path) {
            (true, "") => Some("/ws".to_string()),
            (true, p) => Some(p.to_string()),
            (false, "" | "/") => None,
            (false, _) => return Err(bad("only WebSocket targets take a path")),
        };
        let (host, port) = split_host_port(hostport, port).ok_or_else(|| bad("bad host:port"))?;
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| bad(&e.to_string()))?
            .find(SocketAddr::is_ipv4)
            .ok_or_else(|| bad("no IPv4 address"))?;
        Ok(Target { scheme, proto, addr, host, tls, ws_path })
    }

    /// The URL again, with the resolved address (for reports).
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.addr, self.ws_path.as_deref().unwrap_or(""))
    }
}

/// `host`, `host:port`, `[v6]:port`; the port defaults to `default`.
fn split_host_port(s: &str, default: u16) -> Option<(String, u16)> {
    if let Some(v6) = s.strip_prefix('[') {
        let (h, rest) = v6.split_once(']')?;
        let port = match rest.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if rest.is_empty() => default,
            None => return None,
        };
        return Some((h.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h.to_string(), p.parse().ok()?)),
        Some(_) => None,
        None if !s.is_empty() => Some((s.to_string(), default)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme() {
        let t = Target::parse("redis://127.0.0.1:7000").unwrap();
        assert_eq!((t.proto, t.addr.port(), t.tls, t.ws_path), (Proto::Resp, 7000, false, None));
        let t = Target::parse("banter://127.0.0.1").unwrap();
        assert_eq!((t.proto, t.addr.port()), (Proto::Banter, 3000));
        let t = Target::parse("banters://localhost:9/").unwrap();
        assert_eq!((t.proto, t.tls, t.host.as_str()), (Proto::Banter, true, "localhost"));
        let t = Target::parse("rediss://127.0.0.1:1").unwrap();
        assert!(t.tls && t.proto == Proto::Resp);
        let t = Target::parse("ws://127.0.0.1:5").unwrap();
        assert_eq!((t.tls, t.ws_path.as_deref()), (false, Some("/ws")));
        let t = Target::parse("wss://127.0.0.1:5/chat/ws").unwrap();
        assert_eq!((t.tls, t.ws_path.as_deref()), (true, Some("/chat/ws")));
        let t = Target::parse("wsbases://127.0.0.1/ws").unwrap();
        assert_eq!((t.proto, t.tls, t.addr.port()), (Proto::WsBase, true, 8080));
        assert_eq!(t.url(), "wsbases://127.0.0.1:8080/ws");
    }

    #[test]
    fn refusals_say_why() {
        assert!(Target::parse("http://x").unwrap_err().contains("unknown scheme"));
        assert!(Target::parse("127.0.0.1:3000").unwrap_err().contains("no scheme"));
        assert!(Target::parse("banter://127.0.0.1:3000/x").unwrap_err().contains("path"));
        assert!(Target::parse("banter://127.0.0.1:99999").is_err());
        assert!(Target::parse("banter://:3000").is_err());
        assert!(Target::parse("banter://[::1]:3000").unwrap_err().contains("IPv4"));
    }
}
