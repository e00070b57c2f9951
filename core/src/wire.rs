//! Reading what servers send: JSON or form-encoded bodies (by `Content-Type`, and by looking
//! when the header lies), numbers that arrive as strings, and `Retry-After`.
//!
//! Providers differ: Azure AD v1 sends `"expires_in":"900"`, GitHub answers in
//! `application/x-www-form-urlencoded` unless asked for JSON, gateways answer with HTML.
//! Everything is read into one map of members so that the rest of the crate sees one shape.

use std::borrow::Cow;
use std::time::Duration;

use http::HeaderMap;
use http::HeaderValue;
use http::header::{CONTENT_TYPE, DATE, RETRY_AFTER};
use serde_json::{Map, Value};

use crate::error::Problem;
use crate::json;

/// The members of a response body, names borrowed from the body where it allows. A handful of
/// members, read once each: a vector searched in order beats a tree here, and what the flow
/// does not take becomes a `Map` only at the end (`into_map`), usually empty.
///
/// Repeated names are kept as they came and resolved on reading (the last one for JSON, as
/// serde_json's own map does; the first one for forms, RFC 8628 §3.1 says they must not
/// repeat), so that a body of many members costs linear time, not quadratic.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Fields<'a> {
    pairs: Vec<(Cow<'a, str>, Member<'a>)>,
    first_wins: bool,
}

/// A member's value. Strings stay slices of the body until they are kept (and a member
/// that is only looked at, such as `"error":"authorization_pending"`, never becomes a
/// `String`); everything else is read as serde_json reads it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Member<'a> {
    Text(Cow<'a, str>),
    Json(Value),
}

impl Member<'_> {
    fn from_value(value: Value) -> Member<'static> {
        match value {
            Value::String(s) => Member::Text(Cow::Owned(s)),
            other => Member::Json(other),
        }
    }

    pub(crate) fn into_value(self) -> Value {
        match self {
            Member::Text(s) => Value::String(s.into_owned()),
            Member::Json(v) => v,
        }
    }
}

impl Default for Member<'_> {
    fn default() -> Self {
        Member::Json(Value::Null)
    }
}

impl<'a> Fields<'a> {
    fn position(&self, name: &str) -> Option<usize> {
        let mut names = self.pairs.iter().map(|(k, _)| k);
        if self.first_wins {
            names.position(|k| k == name)
        } else {
            names.rposition(|k| k == name)
        }
    }

    /// The members of an object already parsed, such as a stored token response.
    pub(crate) fn from_map(map: Map<String, Value>) -> Fields<'static> {
        Fields {
            pairs: map
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), Member::from_value(v)))
                .collect(),
            first_wins: false,
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Member<'a>> {
        self.position(name).map(|at| &self.pairs[at].1)
    }

    /// Takes the member out, with every repetition of its name.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Member<'a>> {
        self.remove_if(name, |_| true)
    }

    /// [`Fields::remove`] when the member is `wanted`; otherwise it stays. One search.
    pub(crate) fn remove_if(
        &mut self,
        name: &str,
        wanted: impl FnOnce(&Member<'a>) -> bool,
    ) -> Option<Member<'a>> {
        let at = self.position(name)?;
        if !wanted(&self.pairs[at].1) {
            return None;
        }
        let (_, value) = self.pairs.remove(at);
        // Repetitions are rare: look for one before paying for a second pass that moves.
        if self.pairs.iter().any(|(k, _)| k == name) {
            self.pairs.retain(|(k, _)| k != name);
        }
        Some(value)
    }

    /// Renames every member (AWS's camelCase answers read as snake case).
    pub(crate) fn rename(&mut self, to: impl Fn(&str) -> String) {
        for (name, _) in &mut self.pairs {
            if name.bytes().any(|b| b.is_ascii_uppercase()) {
                *name = Cow::Owned(to(name));
            }
        }
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.pairs.retain(|(k, _)| keep(k));
    }

    pub(crate) fn into_map(self) -> Map<String, Value> {
        let mut map = Map::new();
        let pairs = self
            .pairs
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_value()));
        // A later insert replaces an earlier one.
        if self.first_wins {
            map.extend(pairs.rev());
        } else {
            map.extend(pairs);
        }
        map
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Form,
    Unknown,
}

fn declared_format(content_type: Option<&str>) -> Format {
    let Some(value) = content_type else {
        return Format::Unknown;
    };
    // What nearly every answer says, before any splitting; as it is usually spelt first.
    if value == "application/json" || value.eq_ignore_ascii_case("application/json") {
        return Format::Json;
    }
    let media = value
        .split_once(';')
        .map_or(value, |(media, _)| media)
        .trim();
    let structured_json =
        media.len() >= 5 && media.as_bytes()[media.len() - 5..].eq_ignore_ascii_case(b"+json");
    if media.eq_ignore_ascii_case("application/json") || structured_json {
        Format::Json
    } else if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Format::Form
    } else {
        Format::Unknown
    }
}

fn sniff(body: &[u8]) -> Format {
    let trimmed = body.trim_ascii();
    match trimmed.first() {
        Some(b'{') => Format::Json,
        // A form body from GitHub is one line of printable ASCII with at least one `=`.
        Some(_) if trimmed.contains(&b'=') && trimmed.iter().all(|b| b.is_ascii_graphic()) => {
            Format::Form
        }
        _ => Format::Unknown,
    }
}

fn looked_like(body: &[u8]) -> &'static str {
    let trimmed = body.trim_ascii();
    match trimmed.first() {
        None => "an empty body",
        Some(b'<') => "an HTML or XML page",
        Some(b'{') | Some(b'[') => "malformed JSON",
        _ if std::str::from_utf8(trimmed).is_err() => "not valid UTF-8",
        _ => "plain text",
    }
}

/// Reads a body into its members, trusting `Content-Type` first and the bytes second.
pub(crate) fn parse_body<'a>(
    content_type: Option<&str>,
    body: &'a [u8],
) -> Result<Fields<'a>, Problem> {
    let parse = |format| match format {
        Format::Json => parse_json(body),
        Format::Form => parse_form(body),
        Format::Unknown => None,
    };
    let declared = declared_format(content_type);
    if let Some(fields) = parse(declared) {
        return Ok(fields);
    }
    // The header lies (a JSON body labelled as a form or the other way round) or says
    // nothing: the bytes decide, looked at only now.
    let sniffed = sniff(body);
    if sniffed != declared
        && let Some(fields) = parse(sniffed)
    {
        return Ok(fields);
    }
    Err(Problem::Unreadable {
        looked_like: looked_like(body),
    })
}

/// A JSON object's members; `None` when the body is not one.
pub(crate) fn parse_json(body: &[u8]) -> Option<Fields<'_>> {
    // UTF-8 checked once for the whole body rather than string by string: JSON that is not
    // UTF-8 is unreadable either way.
    let text = std::str::from_utf8(body).ok()?;
    Some(Fields {
        pairs: json::object(text)?,
        first_wins: false,
    })
}

fn parse_form(body: &[u8]) -> Option<Fields<'_>> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() || !trimmed.contains(&b'=') {
        return None;
    }
    let mut fields = Fields {
        pairs: Vec::new(),
        first_wins: true,
    };
    for (key, value) in url::form_urlencoded::parse(trimmed) {
        fields.pairs.push((key, Member::Text(value)));
    }
    Some(fields)
}

/// Removes a member that must be a string and hands it over without a copy. Numbers are not
/// accepted (a user code that arrives as a number would already have lost its leading zeros).
pub(crate) fn take_string(
    fields: &mut Fields<'_>,
    name: &'static str,
) -> Result<Option<String>, Problem> {
    match fields.remove(name) {
        None | Some(Member::Json(Value::Null)) => Ok(None),
        Some(Member::Text(s)) => Ok(Some(s.into_owned())),
        Some(Member::Json(_)) => Err(Problem::InvalidField {
            field: name,
            expected: "a string",
        }),
    }
}

/// Removes an optional string member and hands it over. A member of another type is left
/// where it is, to end up in `extra` (DESIGN rule 13: a cosmetic member never costs the
/// answer).
pub(crate) fn take_optional_string(fields: &mut Fields<'_>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Member::Text(_) => match fields.remove(name) {
            Some(Member::Text(s)) => Some(s.into_owned()),
            _ => None,
        },
        Member::Json(Value::Null) => {
            fields.remove(name);
            None
        }
        Member::Json(_) => None,
    }
}

/// Removes a required, non-empty string member and hands it over.
pub(crate) fn take_required_string(
    fields: &mut Fields<'_>,
    name: &'static str,
) -> Result<String, Problem> {
    match take_string(fields, name)? {
        None => Err(Problem::MissingField(name)),
        Some(s) if s.is_empty() => Err(Problem::EmptyField(name)),
        Some(s) => Ok(s),
    }
}

/// A count of seconds sent as a JSON number or a numeric string (Azure AD v1, and every
/// value of a form body). Fractions are kept; values too large for a `Duration` saturate.
/// `Err` when present but not a non-negative number.
pub(crate) fn seconds(
    fields: &Fields<'_>,
    name: &'static str,
) -> Result<Option<Duration>, Problem> {
    seconds_of(fields.get(name), name)
}

/// [`seconds`] of a value already looked up.
pub(crate) fn seconds_of(
    value: Option<&Member<'_>>,
    name: &'static str,
) -> Result<Option<Duration>, Problem> {
    let invalid = Problem::InvalidField {
        field: name,
        expected: "a non-negative number of seconds",
    };
    let secs = match value {
        None | Some(Member::Json(Value::Null)) => return Ok(None),
        Some(Member::Json(Value::Number(n))) => {
            if let Some(u) = n.as_u64() {
                return Ok(Some(Duration::from_secs(u)));
            }
            n.as_f64().ok_or(invalid.clone())?
        }
        Some(Member::Text(s)) => {
            let s = s.trim();
            return decimal_seconds(s).map(Some).ok_or(invalid);
        }
        Some(_) => return Err(invalid),
    };
    if secs.is_nan() || secs < 0.0 {
        return Err(invalid);
    }
    Ok(Some(
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX),
    ))
}

/// Plain decimal seconds, "5", "5.", ".5" or "1.25", read exactly (no float on the way:
/// "0.1" is 100 ms, not 100 ms less a rounding error). Digits past the nanosecond are
/// dropped; whole seconds beyond `u64` saturate like the JSON path. `None` for anything
/// else, signs, exponents, "inf" and "NaN" included.
fn decimal_seconds(s: &str) -> Option<Duration> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let secs = whole.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    });
    let Some(secs) = secs else {
        return Some(Duration::MAX);
    };
    // Pads to nine digits by scaling: "5" of ".5" is 500,000,000 ns.
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    Some(Duration::new(secs, nanos))
}

/// `Retry-After` (RFC 9110 §10.2.3) as a delay. Delay-seconds are used as they are. An
/// HTTP-date (any of the three formats) is measured against the response's own `Date`
/// header, so no wall clock is needed; without a readable `Date` header it is ignored and
/// the usual back-off applies.
fn retry_after(value: Option<&HeaderValue>, date: Option<&HeaderValue>) -> Option<Duration> {
    let value = value?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let date = parse_http_date(date?.to_str().ok()?.trim())?;
    Some(Duration::from_secs(at.saturating_sub(date)))
}

/// The headers of an answer the flow reads, each the first of its name, found in one walk
/// over the map: an answer usually has few headers, and comparing a standard name costs less
/// than hashing it for a lookup per name.
#[derive(Clone, Copy, Default)]
pub(crate) struct Headers<'a> {
    /// `Content-Type`, when it is visible ASCII.
    pub(crate) content_type: Option<&'a str>,
    retry_after: Option<&'a HeaderValue>,
    date: Option<&'a HeaderValue>,
}

impl<'a> Headers<'a> {
    pub(crate) fn read(map: &'a HeaderMap) -> Headers<'a> {
        let mut content_type = None;
        let mut heads = Headers::default();
        for (name, value) in map {
            let slot = if name == CONTENT_TYPE {
                &mut content_type
            } else if name == RETRY_AFTER {
                &mut heads.retry_after
            } else if name == DATE {
                &mut heads.date
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        heads.content_type = content_type.and_then(|v| v.to_str().ok());
        heads
    }

    /// `Retry-After` as a delay (see [`retry_after`]).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        retry_after(self.retry_after, self.date)
    }
}

/// Parses an HTTP-date (RFC 9110 §5.6.7) into seconds since the Unix epoch, in any of the
/// three formats a recipient must accept:
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` (what senders must use);
/// - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT` (a two-digit year);
/// - ANSI C `asctime()`: `Sun Nov  6 08:49:37 1994`.
pub(crate) fn parse_http_date(s: &str) -> Option<u64> {
    let (day, month, year, time) = if let Some((_, rest)) = s.split_once(", ") {
        if let Some(rest) = rest.strip_suffix(" GMT") {
            if rest.as_bytes().get(2) == Some(&b'-') {
                // RFC 850: "06-Nov-94 08:49:37".
                let (date, time) = rest.split_once(' ')?;
                let mut parts = date.split('-');
                let (day, month, yy) = (parts.next()?, parts.next()?, parts.next()?);
                if parts.next().is_some() || yy.len() != 2 {
                    return None;
                }
                // RFC 9110 asks for the year within 50 years of now; the core reads no
                // clock, so two-digit years are placed in 1970..=2069.
                let yy = digits(yy)?;
                let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
                (digits(day)?, month, year, time)
            } else {
                // IMF-fixdate: "06 Nov 1994 08:49:37".
                let mut parts = rest.split(' ');
                let (day, month, year, time) =
                    (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
                if parts.next().is_some() || day.len() != 2 || year.len() != 4 {
                    return None;
                }
                (digits(day)?, month, digits(year)?, time)
            }
        } else {
            return None;
        }
    } else {
        // asctime: "Sun Nov  6 08:49:37 1994"; a one-digit day is padded with a space.
        let mut parts = s.split(' ').filter(|p| !p.is_empty());
        let (_weekday, month, day, time, year) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if parts.next().is_some() || day.len() > 2 || year.len() != 4 {
            return None;
        }
        (digits(day)?, month, digits(year)?, time)
    };
    let month = match month {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let mut hms = time.split(':');
    let (hour, minute, second) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || [hour, minute, second].iter().any(|p| p.len() != 2) {
        return None;
    }
    let (hour, minute, second) = (digits(hour)?, digits(minute)?, digits(second)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), counting from 1970-01-01.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// A run of ASCII digits (no sign, no spaces) as a number.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    impl Fields<'_> {
        /// A member as serde_json would hold it (null when absent).
        fn value(&self, name: &str) -> Value {
            self.position(name)
                .map_or(Value::Null, |at| self.pairs[at].1.clone().into_value())
        }
    }

    fn content_type(ct: Option<&'static str>) -> Option<&'static str> {
        ct
    }

    #[test]
    fn json_and_form_by_content_type_and_by_sniffing() {
        let f = parse_body(
            content_type(Some("application/json; charset=utf-8")),
            br#"{"a":1}"#,
        )
        .unwrap();
        assert_eq!(f.value("a"), 1);
        let f = parse_body(
            content_type(Some("application/x-www-form-urlencoded; charset=utf-8")),
            b"error=slow_down&interval=22",
        )
        .unwrap();
        assert_eq!(f.value("error"), "slow_down");
        assert_eq!(f.value("interval"), "22");
        // Lies: JSON labelled as HTML, form labelled as JSON.
        let f = parse_body(content_type(Some("text/html")), br#" {"error":"x"} "#).unwrap();
        assert_eq!(f.value("error"), "x");
        let f = parse_body(
            content_type(Some("application/json")),
            b"error=authorization_pending",
        )
        .unwrap();
        assert_eq!(f.value("error"), "authorization_pending");
        let f = parse_body(content_type(None), b"a=b").unwrap();
        assert_eq!(f.value("a"), "b");
        // Structured syntax suffixes (RFC 6839) in any case: a JSON body that does not start
        // with `{` after trimming is still read as JSON when declared so.
        assert!(declared_format(Some("application/problem+json")) == Format::Json);
        assert!(declared_format(Some("Application/Vnd.X+JSON ; q=1")) == Format::Json);
        assert!(declared_format(Some("text/json5")) == Format::Unknown);
    }

    #[test]
    fn unreadable_bodies_say_what_they_looked_like() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "an empty body"),
            (
                b"<html><body>502 Bad Gateway</body></html>",
                "an HTML or XML page",
            ),
            (b"{\"error\":", "malformed JSON"),
            (b"\xff\xfe\x00", "not valid UTF-8"),
            (b"Service Unavailable", "plain text"),
        ];
        for (body, want) in cases {
            assert_eq!(
                parse_body(content_type(Some("application/json")), body),
                Err(Problem::Unreadable { looked_like: want }),
                "{body:?}"
            );
        }
        // A JSON array is not an object of members.
        assert!(parse_body(content_type(None), b"[1,2]").is_err());
    }

    #[test]
    fn repeated_names_resolve_once_and_leave_together() {
        // Forms: the first (RFC 8628 §3.1 forbids repeats); JSON: the last, as serde_json.
        let mut f = parse_body(content_type(None), b"error=a&x=1&error=b").unwrap();
        assert_eq!(f.value("error"), "a");
        assert_eq!(f.remove("error"), Some(Member::Text("a".into())));
        assert_eq!(f.get("error"), None, "every repetition goes with it");
        assert_eq!(f.into_map().len(), 1);
        let f = parse_body(
            content_type(None),
            br#"{"error":"a","error":"b","n":1,"n":2}"#,
        )
        .unwrap();
        assert_eq!(f.value("error"), "b");
        let map = f.into_map();
        assert_eq!(
            (map["error"].as_str(), map["n"].as_u64()),
            (Some("b"), Some(2))
        );
        let f = parse_body(content_type(None), b"a=1&b=2&a=3")
            .unwrap()
            .into_map();
        assert_eq!(f["a"], "1");
    }

    #[test]
    fn members_read_as_serde_json_reads_them() {
        let body = r#"{"plain":"x","escaped":"a\"b\u00e9","n":-1,"f":1.5,"t":true,"z":null,"list":[1,"s",{"k":null}],"obj":{"a":{"b":[]}}}"#;
        let f = parse_body(content_type(None), body.as_bytes()).unwrap();
        assert!(matches!(
            f.get("plain"),
            Some(Member::Text(Cow::Borrowed("x")))
        ));
        assert!(matches!(f.get("escaped"), Some(Member::Text(Cow::Owned(s))) if s == "a\"bé"));
        let want: Map<String, Value> = serde_json::from_str(body).unwrap();
        assert_eq!(f.into_map(), want);
    }

    #[test]
    fn many_members_are_read() {
        let body = format!(
            "{{{}}}",
            (0..50_000)
                .map(|i| format!(r#""m{i}":{i}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        let f = parse_body(content_type(Some("application/json")), body.as_bytes()).unwrap();
        assert_eq!(f.value("m49999"), 49_999);
        assert_eq!(f.into_map().len(), 50_000);
    }

    #[test]
    fn seconds_accept_numbers_strings_and_fractions() {
        let f = parse_json(
            br#"{"a":900,"b":"900","c":0.5,"d":"0.25","e":-1,"f":"x","g":true,"h":1e300,"i":"inf","j":18446744073709551615,"k":null}"#,
        )
        .unwrap();
        assert_eq!(seconds(&f, "a").unwrap(), Some(Duration::from_secs(900)));
        assert_eq!(seconds(&f, "b").unwrap(), Some(Duration::from_secs(900)));
        assert_eq!(seconds(&f, "c").unwrap(), Some(Duration::from_millis(500)));
        assert_eq!(seconds(&f, "d").unwrap(), Some(Duration::from_millis(250)));
        assert!(seconds(&f, "e").is_err());
        assert!(seconds(&f, "f").is_err());
        assert!(seconds(&f, "g").is_err());
        assert_eq!(seconds(&f, "h").unwrap(), Some(Duration::MAX));
        assert!(seconds(&f, "i").is_err());
        assert_eq!(
            seconds(&f, "j").unwrap(),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(seconds(&f, "k").unwrap(), None);
        assert_eq!(seconds(&f, "missing").unwrap(), None);
    }

    #[test]
    fn decimal_seconds_are_read_exactly() {
        let ms = Duration::from_millis;
        assert_eq!(decimal_seconds("5"), Some(Duration::from_secs(5)));
        assert_eq!(decimal_seconds("5."), Some(Duration::from_secs(5)));
        assert_eq!(decimal_seconds(".5"), Some(ms(500)));
        assert_eq!(decimal_seconds("0.1"), Some(ms(100)));
        assert_eq!(decimal_seconds("1.25"), Some(ms(1250)));
        // Past the nanosecond, digits are dropped rather than rounded into a tenth second.
        assert_eq!(
            decimal_seconds("0.1234567899"),
            Some(Duration::from_nanos(123_456_789))
        );
        assert_eq!(
            decimal_seconds("99999999999999999999999"),
            Some(Duration::MAX)
        );
        for bad in [
            "", ".", "1.2.3", "-1", "+1", "1e3", "inf", "NaN", " 1", "1 ",
        ] {
            assert_eq!(decimal_seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sat, 29 Feb 2020 23:59:59 GMT"),
            Some(1_583_020_799)
        );
        // The two obsolete formats RFC 9110 §5.6.7 still asks recipients to read.
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Thursday, 01-Jan-30 00:00:00 GMT"),
            Some(1_893_456_000)
        );
        assert_eq!(
            parse_http_date("Sun Nov 16 08:49:37 1994"),
            Some(784_975_777)
        );
        assert_eq!(parse_http_date("Sun Nov 6 08:49:37 94"), None);
        assert_eq!(parse_http_date("Sunday, 06-Nov-1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 0€ Nov 1994 08:49:37 GM"), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        assert_eq!(Headers::read(&h).retry_after(), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            Headers::read(&h).retry_after(),
            Some(Duration::from_secs(7))
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:50:07 GMT"),
        );
        assert_eq!(
            Headers::read(&h).retry_after(),
            None,
            "an HTTP-date needs the Date header"
        );
        h.insert(
            DATE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            Headers::read(&h).retry_after(),
            Some(Duration::from_secs(30))
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:00:00 GMT"),
        );
        assert_eq!(Headers::read(&h).retry_after(), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(Headers::read(&h).retry_after(), None);
    }
}
