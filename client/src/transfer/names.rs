//! Names, sizes and types of shared files as the user sees them: a name
//! from another user made safe to save (one path component: no path
//! separators, control, bidi or invisible characters, leading dots or
//! dashes, nor more than [`MAX_SAVED`] bytes), the numbered variant that
//! does not overwrite ("notes (1).txt"), the name an upload is announced
//! under, sizes in human units, and media types, guessed from a name or
//! shown only when well formed.
//!
//! Pure: it never touches the disk (see `download` for the writing).

use crate::sanitize::is_bidi_or_separator;
use banter_proto::validate::MAX_FILE_NAME;

/// Longest name saved, in bytes: room for " (999)" under the 255 bytes a
/// file name may have on common file systems.
pub const MAX_SAVED: usize = 200;
/// The longest ending kept when a name is cut (".jpeg", ".tar.gz").
const MAX_EXT: usize = 16;

/// Characters that show nothing or change how text reads: a name must
/// not hide its real ending ("gnp.exe" reversed).
fn invisible(c: char) -> bool {
    c.is_control()
        || is_bidi_or_separator(c)
        || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}')
}

/// A file name from the network made into one safe path component: never
/// empty, `.` or `..`, never hidden, never starting with `-`.
pub fn safe_name(untrusted: &str) -> String {
    let mapped: String = untrusted
        .chars()
        .filter(|c| !invisible(*c))
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    let trimmed = mapped.trim_start_matches(|c: char| c == '.' || c == '-' || c.is_whitespace());
    let name = cut(trimmed.trim_end(), MAX_SAVED);
    match name.trim_end() {
        "" => "file".to_string(),
        n => n.to_string(),
    }
}

/// Where the ending of `name` starts (".txt", ".tar.gz"), if it has one.
fn ending(name: &str) -> Option<usize> {
    let dot = name.rfind('.').filter(|&i| i > 0 && name.len() - i <= MAX_EXT)?;
    if name[dot..].contains(char::is_whitespace) {
        return None;
    }
    let tar = name[..dot].strip_suffix(".tar").map(|stem| stem.len()).filter(|&i| i > 0);
    Some(tar.unwrap_or(dot))
}

/// `name` cut to at most `max` bytes on a character boundary, its ending kept.
fn cut(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let ext = ending(name).map_or("", |i| &name[i..]);
    let mut end = max - ext.len();
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &name[..end])
}

/// The `k`-th name tried for `name`: itself, then "stem (k).ext".
pub fn numbered(name: &str, k: u32) -> String {
    if k == 0 {
        return name.to_string();
    }
    let (stem, ext) = name.split_at(ending(name).unwrap_or(name.len()));
    format!("{stem} ({k}){ext}")
}

/// The name a local file is shared under: its last component as text
/// (bytes that are not UTF-8 replaced), control characters replaced by
/// `_`, cut to §10's 255 bytes with its ending kept.
pub fn upload_name(file_name: &str) -> String {
    let s: String = file_name.chars().map(|c| if c.is_control() { '_' } else { c }).collect();
    cut(&s, MAX_FILE_NAME)
}

/// A size as people read it: "1 byte", "900 bytes", "1.5 KiB", "64 MiB".
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    match n {
        1 => return "1 byte".into(),
        0..1024 => return format!("{n} bytes"),
        _ => {}
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1023.95 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match v < 9.95 {
        true => format!("{v:.1} {}", UNITS[unit]),
        false => format!("{v:.0} {}", UNITS[unit]),
    }
}

/// The media type announced for a file, from its ending.
pub fn guess_mime(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" | "md" | "csv" | "rs" | "py" | "c" | "h" | "toml" | "yaml" | "yml" => {
            "text/plain"
        }
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

/// A type from the network as shown: `type/subtype` of RFC 6838
/// characters (parameters dropped, lower case), else "unknown type".
pub fn shown_mime(mime: &str) -> String {
    let m = mime.split(';').next().unwrap_or("").trim();
    let token = |t: &str| {
        (1..=64).contains(&t.len())
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match m.split_once('/') {
        Some((a, b)) if token(a) && token(b) => m.to_ascii_lowercase(),
        _ => "unknown type".into(),
    }
}

/// "name (1.2 MiB, application/pdf)": how a file is described (the name
/// as given: whoever prints it sanitises it).
pub fn describe(name: &str, size: u64, mime: &str) -> String {
    format!("{name} ({}, {})", human_size(size), shown_mime(mime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_one_harmless_component() {
        let cases = [
            ("notes.txt", "notes.txt"),
            ("..", "file"),
            (".", "file"),
            ("...", "file"),
            ("", "file"),
            ("../../etc/passwd", "_.._etc_passwd"),
            ("/etc/passwd", "_etc_passwd"),
            ("..\\..\\boot.ini", "_.._boot.ini"),
            (".bashrc", "bashrc"),
            ("-rf", "rf"),
            ("  . spaced  ", "spaced"),
            ("a\u{0}b\u{1b}[2Jc\u{7f}\u{9b}", "ab[2Jc"),
            ("\u{202e}gnp.exe", "gnp.exe"),
            ("zero\u{200b}width\u{feff}", "zerowidth"),
            ("日本語.txt", "日本語.txt"),
        ];
        for (given, want) in cases {
            let got = safe_name(given);
            assert_eq!(got, want, "{given:?}");
            assert!(!got.contains('/') && !got.contains('\\') && got != "." && got != "..");
        }
    }

    #[test]
    fn long_names_are_cut_keeping_their_ending() {
        let long = format!("{}.tar.gz", "é".repeat(300));
        let s = safe_name(&long);
        assert!(s.len() <= MAX_SAVED && s.ends_with(".tar.gz"), "{s}");
        let n = numbered(&s, 999);
        assert!(n.len() <= 255 && n.ends_with(" (999).tar.gz"), "{n}");
        let up = upload_name(&format!("{}\u{7}.bin", "x".repeat(400)));
        assert!(up.len() == 255 && up.ends_with(".bin") && !up.contains('\u{7}'), "{up}");
    }

    #[test]
    fn numbered_names() {
        assert_eq!(numbered("notes.txt", 0), "notes.txt");
        assert_eq!(numbered("notes.txt", 1), "notes (1).txt");
        assert_eq!(numbered("archive.tar.gz", 2), "archive (2).tar.gz");
        assert_eq!(numbered("Makefile", 1), "Makefile (1)");
        assert_eq!(numbered("a.b c", 1), "a.b c (1)");
        assert_eq!(numbered(".tar.gz", 1), ".tar (1).gz");
    }

    #[test]
    fn sizes_and_types() {
        let sizes = [
            (0, "0 bytes"),
            (1, "1 byte"),
            (1023, "1023 bytes"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (65_408, "64 KiB"),
            (5 << 20, "5.0 MiB"),
            (64 << 20, "64 MiB"),
            (u64::MAX, "16384 PiB"),
        ];
        for (n, want) in sizes {
            assert_eq!(human_size(n), want, "{n}");
        }
        assert_eq!(guess_mime("Photo.JPG"), "image/jpeg");
        assert_eq!(guess_mime("noext"), "application/octet-stream");
        assert_eq!(shown_mime("Text/Plain; charset=utf-8"), "text/plain");
        for bad in ["", "text", "text/", "a b/c", "x/\u{1b}[2J", "<script>/x", "a/b/c"] {
            assert_eq!(shown_mime(bad), "unknown type", "{bad:?}");
        }
        assert_eq!(describe("a.pdf", 2048, "application/pdf"), "a.pdf (2.0 KiB, application/pdf)");
    }
}
