//! HTTP/1.1 requests on the Banter port (§7): reading one request head with
//! `httparse` (at most 8 KiB of headers), and the few facts the server acts
//! on. Answering is the reactor's (`reactor::web`); this module only
//! parses and formats.

/// Most header bytes a request may send before its head is complete.
pub const MAX_HEAD: usize = 8 * 1024;
/// Most header lines parsed.
const MAX_HEADERS: usize = 64;

/// One request head, reduced to what the server acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path without its query string.
    pub path: String,
    /// `Host`.
    pub host: Option<String>,
    /// `Origin` (browsers send it with a WebSocket upgrade).
    pub origin: Option<String>,
    /// `Upgrade` names `websocket`.
    pub upgrade_ws: bool,
    /// `Connection` lists `upgrade`.
    pub connection_upgrade: bool,
    /// `Sec-WebSocket-Key`.
    pub ws_key: Option<String>,
    /// `Sec-WebSocket-Version`.
    pub ws_version: Option<String>,
    /// `Sec-WebSocket-Protocol`, split on commas.
    pub ws_protocols: Vec<String>,
}

/// What the bytes so far amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole head: the request and how many bytes it took.
    Done(Request, usize),
    /// More bytes needed.
    Partial,
    /// Over [`MAX_HEAD`] (431).
    TooLarge,
    /// Not HTTP/1.x (400).
    Malformed,
}

/// Parses the request head at the front of `buf`.
pub fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n > MAX_HEAD => Parsed::TooLarge,
        Ok(httparse::Status::Complete(n)) => match reduce(&req) {
            Some(r) => Parsed::Done(r, n),
            None => Parsed::Malformed,
        },
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => Parsed::TooLarge,
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => Parsed::TooLarge,
        Err(_) => Parsed::Malformed,
    }
}

fn reduce(req: &httparse::Request<'_, '_>) -> Option<Request> {
    let method = req.method?.to_string();
    let path = req.path?.split(['?', '#']).next().unwrap_or("").to_string();
    let mut r = Request { method, path, ..Request::default() };
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value).ok()?.trim();
        let has = |token: &str| value.split(',').any(|t| t.trim().eq_ignore_ascii_case(token));
        match h.name.to_ascii_lowercase().as_str() {
            "host" => r.host = Some(value.to_string()),
            "origin" => r.origin = Some(value.to_string()),
            "upgrade" => r.upgrade_ws |= has("websocket"),
            "connection" => r.connection_upgrade |= has("upgrade"),
            "sec-websocket-key" => r.ws_key = Some(value.to_string()),
            "sec-websocket-version" => r.ws_version = Some(value.to_string()),
            "sec-websocket-protocol" => r
                .ws_protocols
                .extend(value.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty())),
            _ => {}
        }
    }
    Some(r)
}

/// A whole response: status line, the headers every answer carries
/// (`Connection: close`, no sniffing, no caching of errors), `extra`
/// headers (each ending in CRLF), and the body.
pub fn response(status: u16, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\nX-Content-Type-Options: nosniff\r\n{extra}\r\n",
        reason(status),
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The reason phrase of a status code the server uses.
pub fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_websocket_upgrade_in_pieces() {
        let head = "GET /ws?x=1 HTTP/1.1\r\nHost: chat:3000\r\nUpgrade: WebSocket\r\n\
                    Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: abc\r\n\
                    Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: x, banter.1\r\n\
                    Origin: http://chat:3000\r\n\r\nrest";
        let b = head.as_bytes();
        for cut in 1..b.len() - 4 {
            assert_eq!(parse(&b[..cut]), Parsed::Partial, "cut at {cut}");
        }
        let Parsed::Done(r, n) = parse(b) else { panic!() };
        assert_eq!(n, b.len() - 4);
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/ws"));
        assert!(r.upgrade_ws && r.connection_upgrade);
        assert_eq!(r.ws_protocols, ["x", "banter.1"]);
        assert_eq!(r.host.as_deref(), Some("chat:3000"));
        assert_eq!(r.origin.as_deref(), Some("http://chat:3000"));
    }

    #[test]
    fn limits_and_garbage() {
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(9000));
        assert_eq!(parse(big.as_bytes()), Parsed::TooLarge, "over 8 KiB before the end");
        let many: String = (0..80).map(|i| format!("H{i}: v\r\n")).collect();
        assert_eq!(parse(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()), Parsed::TooLarge);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"), Parsed::Malformed);
        assert_eq!(parse(b"G\x01T / HTTP/1.1\r\n\r\n"), Parsed::Malformed);
        let r = response(404, "text/plain", "", b"no");
        assert!(r.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
        assert!(r.ends_with(b"Connection: close\r\nX-Content-Type-Options: nosniff\r\n\r\nno"));
    }
}
