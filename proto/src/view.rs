//! Borrowed views of the one frame a receiver sees by the million, MSG:
//! its fields as slices of the received bytes, with no allocation, for
//! load generators and other hot receive paths. The owned decoders in
//! `server` remain the reference; [`view_msg`] reads the same layout.

use crate::fields::FLAG_FILE;
use crate::framing::{body, DecodeError};
use crate::types::MSG;
use crate::wire::Reader;

/// A MSG's leading fields, borrowed from the frame's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgView<'a> {
    pub room: &'a str,
    pub id: u64,
    pub ts: u64,
    pub from: &'a str,
    pub flags: u8,
    pub text: &'a str,
}

/// Reads a whole MSG frame (header included) without copying; any other
/// type is `UnknownType`. The file fields of a file message are checked for
/// presence but not returned (use `decode_server` for those).
pub fn view_msg(frame: &[u8]) -> Result<MsgView<'_>, DecodeError> {
    let (ty, rest) = body(frame)?;
    if ty != MSG {
        return Err(DecodeError::UnknownType { ty });
    }
    let mut r = Reader { ty, buf: rest };
    let (room, id, ts, from) = (r.str_ref("room")?, r.u64("id")?, r.u64("ts")?, r.str_ref("from")?);
    let (flags, text) = (r.u8("flags")?, r.str_ref("text")?);
    if flags & FLAG_FILE != 0 {
        r.str_ref("file")?;
        r.u64("size")?;
        r.str_ref("mime")?;
    }
    Ok(MsgView { room, id, ts, from, flags, text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode_server, ServerFrame};

    #[test]
    fn agrees_with_the_owned_decoder() {
        let f = ServerFrame::Msg {
            room: "r".into(),
            id: 3,
            ts: 9,
            from: "ada".into(),
            flags: 1,
            text: "hé".into(),
            file: None,
        };
        let bytes = f.to_bytes();
        let v = view_msg(&bytes).unwrap();
        assert_eq!(v, MsgView { room: "r", id: 3, ts: 9, from: "ada", flags: 1, text: "hé" });
        assert_eq!(decode_server(&bytes).unwrap(), f);
        for cut in 5..bytes.len() {
            let mut b = bytes[..cut].to_vec();
            b[..4].copy_from_slice(&((cut - 4) as u32).to_be_bytes());
            assert!(view_msg(&b).is_err(), "cut at {cut}");
        }
        let ping = ServerFrame::Ping { nonce: 1 }.to_bytes();
        assert!(view_msg(&ping).is_err());
    }
}
