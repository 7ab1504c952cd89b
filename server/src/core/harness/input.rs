//! The harness's reading of its input: bytes, choices among edge-case
//! values, and client frames from a vocabulary that favours the rooms a
//! peer is in (and otherwise names valid, invalid and direct rooms).

use banter_proto::ClientFrame;

/// The operation bytes.
pub struct Input<'a> {
    /// The bytes.
    pub data: &'a [u8],
    /// Next to read.
    pub at: usize,
}

impl Input<'_> {
    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub fn b(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }

    pub fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::from(self.b()) % from.len()]
    }

    pub fn u64(&mut self) -> u64 {
        let special =
            [0, 1, 2, 3, 5, 50, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX - 1, u64::MAX];
        self.pick(&special)
    }

    pub fn bytes(&mut self, n: usize) -> &[u8] {
        let end = (self.at + n).min(self.data.len());
        let out = &self.data[self.at..end];
        self.at = end;
        out
    }
}

const ROOMS: [&str; 14] = [
    "a",
    "b",
    "A",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "@x",
    "@ada",
    "@bob",
    "bad room",
    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr",
];
const NAMES: [&str; 6] = ["ada", "bob", "Ada", "cy", "", "n@me"];

/// A client frame from the vocabulary, most often about a room of `joined`
/// (a peer in no room mostly JOINs one); a HELLO may resume one of `tokens`.
pub fn frame(r: &mut Input<'_>, tokens: &[u64], joined: &[String]) -> ClientFrame {
    let kind = if joined.is_empty() && r.b().is_multiple_of(2) { 0 } else { r.b() % 14 };
    let room = match r.b() % 4 {
        0..=2 if !joined.is_empty() && kind != 0 => {
            joined[usize::from(r.b()) % joined.len()].clone()
        }
        _ => r.pick(&ROOMS).to_string(),
    };
    match kind {
        0 | 1 => {
            ClientFrame::Join { room, since: r.u64(), limit: r.pick(&[0, 1, 5, 1000, u16::MAX]) }
        }
        2 => ClientFrame::Leave { room },
        3..=5 => {
            let text = match r.b() % 5 {
                0 => String::new(),
                1 => "x".repeat(301),
                2 => "ctl\u{1}".into(),
                3 => "y".repeat(290),
                _ => "hi\n\tthere".into(),
            };
            ClientFrame::Say { room, seq: u32::from(r.b() % 12), text, flags: r.pick(&[0, 4, 255]) }
        }
        6 => ClientFrame::History { room, before: r.u64(), limit: r.pick(&[0, 2, 1000, u16::MAX]) },
        7 => ClientFrame::Typing { room, active: r.b() },
        8 => ClientFrame::Who { room },
        9 => ClientFrame::Quit { reason: "bye\u{7}now".into() },
        10 => ClientFrame::Register { password: r.pick(&["short", "long enough", ""]).into() },
        11 => ClientFrame::Ping { nonce: r.u64() },
        12 => ClientFrame::Mark { room, id: r.u64() },
        _ => ClientFrame::Hello {
            version: r.pick(&[1, 1, 1, 2]),
            name: r.pick(&NAMES).into(),
            password: r.pick(&["", "", "password1"]).into(),
            resume: match (r.b() % 3, tokens.is_empty()) {
                (0, _) | (_, true) => r.u64(),
                _ => r.pick(tokens),
            },
        },
    }
}
