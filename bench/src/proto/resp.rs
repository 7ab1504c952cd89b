//! The Redis side of the adapter: encodes commands as RESP arrays of bulk
//! strings and reads RESP2 replies and pub/sub pushes (`message`,
//! `subscribe`), slicing the payload out of the buffer without copying.
//!
//! It understands what SUBSCRIBE/PUBLISH/PING/QUIT can answer: simple
//! strings, errors, integers, bulk strings and flat arrays of those. A
//! nested array is refused (none of these commands sends one).

use super::{Event, Parsed};

/// Longest integer/simple-string line accepted, so garbage cannot make the
/// parser scan forever for a line end.
const MAX_LINE: usize = 4096;
/// Longest bulk string accepted: far above any benchmark payload, below the
/// engine's read buffer, so a unit that could never fit is refused at once.
const MAX_BULK: usize = 512 * 1024;

/// Appends one command as an array of bulk strings.
pub fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    header(out, b'*', args.len());
    for a in args {
        header(out, b'$', a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn header(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.push(kind);
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
}

/// One RESP value that is not an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar<'a> {
    Simple(&'a [u8]),
    Error(&'a [u8]),
    Int(i64),
    Bulk(&'a [u8]),
    Nil,
}

/// `Ok(None)`: incomplete. Else the line's content and the offset after it.
fn line(buf: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, String> {
    let rest = buf.get(at..).unwrap_or(&[]);
    match rest.iter().take(MAX_LINE).position(|&c| c == b'\n') {
        Some(i) if i > 0 && rest[i - 1] == b'\r' => Ok(Some((&rest[..i - 1], at + i + 1))),
        Some(_) => Err("RESP line without CR".into()),
        None if rest.len() >= MAX_LINE => Err("RESP line too long".into()),
        None => Ok(None),
    }
}

fn int(s: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad RESP integer {:?}", String::from_utf8_lossy(s)))
}

/// The scalar at `at` and the offset after it.
fn scalar(buf: &[u8], at: usize) -> Result<Option<(Scalar<'_>, usize)>, String> {
    let Some((l, next)) = line(buf, at)? else {
        return Ok(None);
    };
    let (kind, rest) = l.split_first().ok_or("empty RESP line")?;
    let v = match kind {
        b'+' => Scalar::Simple(rest),
        b'-' => Scalar::Error(rest),
        b':' => Scalar::Int(int(rest)?),
        b'$' => {
            let n = int(rest)?;
            if n < 0 {
                return Ok(Some((Scalar::Nil, next)));
            }
            let len = usize::try_from(n).ok().filter(|&n| n <= MAX_BULK);
            let len = len.ok_or_else(|| format!("RESP bulk string of {n} bytes refused"))?;
            let end = next + len;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err("RESP bulk string without CRLF".into());
            }
            return Ok(Some((Scalar::Bulk(&buf[next..end]), end + 2)));
        }
        _ => return Err(format!("unexpected RESP type byte {kind:#04x}")),
    };
    Ok(Some((v, next)))
}

/// Reads the reply or push at the front of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    if buf.first() != Some(&b'*') {
        return Ok(scalar(buf, 0)?.map(|(v, n)| (reply(v), n)));
    }
    let Some((l, mut at)) = line(buf, 0)? else {
        return Ok(None);
    };
    let count = int(&l[1..])?;
    let mut items = [Scalar::Nil; 3];
    for i in 0..count.max(0) as usize {
        if buf.get(at) == Some(&b'*') {
            return Err("nested RESP array".into());
        }
        let Some((v, next)) = scalar(buf, at)? else {
            return Ok(None);
        };
        if let Some(slot) = items.get_mut(i) {
            *slot = v;
        }
        at = next;
    }
    Ok(Some((push(&items), at)))
}

/// A top-level scalar: the answer to PING, PUBLISH, QUIT.
fn reply(v: Scalar<'_>) -> Event<'_> {
    match v {
        Scalar::Simple(b"PONG") => Event::Welcome { max_frame: 0, features: 0 },
        Scalar::Int(_) => Event::Ack { seq: 0, id: 0 },
        Scalar::Error(e) => Event::Error {
            fatal: false,
            answers_publish: true,
            about: 0,
            code: 0,
            text: String::from_utf8_lossy(e).into_owned(),
        },
        _ => Event::Other,
    }
}

/// A pub/sub push: `message` or `subscribe`; anything else is skipped.
fn push<'a>(items: &[Scalar<'a>; 3]) -> Event<'a> {
    match items {
        [Scalar::Bulk(b"message"), _, Scalar::Bulk(payload)] => {
            Event::Msg { payload, replay: false, id: 0 }
        }
        [Scalar::Bulk(b"subscribe"), _, _] => Event::Joined { last_id: 0 },
        _ => Event::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Event<'_> {
        let (ev, n) = parse(bytes).expect("parses").expect("complete");
        assert_eq!(n, bytes.len());
        ev
    }

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        command(&mut out, &[b"PUBLISH", b"room", b"hello"]);
        assert_eq!(out, b"*3\r\n$7\r\nPUBLISH\r\n$4\r\nroom\r\n$5\r\nhello\r\n");
        out.clear();
        command(&mut out, &[b"PING", &[b'x'; 1024]]);
        assert!(out.starts_with(b"*2\r\n$4\r\nPING\r\n$1024\r\n"));
    }

    #[test]
    fn reads_pushes_and_replies_split_anywhere() {
        let msg = b"*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$6\r\na\r\nb\nc\r\n";
        for cut in 0..msg.len() {
            assert_eq!(parse(&msg[..cut]), Ok(None), "cut at {cut}");
        }
        let want = Event::Msg { payload: b"a\r\nb\nc", replay: false, id: 0 };
        assert_eq!(one(msg), want);
        let sub = b"*3\r\n$9\r\nsubscribe\r\n$4\r\nroom\r\n:1\r\n";
        assert_eq!(one(sub), Event::Joined { last_id: 0 });
        assert_eq!(one(b":1000\r\n"), Event::Ack { seq: 0, id: 0 });
        assert_eq!(one(b"+PONG\r\n"), Event::Welcome { max_frame: 0, features: 0 });
        assert_eq!(one(b"+OK\r\n"), Event::Other);
        assert!(matches!(one(b"-ERR max clients\r\n"), Event::Error { .. }));
    }

    #[test]
    fn two_units_in_one_buffer() {
        let buf = b":1\r\n:2\r\n";
        let (_, n) = parse(buf).unwrap().unwrap();
        assert_eq!(n, 4);
        assert_eq!(one(&buf[n..]), Event::Ack { seq: 0, id: 0 });
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"?what\r\n").is_err());
        assert!(parse(b":12x\r\n").is_err());
        assert!(parse(b"$3\r\nabcde").is_err(), "bulk without CRLF");
        assert!(parse(b"*1\r\n*1\r\n:1\r\n").is_err());
        assert!(parse(b":1\n").is_err());
        assert!(parse(&[b'+'; MAX_LINE + 1]).is_err());
        assert!(parse(b"$9223372036854775807\r\nab").is_err(), "huge bulk");
    }
}
