//! The answers every in-memory benchmark gets, and a server that hands them out in order.
//!
//! The bodies are shaped like real ones (a 43-character device code, a refresh token, a
//! `verification_uri_complete`), so that parsing costs what it costs in practice.

use std::cell::Cell;

use device_grant::Outgoing;
use device_grant_sim::fixtures;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};

/// Where the in-memory device authorization endpoint is.
pub const DEVICE_URL: &str = "https://login.example.com/oauth2/device";
/// Where the in-memory token endpoint is.
pub const TOKEN_URL: &str = "https://login.example.com/oauth2/token";
/// The client id every benchmark uses.
pub const CLIENT_ID: &str = "bench-client-7d1f";
/// The scopes every benchmark asks for.
pub const SCOPES: [&str; 2] = ["openid", "offline_access"];

/// A device authorization answer: RFC 8628 §3.2's example, JSON.
pub const DEVICE_JSON: &[u8] = fixtures::RFC_DC_01.body.as_bytes();
/// The same answer, form-encoded (as GitHub sends it unless asked for JSON).
pub const DEVICE_FORM: &[u8] = b"device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS&user_code=WDJB-MJHT&verification_uri=https%3A%2F%2Fexample.com%2Fdevice&verification_uri_complete=https%3A%2F%2Fexample.com%2Fdevice%3Fuser_code%3DWDJB-MJHT&expires_in=1800&interval=5";
/// A token answer (RFC 6749 §5.1), JSON.
pub const TOKEN_JSON: &[u8] = br#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJlLXBsYWNlaG9sZGVy","token_type":"Bearer","expires_in":3600,"refresh_token":"8xLOxBtZp8Rr-QzWcNVxcBmRd7yKuVd2Kb_3Fj4","scope":"openid offline_access"}"#;
/// The same answer, form-encoded.
pub const TOKEN_FORM: &[u8] = b"access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJlLXBsYWNlaG9sZGVy&token_type=Bearer&expires_in=3600&refresh_token=8xLOxBtZp8Rr-QzWcNVxcBmRd7yKuVd2Kb_3Fj4&scope=openid+offline_access";
/// The pending answer (RFC 8628 §3.5), JSON, as most servers send it.
pub const PENDING_JSON: &[u8] = fixtures::RFC_PEND_01.body.as_bytes();
/// The pending answer, form-encoded.
pub const PENDING_FORM: &[u8] = b"error=authorization_pending";

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/x-www-form-urlencoded`.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// A response as an HTTP client hands it over: status, `Content-Type`, the body in a `Vec`.
pub fn response(status: u16, content_type: &'static str, body: &[u8]) -> Response<Vec<u8>> {
    let mut response = Response::new(body.to_vec());
    *response.status_mut() = http::StatusCode::from_u16(status).expect("a valid status");
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An authorization server in memory: a device authorization answer, then `pending`
/// answers to the first `pending` polls, then a token. One per thread (it counts in a
/// `Cell`), reusable for any number of flows: each device authorization request starts over.
#[derive(Debug)]
pub struct Canned {
    pending: u32,
    polls: Cell<u32>,
    /// The headers of every answer, built once and lent, as a server keeps the ones it
    /// always sends.
    headers: HeaderMap,
}

impl Canned {
    /// A server that answers `pending` polls with `authorization_pending`.
    pub fn new(pending: u32) -> Self {
        let mut headers = HeaderMap::with_capacity(1);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        Canned {
            pending,
            polls: Cell::new(0),
            headers,
        }
    }

    /// Answers the floor's exchange: a poll when `token`, else a device authorization. The
    /// body comes in a new `Vec`, as an HTTP client hands it over.
    pub fn answer(&self, token: bool) -> crate::floor::Answer {
        let (status, body) = self.next(token);
        crate::floor::Answer {
            status,
            body: body.to_vec(),
        }
    }

    fn next(&self, token: bool) -> (u16, &'static [u8]) {
        if !token {
            self.polls.set(0);
            return (200, DEVICE_JSON);
        }
        let n = self.polls.get();
        self.polls.set(n + 1);
        if n < self.pending {
            (400, PENDING_JSON)
        } else {
            (200, TOKEN_JSON)
        }
    }

    /// Answers a lent request, routed by path like a real server: the status and the body in
    /// a new `Vec`, as an HTTP client hands it over; the headers are [`Canned::headers`].
    pub fn answer_lent(&self, request: &Outgoing<'_>) -> (StatusCode, Vec<u8>) {
        debug_assert_eq!(request.method(), http::Method::POST);
        let (status, body) = self.next(!request.uri().path().ends_with("/device"));
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body.to_vec(),
        )
    }

    /// The headers of every answer: `Content-Type: application/json`.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Answers one request, routed by path like a real server.
    pub fn call(&self, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        debug_assert_eq!(request.method(), http::Method::POST);
        let (status, body) = self.next(!request.uri().path().ends_with("/device"));
        response(status, JSON, body)
    }
}
