//! The smallest correct JSON extraction for the floor: the top-level object's members, each
//! handed over once as a string (borrowed from the body unless it has escapes), a number (its
//! text) or "something else" (skipped). No serde, no tree, no allocation for a body without
//! escapes. Linear in the body: nested values are skipped by counting brackets, never by
//! recursion.
//!
//! It depends on `std` alone, so the footprint programs include it as it is
//! (`#[path = ...] mod json;`).

use std::borrow::Cow;

/// A member's value, as much of it as a device-flow client reads.
#[derive(Debug, PartialEq)]
pub enum Value<'a> {
    /// A string, unescaped.
    Str(Cow<'a, str>),
    /// A number, as written.
    Num(&'a str),
    /// An object, an array, `true`, `false` or `null`.
    Other,
}

/// The body is not a JSON object.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// Calls `each` with every member of the object that is the whole of `body`, in order.
pub fn members<'a>(body: &'a [u8], mut each: impl FnMut(&str, Value<'a>)) -> Result<(), Malformed> {
    let mut c = Cursor { b: body, i: 0 };
    c.eat(b'{')?;
    if !c.peek_is(b'}') {
        loop {
            c.eat(b'"')?;
            let name = c.string()?;
            c.eat(b':')?;
            c.ws();
            let value = match c.b.get(c.i) {
                Some(b'"') => {
                    c.i += 1;
                    Value::Str(c.string()?)
                }
                Some(b'-' | b'0'..=b'9') => Value::Num(c.number()?),
                _ => {
                    c.skip()?;
                    Value::Other
                }
            };
            each(&name, value);
            if c.peek_is(b',') {
                c.i += 1;
            } else {
                break;
            }
        }
    }
    c.eat(b'}')?;
    c.ws();
    if c.i == c.b.len() {
        Ok(())
    } else {
        Err(Malformed)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek_is(&mut self, byte: u8) -> bool {
        self.ws();
        self.b.get(self.i) == Some(&byte)
    }

    fn eat(&mut self, byte: u8) -> Result<(), Malformed> {
        if self.peek_is(byte) {
            self.i += 1;
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// The rest of a string whose opening quote is behind us.
    fn string(&mut self) -> Result<Cow<'a, str>, Malformed> {
        let start = self.i;
        loop {
            match *self.b.get(self.i).ok_or(Malformed)? {
                b'"' => {
                    let text =
                        std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Malformed)?;
                    self.i += 1;
                    return Ok(Cow::Borrowed(text));
                }
                b'\\' => return self.escaped(start).map(Cow::Owned),
                0..=0x1f => return Err(Malformed),
                _ => self.i += 1,
            }
        }
    }

    /// A string with escapes: copied from `start`, unescaping from here on.
    fn escaped(&mut self, start: usize) -> Result<String, Malformed> {
        let mut out = self.b[start..self.i].to_vec();
        loop {
            match *self.b.get(self.i).ok_or(Malformed)? {
                b'"' => {
                    self.i += 1;
                    return String::from_utf8(out).map_err(|_| Malformed);
                }
                b'\\' => {
                    let e = *self.b.get(self.i + 1).ok_or(Malformed)?;
                    self.i += 2;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return Err(Malformed),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                0..=0x1f => return Err(Malformed),
                byte => {
                    out.push(byte);
                    self.i += 1;
                }
            }
        }
    }

    /// The character of a `\u` escape (the `\u` behind us), joining a surrogate pair.
    fn unicode(&mut self) -> Result<char, Malformed> {
        let high = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&high) {
            if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                return Err(Malformed);
            }
            self.i += 2;
            let low = self.hex4()?;
            if !(0xdc00..0xe000).contains(&low) {
                return Err(Malformed);
            }
            0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
        } else {
            high
        };
        char::from_u32(code).ok_or(Malformed)
    }

    fn hex4(&mut self) -> Result<u32, Malformed> {
        let digits = self.b.get(self.i..self.i + 4).ok_or(Malformed)?;
        let text = std::str::from_utf8(digits).map_err(|_| Malformed)?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Malformed);
        }
        self.i += 4;
        u32::from_str_radix(text, 16).map_err(|_| Malformed)
    }

    fn number(&mut self) -> Result<&'a str, Malformed> {
        let start = self.i;
        while matches!(
            self.b.get(self.i),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Malformed)
    }

    /// Skips one value that is not a string or a number: a literal, or a nested object or
    /// array (brackets counted, strings inside skipped whole).
    fn skip(&mut self) -> Result<(), Malformed> {
        for literal in [&b"true"[..], b"false", b"null"] {
            if self.b[self.i..].starts_with(literal) {
                self.i += literal.len();
                return Ok(());
            }
        }
        let mut depth = 0usize;
        loop {
            match *self.b.get(self.i).ok_or(Malformed)? {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.checked_sub(1).ok_or(Malformed)?,
                b'"' => {
                    self.i += 1;
                    self.string()?;
                    self.i -= 1;
                }
                _ if depth == 0 => return Err(Malformed),
                _ => {}
            }
            self.i += 1;
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(body: &str) -> Result<Vec<(String, Value<'_>)>, Malformed> {
        let mut out = Vec::new();
        members(body.as_bytes(), |n, v| out.push((n.to_owned(), v)))?;
        Ok(out)
    }

    #[test]
    fn reads_strings_numbers_and_skips_the_rest() {
        let got = all(
            r#" { "a" : "x\"y\u00e9\ud83d\ude00", "n": 3600, "o": {"k": ["}", 1]}, "t": true, "e": "" } "#,
        )
        .unwrap();
        assert_eq!(got[0].1, Value::Str("x\"y\u{e9}\u{1f600}".into()));
        assert_eq!(got[1].1, Value::Num("3600"));
        assert_eq!(got[2], ("o".into(), Value::Other));
        assert_eq!(got[3], ("t".into(), Value::Other));
        assert_eq!(got[4].1, Value::Str("".into()));
        assert_eq!(all("{}").unwrap(), vec![]);
    }

    #[test]
    fn rejects_what_is_not_one_object() {
        for bad in [
            "",
            "[]",
            "{",
            r#"{"a":"b""#,
            r#"{"a":"b"} x"#,
            r#"{"a":"\q"}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":}"#,
            r#"{"a":{"b":1}"#,
            r#"{"a" "b"}"#,
            r#"{"a":tru}"#,
        ] {
            assert_eq!(all(bad).map(|_| ()), Err(Malformed), "{bad:?}");
        }
    }
}
