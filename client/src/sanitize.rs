//! Neutralises text received from the network before it reaches a terminal.
//!
//! Control characters (C0, DEL, C1), bidi overrides/isolates/marks and the
//! Unicode line/paragraph separators are replaced by visible placeholders, so
//! no escape sequence, cursor move or text-direction trick from another user
//! is ever interpreted. It does not wrap, measure or colour text.

/// How a tab is shown: it is allowed in chat text but has no fixed width.
const TAB: &str = "    ";

/// The placeholder of one character, or `None` when it is safe to print.
fn placeholder(c: char) -> Option<String> {
    let u = c as u32;
    match c {
        '\t' => Some(TAB.to_string()),
        // C0: the Unicode "control pictures" block (␀ … ␟), e.g. ESC -> ␛.
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + u).map(String::from),
        '\u{7f}' => Some("\u{2421}".to_string()),
        '\u{80}'..='\u{9f}' => Some(format!("<U+{u:04X}>")),
        _ if is_bidi_or_separator(c) => Some(format!("<U+{u:04X}>")),
        _ => None,
    }
}

/// Bidi marks, embeddings, overrides and isolates, and U+2028/U+2029.
pub fn is_bidi_or_separator(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}'
    )
}

/// `s` with every dangerous character replaced; `\n` becomes `␊`, so the
/// result is always one line.
pub fn sanitize_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match placeholder(c) {
            Some(p) => out.push_str(&p),
            None => out.push(c),
        }
    }
    out
}

/// `s` split at `\n` into lines, each sanitised with [`sanitize_line`].
pub fn sanitize_lines(s: &str) -> Vec<String> {
    s.split('\n').map(sanitize_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        let s = sanitize_line("a\u{1b}[2Jb\u{1b}]0;pwn\u{7}c");
        assert_eq!(s, "a\u{241b}[2Jb\u{241b}]0;pwn\u{2407}c");
        assert!(!s.contains('\u{1b}'));
    }

    #[test]
    fn c1_del_and_bidi_become_placeholders() {
        assert_eq!(sanitize_line("x\u{9b}31m"), "x<U+009B>31m");
        assert_eq!(sanitize_line("\u{7f}"), "\u{2421}");
        assert_eq!(sanitize_line("\u{202e}gnp.exe"), "<U+202E>gnp.exe");
        assert_eq!(sanitize_line("\u{2066}a\u{2069}"), "<U+2066>a<U+2069>");
        assert_eq!(sanitize_line("a\u{2028}b"), "a<U+2028>b");
    }

    #[test]
    fn safe_text_is_unchanged() {
        for s in ["hello", "héllo wörld", "日本語", "👩‍💻 ok", "a\u{301}"] {
            assert_eq!(sanitize_line(s), s);
        }
    }

    #[test]
    fn newlines_and_tabs() {
        assert_eq!(sanitize_line("a\nb\tc"), "a\u{240a}b    c");
        assert_eq!(sanitize_lines("a\n\u{1b}b"), vec!["a", "\u{241b}b"]);
    }

    #[test]
    fn no_control_char_survives_any_input() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let out = sanitize_line(&all);
        assert!(!out.chars().any(|c| c.is_control()));
        assert!(!out.chars().any(is_bidi_or_separator));
    }
}
