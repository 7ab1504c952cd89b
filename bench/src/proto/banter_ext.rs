//! The Banter frames of the receipts and files scenarios (§9, §10): the
//! server frames they see by the thousand (ACK, READ, UPLOAD_READY,
//! FILE_DATA) read in place, without allocating, and the client frames
//! they send (REGISTER, MARK, UPLOAD, CHUNK, FETCH). MARK and CHUNK are
//! written straight into the output buffer: one goes out per delivery,
//! the other carries 64 KiB.
//!
//! The owned codec in `banter_proto` stays the reference: the tests check
//! that both agree byte for byte. No I/O happens here.

use super::Event;
use banter_proto::{types, ClientFrame};

/// A cursor over one frame's body that never reads past it.
struct Cur<'a> {
    /// The frame's name, for errors.
    what: &'static str,
    /// What is left of the body.
    buf: &'a [u8],
}

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err(format!("malformed {} from server: too short", self.what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let mut a = [0; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(a))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }

    fn str(&mut self) -> Result<&'a str, String> {
        let b = self.take(2)?;
        let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
        let what = self.what;
        std::str::from_utf8(self.take(n)?).map_err(|_| format!("malformed {what}: bad UTF-8"))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Reads a whole ACK, READ, UPLOAD_READY or FILE_DATA frame (header
/// included; `check` has vouched for its length).
pub fn parse(frame: &[u8]) -> Result<Event<'_>, String> {
    let ty = frame.get(4).copied().unwrap_or(0);
    let mut c = Cur { what: types::name(ty), buf: frame.get(5..).unwrap_or(&[]) };
    Ok(match ty {
        types::ACK => {
            let seq = c.u32()?;
            c.str()?;
            Event::Ack { seq, id: c.u64()? }
        }
        types::READ => Event::Read { room: c.str()?, name: c.str()?, id: c.u64()? },
        types::UPLOAD_READY => Event::UploadReady { seq: c.u32()?, offset: c.u64()? },
        types::FILE_DATA => {
            let (file, offset, last) = (c.str()?, c.u64()?, c.u8()? != 0);
            Event::FileData { file, offset, last, data: c.bytes()? }
        }
        _ => Event::Other,
    })
}

/// Appends a `str` field.
fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Appends MARK {room, id}. `room` is the harness's own (short, valid).
pub fn mark(out: &mut Vec<u8>, room: &str, id: u64) {
    let len = 1 + 2 + room.len() + 8;
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.push(types::MARK);
    put_str(out, room);
    out.extend_from_slice(&id.to_be_bytes());
}

/// Appends CHUNK {seq, offset, data}.
pub fn chunk(out: &mut Vec<u8>, seq: u32, offset: u64, data: &[u8]) {
    let len = 1 + 4 + 8 + 4 + data.len();
    out.reserve(4 + len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.push(types::CHUNK);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends REGISTER with `password`.
pub fn register(out: &mut Vec<u8>, password: &str) {
    ClientFrame::Register { password: password.into() }.encode(out);
}

/// Appends JOIN of `room` with no replay.
pub fn join(out: &mut Vec<u8>, room: &str) {
    ClientFrame::Join { room: room.into(), since: 0, limit: 0 }.encode(out);
}

/// Appends UPLOAD {seq, room, name, size, mime}.
pub fn upload(out: &mut Vec<u8>, seq: u32, room: &str, name: &str, size: u64) {
    let (room, name, mime) = (room.into(), name.into(), "application/octet-stream".into());
    ClientFrame::Upload { seq, room, name, size, mime }.encode(out);
}

/// Appends FETCH of `file` from `offset`.
pub fn fetch(out: &mut Vec<u8>, file: &str, offset: u64) {
    ClientFrame::Fetch { file: file.into(), offset }.encode(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use banter_proto::ServerFrame;

    #[test]
    fn hand_encoders_match_the_codec() {
        let mut out = Vec::new();
        mark(&mut out, "lobby", 77);
        assert_eq!(out, ClientFrame::Mark { room: "lobby".into(), id: 77 }.to_bytes());
        out.clear();
        let data: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        chunk(&mut out, 9, 1 << 33, &data);
        let want = ClientFrame::Chunk { seq: 9, offset: 1 << 33, data };
        assert_eq!(out, want.to_bytes());
    }

    #[test]
    fn server_frames_are_read_in_place() {
        let f = |s: ServerFrame| s.to_bytes();
        let ack = f(ServerFrame::Ack { seq: 7, room: "room".into(), id: 42, ts: 1 });
        assert_eq!(parse(&ack), Ok(Event::Ack { seq: 7, id: 42 }));
        let read = f(ServerFrame::Read { room: "r".into(), name: "ada".into(), id: 3 });
        assert_eq!(parse(&read), Ok(Event::Read { room: "r", name: "ada", id: 3 }));
        let ready = f(ServerFrame::UploadReady { seq: 2, offset: 5 });
        assert_eq!(parse(&ready), Ok(Event::UploadReady { seq: 2, offset: 5 }));
        let data =
            f(ServerFrame::FileData { file: "ab".into(), offset: 9, last: 1, data: vec![1, 2, 3] });
        let want = Event::FileData { file: "ab", offset: 9, last: true, data: &[1, 2, 3] };
        assert_eq!(parse(&data), Ok(want));
    }

    #[test]
    fn truncated_frames_are_errors_not_panics() {
        let data =
            ServerFrame::FileData { file: "ab".into(), offset: 9, last: 0, data: vec![7; 10] };
        let bytes = data.to_bytes();
        for cut in 5..bytes.len() {
            assert!(parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let read = ServerFrame::Read { room: "r".into(), name: "ada".into(), id: 3 }.to_bytes();
        let mut bad = read.clone();
        bad[7] = 0xff; // the room name: not UTF-8
        assert!(parse(&bad).unwrap_err().contains("UTF-8"));
        assert!(parse(&read[..read.len() - 1]).is_err());
    }
}
