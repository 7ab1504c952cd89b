//! Helpers shared by the `server_*` modules: frame builders, raw frame bytes,
//! and assertions for the answers the spec fixes exactly (an ERROR's code,
//! `about` and `seq`; the shape of a JOIN answer; a fatal close).
//!
//! Nothing here talks to anything but a real `banterd` through
//! [`banter_tests::Conn`]; nothing here decides what the server should answer
//! beyond what the calling test asks it to check.

use banter_proto::{ClientFrame, ErrorCode, ServerFrame};
use banter_tests::{Conn, Server, WAIT};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// `PRESENCE.event` values, spelled as in the spec.
pub const JOINED_EV: u8 = 1;
pub const LEFT_EV: u8 = 2;
pub const QUIT_EV: u8 = 3;
pub const LOST_EV: u8 = 4;

/// A JOIN frame.
pub fn join_f(room: &str, since: u64, limit: u16) -> ClientFrame {
    ClientFrame::Join { room: room.into(), since, limit }
}

/// A SAY frame.
pub fn say_f(room: &str, seq: u32, text: &str) -> ClientFrame {
    ClientFrame::Say { flags: 0, room: room.into(), seq, text: text.into() }
}

/// A HELLO frame of version 1.
pub fn hello_f(name: &str, password: &str, resume: u64) -> ClientFrame {
    ClientFrame::Hello { version: 1, name: name.into(), password: password.into(), resume }
}

/// A PRESENCE frame with an empty reason (every event but quit).
pub fn presence(room: &str, name: &str, event: u8) -> ServerFrame {
    ServerFrame::Presence { room: room.into(), name: name.into(), event, reason: String::new() }
}

/// A server TYPING frame.
pub fn typing(room: &str, name: &str, active: u8) -> ServerFrame {
    ServerFrame::Typing { room: room.into(), name: name.into(), active }
}

/// The bytes of a frame of type `ty` with `body`, length prefix included.
pub fn raw_frame(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len() + 1).expect("test frame fits a u32");
    let mut v = len.to_be_bytes().to_vec();
    v.push(ty);
    v.extend_from_slice(body);
    v
}

/// Appends a `str` field (u16 length, bytes) to `out`.
pub fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    let n = u16::try_from(s.len()).expect("test str fits a u16");
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(s);
}

/// The next frame that is not a NOTICE or a PING (PINGs are answered),
/// within [`WAIT`] in all: unlike `Conn::recv_app`, a stream of PINGs under a
/// short `--heartbeat-ms` cannot keep it waiting forever.
pub fn next_app(c: &mut Conn) -> ServerFrame {
    next_app_within(c, WAIT)
}

/// [`next_app`] within `limit`.
pub fn next_app_within(c: &mut Conn, limit: Duration) -> ServerFrame {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match c.recv_within(left) {
            Some(ServerFrame::Notice { .. }) => {}
            Some(ServerFrame::Ping { nonce }) => c.send(&ClientFrame::Pong { nonce }),
            Some(f) => return f,
            None => panic!("no frame within {limit:?} (or connection closed)"),
        }
    }
}

/// The encoded bytes of many frames, one buffer (one write).
pub fn batch(frames: &[ClientFrame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.encode(&mut out);
    }
    out
}

/// Asserts that `f` is an ERROR with this code, `about` and `seq`; returns
/// its detail (free text, not checked).
pub fn assert_error(f: &ServerFrame, code: ErrorCode, about: u8, seq: u32) -> String {
    match f {
        ServerFrame::Error { code: c, about: a, seq: s, detail } => {
            let got = (ErrorCode::from_code(*c), *a, *s);
            assert_eq!(got, (Some(code), about, seq), "ERROR {detail:?}");
            detail.clone()
        }
        other => panic!("expected ERROR {code} about {about} seq {seq}, got {other:?}"),
    }
}

/// Reads the next application frame (NOTICE skipped, PING answered) and
/// asserts it is this ERROR.
pub fn expect_error(c: &mut Conn, code: ErrorCode, about: u8, seq: u32) -> String {
    let f = next_app(c);
    assert_error(&f, code, about, seq)
}

/// Asserts a fatal ERROR: the next frames (NOTICE and PING aside) are this
/// ERROR, and then nothing but the close.
pub fn expect_fatal(c: &mut Conn, code: ErrorCode, about: u8) {
    expect_fatal_within(c, code, about, WAIT);
}

/// [`expect_fatal`] allowing `limit` for the ERROR and the close: for
/// answers that wait on password hashing (slow when the CPU is short).
pub fn expect_fatal_within(c: &mut Conn, code: ErrorCode, about: u8, limit: Duration) {
    let end = Instant::now() + limit;
    let mut frames = Vec::new();
    while let Some(f) = c.recv_within(end.saturating_duration_since(Instant::now())) {
        if !matches!(f, ServerFrame::Notice { .. } | ServerFrame::Ping { .. }) {
            frames.push(f);
        }
    }
    assert!(c.is_closed(), "not closed within {limit:?}: {frames:?}");
    match frames.as_slice() {
        [f] => {
            assert_error(f, code, about, 0);
        }
        other => panic!("expected exactly ERROR {code} then close, got {other:?}"),
    }
}

/// Asserts the connection still works: a PING with a fresh nonce is
/// answered by its PONG as the next application frame.
pub fn assert_alive(c: &mut Conn) {
    static NONCE: AtomicU64 = AtomicU64::new(0x5eed_0000);
    let nonce = NONCE.fetch_add(1, Ordering::Relaxed);
    c.send(&ClientFrame::Ping { nonce });
    assert_eq!(next_app(c), ServerFrame::Pong { nonce });
}

/// The frames of one JOIN answer, split by role.
#[derive(Debug)]
pub struct JoinAnswer {
    /// The JOINED frame.
    pub joined: ServerFrame,
    /// The ROSTER frames, in order; the last has `more = 0`.
    pub rosters: Vec<ServerFrame>,
    /// The history MSG frames (empty when `limit = 0`).
    pub history: Vec<ServerFrame>,
    /// HISTORY_END, absent when `limit = 0` (proto/PROTOCOL.md).
    pub end: Option<ServerFrame>,
}

impl JoinAnswer {
    /// Every name of every ROSTER, in order.
    pub fn names(&self) -> Vec<String> {
        roster_names(&self.rosters)
    }

    /// `JOINED.read`: the joiner's read marker.
    pub fn read(&self) -> u64 {
        match &self.joined {
            ServerFrame::Joined { read, .. } => *read,
            f => panic!("not JOINED: {f:?}"),
        }
    }
}

/// Reads ROSTER frames of `room` until one has `more = 0`.
pub fn read_rosters(c: &mut Conn, room: &str) -> Vec<ServerFrame> {
    let mut out = Vec::new();
    loop {
        let f = next_app(c);
        let ServerFrame::Roster { room: r, more, .. } = &f else {
            panic!("expected ROSTER of {room}, got {f:?}");
        };
        assert_eq!(r, room, "ROSTER room");
        let last = *more == 0;
        out.push(f);
        if last {
            return out;
        }
    }
}

/// All names of a run of ROSTER frames, in order.
pub fn roster_names(rosters: &[ServerFrame]) -> Vec<String> {
    let mut names = Vec::new();
    for f in rosters {
        if let ServerFrame::Roster { names: n, .. } = f {
            names.extend(n.iter().cloned());
        }
    }
    names
}

/// Sends JOIN and reads its whole answer, checking its order: JOINED,
/// ROSTERs, then (when `limit > 0`) MSGs with flag 1 and HISTORY_END.
/// `room` is the name the answer must carry (lower case).
pub fn join(c: &mut Conn, sent: &str, room: &str, since: u64, limit: u16) -> JoinAnswer {
    c.send(&join_f(sent, since, limit));
    read_join(c, room, limit)
}

/// Reads a JOIN answer (see [`join`]) without sending anything.
pub fn read_join(c: &mut Conn, room: &str, limit: u16) -> JoinAnswer {
    let joined = next_app(c);
    assert!(
        matches!(&joined, ServerFrame::Joined { room: r, .. } if r == room),
        "expected JOINED {room}, got {joined:?}"
    );
    let rosters = read_rosters(c, room);
    let (history, end) = if limit > 0 {
        let (h, e) = read_history(c, room);
        (h, Some(e))
    } else {
        (Vec::new(), None)
    };
    JoinAnswer { joined, rosters, history, end }
}

/// Reads MSG frames (flag bit 0 set) until HISTORY_END of `room`; checks
/// that HISTORY_END.count matches.
pub fn read_history(c: &mut Conn, room: &str) -> (Vec<ServerFrame>, ServerFrame) {
    let mut msgs = Vec::new();
    loop {
        match next_app(c) {
            f @ ServerFrame::Msg { flags, .. } if flags & 1 != 0 => msgs.push(f),
            f @ ServerFrame::HistoryEnd { .. } => {
                let ServerFrame::HistoryEnd { room: r, count, .. } = &f else { unreachable!() };
                assert_eq!((r.as_str(), usize::from(*count)), (room, msgs.len()));
                return (msgs, f);
            }
            f => panic!("expected history MSG (flag 1) or HISTORY_END, got {f:?}"),
        }
    }
}

/// The ids of MSG frames.
pub fn ids(msgs: &[ServerFrame]) -> Vec<u64> {
    msgs.iter()
        .map(|f| match f {
            ServerFrame::Msg { id, .. } => *id,
            other => panic!("expected MSG, got {other:?}"),
        })
        .collect()
}

/// Sends SAY and expects its ACK (room in lower case) as the next
/// application frame; returns `(id, ts)`.
pub fn say(c: &mut Conn, room: &str, seq: u32, text: &str) -> (u64, u64) {
    c.send(&say_f(room, seq, text));
    match next_app(c) {
        ServerFrame::Ack { seq: s, room: r, id, ts } => {
            let room = room.to_ascii_lowercase();
            assert_eq!((s, r), (seq, room), "ACK of SAY {seq}");
            (id, ts)
        }
        other => panic!("expected ACK of SAY {seq}, got {other:?}"),
    }
}

/// Logs in every name and joins them to `room` one after the other (limit
/// 0), checking that each earlier member gets exactly the PRESENCE joined
/// of each later one. Returns the connections in the same order.
pub fn room_of(s: &Server, names: &[&str], room: &str) -> Vec<Conn> {
    let mut conns: Vec<Conn> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut c = s.login(name);
        let a = join(&mut c, room, room, 0, 0);
        assert_eq!(a.names().len(), i + 1, "members of {room}: {:?}", a.names());
        for earlier in conns.iter_mut() {
            assert_eq!(next_app(earlier), presence(room, name, JOINED_EV));
        }
        conns.push(c);
    }
    conns
}

/// Milliseconds since the Unix epoch, to check `ts` values.
pub fn now_ms() -> u64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(d.as_millis()).expect("ms fit u64")
}
