//! `--verbose`: each HTTP exchange on stderr, with what must stay private replaced by
//! `[redacted]`.
//!
//! Redaction goes by name: form fields, query parameters and JSON members whose name says
//! token, code, secret, password or assertion, at any depth, and the credential headers.
//! Values so redacted are also remembered and replaced wherever they show up again in text
//! that has no names to go by (an HTML error page echoing a code, say). The user code is
//! not a secret (the user types it into a page) and is shown.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use device_grant::http::{HeaderMap, Request, Response};
use device_grant_ureq::ureq;
use serde_json::Value;

use crate::events;
use crate::terminal::Style;

/// What replaces a private value.
pub const REDACTED: &str = "[redacted]";

/// The most of an unstructured body that is shown.
const TEXT_LIMIT: usize = 2048;

static ON: AtomicBool = AtomicBool::new(false);
static RICH: AtomicBool = AtomicBool::new(false);
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Turns the log on for the rest of the process.
pub fn enable(style: Style) {
    RICH.store(style.is_rich(), Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
}

/// Whether `--verbose` is on.
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Sends `request` the way [`device_grant_ureq::send`] does, logging the exchange when
/// `--verbose` is on.
pub fn send(
    agent: &ureq::Agent,
    request: Request<Vec<u8>>,
    body_limit: usize,
) -> Result<Response<Vec<u8>>, ureq::Error> {
    send_within(agent, request, body_limit, None)
}

/// [`send`] with the request's timeouts shortened to end within `time_left`, as
/// [`device_grant_ureq::send_within`] does.
pub fn send_within(
    agent: &ureq::Agent,
    request: Request<Vec<u8>>,
    body_limit: usize,
    time_left: Option<Duration>,
) -> Result<Response<Vec<u8>>, ureq::Error> {
    if !on() {
        return device_grant_ureq::send_within(agent, request, body_limit, time_left);
    }
    let method = request.method().to_string();
    let url = redact_query(&request.uri().to_string());
    let sent_headers = headers(request.headers());
    let sent_body = body(request.headers(), request.body());
    let started = Instant::now();
    let result = device_grant_ureq::send_within(agent, request, body_limit, time_left);
    let took = started.elapsed();
    let exchange = Exchange {
        method,
        url,
        sent_headers,
        sent_body,
        took,
        answer: match &result {
            Ok(response) => Ok((
                response.status().as_u16(),
                headers(response.headers()),
                body(response.headers(), response.body()),
            )),
            Err(e) => Err(scrub(&e.to_string())),
        },
    };
    exchange.log();
    result
}

struct Exchange {
    method: String,
    url: String,
    sent_headers: Vec<(String, String)>,
    sent_body: String,
    took: Duration,
    answer: Result<Answer, String>,
}

/// The status, headers and body of an answer, as shown.
type Answer = (u16, Vec<(String, String)>, String);

impl Exchange {
    fn log(&self) {
        let text = if events::on() {
            let mut event = serde_json::json!({
                "event": "http",
                "method": self.method,
                "url": self.url,
                "request_body": self.sent_body,
                "elapsed_ms": millis(self.took),
            });
            match &self.answer {
                Ok((status, _, body)) => {
                    event["status"] = (*status).into();
                    event["response_body"] = body.as_str().into();
                }
                Err(e) => event["error"] = e.as_str().into(),
            }
            format!("{event}\n")
        } else {
            self.lines()
        };
        // Clears the countdown line first; it is redrawn within a second.
        let clear = if RICH.load(Ordering::Relaxed) {
            "\r\x1b[2K"
        } else {
            ""
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{clear}{text}");
        let _ = err.flush();
    }

    fn lines(&self) -> String {
        let mut out = format!("> {} {}\n", self.method, self.url);
        for (name, value) in &self.sent_headers {
            out.push_str(&format!("> {name}: {value}\n"));
        }
        if !self.sent_body.is_empty() {
            out.push_str(&format!("> {}\n", self.sent_body));
        }
        match &self.answer {
            Ok((status, headers, body)) => {
                out.push_str(&format!("< {status} ({} ms)\n", millis(self.took)));
                for (name, value) in headers {
                    out.push_str(&format!("< {name}: {value}\n"));
                }
                if !body.is_empty() {
                    out.push_str(&format!("< {body}\n"));
                }
            }
            Err(e) => out.push_str(&format!("< failed after {} ms: {e}\n", millis(self.took))),
        }
        out
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Whether a field, parameter or member of this name holds something private.
pub fn is_private(name: &str) -> bool {
    // access_token, accessToken and access-token alike.
    let key: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    key == "code"
        || key == "devicecode"
        || key == "codeverifier"
        || key.ends_with("token")
        || key.contains("secret")
        || key.contains("password")
        || key.contains("assertion")
}

/// Whether a header of this name carries a credential.
fn is_private_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "authorization" | "proxy-authorization" | "dpop" | "cookie" | "set-cookie"
    )
}

fn headers(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| {
            let value = if is_private_header(name.as_str()) {
                remember(&String::from_utf8_lossy(value.as_bytes()));
                REDACTED.to_owned()
            } else {
                scrub(&String::from_utf8_lossy(value.as_bytes()))
            };
            (name.to_string(), value)
        })
        .collect()
}

/// A URL with the values of its private query parameters redacted.
pub fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, rest)) => {
            let (query, fragment) = match rest.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (rest, None),
            };
            let mut out = format!("{base}?{}", redact_form(query));
            if let Some(f) = fragment {
                out.push('#');
                out.push_str(&redact_form(f));
            }
            out
        }
        None => url.to_owned(),
    }
}

/// `application/x-www-form-urlencoded` text with the values of private fields redacted;
/// the rest is kept as it was encoded.
pub fn redact_form(form: &str) -> String {
    form.split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded: String = url::form_urlencoded::parse(name.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect();
            if is_private(&decoded) && !value.is_empty() {
                for (_, v) in url::form_urlencoded::parse(pair.as_bytes()) {
                    remember(&v);
                }
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON value with every private member's value redacted, at any depth.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, member) in map.iter_mut() {
                if is_private(name) && !member.is_null() {
                    if let Value::String(s) = member {
                        remember(s);
                    }
                    *member = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// A body as shown: JSON and forms with private fields redacted, other text cut and
/// scrubbed of remembered secrets, binary data by its length only.
pub fn body(headers: &HeaderMap, bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if let Ok(mut json) = serde_json::from_slice::<Value>(bytes) {
        redact_json(&mut json);
        return json.to_string();
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return format!("({} bytes of binary data)", bytes.len());
    };
    let form = headers
        .get(device_grant::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let looks_like_form =
        text.contains('=') && !text.contains(|c: char| c.is_whitespace() || c == '<');
    let shown = if form || looks_like_form {
        redact_form(text.trim())
    } else {
        text.to_owned()
    };
    let shown = scrub(&shown);
    let mut cut: String = shown.chars().take(TEXT_LIMIT).collect();
    if cut.len() < shown.len() {
        cut.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    cut
}

fn remember(secret: &str) {
    // Short values would blank out ordinary words.
    if secret.len() >= 6 {
        let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
        if !seen.iter().any(|s| s == secret) {
            seen.push(secret.to_owned());
        }
    }
}

/// Text with remembered secrets replaced and control characters (which could drive the
/// terminal) shown as spaces.
fn scrub(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    for secret in seen.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use device_grant::http::HeaderValue;

    #[test]
    fn private_names() {
        for name in [
            "device_code",
            "deviceCode",
            "code",
            "access_token",
            "accessToken",
            "refresh_token",
            "id_token",
            "client_secret",
            "clientSecret",
            "client_assertion",
            "code_verifier",
            "subject_token",
            "password",
        ] {
            assert!(is_private(name), "{name}");
        }
        for name in [
            "user_code",
            "userCode",
            "token_type",
            "expires_in",
            "client_id",
            "scope",
            "verification_uri",
            "grant_type",
        ] {
            assert!(!is_private(name), "{name}");
        }
    }

    #[test]
    fn forms_and_queries_lose_private_values_by_name() {
        assert_eq!(
            redact_form("grant_type=urn%3Aietf&device_code=DC123456&client_id=app"),
            "grant_type=urn%3Aietf&device_code=[redacted]&client_id=app"
        );
        assert_eq!(
            redact_form("client%5Fsecret=s3cr3t-value&x"),
            "client%5Fsecret=[redacted]&x"
        );
        assert_eq!(
            redact_query("https://e.example/cb?code=abcdefgh&state=1#access_token=zzzzzzzz"),
            "https://e.example/cb?code=[redacted]&state=1#access_token=[redacted]"
        );
        assert_eq!(
            redact_query("https://e.example/token"),
            "https://e.example/token"
        );
    }

    #[test]
    fn json_loses_private_members_at_any_depth() {
        let mut v = serde_json::json!({
            "access_token": "at-1234567", "token_type": "Bearer", "expires_in": 60,
            "user_code": "WDJB-MJHT",
            "nested": [{"refreshToken": "rt-1234567"}], "id_token": null
        });
        redact_json(&mut v);
        assert_eq!(v["access_token"], REDACTED);
        assert_eq!(v["nested"][0]["refreshToken"], REDACTED);
        assert_eq!(v["user_code"], "WDJB-MJHT");
        assert_eq!(v["expires_in"], 60);
        assert!(v["id_token"].is_null());
    }

    #[test]
    fn text_bodies_lose_secrets_seen_before() {
        let mut json = serde_json::json!({"device_code": "remembered-device-code"});
        redact_json(&mut json);
        let shown = body(
            &HeaderMap::new(),
            b"<html>no such code: remembered-device-code</html>",
        );
        assert_eq!(shown, "<html>no such code: [redacted]</html>");
        // Form answers (GitHub without Accept: application/json) go by name too.
        let mut form_headers = HeaderMap::new();
        form_headers.insert(
            device_grant::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert_eq!(
            body(&form_headers, b"access_token=gho_xyz123&scope=repo"),
            "access_token=[redacted]&scope=repo"
        );
    }

    #[test]
    fn an_exchange_reads_like_curl() {
        let exchange = Exchange {
            method: "POST".into(),
            url: "https://e.example/token".into(),
            sent_headers: vec![("authorization".into(), REDACTED.into())],
            sent_body: "device_code=[redacted]".into(),
            took: Duration::from_millis(42),
            answer: Ok((400, Vec::new(), "{\"error\":\"slow_down\"}".into())),
        };
        assert_eq!(
            exchange.lines(),
            "> POST https://e.example/token\n> authorization: [redacted]\n\
             > device_code=[redacted]\n< 400 (42 ms)\n< {\"error\":\"slow_down\"}\n"
        );
        let failed = Exchange {
            answer: Err("connection refused".into()),
            ..exchange
        };
        assert!(
            failed
                .lines()
                .ends_with("< failed after 42 ms: connection refused\n")
        );
    }

    #[test]
    fn credential_headers_are_redacted() {
        let mut map = HeaderMap::new();
        map.insert(
            "authorization",
            HeaderValue::from_static("Basic YWJjOmRlZg=="),
        );
        map.insert("dpop", HeaderValue::from_static("eyJhbGciOi.x.y"));
        map.insert("accept", HeaderValue::from_static("application/json"));
        let shown = headers(&map);
        assert!(shown.contains(&("authorization".into(), REDACTED.into())));
        assert!(shown.contains(&("dpop".into(), REDACTED.into())));
        assert!(shown.contains(&("accept".into(), "application/json".into())));
    }
}
