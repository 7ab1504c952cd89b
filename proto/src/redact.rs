//! `Debug` for [`ClientFrame`] that never shows a secret: HELLO's and
//! REGISTER's password and HELLO's resume token print as `<redacted>` (or
//! `0` for "no token"), and CHUNK's data as its length. Any log line that
//! formats a frame with `{:?}`, at any level, is then safe to keep.
//!
//! Nothing else is hidden: names, rooms and texts are what the log is for.

use crate::ClientFrame;
use std::fmt;

/// Stands in for a secret in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A token shown as `0` when absent, else hidden.
struct Token(u64);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("0")
        } else {
            Redacted.fmt(f)
        }
    }
}

impl fmt::Debug for ClientFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientFrame::Hello { version, name, password: _, resume } => f
                .debug_struct("Hello")
                .field("version", version)
                .field("name", name)
                .field("password", &Redacted)
                .field("resume", &Token(*resume))
                .finish(),
            ClientFrame::Register { password: _ } => {
                f.debug_struct("Register").field("password", &Redacted).finish()
            }
            ClientFrame::Join { room, since, limit } => f
                .debug_struct("Join")
                .field("room", room)
                .field("since", since)
                .field("limit", limit)
                .finish(),
            ClientFrame::Leave { room } => f.debug_struct("Leave").field("room", room).finish(),
            ClientFrame::Who { room } => f.debug_struct("Who").field("room", room).finish(),
            ClientFrame::Say { room, seq, text, flags } => f
                .debug_struct("Say")
                .field("room", room)
                .field("seq", seq)
                .field("text", text)
                .field("flags", flags)
                .finish(),
            ClientFrame::History { room, before, limit } => f
                .debug_struct("History")
                .field("room", room)
                .field("before", before)
                .field("limit", limit)
                .finish(),
            ClientFrame::Typing { room, active } => {
                f.debug_struct("Typing").field("room", room).field("active", active).finish()
            }
            ClientFrame::Quit { reason } => f.debug_struct("Quit").field("reason", reason).finish(),
            ClientFrame::Mark { room, id } => {
                f.debug_struct("Mark").field("room", room).field("id", id).finish()
            }
            ClientFrame::Upload { seq, room, name, size, mime } => f
                .debug_struct("Upload")
                .field("seq", seq)
                .field("room", room)
                .field("name", name)
                .field("size", size)
                .field("mime", mime)
                .finish(),
            ClientFrame::Chunk { seq, offset, data } => f
                .debug_struct("Chunk")
                .field("seq", seq)
                .field("offset", offset)
                .field("data_len", &data.len())
                .finish(),
            ClientFrame::Fetch { file, offset } => {
                f.debug_struct("Fetch").field("file", file).field("offset", offset).finish()
            }
            ClientFrame::Ping { nonce } => f.debug_struct("Ping").field("nonce", nonce).finish(),
            ClientFrame::Pong { nonce } => f.debug_struct("Pong").field("nonce", nonce).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ClientFrame;

    #[test]
    fn secrets_never_show() {
        let password = "correct horse battery".to_string();
        let hello = ClientFrame::Hello {
            version: 1,
            name: "ada".into(),
            password: password.clone(),
            resume: 0xdead_beef_cafe,
        };
        let shown = format!("{hello:?} {hello:#?}");
        assert!(!shown.contains("horse"), "{shown}");
        let token: u64 = 0xdead_beef_cafe;
        for t in [token.to_string(), format!("{token:x}"), format!("{token:#x}")] {
            assert!(!shown.contains(&t), "{shown}");
        }
        assert!(shown.contains("ada") && shown.contains("<redacted>"), "{shown}");
        let reg = format!("{:?}", ClientFrame::Register { password });
        assert_eq!(reg, "Register { password: <redacted> }");
        let no_resume =
            ClientFrame::Hello { version: 1, name: "b".into(), password: String::new(), resume: 0 };
        assert!(format!("{no_resume:?}").contains("resume: 0"));
        let chunk = ClientFrame::Chunk { seq: 1, offset: 0, data: vec![7; 5000] };
        assert_eq!(format!("{chunk:?}"), "Chunk { seq: 1, offset: 0, data_len: 5000 }");
    }
}
