//! Display width of text in terminal cells, measured per grapheme cluster:
//! wide CJK and emoji take two cells, combining marks none of their own.
//!
//! It measures, cuts and wraps already-sanitised text; it does not decide
//! what is safe to print (see `sanitize`).

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Cells taken by one grapheme cluster: 0, 1 or 2.
pub fn grapheme_width(g: &str) -> usize {
    let w = g.width();
    if w > 2 {
        return 2;
    }
    // An emoji made wide by VS16 or a ZWJ sequence is two cells.
    if w == 1 && g.chars().count() > 1 && g.contains('\u{fe0f}') {
        return 2;
    }
    w
}

/// Cells taken by `s`.
pub fn str_width(s: &str) -> usize {
    s.graphemes(true).map(grapheme_width).sum()
}

/// The longest prefix of `s` that fits in `max` cells (never splits a grapheme).
pub fn truncate(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true) {
        let w = grapheme_width(g);
        if used + w > max {
            return &s[..i];
        }
        used += w;
    }
    s
}

/// Splits `s` into rows of at most `first` cells for the first row and
/// `rest` for the others, preferring to break after a space; a word longer
/// than a row is broken between graphemes.
pub fn wrap2(s: &str, first: usize, rest: usize) -> Vec<String> {
    let rest = rest.max(2);
    let mut width = first.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut row_w = 0;
    // Words keep their punctuation: "commands." never leaves "." alone.
    for word in s.split_inclusive(' ') {
        let w = str_width(word.trim_end_matches(' '));
        if row_w + w > width && row_w > 0 {
            rows.push(std::mem::take(&mut row).trim_end().to_string());
            row_w = 0;
            width = rest;
        }
        for g in word.graphemes(true) {
            let gw = grapheme_width(g);
            if row_w + gw > width && g != " " && (row_w > 0 || width < gw) {
                rows.push(std::mem::take(&mut row));
                row_w = 0;
                width = rest;
            }
            row.push_str(g);
            row_w += gw;
        }
    }
    let last = row.trim_end();
    if !last.is_empty() || rows.is_empty() {
        rows.push(last.to_string());
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(str_width("abc"), 3);
        assert_eq!(str_width("日本"), 4);
        assert_eq!(str_width("e\u{301}"), 1, "combining accent");
        assert_eq!(str_width("👍"), 2);
        assert_eq!(str_width("👩‍💻"), 2, "ZWJ sequence is one wide grapheme");
        assert_eq!(str_width("❤\u{fe0f}"), 2);
        assert_eq!(str_width(""), 0);
    }

    #[test]
    fn truncate_never_splits_wide_or_combined() {
        assert_eq!(truncate("日本語", 3), "日");
        assert_eq!(truncate("日本語", 4), "日本");
        assert_eq!(truncate("ae\u{301}b", 2), "ae\u{301}");
        assert_eq!(truncate("abc", 10), "abc");
    }

    fn wrap(s: &str, w: usize) -> Vec<String> {
        wrap2(s, w, w)
    }

    #[test]
    fn wrap_rows_fit() {
        let rows = wrap("hello wide 世界 world of wrapping text", 7);
        assert!(rows.iter().all(|r| str_width(r) <= 7), "{rows:?}");
        assert_eq!(rows.concat().replace(' ', ""), "hellowide世界worldofwrappingtext");
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        let cjk = wrap("日本語日本語", 5);
        assert_eq!(cjk, vec!["日本", "語日", "本語"]);
        assert_eq!(wrap2("ab cdefgh ij", 4, 8), vec!["ab", "cdefgh", "ij"]);
        assert_eq!(wrap2("abcdefghij", 3, 5), vec!["abc", "defgh", "ij"]);
        assert_eq!(wrap("lists commands.", 14), vec!["lists", "commands."]);
    }
}
