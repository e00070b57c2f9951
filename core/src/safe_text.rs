//! Server text made safe to print. A server chooses its `user_code`, its URIs, its error
//! descriptions; printed raw, an escape sequence in them could rewrite the terminal (move
//! the cursor, change the title, fake a line), and bidi controls or invisible characters
//! could make a URI read as another. Every `Display` in this crate that shows server text
//! goes through [`display_safe`]; accessors still return the raw value.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The text with terminal escape sequences removed and every other control, bidi or
/// invisible formatting character shown as a visible `\u{..}` escape.
///
/// Removed whole: `ESC [ ... final` (CSI, and its one-character form U+009B), `ESC ] ...`
/// up to BEL or `ESC \` (OSC, and U+009D), and other two-character `ESC x` sequences.
/// Escaped: C0 and C1 controls (including CR, LF and TAB), DEL, the bidi controls
/// U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069, and zero-width or format
/// characters such as U+00AD, U+200B..U+200D, U+2028, U+2029, U+2060..U+2064, U+FEFF and the
/// tag characters. Text with none of these is returned as it is, without a copy.
///
/// ```
/// use device_grant::display_safe;
/// assert_eq!(display_safe("WDJB-MJHT"), "WDJB-MJHT");
/// assert_eq!(display_safe("\u{1b}[31mred\u{1b}[0m"), "red");
/// assert_eq!(display_safe("a\u{202e}b"), "a\\u{202e}b");
/// ```
#[must_use]
pub fn display_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    skip_csi(&mut chars);
                }
                Some(']') => {
                    chars.next();
                    skip_osc(&mut chars);
                }
                // Any other escape is two characters: ESC and one more.
                Some(next) if ('\u{20}'..='\u{7e}').contains(next) => {
                    chars.next();
                }
                _ => escape(&mut out, c),
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' => skip_osc(&mut chars),
            c if unsafe_char(c) => escape(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// CSI: parameter bytes and intermediates, then one final byte in `@`..`~`.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) || !('\u{20}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// OSC: anything up to BEL, ST (U+009C) or `ESC \`; an unterminated one runs to the end.
fn skip_osc(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

fn escape(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

fn unsafe_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

/// Formats server text through [`display_safe`].
pub(crate) struct Safe<'a>(pub(crate) &'a str);

impl std::fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&display_safe(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_go_and_controls_show() {
        assert!(matches!(display_safe("plain ü 日本"), Cow::Borrowed(_)));
        assert_eq!(display_safe("\u{1b}]0;owned\u{7}title"), "title");
        assert_eq!(display_safe("\u{1b}]8;;https://evil\u{1b}\\x"), "x");
        assert_eq!(display_safe("\u{9b}2Jclear"), "clear");
        assert_eq!(display_safe("a\rb\nc\u{0}"), "a\\u{d}b\\u{a}c\\u{0}");
        assert_eq!(display_safe("x\u{200b}\u{feff}y"), "x\\u{200b}\\u{feff}y");
        assert_eq!(display_safe("\u{1b}"), "\\u{1b}");
        assert_eq!(display_safe("\u{1b}]unterminated"), "");
        assert_eq!(display_safe("\u{85}"), "\\u{85}");
    }
}
