//! The bodies and headers of the faults that change what is sent (gateway pages, invalid
//! UTF-8, `Retry-After`), shared by the socket server and the in-memory peer.

use std::time::SystemTime;

use http::StatusCode;

use crate::dialect::Reply;
use crate::encoding::http_date;
use crate::script::RetryAfter;

/// How an oversized body starts: a pending error whose description is padded with spaces.
pub(crate) const OVERSIZED_PREFIX: &[u8] =
    b"{\"error\":\"authorization_pending\",\"error_description\":\"";
/// How an oversized body ends.
pub(crate) const OVERSIZED_SUFFIX: &[u8] = b"\"}";

/// An oversized body of `total` bytes, in one piece.
pub(crate) fn oversized_body(total: usize) -> Vec<u8> {
    let padding = total.saturating_sub(OVERSIZED_PREFIX.len() + OVERSIZED_SUFFIX.len());
    let mut body = Vec::with_capacity(total.max(OVERSIZED_PREFIX.len() + OVERSIZED_SUFFIX.len()));
    body.extend_from_slice(OVERSIZED_PREFIX);
    body.resize(body.len() + padding, b' ');
    body.extend_from_slice(OVERSIZED_SUFFIX);
    body
}

pub(crate) fn retry_after_headers(retry: Option<RetryAfter>) -> Vec<(&'static str, String)> {
    match retry {
        None => Vec::new(),
        Some(RetryAfter::Seconds(n)) => vec![("retry-after", n.to_string())],
        Some(RetryAfter::Date(after)) => {
            let now = SystemTime::now();
            vec![
                ("date", http_date(now)),
                ("retry-after", http_date(now + after)),
            ]
        }
    }
}

pub(crate) fn gateway_page(status: StatusCode) -> String {
    let line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    format!(
        "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n<center><h1>{line}</h1></center>\r\n<hr><center>gateway</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// Bytes that are not UTF-8 (a truncated 2-byte sequence, then 0xFF 0xFE).
const NOT_UTF8: &[u8] = &[0xC3, 0x28, 0xFF, 0xFE];

/// Puts invalid UTF-8 into the body's `error_description` (added if absent).
pub(crate) fn mangle_utf8(base: &Reply) -> Vec<u8> {
    let body = &base.body;
    let (marker, addition): (&[u8], Vec<u8>) = if base.form_encoded {
        (b"error_description=", b"&error_description=".to_vec())
    } else {
        (
            b"\"error_description\":\"",
            b",\"error_description\":\"".to_vec(),
        )
    };
    if let Some(pos) = body.windows(marker.len()).position(|w| w == marker) {
        let at = pos + marker.len();
        let mut out = body[..at].to_vec();
        out.extend_from_slice(NOT_UTF8);
        out.extend_from_slice(&body[at..]);
        return out;
    }
    if base.form_encoded {
        let mut out = body.clone();
        out.extend_from_slice(&addition);
        out.extend_from_slice(NOT_UTF8);
        out
    } else {
        let close = body.iter().rposition(|&b| b == b'}').unwrap_or(body.len());
        let mut out = body[..close].to_vec();
        out.extend_from_slice(&addition);
        out.extend_from_slice(NOT_UTF8);
        out.extend_from_slice(b"\"");
        out.extend_from_slice(&body[close..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_mangling() {
        let json = Reply::new(
            StatusCode::BAD_REQUEST,
            "application/json",
            r#"{"error":"x"}"#,
        );
        let out = mangle_utf8(&json);
        assert!(std::str::from_utf8(&out).is_err());
        assert!(out.starts_with(br#"{"error":"x","error_description":""#));
        assert!(out.ends_with(b"\"}"));
        let with = Reply::new(
            StatusCode::OK,
            "application/json",
            r#"{"error":"x","error_description":"Forbidden"}"#,
        );
        let out = mangle_utf8(&with);
        assert!(out.ends_with(b"Forbidden\"}"));
        assert!(std::str::from_utf8(&out).is_err());
    }

    #[test]
    fn oversized_in_one_piece() {
        assert_eq!(oversized_body(4 << 20).len(), 4 << 20);
        assert!(oversized_body(4 << 20).starts_with(OVERSIZED_PREFIX));
    }
}
