//! What nodes tell each other through Redis: one record per event of a
//! room or conversation (a message, a presence change, typing, a read
//! marker, a delivery) or of a node (a session taken over elsewhere),
//! published on a channel and, for messages, kept in the room's log.
//!
//! A record is a kind byte, then netstrings (`len:bytes`): the event's
//! number in its room (`ev`, 0 when it has none), the room's name, then the
//! kind's fields. The Lua scripts build records with string functions and
//! number them in the same step as they publish them, so every node sees
//! one room's events in one order and can tell which of them a JOIN's
//! answer already covers. Encoding and decoding only: what an event does
//! is the core's.

use banter_proto::FileRef;

/// One event of a room (or, for `Supersede`, of a node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A stored message; `sid` is its sender's session.
    Msg { id: u64, ts: u64, from: String, flags: u8, text: String, sid: u64, file: Option<FileRef> },
    /// Someone joined (1), left (2), quit (3) or was lost (4).
    Presence { name: String, event: u8, reason: String, sid: u64 },
    /// Someone started or stopped typing.
    Typing { name: String, active: u8, sid: u64 },
    /// Someone's read marker moved.
    Read { name: String, id: u64, sid: u64 },
    /// A conversation's messages up to `id` reached account `to`.
    Delivered { id: u64, to: String },
    /// Session `sid` was resumed on another node: its connection here goes.
    Supersede { sid: u64 },
}

/// A decoded record: the event, its room and its number there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its number among the room's events (0: not numbered).
    pub ev: u64,
    /// The room's (or conversation's internal) name.
    pub room: String,
    /// What happened.
    pub event: Event,
}

/// Appends one netstring.
pub fn ns(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(field.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(field);
}

impl Event {
    /// The record's kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            Event::Msg { .. } => b'M',
            Event::Presence { .. } => b'P',
            Event::Typing { .. } => b'T',
            Event::Read { .. } => b'R',
            Event::Delivered { .. } => b'D',
            Event::Supersede { .. } => b'S',
        }
    }

    /// The fields after the room's name, as the scripts append them (for a
    /// message, all but its id, which the say script puts first).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        let num = |n: u64| n.to_string().into_bytes();
        let fields: Vec<Vec<u8>> = match self {
            Event::Msg { ts, from, flags, text, sid, file, .. } => {
                let mut v = vec![
                    num(*ts),
                    from.clone().into(),
                    num(u64::from(*flags)),
                    text.clone().into(),
                    num(*sid),
                ];
                if let Some(f) = file {
                    v.extend([f.file.clone().into(), num(f.size), f.mime.clone().into()]);
                }
                v
            }
            Event::Presence { name, event, reason, sid } => {
                vec![name.clone().into(), num(u64::from(*event)), reason.clone().into(), num(*sid)]
            }
            Event::Typing { name, active, sid } => {
                vec![name.clone().into(), num(u64::from(*active)), num(*sid)]
            }
            Event::Read { name, id, sid } => vec![name.clone().into(), num(*id), num(*sid)],
            Event::Delivered { id, to } => vec![num(*id), to.clone().into()],
            Event::Supersede { sid } => vec![num(*sid)],
        };
        fields.iter().for_each(|f| ns(&mut out, f));
        out
    }

    /// The whole record of this event as event `ev` of `room` (what the
    /// scripts publish; used by tests and for records without a script).
    pub fn record(&self, ev: u64, room: &str) -> Vec<u8> {
        let mut out = vec![self.kind()];
        ns(&mut out, ev.to_string().as_bytes());
        ns(&mut out, room.as_bytes());
        if let Event::Msg { id, .. } = self {
            ns(&mut out, id.to_string().as_bytes());
        }
        out.extend(self.body());
        out
    }
}

impl Record {
    /// Reads a record; `None` when it is not one this node understands.
    pub fn decode(rec: &[u8]) -> Option<Record> {
        let (&kind, rest) = rec.split_first()?;
        let f = fields(rest)?;
        let s = |i: usize| -> Option<String> { String::from_utf8(f.get(i)?.to_vec()).ok() };
        let n = |i: usize| -> Option<u64> { std::str::from_utf8(f.get(i)?).ok()?.parse().ok() };
        let b = |i: usize| -> Option<u8> { u8::try_from(n(i)?).ok() };
        let event = match (kind, f.len()) {
            (b'M', 8 | 11) => Event::Msg {
                id: n(2)?,
                ts: n(3)?,
                from: s(4)?,
                flags: b(5)?,
                text: s(6)?,
                sid: n(7)?,
                file: match f.len() {
                    11 => Some(FileRef { file: s(8)?, size: n(9)?, mime: s(10)? }),
                    _ => None,
                },
            },
            (b'P', 6) => Event::Presence { name: s(2)?, event: b(3)?, reason: s(4)?, sid: n(5)? },
            (b'T', 5) => Event::Typing { name: s(2)?, active: b(3)?, sid: n(4)? },
            (b'R', 5) => Event::Read { name: s(2)?, id: n(3)?, sid: n(4)? },
            (b'D', 4) => Event::Delivered { id: n(2)?, to: s(3)? },
            (b'S', 3) => Event::Supersede { sid: n(2)? },
            _ => return None,
        };
        Some(Record { ev: n(0)?, room: s(1)?, event })
    }
}

/// The netstrings of `rest`, all of them whole.
fn fields(mut rest: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let colon = rest.iter().position(|&b| b == b':')?;
        let len: usize = std::str::from_utf8(&rest[..colon]).ok()?.parse().ok()?;
        let body = rest.get(colon + 1..colon + 1 + len)?;
        out.push(body);
        rest = &rest[colon + 1 + len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips() {
        let file = Some(FileRef { file: "ab".repeat(32), size: 3, mime: "a/b".into() });
        let events = [
            Event::Msg {
                id: 7,
                ts: 9,
                from: "Ada".into(),
                flags: 4,
                text: "a:b\n5:x".into(),
                sid: 3,
                file: None,
            },
            Event::Msg {
                id: 1,
                ts: 2,
                from: "a".into(),
                flags: 2,
                text: "f.txt".into(),
                sid: 1,
                file,
            },
            Event::Presence { name: "bob".into(), event: 4, reason: "".into(), sid: 2 },
            Event::Typing { name: "bob".into(), active: 1, sid: 2 },
            Event::Read { name: "bob".into(), id: 5, sid: 2 },
            Event::Delivered { id: 5, to: "b".into() },
            Event::Supersede { sid: u64::MAX },
        ];
        for e in events {
            let rec = Record { ev: 12, room: "@a|b".into(), event: e.clone() };
            assert_eq!(Record::decode(&e.record(12, "@a|b")), Some(rec), "{e:?}");
        }
        assert_eq!(Record::decode(b"M1:12:r"), None);
        assert_eq!(Record::decode(b"P9:x"), None, "a netstring past the end");
        assert_eq!(Record::decode(b""), None);
        assert_eq!(Record::decode(b"S1:01:x1:z"), None, "a number that is not one");
    }
}
