//! Reading a JSON body: one pass over the bytes, straight into the members the flow reads.
//!
//! Every answer a flow handles is one JSON object of a few members, most of them strings.
//! Reading it by hand rather than through serde's data model keeps a member's name and
//! string value as slices of the body (copied only when it holds escapes), never re-scans
//! anything, and leaves serde's deserializer out of every program: about 55 KB of a minimal
//! client, half as much as this crate's own code for the whole flow.
//!
//! What it accepts is exactly JSON (RFC 8259), as serde_json accepts it: the same grammar,
//! lone surrogates refused, nesting bounded the same way (a stack bound, not a memory one).
//! Numbers become what serde_json makes of them: `u64` when non-negative and in range, `i64`
//! when negative and in range, `f64` otherwise (`-0` included), and a float is the very `f64`
//! serde_json's default reader makes: correctly rounded for every number an authorization
//! server sends (`0.001`, `1.5`, `3600.0`: at most 15 significant digits, a power of ten
//! within ±22), within a few units in the last place beyond. A number beyond `f64` makes the
//! body unreadable, as it does for serde_json.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use crate::wire::Member;

/// The deepest nesting accepted, counting the outer object, as serde_json's limit works out:
/// it bounds the reader's recursion on a hostile body.
const MAX_DEPTH: usize = 127;

/// The members of the object that is the whole of `text`, in order, repeats kept.
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, Member<'a>)>;

/// The compact JSON text of `value`. `Value`'s `Display` would do, but it can also print
/// itself indented, and every program calling it carries that second printer.
pub(crate) fn text(value: &Value) -> String {
    // Writing a `Value` into a `String` cannot fail: its keys are strings and memory is the
    // only sink.
    serde_json::to_string(value).unwrap_or_default()
}

/// Reads `text` as one JSON object; `None` when it is anything else or not JSON at all.
pub(crate) fn object(text: &str) -> Option<Members<'_>> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    reader.skip_space();
    // Enough for the answers servers send; a larger body grows it as a vector grows.
    let mut members = Vec::with_capacity(8);
    reader.members(|reader, name| {
        let value = if reader.peek()? == b'"' {
            Member::Text(reader.string()?)
        } else {
            Member::Json(reader.value(2)?)
        };
        members.push((name, value));
        Some(())
    })?;
    reader.skip_space();
    (reader.at == reader.bytes.len()).then_some(members)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Always at a character boundary of `text`: it only ever stops at ASCII bytes.
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn colon(&mut self) -> Option<()> {
        self.skip_space();
        self.eat(b':')?;
        self.skip_space();
        Some(())
    }

    /// After a member or an item: `true` at `close`, `false` at a comma (another must follow).
    fn ends(&mut self, close: u8) -> Option<bool> {
        self.skip_space();
        match self.next()? {
            b',' => Some(false),
            b if b == close => Some(true),
            _ => None,
        }
    }

    /// An object, each member handed to `each` with its name, the reader at its value.
    fn members(
        &mut self,
        mut each: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        self.skip_space();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.skip_space();
            let name = self.string()?;
            self.colon()?;
            each(self, name)?;
            if self.ends(b'}')? {
                return Some(());
            }
        }
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    /// Any value; `depth` is the nesting level an object or array here would have.
    fn value(&mut self, depth: usize) -> Option<Value> {
        match self.peek()? {
            b'"' => Some(Value::String(self.string()?.into_owned())),
            b'{' if depth <= MAX_DEPTH => {
                let mut map = Map::new();
                self.members(|reader, name| {
                    // A repeated name: the last one stands, as in serde_json's map.
                    map.insert(name.into_owned(), reader.value(depth + 1)?);
                    Some(())
                })?;
                Some(Value::Object(map))
            }
            b'[' if depth <= MAX_DEPTH => {
                self.at += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.eat(b']').is_some() {
                    return Some(Value::Array(items));
                }
                loop {
                    self.skip_space();
                    items.push(self.value(depth + 1)?);
                    if self.ends(b']')? {
                        return Some(Value::Array(items));
                    }
                }
            }
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => None,
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            value
        })
    }

    /// A string, borrowed from the body unless it holds escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.at;
        self.skip_plain();
        if self.eat(b'"').is_some() {
            return Some(Cow::Borrowed(&self.text[start..self.at - 1]));
        }
        let mut owned = String::from(&self.text[start..self.at]);
        loop {
            match self.next()? {
                b'"' => return Some(Cow::Owned(owned)),
                b'\\' => owned.push(self.escape()?),
                // A control character must be escaped (RFC 8259 §7).
                _ => return None,
            }
            let run = self.at;
            self.skip_plain();
            owned.push_str(&self.text[run..self.at]);
        }
    }

    /// Past the characters a string holds as they are.
    fn skip_plain(&mut self) {
        // Eight bytes at a time: one word test finds a quote, a backslash or a control
        // character, and the lowest flagged byte is the first of them (the tests can flag
        // bytes after a true find, never before one). Tokens and codes are long plain runs.
        const ONES: u64 = u64::from_ne_bytes([1; 8]);
        const HIGH: u64 = ONES << 7;
        let any_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
        loop {
            let rest = &self.bytes[self.at..];
            let (w, len) = match rest.first_chunk::<8>() {
                Some(chunk) => (u64::from_le_bytes(*chunk), 8),
                None => {
                    // The last few bytes, padded with a byte that stops nothing.
                    let mut padded = [b'a'; 8];
                    padded[..rest.len()].copy_from_slice(rest);
                    (u64::from_le_bytes(padded), rest.len())
                }
            };
            let stop = any_zero(w ^ (ONES * u64::from(b'"')))
                | any_zero(w ^ (ONES * u64::from(b'\\')))
                | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
            if stop != 0 {
                self.at += (stop.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += len;
            if len < 8 {
                return;
            }
        }
    }

    /// The character of the escape after a backslash.
    fn escape(&mut self) -> Option<char> {
        Some(match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                if !(0xD800..=0xDFFF).contains(&unit) {
                    return char::from_u32(unit);
                }
                // A leading surrogate must be followed by a trailing one, as its own escape.
                if unit >= 0xDC00 || self.bytes.get(self.at..self.at + 2)? != b"\\u" {
                    return None;
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return None;
                }
                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        digits
            .iter()
            .try_fold(0, |acc, &b| Some(acc * 16 + char::from(b).to_digit(16)?))
    }

    fn number(&mut self) -> Option<Number> {
        let negative = self.eat(b'-').is_some();
        let digits_start = self.at;
        match self.next()? {
            // One zero and no more digits: "01" is not JSON.
            b'0' => {}
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        let whole = &self.bytes[digits_start..self.at];
        let mut fraction: &[u8] = &[];
        if self.eat(b'.').is_some() {
            let start = self.at;
            self.skip_digits();
            fraction = &self.bytes[start..self.at];
            if fraction.is_empty() {
                return None;
            }
        }
        let mut exponent: Option<i64> = None;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            let minus = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    true
                }
                Some(b'+') => {
                    self.at += 1;
                    false
                }
                _ => false,
            };
            let start = self.at;
            self.skip_digits();
            let digits = &self.bytes[start..self.at];
            if digits.is_empty() {
                return None;
            }
            // Saturates far beyond any exponent that leaves a finite, non-zero float.
            let magnitude = digits.iter().fold(0i64, |acc, &b| {
                acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
            });
            exponent = Some(if minus { -magnitude } else { magnitude });
        }
        if fraction.is_empty()
            && exponent.is_none()
            && let Some(n) = integer(negative, whole)
        {
            return Some(n);
        }
        Number::from_f64(float(negative, whole, fraction, exponent.unwrap_or(0))?)
    }
}

/// `m` with the decimal digit `b` appended; `None` past `u64`.
fn push_digit(m: u64, b: u8) -> Option<u64> {
    m.checked_mul(10)?.checked_add(u64::from(b - b'0'))
}

/// An integer as serde_json keeps it, or `None` when it needs a float.
fn integer(negative: bool, digits: &[u8]) -> Option<Number> {
    let magnitude = digits.iter().try_fold(0, |acc, &b| push_digit(acc, b))?;
    if !negative {
        return Some(Number::from(magnitude));
    }
    // "-0" is a float in serde_json, negative zero.
    if magnitude == 0 {
        return None;
    }
    0i64.checked_sub_unsigned(magnitude).map(Number::from)
}

/// Powers of ten as literals, each the float nearest its value; up to 10^22 they are exact.
const POW10: [f64; 309] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32,
    1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48,
    1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59, 1e60, 1e61, 1e62, 1e63, 1e64,
    1e65, 1e66, 1e67, 1e68, 1e69, 1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77, 1e78, 1e79, 1e80,
    1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89, 1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96,
    1e97, 1e98, 1e99, 1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110,
    1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123,
    1e124, 1e125, 1e126, 1e127, 1e128, 1e129, 1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136,
    1e137, 1e138, 1e139, 1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159, 1e160, 1e161, 1e162,
    1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175,
    1e176, 1e177, 1e178, 1e179, 1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188,
    1e189, 1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201,
    1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209, 1e210, 1e211, 1e212, 1e213, 1e214,
    1e215, 1e216, 1e217, 1e218, 1e219, 1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227,
    1e228, 1e229, 1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240,
    1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253,
    1e254, 1e255, 1e256, 1e257, 1e258, 1e259, 1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266,
    1e267, 1e268, 1e269, 1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289, 1e290, 1e291, 1e292,
    1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305,
    1e306, 1e307, 1e308,
];

/// The decimal `whole.fraction × 10^exponent` as a float; `None` when it is too large for
/// one (serde_json's "number out of range").
///
/// Bit for bit what serde_json's default reader makes of it (without its `float_roundtrip`
/// feature), so that a member kept in `extra` is the value serde_json would have kept: digits
/// are taken while they fit a `u64`; past that, whole digits only move the exponent and
/// fraction digits are dropped; then one multiplication or division by a power of ten.
fn float(negative: bool, whole: &[u8], fraction: &[u8], exponent: i64) -> Option<f64> {
    let mut mantissa = 0u64;
    let mut scale = exponent;
    let mut digits = whole.iter();
    for &b in digits.by_ref() {
        match push_digit(mantissa, b) {
            Some(m) => mantissa = m,
            None => {
                scale = scale.saturating_add(1);
                break;
            }
        }
    }
    let rest = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    scale = scale.saturating_add(rest);
    for &b in fraction {
        let Some(m) = push_digit(mantissa, b) else {
            break;
        };
        mantissa = m;
        scale = scale.saturating_sub(1);
    }
    // Above 2^53 this rounds, as serde_json's does.
    #[allow(clippy::cast_precision_loss)]
    let mut magnitude = mantissa as f64;
    loop {
        match usize::try_from(scale.unsigned_abs())
            .ok()
            .and_then(|s| POW10.get(s))
        {
            // With a mantissa under 2^53 and a power up to 10^22, both operands are exact
            // and this one operation rounds once: the correctly rounded result.
            Some(&power) if scale < 0 => magnitude /= power,
            Some(&power) => magnitude *= power,
            None if magnitude == 0.0 => {}
            // At least 1 × 10^309.
            None if scale > 0 => return None,
            // Each step divides by 10^308, so a few reach zero, whatever the exponent.
            None => {
                magnitude /= 1e308;
                scale += 308;
                continue;
            }
        }
        break;
    }
    if !magnitude.is_finite() {
        return None;
    }
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The object as the flow ends up keeping it (a repeated name: the last one stands).
    fn as_value(text: &str) -> Option<Value> {
        crate::wire::parse_json(text.as_bytes()).map(|f| Value::Object(f.into_map()))
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let members = object(r#"{"error":"authorization_pending","n":"a\nb"}"#).unwrap();
        assert!(matches!(&members[0].0, Cow::Borrowed("error")));
        assert!(matches!(
            &members[0].1,
            Member::Text(Cow::Borrowed("authorization_pending"))
        ));
        assert!(matches!(&members[1].1, Member::Text(Cow::Owned(s)) if s == "a\nb"));
    }

    #[test]
    fn escapes_and_surrogate_pairs() {
        let v = as_value(r#"{"s":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00x"}"#).unwrap();
        assert_eq!(v["s"], "\"\\/\u{8}\u{c}\n\r\té😀x");
        for bad in [
            r#"{"s":"\ud83d"}"#,
            r#"{"s":"\ude00"}"#,
            r#"{"s":"\ud83dx"}"#,
            r#"{"s":"\ud83d\u0041"}"#,
            r#"{"s":"\x"}"#,
            r#"{"s":"\u12"}"#,
            "{\"s\":\"a\u{1}b\"}",
            r#"{"s":"open}"#,
        ] {
            assert!(object(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numbers_take_serde_json_types() {
        let v = as_value(
            r#"{"u":18446744073709551615,"i":-9223372036854775808,"big":18446744073709551616,"low":-9223372036854775809,"nz":-0,"f":0.001,"e":15E-1,"z":0e999999}"#,
        )
        .unwrap();
        assert_eq!(v["u"].as_u64(), Some(u64::MAX));
        assert_eq!(v["i"].as_i64(), Some(i64::MIN));
        assert_eq!(v["big"].as_f64(), Some(18_446_744_073_709_551_616.0));
        assert!(v["big"].as_u64().is_none());
        assert_eq!(v["low"].as_f64(), Some(-9_223_372_036_854_775_809.0));
        let nz = v["nz"].as_f64().unwrap();
        assert!(nz == 0.0 && nz.is_sign_negative() && v["nz"].as_i64().is_none());
        assert_eq!(v["f"].as_f64(), Some(0.001));
        assert_eq!(v["e"].as_f64(), Some(1.5));
        assert_eq!(v["z"].as_f64(), Some(0.0));
        assert!(object(r#"{"x":1e400}"#).is_none());
        for bad in [
            "01", "1.", ".5", "-", "1e", "1e+", "+1", "0x1", "NaN", "Infinity",
        ] {
            assert!(object(&format!(r#"{{"x":{bad}}}"#)).is_none(), "{bad}");
        }
    }

    #[test]
    fn long_decimals_round_as_in_serde_json() {
        // Found by the token_response fuzz target: 30 significant digits, where keeping a
        // fixed 19 of them rounded one unit away from serde_json's result.
        for text in [
            r#"{"n":18446744073.222222222222222225}"#,
            r#"{"n":18446744073709551619.0}"#,
            r#"{"n":-123456789012345678901234567890e-40}"#,
            r#"{"n":0.000000000000000000000000000001e-300}"#,
        ] {
            let ours = as_value(text).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            let (a, b) = (ours["n"].as_f64().unwrap(), theirs["n"].as_f64().unwrap());
            assert_eq!(a.to_bits(), b.to_bits(), "{text}: {a} against {b}");
        }
    }

    #[test]
    fn only_one_object_and_nothing_after_it() {
        assert!(as_value(" \t\r\n{ } \n").is_some());
        for bad in [
            "",
            "[]",
            "\"s\"",
            "1",
            "{",
            "{}{}",
            "{} x",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":tru}"#,
            r#"{"a":1 "b":2}"#,
        ] {
            assert!(object(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn nesting_is_bounded_as_in_serde_json() {
        let nested = |levels: usize| {
            format!(
                r#"{{"a":{}1{}}}"#,
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        for levels in [126, 127, 128, 129, 10_000] {
            let text = nested(levels);
            assert_eq!(
                object(&text).is_some(),
                serde_json::from_str::<Value>(&text).is_ok(),
                "{levels} levels"
            );
        }
        assert!(object(&nested(127)).is_some());
        assert!(object(&nested(128)).is_none());
    }

    mod against_serde_json {
        use super::*;
        use proptest::prelude::*;

        fn leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<u64>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .prop_map(Value::from),
                "\\PC*".prop_map(Value::String),
                any::<String>().prop_map(Value::String),
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            leaf().prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::vec(("\\PC{0,8}", inner), 0..6)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// Equal as JSON, floats bit for bit (the sign of a zero included).
        fn same(a: &Value, b: &Value) -> bool {
            match (a, b) {
                (Value::Number(x), Value::Number(y)) => {
                    x.is_u64() == y.is_u64()
                        && x.is_i64() == y.is_i64()
                        && match (x.is_f64(), x.as_f64(), y.as_f64()) {
                            (true, Some(p), Some(q)) => p.to_bits() == q.to_bits(),
                            _ => x == y,
                        }
                }
                (Value::Array(x), Value::Array(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
                }
                (Value::Object(x), Value::Object(y)) => {
                    x.len() == y.len()
                        && x.iter().zip(y).all(|((k, p), (l, q))| k == l && same(p, q))
                }
                _ => a == b,
            }
        }

        proptest! {
            #[test]
            fn valid_json_reads_the_same(
                members in prop::collection::vec(("\\PC{0,8}", value()), 0..8),
                pretty: bool,
            ) {
                let object = Value::Object(members.into_iter().collect());
                let text = if pretty {
                    serde_json::to_string_pretty(&object).unwrap()
                } else {
                    serde_json::to_string(&object).unwrap()
                };
                let ours = as_value(&text);
                prop_assert!(ours.is_some(), "refused {}", text);
                let theirs: Value = serde_json::from_str(&text).unwrap();
                prop_assert!(same(&ours.unwrap(), &theirs), "{}", text);
            }

            #[test]
            fn numbers_read_bit_for_bit_as_serde_json_reads_them(
                minus: bool,
                whole in "0|[1-9][0-9]{0,40}",
                fraction in proptest::option::of("[0-9]{1,40}"),
                exponent in proptest::option::of("[eE][+-]?[0-9]{1,4}"),
            ) {
                let number = format!(
                    "{}{whole}{}{}",
                    if minus { "-" } else { "" },
                    fraction.map(|f| format!(".{f}")).unwrap_or_default(),
                    exponent.unwrap_or_default(),
                );
                let text = format!(r#"{{"n":{number}}}"#);
                let ours = as_value(&text);
                let theirs = serde_json::from_str::<Value>(&text).ok();
                prop_assert_eq!(ours.is_some(), theirs.is_some(), "{}", text);
                if let (Some(a), Some(b)) = (ours, theirs) {
                    prop_assert!(same(&a, &b), "{}: {} against {}", text, a, b);
                }
            }

            #[test]
            fn any_text_is_refused_or_read_as_serde_json_reads_it(
                text in r#"[{}\[\]":,\\ a-z0-9.eE+\-u]{0,40}"#,
            ) {
                let ours = as_value(&text);
                let theirs = serde_json::from_str::<Value>(&text).ok().filter(Value::is_object);
                prop_assert_eq!(ours.is_some(), theirs.is_some(), "{}", text);
                if let (Some(a), Some(b)) = (ours, theirs) {
                    prop_assert!(same(&a, &b), "{}", text);
                }
            }

            #[test]
            fn damaged_json_is_refused_or_read_as_serde_json_reads_it(
                members in prop::collection::vec(("\\PC{0,4}", value()), 1..4),
                cut in any::<prop::sample::Index>(),
                insert in prop::sample::select(vec!["", "\"", "\\", ",", "}", "]", "{", "[", ":", "-", "0", "e", ".", "\u{1}", "\\u", "\\ud800"]),
            ) {
                let mut text = serde_json::to_string(&Value::Object(members.into_iter().collect())).unwrap();
                let mut at = cut.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, insert);
                let ours = as_value(&text);
                let theirs = serde_json::from_str::<Value>(&text).ok().filter(Value::is_object);
                prop_assert_eq!(ours.is_some(), theirs.is_some(), "{}", text);
                if let (Some(a), Some(b)) = (ours, theirs) {
                    prop_assert!(same(&a, &b), "{}", text);
                }
            }
        }
    }
}
