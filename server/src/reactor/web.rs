//! Answers to HTTP requests on the Banter port (§7): the web client's
//! files, `/healthz`, `/metrics`, and the WebSocket upgrade at `/ws` with
//! its checks (subprotocol `banter.1`, RFC 6455 key and version, `Origin`
//! against the page's own and `--allow-origin`). Every answer but the 101
//! carries `Connection: close`; the link closes after it.

use super::Reactor;
use crate::cidr::Cidr;
use crate::metrics::{self, Snapshot};
use crate::transport::http::{self, Request};
use std::net::IpAddr;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The web client may load only what `banterd` serves itself.
const CSP: &str = "Content-Security-Policy: default-src 'self'; img-src 'self' blob:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'\r\n\
                   Referrer-Policy: no-referrer\r\n";

/// The web side of the command line.
pub struct WebConfig {
    /// Plain connections from outside `trust_plain` get 426.
    pub require_tls: bool,
    /// Addresses trusted in clear.
    pub trust_plain: Vec<Cidr>,
    /// Extra origins allowed to open `/ws`.
    pub allow_origins: Vec<String>,
    /// `/metrics` for everyone, not only loopback.
    pub metrics_public: bool,
    /// The frame limit, which bounds a WebSocket message.
    pub max_frame: u32,
}

impl Reactor {
    /// Answers one request on link `key`.
    pub(super) fn answer(&mut self, key: usize, req: &Request) {
        let link = &self.links[key];
        let (p, ip, tls) = (link.peer, link.addr.ip(), link.transport.is_tls());
        let trusted = self.web.trust_plain.iter().any(|c| c.contains(ip));
        let (status, extra, body) = if self.web.require_tls && !tls && !trusted {
            (
                426,
                "Upgrade: TLS/1.3\r\n".to_string(),
                b"this server requires TLS (https)\n".to_vec(),
            )
        } else if req.method != "GET" {
            (405, "Allow: GET\r\n".to_string(), b"only GET is served\n".to_vec())
        } else if req.path == "/ws" {
            return self.upgrade(key, req, tls);
        } else {
            self.get(&req.path, ip)
        };
        let kind = if req.path == "/metrics" && status == 200 {
            "text/plain; version=0.0.4; charset=utf-8"
        } else {
            "text/plain; charset=utf-8"
        };
        let page = (status == 200).then(|| ASSETS.iter().find(|a| a.0 == req.path)).flatten();
        let resp = match page {
            Some((_, kind, bytes)) => {
                http::response(200, kind, &format!("{CSP}Cache-Control: no-cache\r\n"), bytes)
            }
            None => http::response(status, kind, &extra, &body),
        };
        self.links[key].transport.reply(resp);
        self.core.end(p, format!("HTTP {} {} {status}", req.method, req.path));
    }

    /// Status, extra headers and body of a GET other than `/ws`.
    fn get(&self, path: &str, ip: IpAddr) -> (u16, String, Vec<u8>) {
        match path {
            "/healthz" if self.core.is_shutting_down() => {
                (503, String::new(), b"shutting down\n".to_vec())
            }
            "/healthz" => (200, String::new(), b"ok\n".to_vec()),
            "/metrics" if !self.web.metrics_public && !ip.is_loopback() => (
                403,
                String::new(),
                b"metrics are served to loopback only (--metrics-public)\n".to_vec(),
            ),
            "/metrics" => (200, String::new(), self.metrics().into_bytes()),
            p if ASSETS.iter().any(|a| a.0 == p) => (200, String::new(), Vec::new()),
            _ => (404, String::new(), b"not found\n".to_vec()),
        }
    }

    /// The WebSocket upgrade, or why not.
    fn upgrade(&mut self, key: usize, req: &Request, tls: bool) {
        let p = self.links[key].peer;
        let refuse =
            |status: u16, extra: &str, why: &str| (status, extra.to_string(), why.to_string());
        let bad = if !req.upgrade_ws || !req.connection_upgrade {
            Some(refuse(400, "", "a WebSocket upgrade is needed at /ws"))
        } else if req.ws_version.as_deref() != Some("13") {
            Some(refuse(426, "Sec-WebSocket-Version: 13\r\n", "WebSocket version 13 is needed"))
        } else if !req.ws_key.as_deref().is_some_and(valid_key) {
            Some(refuse(400, "", "Sec-WebSocket-Key is missing or malformed"))
        } else if !req.ws_protocols.iter().any(|p| p == "banter.1") {
            Some(refuse(400, "", "the subprotocol banter.1 is needed"))
        } else if !self.origin_allowed(req, tls) {
            Some(refuse(403, "", "this Origin may not open a Banter WebSocket (--allow-origin)"))
        } else {
            None
        };
        let link = &mut self.links[key].transport;
        if let Some((status, extra, why)) = bad {
            link.reply(http::response(
                status,
                "text/plain; charset=utf-8",
                &extra,
                format!("{why}\n").as_bytes(),
            ));
            return self.core.end(p, format!("HTTP GET /ws {status}: {why}"));
        }
        let accept = tungstenite::handshake::derive_accept_key(
            req.ws_key.as_deref().unwrap_or("").as_bytes(),
        );
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: banter.1\r\n\r\n"
        );
        link.accept_ws(head.into_bytes(), self.web.max_frame);
        self.core.want_flush(p);
        log::debug!("#{p}: WebSocket open");
    }

    /// A browser's `Origin` must be the page's own (scheme and `Host`) or
    /// listed with `--allow-origin`; a client without one (not a browser)
    /// is let in.
    fn origin_allowed(&self, req: &Request, tls: bool) -> bool {
        let Some(origin) = &req.origin else { return true };
        let origin = origin.to_ascii_lowercase();
        let scheme = if tls { "https" } else { "http" };
        let own = req.host.as_ref().map(|h| format!("{scheme}://{}", h.to_ascii_lowercase()));
        own.as_deref() == Some(origin.as_str()) || self.web.allow_origins.contains(&origin)
    }

    /// `/metrics` now.
    fn metrics(&self) -> String {
        let mut by: [(&'static str, u64); 5] =
            [("tcp", 0), ("tls", 0), ("ws", 0), ("wss", 0), ("http", 0)];
        for (_, l) in self.links.iter() {
            let i = match (l.transport.is_ws(), l.transport.is_tls(), l.transport.is_http()) {
                (true, false, _) => 2,
                (true, true, _) => 3,
                (false, _, true) => 4,
                (false, true, false) => 1,
                (false, false, false) => 0,
            };
            by[i].1 += 1;
        }
        let (counters, sessions, rooms) = self.core.stats();
        metrics::render(&Snapshot {
            counters,
            connections: &by,
            sessions,
            rooms,
            bytes_out: self.stats.bytes_out,
            tls_handshakes: self.stats.tls_handshakes,
            commit: &self.stats.commit,
            turn: &self.stats.turn,
        })
    }
}

/// A `Sec-WebSocket-Key`: base64 of 16 bytes (24 characters, `==` at the end).
fn valid_key(k: &str) -> bool {
    let b = k.as_bytes();
    b.len() == 24
        && b.ends_with(b"==")
        && b[..22].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}
