//! Turning fuzz bytes into driver inputs, and back.
//!
//! The fuzzer hands us a byte string; [`Source`] reads it as a stream of small decisions
//! (missing bytes read as zero, so every byte string is a valid input). [`Sink`] writes the
//! same stream, which is how the seed corpus is built from the provider fixtures. Keeping
//! the decoder here, instead of deriving it with a fuzzing crate, lets the stable replay test
//! decode corpus files exactly as the fuzz targets do.

use std::time::Duration;

use device_grant::TransportErrorKind;
use device_grant::http::{self, HeaderMap, HeaderValue, header};

/// Reads decisions from fuzz bytes.
pub struct Source<'a> {
    data: &'a [u8],
}

impl<'a> Source<'a> {
    /// Reads from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Source { data }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// One byte; zero once the input is exhausted.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// Little-endian, so that a short input still yields small numbers.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// Little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    /// Little-endian.
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// A byte string prefixed by its length (`u16`), cut short at the end of the input.
    pub fn bytes(&mut self) -> &'a [u8] {
        let len = usize::from(self.u16()).min(self.data.len());
        let (taken, rest) = self.data.split_at(len);
        self.data = rest;
        taken
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Writes decisions that [`Source`] reads back the same way.
#[derive(Default)]
pub struct Sink {
    out: Vec<u8>,
}

impl Sink {
    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.out.push(v);
        self
    }

    /// See [`Source::u16`].
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.out.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// See [`Source::u32`].
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.out.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// See [`Source::u64`].
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.out.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// See [`Source::bytes`].
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        let len = u16::try_from(v.len()).expect("seed byte strings are short");
        self.u16(len);
        self.out.extend_from_slice(v);
        self
    }

    /// See [`Source::rest`]; must come last.
    pub fn rest(&mut self, v: &[u8]) -> &mut Self {
        self.out.extend_from_slice(v);
        self
    }

    /// The bytes written.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

/// `Content-Type` values worth trying, by index; [`CT_RAW`] reads raw header bytes instead.
pub const CONTENT_TYPES: [Option<&str>; 9] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/x-www-form-urlencoded"),
    Some("application/x-www-form-urlencoded; charset=utf-8"),
    Some("text/html; charset=utf-8"),
    Some("text/plain"),
    Some("application/problem+json"),
    Some("APPLICATION/JSON ; Charset=UTF-8"),
];

/// The content-type selector that reads raw header bytes.
pub const CT_RAW: u8 = CONTENT_TYPES.len() as u8;

/// A `Retry-After` header, and a `Date` header for the HTTP-date form.
#[derive(Clone, Debug, PartialEq)]
pub enum RetryAfter {
    /// No header.
    None,
    /// Delay-seconds.
    Seconds(u32),
    /// `Retry-After: <at>` with `Date: <date>`, both as seconds since the epoch.
    Date {
        /// The `Date` header.
        date: u32,
        /// The `Retry-After` header.
        at: u32,
    },
    /// Anything, unparsed; the harness cannot predict what the core makes of it.
    Raw(Vec<u8>),
}

/// One HTTP answer, as the harness will hand it to the flow.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status, 100..=999.
    pub status: u16,
    /// The headers: `Content-Type`, `Retry-After`, `Date`.
    pub headers: HeaderMap,
    /// What the harness knows `Retry-After` means, when it can know.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Builds a reply; header values that HTTP cannot carry are left out.
    pub fn new(status: u16, content_type: Option<&[u8]>, ra: &RetryAfter, body: Vec<u8>) -> Reply {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type.and_then(|v| HeaderValue::from_bytes(v).ok()) {
            headers.insert(header::CONTENT_TYPE, ct);
        }
        let retry_after = match ra {
            RetryAfter::None => None,
            RetryAfter::Seconds(s) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*s));
                Some(Duration::from_secs(u64::from(*s)))
            }
            RetryAfter::Date { date, at } => {
                let (date, at) = (u64::from(*date), u64::from(*at));
                headers.insert(header::DATE, header_value(&http_date(date)));
                headers.insert(header::RETRY_AFTER, header_value(&http_date(at)));
                Some(Duration::from_secs(at.saturating_sub(date)))
            }
            RetryAfter::Raw(raw) => {
                if let Ok(v) = HeaderValue::from_bytes(raw) {
                    headers.insert(header::RETRY_AFTER, v);
                }
                None
            }
        };
        Reply {
            status,
            headers,
            retry_after,
            body,
        }
    }

    /// A JSON reply without extra headers.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::new(
            status,
            Some(b"application/json"),
            &RetryAfter::None,
            body.as_bytes().to_vec(),
        )
    }

    /// The `http::Response` the flow is given.
    pub fn response(&self) -> http::Response<&[u8]> {
        let mut response = http::Response::new(self.body.as_slice());
        *response.status_mut() = http::StatusCode::from_u16(self.status).expect("100..=999");
        *response.headers_mut() = self.headers.clone();
        response
    }

    /// The `Content-Type` as the core reads it.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).expect("an HTTP-date is a valid header value")
}

/// Reads a reply: status, content type, retry-after, then the body from `body`.
pub fn reply(src: &mut Source<'_>, body: impl FnOnce(&mut Source<'_>) -> Vec<u8>) -> Reply {
    let status = 100 + src.u16() % 900;
    let ct_sel = src.u8();
    let raw_ct;
    let content_type: Option<&[u8]> = match CONTENT_TYPES.get(usize::from(ct_sel)) {
        Some(ct) => ct.map(str::as_bytes),
        None if ct_sel == CT_RAW => {
            raw_ct = src.bytes();
            Some(raw_ct)
        }
        None => Some(b"application/json"),
    };
    let ra = match src.u8() {
        1 => RetryAfter::Seconds(src.u32()),
        2 => RetryAfter::Date {
            date: src.u32(),
            at: src.u32(),
        },
        3 => RetryAfter::Raw(src.bytes().to_vec()),
        _ => RetryAfter::None,
    };
    let body = body(src);
    Reply::new(status, content_type, &ra, body)
}

/// Writes what [`reply`] reads, with a content-type selector and the body written by `body`.
pub fn write_reply<'a>(
    sink: &'a mut Sink,
    status: u16,
    ct_sel: u8,
    ra: &RetryAfter,
) -> &'a mut Sink {
    assert!((100..=999).contains(&status));
    sink.u16(status - 100).u8(ct_sel);
    match ra {
        RetryAfter::None => sink.u8(0),
        RetryAfter::Seconds(s) => sink.u8(1).u32(*s),
        RetryAfter::Date { date, at } => sink.u8(2).u32(*date).u32(*at),
        RetryAfter::Raw(raw) => sink.u8(3).bytes(raw),
    }
}

/// The content-type selector of a known value.
pub fn ct_index(ct: Option<&str>) -> u8 {
    CONTENT_TYPES
        .iter()
        .position(|c| *c == ct)
        .expect("a listed content type") as u8
}

/// Transport failure kinds by selector.
pub fn transport_kind(sel: u8) -> TransportErrorKind {
    match sel % 4 {
        0 => TransportErrorKind::Connect,
        1 => TransportErrorKind::Timeout,
        2 => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    }
}

/// An IMF-fixdate (RFC 9110 §5.6.7) for seconds since the Unix epoch.
pub fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let time = secs % 86_400;
    // Walk the years and months; u32 seconds end in 2106, so this stays short.
    let mut year = 1970;
    let mut left = days;
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if left < len {
            break;
        }
        left -= len;
        year += 1;
    }
    let mut month = 0;
    loop {
        let len = match month {
            1 if is_leap(year) => 29,
            1 => 28,
            3 | 5 | 8 | 10 => 30,
            _ => 31,
        };
        if left < len {
            break;
        }
        left -= len;
        month += 1;
    }
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        left + 1,
        MONTHS[month],
        year,
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1_583_020_799), "Sat, 29 Feb 2020 23:59:59 GMT");
    }

    #[test]
    fn round_trip() {
        let mut sink = Sink::default();
        write_reply(&mut sink, 428, 2, &RetryAfter::Date { date: 5, at: 9 }).rest(b"{}");
        let bytes = sink.finish();
        let mut src = Source::new(&bytes);
        let r = reply(&mut src, |s| s.rest().to_vec());
        assert_eq!(r.status, 428);
        assert_eq!(r.content_type(), Some("application/json; charset=utf-8"));
        assert_eq!(r.retry_after, Some(Duration::from_secs(4)));
        assert_eq!(r.body, b"{}");
    }
}
