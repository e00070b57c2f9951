//! The floor: a device flow written by hand with nothing but the HTTP requests, the
//! extractor, and the RFC 8628 rules a correct client cannot skip (the interval, `slow_down`
//! adding 5 s, stopping at `expires_in`). It is what any device-flow library competes with.
//!
//! [`run`] drives a blocking HTTP client, [`run_async`] an async one; both share the request
//! building and answer reading below.

use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, Uri};

use crate::extractor::{self, DeviceAuthorization, Token};

/// Where to send the requests and who the client is.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The device authorization endpoint.
    pub device: Uri,
    /// The token endpoint.
    pub token: Uri,
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
    Unreadable(serde_json::Error),
    /// The device code expired.
    Expired,
}

fn post(uri: &Uri, body: Vec<u8>) -> Request<Vec<u8>> {
    let mut request = Request::new(body);
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri.clone();
    let headers = request.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request
}

fn device_request(ep: &Endpoints) -> Request<Vec<u8>> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &ep.client_id)
        .append_pair("scope", &ep.scope)
        .finish();
    post(&ep.device, body.into_bytes())
}

fn poll_body(ep: &Endpoints, device: &DeviceAuthorization) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
        .append_pair("device_code", &device.device_code)
        .append_pair("client_id", &ep.client_id)
        .finish()
        .into_bytes()
}

fn read_device<E>(response: &Response<Vec<u8>>) -> Result<DeviceAuthorization, FloorError<E>> {
    if response.status().is_success() {
        extractor::device_json(response.body()).map_err(FloorError::Unreadable)
    } else {
        let error = extractor::error_json(response.body()).map_err(FloorError::Unreadable)?;
        Err(FloorError::OAuth(error.error))
    }
}

/// What one poll's answer means: the token, or poll again after this interval.
fn read_poll<E>(
    response: &Response<Vec<u8>>,
    interval: Duration,
) -> Result<Result<Token, Duration>, FloorError<E>> {
    if response.status().is_success() {
        return extractor::token_json(response.body())
            .map(Ok)
            .map_err(FloorError::Unreadable);
    }
    let error = extractor::error_json(response.body()).map_err(FloorError::Unreadable)?;
    match error.error.as_str() {
        "authorization_pending" => Ok(Err(interval)),
        "slow_down" => Ok(Err(interval + Duration::from_secs(5))),
        _ => Err(FloorError::OAuth(error.error)),
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

/// One complete flow through a blocking HTTP client. `sleep` is called before each poll
/// with the interval (never with zero).
pub fn run<E>(
    ep: &Endpoints,
    mut send: impl FnMut(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>,
    mut sleep: impl FnMut(Duration),
) -> Result<Token, FloorError<E>> {
    let answer = send(device_request(ep)).map_err(FloorError::Transport)?;
    let device = read_device(&answer)?;
    let body = poll_body(ep, &device);
    let mut schedule = Schedule::new(ep, &device);
    loop {
        let wait = schedule.next().ok_or(FloorError::Expired)?;
        if !wait.is_zero() {
            sleep(wait);
        }
        let answer = send(post(&ep.token, body.clone())).map_err(FloorError::Transport)?;
        match read_poll(&answer, schedule.interval)? {
            Ok(token) => return Ok(token),
            Err(interval) => schedule.interval = interval,
        }
    }
}

/// One complete flow through an async HTTP client; as [`run`].
pub async fn run_async<E>(
    ep: &Endpoints,
    mut send: impl AsyncFnMut(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>,
    mut sleep: impl AsyncFnMut(Duration),
) -> Result<Token, FloorError<E>> {
    let answer = send(device_request(ep))
        .await
        .map_err(FloorError::Transport)?;
    let device = read_device(&answer)?;
    let body = poll_body(ep, &device);
    let mut schedule = Schedule::new(ep, &device);
    loop {
        let wait = schedule.next().ok_or(FloorError::Expired)?;
        if !wait.is_zero() {
            sleep(wait).await;
        }
        let answer = send(post(&ep.token, body.clone()))
            .await
            .map_err(FloorError::Transport)?;
        match read_poll(&answer, schedule.interval)? {
            Ok(token) => return Ok(token),
            Err(interval) => schedule.interval = interval,
        }
    }
}

/// The first half of a poll step, for the poll-step benchmark: the request as the loop
/// above builds it.
pub fn poll_request(ep: &Endpoints, body: &[u8]) -> Request<Vec<u8>> {
    post(&ep.token, body.to_vec())
}

/// The second half: reading a pending answer.
pub fn is_pending(response: &Response<Vec<u8>>) -> bool {
    matches!(read_poll::<()>(response, Duration::ZERO), Ok(Err(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canned::{self, Canned};

    fn endpoints() -> Endpoints {
        Endpoints {
            device: Uri::from_static(canned::DEVICE_URL),
            token: Uri::from_static(canned::TOKEN_URL),
            client_id: canned::CLIENT_ID.into(),
            scope: canned::SCOPES.join(" "),
            default_interval: Duration::from_secs(5),
        }
    }

    #[test]
    fn gets_the_token_after_the_pending_answers() {
        let server = Canned::new(3);
        let mut polls = 0;
        let mut slept = Duration::ZERO;
        let token = run(
            &endpoints(),
            |r| {
                if r.uri().path().ends_with("/token") {
                    polls += 1;
                    let body = std::str::from_utf8(r.body()).unwrap();
                    assert!(body.contains("device_code=GmRhmhcxhwAzkoEqiMEg"), "{body}");
                }
                Ok::<_, ()>(server.call(&r))
            },
            |d| slept += d,
        )
        .unwrap();
        assert_eq!(polls, 4);
        assert_eq!(slept, Duration::from_secs(20));
        assert_eq!(token.token_type, "Bearer");
    }

    #[test]
    fn stops_when_the_code_expires() {
        let server = Canned::new(u32::MAX);
        let result = run(&endpoints(), |r| Ok::<_, ()>(server.call(&r)), |_| {});
        assert!(matches!(result, Err(FloorError::Expired)));
    }
}
