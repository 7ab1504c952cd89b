//! The HTTP/1.1 half of WebDriver: one request with a JSON body to
//! chromedriver on 127.0.0.1, and its answer read as far as its length says
//! (chromedriver keeps connections open). Bounded in time; nothing else.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long one WebDriver request may take (starting Chromium is the slowest).
const REQUEST_LIMIT: Duration = Duration::from_secs(60);

/// One HTTP/1.1 request with a JSON body; returns the status and JSON body.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("chromedriver");
    s.set_read_timeout(Some(REQUEST_LIMIT)).ok();
    s.set_write_timeout(Some(REQUEST_LIMIT)).ok();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes())).expect("send");
    // chromedriver keeps the connection open after its answer whatever the
    // request says, so the answer ends where its Content-Length says.
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16384];
    while !complete(&raw) {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "no answer from chromedriver to {method} {path} within {REQUEST_LIMIT:?}: {e}"
            ),
        }
    }
    parse_response(&raw).unwrap_or_else(|| {
        panic!("bad HTTP answer to {method} {path}: {:?}", String::from_utf8_lossy(&raw))
    })
}

/// Whether `raw` holds a whole response: headers, then Content-Length bytes
/// (or, chunked, the last chunk).
fn complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    if head.contains("transfer-encoding: chunked") || head.contains("transfer-encoding:chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    let len = head.lines().find_map(|l| l.strip_prefix("content-length:")?.trim().parse().ok());
    body.len() >= len.unwrap_or(0)
}

/// Status and JSON body of a whole HTTP/1.1 response (length or chunked).
fn parse_response(raw: &[u8]) -> Option<(u16, Value)> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = raw[split + 4..].to_vec();
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    if body.is_empty() {
        return Some((status, Value::Null));
    }
    Some((status, serde_json::from_slice(&body).ok()?))
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&b[..eol]).ok()?.split(';').next()?.trim();
        let n = usize::from_str_radix(size, 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(eol + 2..eol + 2 + n)?);
        b = b.get(eol + 4 + n..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn responses_with_length_or_chunks() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"value\":42}\n";
        assert_eq!(parse_response(plain), Some((200, json!({"value": 42}))));
        let chunked =
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some((404, json!({"a": 1}))));
        assert_eq!(parse_response(b"garbage"), None);
        assert!(complete(plain));
        assert!(!complete(&plain[..plain.len() - 1]));
        assert!(complete(chunked));
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"));
    }
}
