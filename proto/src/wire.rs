//! The field codec shared by both directions: a `Reader` over one frame's
//! body that never reads past it, and a `Writer` that appends fields and
//! patches the length prefix in at the end.
//!
//! Encoding cannot fail. A `str` longer than a `u16` can count is cut at the
//! last character boundary that fits, a list longer than a `u16` can count
//! keeps its first 65 535 items, and `bytes` longer than a `u32` can count
//! are cut: callers validate lengths before they build a frame, and this
//! rule only guarantees the output is always a whole, well-formed frame.

use crate::{DecodeError, HEADER_LEN, MAX_STR};

/// A cursor over one frame's body.
pub(crate) struct Reader<'a> {
    /// The frame's type, carried into errors.
    pub ty: u8,
    /// What is left of the body.
    pub buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated { ty: self.ty, field });
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    pub fn u8(&mut self, f: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, f)?[0])
    }
    pub fn u16(&mut self, f: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, f)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn u32(&mut self, f: &'static str) -> Result<u32, DecodeError> {
        let mut a = [0; 4];
        a.copy_from_slice(self.take(4, f)?);
        Ok(u32::from_be_bytes(a))
    }
    pub fn u64(&mut self, f: &'static str) -> Result<u64, DecodeError> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8, f)?);
        Ok(u64::from_be_bytes(a))
    }
    pub fn str(&mut self, f: &'static str) -> Result<String, DecodeError> {
        let n = self.u16(f)? as usize;
        let bytes = self.take(n, f)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(DecodeError::InvalidUtf8 { ty: self.ty, field: f }),
        }
    }
    /// A `str` field borrowed from the frame (no allocation).
    pub fn str_ref(&mut self, f: &'static str) -> Result<&'a str, DecodeError> {
        let n = self.u16(f)? as usize;
        let bytes = self.take(n, f)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { ty: self.ty, field: f })
    }
    pub fn bytes(&mut self, f: &'static str) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32(f)? as usize;
        Ok(self.take(n, f)?.to_vec())
    }
    pub fn list(&mut self, f: &'static str) -> Result<Vec<String>, DecodeError> {
        let n = self.u16(f)? as usize;
        // Each item takes at least 2 bytes: never reserve more than the body holds.
        let mut items = Vec::with_capacity(n.min(self.buf.len() / 2));
        for _ in 0..n {
            items.push(self.str(f)?);
        }
        Ok(items)
    }
    /// Whether the body has no bytes left: a trailing field added by an
    /// extension is absent (the sender is older) and takes its default.
    pub fn at_end(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Appends fields to a buffer; the length prefix is patched in at the end.
pub(crate) struct Writer<'a> {
    /// The caller's buffer; earlier contents are left alone.
    out: &'a mut Vec<u8>,
    /// Where this frame's header starts in `out`.
    start: usize,
}

impl<'a> Writer<'a> {
    /// Starts a frame of type `ty` at the end of `out`.
    pub fn begin(out: &'a mut Vec<u8>, ty: u8) -> Writer<'a> {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_LEN]);
        out.push(ty);
        Writer { out, start }
    }
    /// Patches the length prefix: the frame is complete.
    pub fn end(self) {
        let len = (self.out.len() - self.start - HEADER_LEN) as u32;
        self.out[self.start..self.start + HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.out.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        let s = truncate_str(s, MAX_STR);
        self.u16(s.len() as u16);
        self.out.extend_from_slice(s.as_bytes());
        self
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let b = &b[..b.len().min(u32::MAX as usize)];
        self.u32(b.len() as u32);
        self.out.extend_from_slice(b);
        self
    }
    pub fn list(&mut self, items: &[String]) -> &mut Self {
        let items = &items[..items.len().min(MAX_STR)];
        self.u16(items.len() as u16);
        for s in items {
            self.str(s);
        }
        self
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary.
pub fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
