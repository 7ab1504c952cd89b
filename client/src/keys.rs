//! Decodes the bytes a terminal sends in raw mode into keys: UTF-8 text,
//! control keys, Alt-combinations, CSI/SS3 cursor keys and bracketed paste.
//!
//! Input may be split anywhere across reads: an incomplete sequence stays
//! buffered until more bytes come or the caller [`KeyDecoder::flush`]es it
//! (a lone ESC after a short pause). It does not act on keys.

/// One decoded key or paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Char(char),
    /// Ctrl and a lower-case letter (Ctrl-A is `Ctrl('a')`).
    Ctrl(char),
    /// Alt (ESC prefix) and a character.
    Alt(char),
    Enter,
    Tab,
    Backspace,
    Delete,
    Left,
    Right,
    WordLeft,
    WordRight,
    /// Alt-Left and Alt-Right (previous and next window).
    AltLeft,
    AltRight,
    Up,
    Down,
    Home,
    End,
    PageUp,
    PageDown,
    Esc,
    /// A bracketed paste: the pasted text, line ends as `\n`.
    Paste(String),
    /// A sequence this client does not use.
    Unknown,
}

const PASTE_END: &[u8] = b"\x1b[201~";

/// Buffered decoder state.
#[derive(Debug, Default)]
pub struct KeyDecoder {
    /// Bytes not yet decoded (an incomplete sequence).
    buf: Vec<u8>,
    /// Inside a bracketed paste: the bytes pasted so far.
    paste: Option<Vec<u8>>,
}

/// The result of decoding at the start of a buffer.
enum Step {
    /// A key and how many bytes it used.
    Key(Key, usize),
    /// Bytes used that produce no key (e.g. the paste start marker).
    Skip(usize),
    /// More bytes needed.
    Incomplete,
}

impl KeyDecoder {
    /// Decodes `bytes` (appended to what was pending).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        self.buf.extend_from_slice(bytes);
        let mut keys = Vec::new();
        loop {
            if let Some(paste) = self.paste.as_mut() {
                match find(&self.buf, PASTE_END) {
                    Some(i) => {
                        paste.extend_from_slice(&self.buf[..i]);
                        self.buf.drain(..i + PASTE_END.len());
                        let text = paste_text(paste);
                        self.paste = None;
                        keys.push(Key::Paste(text));
                    }
                    None => {
                        // Keep a possible partial end marker buffered.
                        let keep = partial_suffix(&self.buf, PASTE_END);
                        let take = self.buf.len() - keep;
                        paste.extend_from_slice(&self.buf[..take]);
                        self.buf.drain(..take);
                        return keys;
                    }
                }
                continue;
            }
            match step(&self.buf) {
                Step::Key(k, n) => {
                    self.buf.drain(..n);
                    keys.push(k);
                }
                Step::Skip(n) => {
                    self.buf.drain(..n);
                    self.paste = Some(Vec::new());
                }
                Step::Incomplete => return keys,
            }
        }
    }

    /// Whether bytes wait for more input (outside a paste).
    pub fn has_pending(&self) -> bool {
        self.paste.is_none() && !self.buf.is_empty()
    }

    /// Gives up waiting: a lone ESC is the Esc key, ESC+partial is dropped.
    pub fn flush(&mut self) -> Vec<Key> {
        if self.paste.is_some() || self.buf.is_empty() {
            return Vec::new();
        }
        let lone_esc = self.buf == [0x1b];
        self.buf.clear();
        vec![if lone_esc { Key::Esc } else { Key::Unknown }]
    }
}

fn step(b: &[u8]) -> Step {
    let Some(&c) = b.first() else {
        return Step::Incomplete;
    };
    match c {
        b'\r' | b'\n' => Step::Key(Key::Enter, 1),
        b'\t' => Step::Key(Key::Tab, 1),
        0x7f | 0x08 => Step::Key(Key::Backspace, 1),
        0x1b => escape(b),
        0x01..=0x1a => Step::Key(Key::Ctrl((b'a' + c - 1) as char), 1),
        0x00 | 0x1c..=0x1f => Step::Key(Key::Unknown, 1),
        _ => match utf8_char(b) {
            Some(Some((ch, n))) => Step::Key(Key::Char(ch), n),
            Some(None) => Step::Key(Key::Unknown, 1),
            None => Step::Incomplete,
        },
    }
}

/// `Some(Some(char, len))`, `Some(None)` if invalid, `None` if incomplete.
fn utf8_char(b: &[u8]) -> Option<Option<(char, usize)>> {
    let n = match b.first()? {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Some(None),
    };
    if b.len() < n {
        return if b.iter().skip(1).all(|&x| x & 0xc0 == 0x80) { None } else { Some(None) };
    }
    Some(std::str::from_utf8(&b[..n]).ok().and_then(|s| s.chars().next()).map(|c| (c, n)))
}

fn escape(b: &[u8]) -> Step {
    match b.get(1) {
        None => Step::Incomplete,
        Some(b'[') => csi(b),
        Some(b'O') => match b.get(2) {
            None => Step::Incomplete,
            Some(&f) => Step::Key(final_key(f, ""), 3),
        },
        Some(0x1b) => Step::Key(Key::Esc, 1),
        Some(_) => match utf8_char(&b[1..]) {
            Some(Some((ch, n))) => Step::Key(Key::Alt(ch), 1 + n),
            Some(None) => Step::Key(Key::Unknown, 2),
            None => Step::Incomplete,
        },
    }
}

fn csi(b: &[u8]) -> Step {
    let Some(end) = b.iter().skip(2).position(|c| (0x40..=0x7e).contains(c)) else {
        return if b.len() > 32 { Step::Key(Key::Unknown, b.len()) } else { Step::Incomplete };
    };
    let end = end + 2;
    let params = std::str::from_utf8(&b[2..end]).unwrap_or("");
    if b[end] == b'~' && params == "200" {
        return Step::Skip(end + 1);
    }
    Step::Key(final_key(b[end], params), end + 1)
}

fn final_key(f: u8, params: &str) -> Key {
    let modifier = params.split(';').nth(1).unwrap_or("");
    let word = matches!(modifier, "5");
    let alt = matches!(modifier, "3");
    match (f, params.split(';').next().unwrap_or("")) {
        (b'A', _) => Key::Up,
        (b'B', _) => Key::Down,
        (b'C', _) if alt => Key::AltRight,
        (b'D', _) if alt => Key::AltLeft,
        (b'C', _) if word => Key::WordRight,
        (b'D', _) if word => Key::WordLeft,
        (b'C', _) => Key::Right,
        (b'D', _) => Key::Left,
        (b'H', _) => Key::Home,
        (b'F', _) => Key::End,
        (b'~', "1" | "7") => Key::Home,
        (b'~', "4" | "8") => Key::End,
        (b'~', "3") => Key::Delete,
        (b'~', "5") => Key::PageUp,
        (b'~', "6") => Key::PageDown,
        _ => Key::Unknown,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Length of the longest suffix of `hay` that is a proper prefix of `needle`.
fn partial_suffix(hay: &[u8], needle: &[u8]) -> usize {
    (1..needle.len())
        .rev()
        .find(|&k| hay.len() >= k && hay[hay.len() - k..] == needle[..k])
        .unwrap_or(0)
}

fn paste_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(input: &[u8]) -> Vec<Key> {
        KeyDecoder::default().feed(input)
    }

    #[test]
    fn text_and_controls() {
        assert_eq!(
            keys("aé日\r\x01\x17\x7f\t".as_bytes()),
            vec![
                Key::Char('a'),
                Key::Char('é'),
                Key::Char('日'),
                Key::Enter,
                Key::Ctrl('a'),
                Key::Ctrl('w'),
                Key::Backspace,
                Key::Tab
            ]
        );
    }

    #[test]
    fn escape_sequences() {
        use Key::*;
        assert_eq!(keys(b"\x1b[A\x1b[B\x1b[C\x1b[D"), vec![Up, Down, Right, Left]);
        assert_eq!(keys(b"\x1b[H\x1b[F\x1bOH\x1b[1~\x1b[4~"), vec![Home, End, Home, Home, End]);
        assert_eq!(keys(b"\x1b[3~\x1b[5~\x1b[6~"), vec![Delete, PageUp, PageDown]);
        assert_eq!(keys(b"\x1bb\x1bf\x1b1"), vec![Alt('b'), Alt('f'), Alt('1')]);
        assert_eq!(keys(b"\x1b[1;5C\x1b[1;5D"), vec![WordRight, WordLeft]);
        assert_eq!(keys(b"\x1b[1;3C\x1b[1;3D"), vec![AltRight, AltLeft]);
        assert_eq!(keys(b"\x1b\x7f\x1bd\x1b0"), vec![Alt('\x7f'), Alt('d'), Alt('0')]);
        assert_eq!(keys(b"\x1b[99X"), vec![Unknown]);
    }

    #[test]
    fn split_across_reads() {
        let mut d = KeyDecoder::default();
        assert_eq!(d.feed(b"\x1b"), vec![]);
        assert!(d.has_pending());
        assert_eq!(d.feed(b"[2"), vec![]);
        assert_eq!(d.feed(b"~"), vec![Key::Unknown]);
        assert_eq!(d.feed(&"é".as_bytes()[..1]), vec![]);
        assert_eq!(d.feed(&"é".as_bytes()[1..]), vec![Key::Char('é')]);
        assert_eq!(d.feed(b"\x1b"), vec![]);
        assert_eq!(d.flush(), vec![Key::Esc]);
        assert!(!d.has_pending());
    }

    #[test]
    fn bracketed_paste_is_one_key_even_when_split() {
        let mut d = KeyDecoder::default();
        let mut got = d.feed(b"x\x1b[200~line one\r\nline \x1b[A two\x1b[20");
        assert_eq!(got, vec![Key::Char('x')]);
        assert!(!d.has_pending(), "inside a paste nothing is flushed");
        got = d.feed(b"1~y");
        assert_eq!(got, vec![Key::Paste("line one\nline \x1b[A two".into()), Key::Char('y')]);
    }

    #[test]
    fn invalid_bytes_do_not_stall() {
        assert_eq!(keys(b"\xff\xc3a"), vec![Key::Unknown, Key::Unknown, Key::Char('a')]);
    }
}
