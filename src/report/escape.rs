//! Escaping of untrusted text (command output, check names, messages) for display.
//!
//! Output from a container can hold any bytes. Before the terminal and JUnit reporters show it,
//! these functions replace every character that could move the cursor, change colors, reorder the
//! display or make XML invalid with a visible escape such as `\x1b`, `\r` or `\u{202e}`. The
//! escapes are for people and are not reversible, because a literal backslash in the input is
//! not escaped.

use std::fmt::Write as _;

/// Whitespace controls that pass through unescaped. Every other control is escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Keep {
    pub(crate) newline: bool,
    pub(crate) tab: bool,
}

impl Keep {
    /// Escapes newlines and tabs too, for text that must stay on one line.
    pub(crate) const NOTHING: Keep = Keep { newline: false, tab: false };
}

/// Returns `text` with every unsafe character replaced by a visible escape.
pub(crate) fn escape(text: &str, keep: Keep) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        push_escaped(&mut escaped, character, keep);
    }
    escaped
}

/// Appends `character` to `out`, or its visible escape when it is unsafe to show.
///
/// C0 controls and DEL become `\xNN`, except `\n`, `\t` and `\r`, which are escaped by name. C1
/// controls, the bidirectional embedding, override and isolate controls (U+202A to U+202E and
/// U+2066 to U+2069) and the noncharacters U+FFFE and U+FFFF, which XML 1.0 does not allow,
/// become `\u{NNNN}`.
pub(crate) fn push_escaped(out: &mut String, character: char, keep: Keep) {
    match character {
        '\n' if keep.newline => out.push('\n'),
        '\t' if keep.tab => out.push('\t'),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        // Writing to a String cannot fail.
        '\0'..='\x1f' | '\x7f' => {
            let _ = write!(out, "\\x{:02x}", u32::from(character));
        }
        '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}' => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(character));
        }
        _ => out.push(character),
    }
}

/// Returns the longest prefix of `text` that is at most `max_bytes` long and ends on a character
/// boundary, and the number of bytes left off.
pub(crate) fn truncate(text: &str, max_bytes: usize) -> (&str, usize) {
    if text.len() <= max_bytes {
        return (text, 0);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI_LINE: Keep = Keep { newline: true, tab: true };

    #[test]
    fn escape_c0_controls_as_hex() {
        assert_eq!(escape("a\0b\x1b[31mc\x0c\x7f", MULTI_LINE), "a\\x00b\\x1b[31mc\\x0c\\x7f");
    }

    #[test]
    fn escape_carriage_return_by_name() {
        assert_eq!(escape("50%\r100%\r\n", MULTI_LINE), "50%\\r100%\\r\n");
    }

    #[test]
    fn escape_keeps_requested_whitespace() {
        assert_eq!(escape("a\tb\nc", MULTI_LINE), "a\tb\nc");
        assert_eq!(escape("a\tb\nc", Keep::NOTHING), "a\\tb\\nc");
        assert_eq!(escape("a\tb\nc", Keep { newline: true, tab: false }), "a\\tb\nc");
    }

    #[test]
    fn escape_c1_bidi_and_noncharacters() {
        assert_eq!(escape("\u{9b}31m", MULTI_LINE), "\\u{9b}31m");
        assert_eq!(escape("x\u{202e}y\u{2066}", MULTI_LINE), "x\\u{202e}y\\u{2066}");
        assert_eq!(escape("\u{fffe}\u{ffff}", MULTI_LINE), "\\u{fffe}\\u{ffff}");
    }

    #[test]
    fn escape_keeps_printable_unicode() {
        let text = "ünïcödé 日本 🦀 \u{fffd} <&>\"' \\";
        assert_eq!(escape(text, Keep::NOTHING), text);
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("abc", 3), ("abc", 0));
        assert_eq!(truncate("abcd", 3), ("abc", 1));
        assert_eq!(truncate("aé", 2), ("a", 2));
        assert_eq!(truncate("🦀", 3), ("", 4));
    }
}
