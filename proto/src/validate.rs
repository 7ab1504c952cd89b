//! The rules of §2 of the spec for names and text, in one place so that the
//! server, the client and the bench agree on them to the byte.
//!
//! Nothing here decides what to do with a bad value; callers turn a `false`
//! or an `Err` into NAME_INVALID, TEXT_INVALID or a message for the user.

use crate::wire::truncate_str;

/// Longest user or room name, in bytes.
pub const MAX_NAME: usize = 32;

/// Whether `s` matches `^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`: a valid user or
/// room name. Names starting with `@` or `#` (reserved) never match.
pub fn is_valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    b.len() <= MAX_NAME
        && b[1..].iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// The key names are compared by: ASCII lower case. Room names travel in
/// this form too.
pub fn name_key(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Whether two names are the same name.
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether chat text refuses `c`: U+0000–U+0008, U+000B–U+001F, U+007F and
/// U+0080–U+009F. `\n` and `\t` are allowed.
pub fn is_refused_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// Why a text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// Zero bytes.
    Empty,
    /// More bytes than `max_text`.
    TooLong { len: usize, max: usize },
    /// A refused control character, at this byte offset.
    ControlChar { offset: usize, ch: char },
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::Empty => write!(f, "text is empty"),
            TextError::TooLong { len, max } => {
                write!(f, "text is {len} bytes, over the limit of {max}")
            }
            TextError::ControlChar { offset, ch } => {
                write!(f, "control character U+{:04X} at byte {offset}", *ch as u32)
            }
        }
    }
}

/// Checks chat text: 1 to `max_text` bytes, no refused control character.
pub fn check_text(s: &str, max_text: usize) -> Result<(), TextError> {
    if s.is_empty() {
        return Err(TextError::Empty);
    }
    if s.len() > max_text {
        return Err(TextError::TooLong { len: s.len(), max: max_text });
    }
    match s.char_indices().find(|(_, c)| is_refused_char(*c)) {
        Some((offset, ch)) => Err(TextError::ControlChar { offset, ch }),
        None => Ok(()),
    }
}

/// A QUIT reason as relayed in PRESENCE: every control character removed
/// (`\n` and `\t` included), then cut to 256 bytes on a character boundary.
pub fn clean_reason(reason: &str) -> String {
    let cleaned: String = reason.chars().filter(|c| !c.is_control()).collect();
    truncate_str(&cleaned, crate::MAX_REASON).to_owned()
}

/// The other party's name when `room` names a direct conversation
/// (`@name`, §8) with a valid name; `None` for anything else.
pub fn direct_peer(room: &str) -> Option<&str> {
    room.strip_prefix('@').filter(|n| is_valid_name(n))
}

/// Whether `room` starts like a direct conversation (`@`), valid or not.
pub fn is_direct(room: &str) -> bool {
    room.starts_with('@')
}

/// Longest file name of an UPLOAD, in bytes (§10).
pub const MAX_FILE_NAME: usize = 255;

/// Whether an UPLOAD's file name follows §10: 1 to 255 bytes, no `/`, no
/// control character (C0, DEL or C1).
pub fn is_valid_file_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_FILE_NAME && !s.chars().any(|c| c == '/' || c.is_control())
}

/// Whether a password has an acceptable length: 8 to 256 bytes.
pub fn is_valid_password_len(p: &str) -> bool {
    (8..=256).contains(&p.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "Z", "0", "ada", "a_b.c-d", "A234567890123456789012345678901b"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        let too_long = "a".repeat(33);
        for bad in ["", "_a", ".a", "-a", "@ada", "#room", "a b", "é", "a/b", &too_long] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
        assert_eq!(name_key("LoBby"), "lobby");
        assert!(same_name("Ada", "aDA"));
        assert!(!same_name("ada", "adb"));
    }

    #[test]
    fn text_rules() {
        assert_eq!(check_text("", 10), Err(TextError::Empty));
        assert!(check_text("hi é\n\tthere", 100).is_ok());
        assert_eq!(check_text("abcd", 3), Err(TextError::TooLong { len: 4, max: 3 }));
        assert!(check_text("abc", 3).is_ok());
        for bad in ['\0', '\u{8}', '\u{b}', '\u{1b}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}'] {
            let s = format!("a{bad}");
            assert_eq!(check_text(&s, 10), Err(TextError::ControlChar { offset: 1, ch: bad }));
        }
        assert!(check_text("\u{a0}\u{202e}", 10).is_ok(), "only C0/C1 are refused");
    }

    #[test]
    fn reasons() {
        assert_eq!(clean_reason("bye\n\tnow\u{1b}[31m\u{85}"), "byenow[31m");
        let long = "é".repeat(200); // 400 bytes
        let cut = clean_reason(&long);
        assert_eq!(cut.len(), 256);
        assert!(cut.chars().all(|c| c == 'é'));
        let odd = format!("a{}", "é".repeat(200));
        assert_eq!(clean_reason(&odd).len(), 255);
    }

    #[test]
    fn direct_names_and_file_names() {
        assert_eq!(direct_peer("@Ada"), Some("Ada"));
        assert_eq!(direct_peer("@"), None);
        assert_eq!(direct_peer("@@ada"), None);
        assert_eq!(direct_peer("ada"), None);
        assert!(is_direct("@") && !is_direct("lobby"));
        assert!(is_valid_file_name("report (final).pdf"));
        assert!(is_valid_file_name(&"é".repeat(127)));
        for bad in ["", "a/b", "a\nb", "a\u{7f}", "a\u{85}", &"x".repeat(256)] {
            assert!(!is_valid_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn passwords() {
        assert!(!is_valid_password_len("1234567"));
        assert!(is_valid_password_len("12345678"));
        assert!(is_valid_password_len(&"x".repeat(256)));
        assert!(!is_valid_password_len(&"x".repeat(257)));
    }
}
