//! The stamp every benchmark payload starts with: which sender wrote it, its
//! per-sender sequence number and the (intended) send time, so that any
//! receiver can measure latency and check order without asking anyone.
//!
//! The stamp is fixed-width lower-case hex separated by dots, then `.`
//! padding up to the payload size: plain ASCII, valid Banter text (§2) and
//! a valid Redis bulk string. It does not carry the room or anything else.

/// Bytes of the stamp itself; a payload is never shorter than this.
pub const STAMP_LEN: usize = 30;

/// What a payload's stamp says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The sender's index in the run (0-based), for the per-sender order check.
    pub sender: u32,
    /// The sender's sequence number, 1, 2, 3, …
    pub seq: u32,
    /// Nanoseconds since the harness's clock origin when the message was
    /// (meant to be) sent.
    pub sent_ns: u64,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn put_hex(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = HEX[(v & 0xf) as usize];
        v >>= 4;
    }
}

fn get_hex(s: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

/// Writes a payload of exactly `size` bytes (at least [`STAMP_LEN`]) into
/// `out` (cleared first): the stamp, then dots.
pub fn write(out: &mut Vec<u8>, stamp: Stamp, size: usize) {
    out.clear();
    out.resize(size.max(STAMP_LEN), b'.');
    put_hex(&mut out[0..6], u64::from(stamp.sender));
    put_hex(&mut out[7..15], u64::from(stamp.seq));
    put_hex(&mut out[16..30], stamp.sent_ns);
}

/// Reads the stamp at the front of a payload; `None` if it is not one
/// (too short, or not this harness's format).
pub fn read(payload: &[u8]) -> Option<Stamp> {
    let p = payload.get(..STAMP_LEN)?;
    if p[6] != b'.' || p[15] != b'.' {
        return None;
    }
    Some(Stamp {
        sender: u32::try_from(get_hex(&p[0..6])?).ok()?,
        seq: u32::try_from(get_hex(&p[7..15])?).ok()?,
        sent_ns: get_hex(&p[16..30])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        let s = Stamp { sender: 0x12345, seq: 0xdeadbeef, sent_ns: 0x3_ffff_ffff_ffff };
        let mut out = Vec::new();
        write(&mut out, s, 64);
        assert_eq!(out.len(), 64);
        assert!(out.iter().all(|c| c.is_ascii_graphic()));
        assert_eq!(read(&out), Some(s));
        write(&mut out, s, 3);
        assert_eq!(out.len(), STAMP_LEN, "never shorter than the stamp");
    }

    #[test]
    fn refuses_foreign_payloads() {
        assert_eq!(read(b"short"), None);
        assert_eq!(read(&[b'x'; 40]), None);
        let mut out = Vec::new();
        write(&mut out, Stamp { sender: 1, seq: 2, sent_ns: 3 }, 40);
        out[3] = b'G';
        assert_eq!(read(&out), None);
    }
}
