//! The floor: a device flow written by hand with nothing but the HTTP exchanges, the
//! extractor, and the RFC 8628 rules a correct client cannot skip (the interval, `slow_down`
//! adding 5 s, stopping at `expires_in`). It is what any device-flow library competes with.
//!
//! Its code path, per flow: the device request's form body is encoded once, and the poll's
//! once (after the device answer); each exchange is `send(endpoint, body)`, which gives back
//! the status and the body and nothing else (no headers, no `http::Request` or
//! `http::Response`); answers are read by [`crate::extractor`] (no serde). The caller's `send`
//! posts to a URL it parsed once, through its own HTTP client with no presets (see
//! `loopback`).
//!
//! [`run`] drives a blocking HTTP client, [`run_async`] an async one; both share the body
//! building and answer reading below.

use std::time::Duration;

use crate::extractor::{self, DeviceAuthorization, Token};
use crate::json::Malformed;

/// Which endpoint an exchange goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    /// The device authorization endpoint.
    Device,
    /// The token endpoint.
    Token,
}

/// What the floor reads of an HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Who the client is (where it sends is the business of `send`).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The client id.
    pub client_id: String,
    /// The scopes, space-separated.
    pub scope: String,
    /// The interval when the server sends none.
    pub default_interval: Duration,
}

/// Why the floor got no token.
#[derive(Debug)]
pub enum FloorError<E> {
    /// The HTTP client failed.
    Transport(E),
    /// The server answered with this OAuth error.
    OAuth(String),
    /// An answer could not be read.
    Unreadable(Malformed),
    /// The device code expired.
    Expired,
}

/// The device authorization request's body.
pub fn device_body(ep: &Endpoints) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &ep.client_id)
        .append_pair("scope", &ep.scope)
        .finish()
        .into_bytes()
}

/// The poll's body, the same for every poll of a flow.
pub fn poll_body(ep: &Endpoints, device: &DeviceAuthorization) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
        .append_pair("device_code", &device.device_code)
        .append_pair("client_id", &ep.client_id)
        .finish()
        .into_bytes()
}

fn read_device<E>(answer: &Answer) -> Result<DeviceAuthorization, FloorError<E>> {
    if answer.status == 200 {
        extractor::device_json(&answer.body).map_err(FloorError::Unreadable)
    } else {
        let error = extractor::error_json(&answer.body).map_err(FloorError::Unreadable)?;
        Err(FloorError::OAuth(error.error.into_owned()))
    }
}

/// What one poll's answer means: the token, or poll again after this interval.
fn read_poll<E>(
    answer: &Answer,
    interval: Duration,
) -> Result<Result<Token, Duration>, FloorError<E>> {
    if answer.status == 200 {
        return extractor::token_json(&answer.body)
            .map(Ok)
            .map_err(FloorError::Unreadable);
    }
    let error = extractor::error_json(&answer.body).map_err(FloorError::Unreadable)?;
    match &*error.error {
        "authorization_pending" => Ok(Err(interval)),
        "slow_down" => Ok(Err(interval + Duration::from_secs(5))),
        _ => Err(FloorError::OAuth(error.error.into_owned())),
    }
}

/// Polling state: the interval and how much of the code's lifetime is left.
struct Schedule {
    interval: Duration,
    left: Duration,
}

impl Schedule {
    fn new(ep: &Endpoints, device: &DeviceAuthorization) -> Self {
        Schedule {
            interval: device
                .interval
                .filter(|&s| s > 0)
                .map_or(ep.default_interval, Duration::from_secs),
            left: Duration::from_secs(device.expires_in),
        }
    }

    /// The wait before the next poll, or `None` once the code has expired.
    fn next(&mut self) -> Option<Duration> {
        self.left = self.left.checked_sub(self.interval)?;
        Some(self.interval)
    }
}

/// One complete flow through a blocking HTTP client. `on_code` gets the device authorization
/// (to show the user code); `sleep` is called before each poll with the interval (never with
/// zero).
pub fn run<E>(
    ep: &Endpoints,
    mut send: impl FnMut(To, &[u8]) -> Result<Answer, E>,
    mut on_code: impl FnMut(&DeviceAuthorization),
    mut sleep: impl FnMut(Duration),
) -> Result<Token, FloorError<E>> {
    // Each answer is dropped as soon as it is read: nothing of it is kept while waiting.
    let device = read_device(&send(To::Device, &device_body(ep)).map_err(FloorError::Transport)?)?;
    on_code(&device);
    let body = poll_body(ep, &device);
    let mut schedule = Schedule::new(ep, &device);
    loop {
        let wait = schedule.next().ok_or(FloorError::Expired)?;
        if !wait.is_zero() {
            sleep(wait);
        }
        let answer = send(To::Token, &body).map_err(FloorError::Transport)?;
        let next = read_poll(&answer, schedule.interval)?;
        drop(answer);
        match next {
            Ok(token) => return Ok(token),
            Err(interval) => schedule.interval = interval,
        }
    }
}

/// One complete flow through an async HTTP client; as [`run`].
pub async fn run_async<E>(
    ep: &Endpoints,
    mut send: impl AsyncFnMut(To, &[u8]) -> Result<Answer, E>,
    mut on_code: impl FnMut(&DeviceAuthorization),
    mut sleep: impl AsyncFnMut(Duration),
) -> Result<Token, FloorError<E>> {
    let device = read_device(
        &send(To::Device, &device_body(ep))
            .await
            .map_err(FloorError::Transport)?,
    )?;
    on_code(&device);
    let body = poll_body(ep, &device);
    let mut schedule = Schedule::new(ep, &device);
    loop {
        let wait = schedule.next().ok_or(FloorError::Expired)?;
        if !wait.is_zero() {
            sleep(wait).await;
        }
        let answer = send(To::Token, &body)
            .await
            .map_err(FloorError::Transport)?;
        let next = read_poll(&answer, schedule.interval)?;
        drop(answer);
        match next {
            Ok(token) => return Ok(token),
            Err(interval) => schedule.interval = interval,
        }
    }
}

/// The floor's exchange in the `http` crate's types, as an HTTP client built on them (ureq 3,
/// hyper) takes and gives them: what device-grant's API exchanges with its driver. Built the
/// cheapest way a hand-written client would: the URI parsed once and the headers built once,
/// both cloned per request, the body copied into the request.
#[derive(Debug)]
pub struct HttpExchange {
    device: http::Uri,
    token: http::Uri,
    headers: http::HeaderMap,
}

impl HttpExchange {
    /// The exchange for these endpoints.
    ///
    /// # Panics
    /// When an endpoint is not a valid URI.
    pub fn new(device: &str, token: &str) -> Self {
        use http::header::{ACCEPT, CONTENT_TYPE};
        let mut headers = http::HeaderMap::with_capacity(2);
        headers.insert(ACCEPT, http::HeaderValue::from_static("application/json"));
        headers.insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        HttpExchange {
            device: device.parse().expect("a valid device endpoint"),
            token: token.parse().expect("a valid token endpoint"),
            headers,
        }
    }

    /// The POST of `body` to `to`.
    pub fn request(&self, to: To, body: &[u8]) -> http::Request<Vec<u8>> {
        let mut request = http::Request::new(body.to_vec());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = match to {
            To::Device => self.device.clone(),
            To::Token => self.token.clone(),
        };
        *request.headers_mut() = self.headers.clone();
        request
    }

    /// What the floor reads of the response: its status and its body, moved out.
    pub fn answer(response: http::Response<Vec<u8>>) -> Answer {
        Answer {
            status: response.status().as_u16(),
            body: response.into_body(),
        }
    }
}

/// Reading a poll's answer, for the poll-step benchmark: whether it says
/// `authorization_pending`.
pub fn is_pending(answer: &Answer) -> bool {
    matches!(read_poll::<()>(answer, Duration::ZERO), Ok(Err(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canned::{self, Canned};

    fn endpoints() -> Endpoints {
        Endpoints {
            client_id: canned::CLIENT_ID.into(),
            scope: canned::SCOPES.join(" "),
            default_interval: Duration::from_secs(5),
        }
    }

    #[test]
    fn gets_the_token_after_the_pending_answers() {
        let server = Canned::new(3);
        let (mut polls, mut shown) = (0, 0);
        let mut slept = Duration::ZERO;
        let token = run(
            &endpoints(),
            |to, body| {
                if to == To::Token {
                    polls += 1;
                    let body = std::str::from_utf8(body).unwrap();
                    assert!(body.contains("device_code=GmRhmhcxhwAzkoEqiMEg"), "{body}");
                }
                Ok::<_, ()>(server.answer(to == To::Token))
            },
            |d| {
                assert_eq!(d.user_code, "WDJB-MJHT");
                shown += 1;
            },
            |d| slept += d,
        )
        .unwrap();
        assert_eq!((polls, shown), (4, 1));
        assert_eq!(slept, Duration::from_secs(20));
        assert_eq!(token.token_type, "Bearer");
    }

    #[test]
    fn the_http_exchange_posts_forms_to_the_endpoints_and_reads_the_answers() {
        let server = Canned::new(2);
        let exchange = HttpExchange::new(canned::DEVICE_URL, canned::TOKEN_URL);
        let mut paths = Vec::new();
        let token = run(
            &endpoints(),
            |to, body| {
                let request = exchange.request(to, body);
                assert_eq!(request.method(), http::Method::POST);
                assert_eq!(request.body(), body);
                assert_eq!(
                    request.headers()[http::header::CONTENT_TYPE],
                    "application/x-www-form-urlencoded"
                );
                paths.push(request.uri().path().to_owned());
                Ok::<_, ()>(HttpExchange::answer(server.call(&request)))
            },
            |_| {},
            |_| {},
        )
        .unwrap();
        assert_eq!(
            paths,
            [
                "/oauth2/device",
                "/oauth2/token",
                "/oauth2/token",
                "/oauth2/token"
            ]
        );
        assert_eq!(token.token_type, "Bearer");
    }

    #[test]
    fn stops_when_the_code_expires() {
        let server = Canned::new(u32::MAX);
        let result = run(
            &endpoints(),
            |to, _| Ok::<_, ()>(server.answer(to == To::Token)),
            |_| {},
            |_| {},
        );
        assert!(matches!(result, Err(FloorError::Expired)));
    }

    #[test]
    fn an_oauth_error_ends_the_flow() {
        let answer = Answer {
            status: 400,
            body: br#"{"error":"access_denied"}"#.to_vec(),
        };
        assert!(matches!(
            read_poll::<()>(&answer, Duration::ZERO),
            Err(FloorError::OAuth(e)) if e == "access_denied"
        ));
    }
}
