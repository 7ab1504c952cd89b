//! The protocol of the Node `ws` baseline (`bench/ws-baseline/`), the
//! smallest that a harness can drive like Redis pub/sub: every WebSocket
//! text message, in either direction, is one line ending in `\n`, so the
//! concatenated payloads read as a stream of lines.
//!
//! | client | server answers |
//! |---|---|
//! | `ping` | `pong` |
//! | `join ROOM` | `joined ROOM` |
//! | `pub ROOM PAYLOAD` | `msg ROOM PAYLOAD` to every other member, then `ok N` (N members reached) |
//! | `quit` | a WebSocket close (1000) |
//! | anything else | `err TEXT` |
//!
//! Like a Redis publisher, a sender need not join. No I/O happens here.

use super::{Event, Parsed};

/// Longest line accepted: far above any benchmark payload, below the
/// engine's read buffer, so a line that could never fit is refused at once.
const MAX_LINE: usize = 512 * 1024;

/// Appends `ping`.
pub fn ping(out: &mut Vec<u8>) {
    out.extend_from_slice(b"ping\n");
}

/// Appends `join ROOM`.
pub fn join(out: &mut Vec<u8>, room: &str) {
    line(out, &[b"join", room.as_bytes()]);
}

/// Appends `pub ROOM PAYLOAD`.
pub fn publish(out: &mut Vec<u8>, room: &str, payload: &[u8]) {
    line(out, &[b"pub", room.as_bytes(), payload]);
}

/// Appends `quit`.
pub fn quit(out: &mut Vec<u8>) {
    out.extend_from_slice(b"quit\n");
}

fn line(out: &mut Vec<u8>, words: &[&[u8]]) {
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(w);
    }
    out.push(b'\n');
}

/// Reads the line at the front of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    let Some(end) = buf.iter().take(MAX_LINE).position(|&c| c == b'\n') else {
        if buf.len() >= MAX_LINE {
            return Err("baseline line too long".into());
        }
        return Ok(None);
    };
    let l = &buf[..end];
    let (word, rest) = match l.iter().position(|&c| c == b' ') {
        Some(i) => (&l[..i], &l[i + 1..]),
        None => (l, &l[l.len()..]),
    };
    let ev = match word {
        b"pong" => Event::Welcome { max_frame: 0, features: 0 },
        b"joined" => Event::Joined { last_id: 0 },
        b"ok" => Event::Ack { seq: 0, id: 0 },
        b"msg" => match rest.iter().position(|&c| c == b' ') {
            Some(i) => Event::Msg { payload: &rest[i + 1..], replay: false, id: 0 },
            None => return Err("baseline msg without a payload".into()),
        },
        b"err" => Event::Error {
            fatal: false,
            answers_publish: true,
            about: 0,
            code: 0,
            text: String::from_utf8_lossy(rest).into_owned(),
        },
        _ => Event::Other,
    };
    Ok(Some((ev, end + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lines() {
        let mut out = Vec::new();
        ping(&mut out);
        join(&mut out, "r1");
        publish(&mut out, "r1", b"x.y");
        quit(&mut out);
        assert_eq!(out, b"ping\njoin r1\npub r1 x.y\nquit\n");
    }

    #[test]
    fn reads_lines_split_anywhere() {
        let msg = b"msg room a b c\n";
        for cut in 0..msg.len() {
            assert_eq!(parse(&msg[..cut]), Ok(None), "cut at {cut}");
        }
        let want = Event::Msg { payload: b"a b c", replay: false, id: 0 };
        assert_eq!(parse(msg), Ok(Some((want, msg.len()))));
        assert_eq!(
            parse(b"pong\nok 3\n"),
            Ok(Some((Event::Welcome { max_frame: 0, features: 0 }, 5)))
        );
        assert_eq!(parse(b"ok 3\n"), Ok(Some((Event::Ack { seq: 0, id: 0 }, 5))));
        assert_eq!(parse(b"joined r\n"), Ok(Some((Event::Joined { last_id: 0 }, 9))));
        assert_eq!(parse(b"hello\n"), Ok(Some((Event::Other, 6))));
        assert!(matches!(parse(b"err bad room\n"), Ok(Some((Event::Error { .. }, 13)))));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"msg nopayload\n").is_err());
        assert!(parse(&vec![b'x'; MAX_LINE + 1]).is_err());
    }
}
