//! RESP2, the Redis wire protocol, as far as the cluster needs it: commands
//! encoded as arrays of bulk strings, and replies (and pub/sub pushes)
//! parsed incrementally, check-then-parse as in mini-redis: [`parse`] says
//! whether a whole value is buffered and, if so, returns it with its length.
//!
//! No I/O here; `cluster::link` owns the socket.

/// One reply value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR …`
    Error(String),
    /// `:42`
    Int(i64),
    /// `$…`, `None` for the null bulk string.
    Bulk(Option<Vec<u8>>),
    /// `*…`, `None` for the null array.
    Array(Option<Vec<Value>>),
}

impl Value {
    /// The integer of an `Int` (or of a bulk string holding digits).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bulk(Some(b)) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// The bytes of a bulk or simple string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(Some(b)) => Some(b),
            Value::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// A bulk or simple string as text.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()?).ok()
    }

    /// The items of an array (empty for a null one).
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Array(Some(v)) => v,
            _ => &[],
        }
    }
}

/// Why a reply stream cannot be trusted any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespError(pub String);

/// Longest bulk string accepted from Redis (a file index entry or a page
/// of history is far below this).
const MAX_BULK: usize = 64 << 20;
/// Deepest nesting of arrays accepted.
const MAX_DEPTH: usize = 8;

/// Appends a command: an array of bulk strings.
pub fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Parses the value at the front of `buf`: `Ok(None)` when more bytes are
/// needed, else the value and how many bytes it took.
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, RespError> {
    let mut at = 0;
    match value(buf, &mut at, 0)? {
        Some(v) => Ok(Some((v, at))),
        None => Ok(None),
    }
}

fn value(buf: &[u8], at: &mut usize, depth: usize) -> Result<Option<Value>, RespError> {
    let Some(line) = line(buf, *at) else { return Ok(None) };
    let (kind, text) = (buf[*at], &buf[*at + 1..line]);
    let next = line + 2;
    let text =
        std::str::from_utf8(text).map_err(|_| RespError("reply line is not UTF-8".into()))?;
    let v = match kind {
        b'+' => Value::Simple(text.to_string()),
        b'-' => Value::Error(text.to_string()),
        b':' => Value::Int(int(text)?),
        b'$' => return bulk(buf, at, next, int(text)?),
        b'*' => return array(buf, at, next, int(text)?, depth),
        other => return Err(RespError(format!("unknown reply type {:?}", other as char))),
    };
    *at = next;
    Ok(Some(v))
}

fn bulk(buf: &[u8], at: &mut usize, start: usize, len: i64) -> Result<Option<Value>, RespError> {
    if len < 0 {
        *at = start;
        return Ok(Some(Value::Bulk(None)));
    }
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_BULK)
        .ok_or(RespError("bulk string too long".into()))?;
    if buf.len() < start + len + 2 {
        return Ok(None);
    }
    if &buf[start + len..start + len + 2] != b"\r\n" {
        return Err(RespError("bulk string without its CRLF".into()));
    }
    *at = start + len + 2;
    Ok(Some(Value::Bulk(Some(buf[start..start + len].to_vec()))))
}

fn array(
    buf: &[u8],
    at: &mut usize,
    start: usize,
    n: i64,
    depth: usize,
) -> Result<Option<Value>, RespError> {
    if depth >= MAX_DEPTH {
        return Err(RespError("arrays nested too deep".into()));
    }
    if n < 0 {
        *at = start;
        return Ok(Some(Value::Array(None)));
    }
    let mut pos = start;
    // Each item takes at least 3 bytes: never reserve more than the buffer holds.
    let mut items = Vec::with_capacity((n as usize).min(buf.len() / 3));
    for _ in 0..n {
        match value(buf, &mut pos, depth + 1)? {
            Some(v) => items.push(v),
            None => return Ok(None),
        }
    }
    *at = pos;
    Ok(Some(Value::Array(Some(items))))
}

/// The index of the CR of the line starting at `at`, if whole.
fn line(buf: &[u8], at: usize) -> Option<usize> {
    let rest = buf.get(at..)?;
    let cr = rest.windows(2).position(|w| w == b"\r\n")?;
    (cr > 0).then_some(at + cr)
}

fn int(text: &str) -> Result<i64, RespError> {
    text.parse().map_err(|_| RespError(format!("not a number: {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        command(&mut out, &[b"SET", b"k", b"v\r\n"]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n");
    }

    #[test]
    fn every_kind_parses_and_splits_at_every_byte() {
        let stream: &[u8] =
            b"+OK\r\n-ERR no\r\n:42\r\n$3\r\na\r\n\r\n$-1\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n*-1\r\n";
        let want = [
            Value::Simple("OK".into()),
            Value::Error("ERR no".into()),
            Value::Int(42),
            Value::Bulk(Some(b"a\r\n".to_vec())),
            Value::Bulk(None),
            Value::Array(Some(vec![
                Value::Int(1),
                Value::Array(Some(vec![Value::Bulk(Some(vec![]))])),
            ])),
            Value::Array(None),
        ];
        for cut in 0..stream.len() {
            let mut got = Vec::new();
            let mut buf = stream[..cut].to_vec();
            let mut rest = &stream[cut..];
            loop {
                while let Some((v, n)) = parse(&buf).unwrap() {
                    got.push(v);
                    buf.drain(..n);
                }
                if rest.is_empty() {
                    break;
                }
                buf.extend_from_slice(rest);
                rest = &[];
            }
            assert_eq!(got, want, "split at {cut}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [&b"?x\r\n"[..], b":x\r\n", b"$5\r\nabcdefg\r\n", b"$999999999999\r\n"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "*1\r\n".repeat(20);
        assert!(parse(deep.as_bytes()).is_err());
        assert_eq!(parse(b"*3\r\n:1\r\n").unwrap(), None, "incomplete");
        assert_eq!(Value::Bulk(Some(b"17".to_vec())).as_int(), Some(17));
    }
}
