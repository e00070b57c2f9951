//! The state machine: one type for both grants, one output enum, inputs that carry `now`.
//!
//! The flow never reads a clock, sleeps or does I/O. It says what to send
//! ([`Output::Send`]), what to tell the user ([`Output::Event`]), until when nothing needs to
//! happen ([`Output::WaitUntil`]), and how it ended ([`Output::Done`]). The driver feeds back
//! responses, transport failures and the passing of time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, Response, StatusCode};

use crate::config::Config;
use crate::device::{self, Prompt};
use crate::error::{
    ConfigError, Endpoint, ErrorResponse, FlowError, InvalidResponse, Problem, TransportErrorKind,
    UsageError,
};
use crate::request;
use crate::secret::RefreshToken;
use crate::token::{self, TokenResponse};
use crate::wire::{self, Fields};

/// Identifies one request the flow asked for, so its answer can be matched to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

impl RequestId {
    /// The number, for logs.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What the flow wants next. Call [`Flow::poll_output`] until it returns `Send`, `WaitUntil`,
/// `AwaitResponse` or `Done`.
#[non_exhaustive]
pub enum Output {
    /// Send this request and hand its answer to [`Flow::handle_response`] (any status), or
    /// its failure to [`Flow::handle_transport_error`].
    Send {
        /// Pass this back with the answer.
        id: RequestId,
        /// A form POST, ready to send. Do not follow redirects for it.
        request: http::Request<Vec<u8>>,
    },
    /// Something to tell the user or log.
    Event(Event),
    /// Nothing to do until this instant: then call [`Flow::handle_timeout`]. Always later than
    /// the last `now` the flow was given.
    WaitUntil(Instant),
    /// A request is out; nothing to do until its answer or failure arrives.
    AwaitResponse(RequestId),
    /// The flow has ended. It keeps returning this.
    Done(Result<TokenResponse, FlowError>),
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The body holds the device code or a secret, and the headers may hold Basic
            // credentials: show only where the request goes.
            Output::Send { id, request } => f
                .debug_struct("Send")
                .field("id", id)
                .field("method", request.method())
                .field("uri", request.uri())
                .finish_non_exhaustive(),
            Output::Event(e) => f.debug_tuple("Event").field(e).finish(),
            Output::WaitUntil(at) => f.debug_tuple("WaitUntil").field(at).finish(),
            Output::AwaitResponse(id) => f.debug_tuple("AwaitResponse").field(id).finish(),
            Output::Done(r) => f.debug_tuple("Done").field(r).finish(),
        }
    }
}

/// Things worth telling the user.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Show the code and where to enter it. Emitted exactly once, before the first poll.
    UserCode(Prompt),
    /// The server asked to poll less often (`slow_down`); the new interval holds from now on.
    SlowDown {
        /// The interval now in force.
        interval: Duration,
    },
    /// A poll failed in a way worth retrying; the next one waits this long.
    BackOff {
        /// How long until the next poll.
        delay: Duration,
        /// Why.
        cause: BackOffCause,
    },
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::UserCode(prompt) => prompt.fmt(f),
            Event::SlowDown { interval } => write!(
                f,
                "the server asked to poll less often; polling every {} s from now on",
                seconds(*interval)
            ),
            Event::BackOff { delay, cause } => {
                write!(f, "{cause}; polling again in {} s", seconds(*delay))
            }
        }
    }
}

/// Seconds with at most three decimals and no trailing zeros: "5", "5.05".
fn seconds(d: Duration) -> String {
    let millis = d.as_millis();
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{:.3}", d.as_secs_f64())
            .trim_end_matches('0')
            .to_owned()
    }
}

/// Why polling backs off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackOffCause {
    /// The request did not get an answer (RFC 8628 §3.5: reduce the polling frequency).
    Transport(TransportErrorKind),
    /// 429, 502, 503 or 504 without an OAuth error in the body (throttling, gateway pages).
    Status(u16),
    /// The OAuth error `temporarily_unavailable`.
    TemporarilyUnavailable,
}

impl std::fmt::Display for BackOffCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackOffCause::Transport(kind) => kind.fmt(f),
            BackOffCause::Status(status) => write!(f, "the server is busy (HTTP {status})"),
            BackOffCause::TemporarilyUnavailable => {
                f.write_str("the server is temporarily unavailable")
            }
        }
    }
}

/// The smallest base for back-off, so that a zero interval does not retry a failing server
/// in a tight loop.
const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// RFC 8628 §3.5: "increase the interval by 5 seconds for this and all subsequent requests".
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// A device authorization grant or a refresh-token grant in progress.
///
/// See the crate documentation for the driver loop.
#[derive(Debug)]
pub struct Flow {
    config: Arc<Config>,
    now: Instant,
    next_id: u64,
    events: Vec<Event>,
    state: State,
}

#[derive(Debug)]
enum State {
    Authorize,
    Authorizing(RequestId),
    Polling(Polling),
    Refresh(RefreshToken),
    Refreshing(RequestId, RefreshToken),
    Done(Box<Result<TokenResponse, FlowError>>),
}

struct Polling {
    /// The form of every poll, built once; it holds the device code.
    body: Vec<u8>,
    deadline: Instant,
    interval: Duration,
    next_at: Instant,
    in_flight: Option<RequestId>,
    failures: u32,
}

impl std::fmt::Debug for Polling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body holds the device code: leave it out.
        f.debug_struct("Polling")
            .field("deadline", &self.deadline)
            .field("interval", &self.interval)
            .field("next_at", &self.next_at)
            .field("in_flight", &self.in_flight)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

/// How an answer reads, whatever its status (DESIGN rule 8).
enum Answer<'a> {
    /// A body without an OAuth error at a 2xx status; status and content type are kept for
    /// the report should the body fail validation.
    Success {
        fields: Fields<'a>,
        status: u16,
        content_type: Option<String>,
    },
    Error(ErrorResponse),
    Retry {
        status: u16,
        retry_after: Option<Duration>,
        content_type: Option<String>,
    },
    Invalid(InvalidResponse),
}

impl Flow {
    /// Starts a device authorization grant (RFC 8628). `now` is the driver's clock.
    pub fn device(config: impl Into<Arc<Config>>, now: Instant) -> Flow {
        Flow::new(config.into(), now, State::Authorize)
    }

    /// Starts a refresh-token grant (RFC 6749 §6). When the server does not rotate the
    /// refresh token, the result carries this one.
    pub fn refresh(
        config: impl Into<Arc<Config>>,
        refresh_token: RefreshToken,
        now: Instant,
    ) -> Flow {
        Flow::new(config.into(), now, State::Refresh(refresh_token))
    }

    fn new(config: Arc<Config>, now: Instant, state: State) -> Flow {
        Flow {
            config,
            now,
            next_id: 0,
            events: Vec::new(),
            state,
        }
    }

    /// The configuration this flow runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The largest body [`Flow::handle_response`] accepts. Read at most one byte more than
    /// this from the network and pass what you read: the flow then ends with
    /// [`Problem::BodyTooLarge`] instead of your program buffering a huge body.
    pub fn body_limit(&self) -> usize {
        self.config.body_limit
    }

    /// When the device code expires, once it is known.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Polling(p) => Some(p.deadline),
            _ => None,
        }
    }

    /// The polling interval in force, once polling has started.
    pub fn interval(&self) -> Option<Duration> {
        match &self.state {
            State::Polling(p) => Some(p.interval),
            _ => None,
        }
    }

    /// Whether the flow has ended.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// The next thing to do. Events come first, in order; then a request to send, a time to
    /// wait for, a request to wait on, or the result.
    pub fn poll_output(&mut self) -> Output {
        if !self.events.is_empty() {
            let event = self.events.remove(0);
            if self.events.is_empty() {
                // A pending flow keeps no spare capacity around.
                self.events = Vec::new();
            }
            return Output::Event(event);
        }
        let now = self.now;
        match &mut self.state {
            State::Done(result) => Output::Done((**result).clone()),
            State::Authorizing(id) | State::Refreshing(id, _) => Output::AwaitResponse(*id),
            State::Authorize => match &self.config.device_endpoint {
                Some((_, uri)) => {
                    let request = request::device_authorization(&self.config, uri);
                    let id = self.next_request_id();
                    self.state = State::Authorizing(id);
                    Output::Send { id, request }
                }
                None => self.finish(Err(FlowError::Config(ConfigError::MissingDeviceEndpoint))),
            },
            State::Refresh(token) => {
                // Moved out here; the state is replaced right below.
                let token = std::mem::replace(token, RefreshToken::new(String::new()));
                let body = request::refresh_body(&self.config, &token);
                let request = request::post(&self.config, &self.config.token_endpoint.1, body);
                let id = self.next_request_id();
                self.state = State::Refreshing(id, token);
                Output::Send { id, request }
            }
            State::Polling(p) => {
                if let Some(id) = p.in_flight {
                    return Output::AwaitResponse(id);
                }
                if now >= p.deadline {
                    return self.finish(Err(FlowError::Expired(None)));
                }
                if now < p.next_at {
                    return Output::WaitUntil(p.next_at.min(p.deadline));
                }
                let body = p.body.clone();
                let id = RequestId(self.next_id);
                self.next_id += 1;
                p.in_flight = Some(id);
                let request = request::post(&self.config, &self.config.token_endpoint.1, body);
                Output::Send { id, request }
            }
        }
    }

    /// Hands in the answer to request `id`, whatever its status. Pass the body as read, at
    /// most [`Flow::body_limit`] + 1 bytes.
    pub fn handle_response<B: AsRef<[u8]>>(
        &mut self,
        id: RequestId,
        response: Response<B>,
        now: Instant,
    ) -> Result<(), UsageError> {
        self.expect(id)?;
        self.tick(now);
        let now = self.now;
        let (parts, body) = response.into_parts();
        let endpoint = match self.state {
            State::Authorizing(_) => Endpoint::DeviceAuthorization,
            _ => Endpoint::Token,
        };
        let answer = classify(
            endpoint,
            parts.status,
            &parts.headers,
            body.as_ref(),
            self.config.body_limit,
        );
        match std::mem::replace(&mut self.state, State::Authorize) {
            State::Authorizing(_) => self.on_authorization(answer, now),
            State::Refreshing(_, used) => self.on_refresh(answer, used, now),
            State::Polling(p) => self.on_poll(p, answer, now),
            other => self.state = other,
        }
        Ok(())
    }

    /// Hands in the failure of request `id` to get an answer. While polling this backs off
    /// and keeps going until the code expires (RFC 8628 §3.5); for the device authorization
    /// and refresh requests it ends the flow.
    pub fn handle_transport_error(
        &mut self,
        id: RequestId,
        kind: TransportErrorKind,
        now: Instant,
    ) -> Result<(), UsageError> {
        self.expect(id)?;
        self.tick(now);
        let now = self.now;
        match std::mem::replace(&mut self.state, State::Authorize) {
            State::Authorizing(_) => {
                self.end(Err(FlowError::Transport {
                    endpoint: Endpoint::DeviceAuthorization,
                    kind,
                }));
            }
            State::Refreshing(..) => {
                self.end(Err(FlowError::Transport {
                    endpoint: Endpoint::Token,
                    kind,
                }));
            }
            State::Polling(mut p) => {
                p.in_flight = None;
                self.back_off(&mut p, BackOffCause::Transport(kind), None, now);
                self.state = State::Polling(p);
            }
            other => self.state = other,
        }
        Ok(())
    }

    /// Tells the flow the time. Call it when a [`Output::WaitUntil`] instant has come (calling
    /// it earlier or more often is harmless).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.is_done() {
            return Err(UsageError::Finished);
        }
        self.tick(now);
        if let State::Polling(p) = &self.state
            && p.in_flight.is_none()
            && self.now >= p.deadline
        {
            self.end(Err(FlowError::Expired(None)));
        }
        Ok(())
    }

    /// Ends the flow with [`FlowError::Cancelled`], unless it has already ended. An answer to
    /// a request still out is then refused with [`UsageError::Finished`].
    pub fn cancel(&mut self) {
        if !self.is_done() {
            self.end(Err(FlowError::Cancelled));
        }
    }

    fn next_request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        id
    }

    fn tick(&mut self, now: Instant) {
        // A clock that steps back is ignored rather than trusted.
        self.now = self.now.max(now);
    }

    fn expect(&self, id: RequestId) -> Result<(), UsageError> {
        let waiting = match &self.state {
            State::Done(_) => return Err(UsageError::Finished),
            State::Authorizing(w) | State::Refreshing(w, _) => Some(*w),
            State::Polling(p) => p.in_flight,
            State::Authorize | State::Refresh(_) => None,
        };
        if waiting == Some(id) {
            Ok(())
        } else {
            Err(UsageError::UnknownRequest(id))
        }
    }

    fn finish(&mut self, result: Result<TokenResponse, FlowError>) -> Output {
        self.state = State::Done(Box::new(result.clone()));
        Output::Done(result)
    }

    /// Ends the flow where no output is returned; `poll_output` hands the result out later.
    /// Unlike `finish`, no copy of the result is made only to be dropped.
    fn end(&mut self, result: Result<TokenResponse, FlowError>) {
        self.state = State::Done(Box::new(result));
    }

    fn on_authorization(&mut self, answer: Answer<'_>, now: Instant) {
        let (fields, status, content_type) = match answer {
            Answer::Success {
                fields,
                status,
                content_type,
            } => (fields, status, content_type),
            Answer::Error(e) => {
                self.end(Err(FlowError::OAuth(e)));
                return;
            }
            Answer::Retry {
                status,
                content_type,
                ..
            } => {
                self.end(Err(invalid(
                    Endpoint::DeviceAuthorization,
                    status,
                    content_type,
                    Problem::UnexpectedStatus,
                )));
                return;
            }
            Answer::Invalid(i) => {
                self.end(Err(FlowError::InvalidResponse(i)));
                return;
            }
        };
        match device::parse(fields, now) {
            Ok(auth) => {
                let interval = auth.interval.unwrap_or(self.config.default_interval);
                let deadline = auth.prompt.expires_at;
                let body = request::poll_body(&self.config, &auth.device_code);
                self.events.push(Event::UserCode(auth.prompt));
                self.state = State::Polling(Polling {
                    body,
                    deadline,
                    interval,
                    // Wait first: RFC 8628 §3.5 asks for the interval "before each new request",
                    // and nobody has typed the code yet anyway.
                    next_at: now.checked_add(interval).unwrap_or(deadline),
                    in_flight: None,
                    failures: 0,
                });
            }
            Err(problem) => {
                self.end(Err(invalid(
                    Endpoint::DeviceAuthorization,
                    status,
                    content_type,
                    problem,
                )));
            }
        }
    }

    fn on_refresh(&mut self, answer: Answer<'_>, used: RefreshToken, now: Instant) {
        let result = match answer {
            Answer::Success {
                fields,
                status,
                content_type,
            } => match token::parse(fields, self.config.profile.comma_scopes(), now) {
                Ok(mut token) => {
                    if token.refresh_token.is_none() {
                        token.refresh_token = Some(used);
                    }
                    Ok(token)
                }
                Err(problem) => Err(invalid(Endpoint::Token, status, content_type, problem)),
            },
            Answer::Error(e) => Err(FlowError::OAuth(e)),
            Answer::Retry {
                status,
                content_type,
                ..
            } => Err(invalid(
                Endpoint::Token,
                status,
                content_type,
                Problem::UnexpectedStatus,
            )),
            Answer::Invalid(i) => Err(FlowError::InvalidResponse(i)),
        };
        self.end(result);
    }

    fn on_poll(&mut self, mut p: Polling, answer: Answer<'_>, now: Instant) {
        p.in_flight = None;
        match answer {
            Answer::Success {
                fields,
                status,
                content_type,
            } => {
                let result = token::parse(fields, self.config.profile.comma_scopes(), now)
                    .map_err(|problem| invalid(Endpoint::Token, status, content_type, problem));
                self.end(result);
            }
            Answer::Error(e) => match e.error() {
                "authorization_pending" => {
                    p.failures = 0;
                    // Counted from the answer, not the request: spacing between arrivals at
                    // the server then never falls below the interval.
                    p.next_at = now.checked_add(p.interval).unwrap_or(p.deadline);
                    self.state = State::Polling(p);
                }
                "slow_down" => {
                    p.failures = 0;
                    let mut interval = p.interval.saturating_add(SLOW_DOWN_STEP);
                    // GitHub sends the new interval along; it may be larger still.
                    if let Ok(Some(sent)) = wire::seconds_of(e.extra.get("interval"), "interval") {
                        interval = interval.max(sent);
                    }
                    p.interval = interval;
                    p.next_at = now.checked_add(interval).unwrap_or(p.deadline);
                    self.events.push(Event::SlowDown { interval });
                    self.state = State::Polling(p);
                }
                "access_denied" | "authorization_declined" => {
                    self.end(Err(FlowError::Denied(e)));
                }
                "expired_token" | "code_expired" => {
                    self.end(Err(FlowError::Expired(Some(e))));
                }
                "temporarily_unavailable" => {
                    // RFC 6749 §5.2 defines no Retry-After for it, but a server may send one.
                    self.back_off(&mut p, BackOffCause::TemporarilyUnavailable, None, now);
                    self.state = State::Polling(p);
                }
                _ => {
                    self.end(Err(FlowError::OAuth(e)));
                }
            },
            Answer::Retry {
                status,
                retry_after,
                ..
            } => {
                self.back_off(&mut p, BackOffCause::Status(status), retry_after, now);
                self.state = State::Polling(p);
            }
            Answer::Invalid(i) => {
                self.end(Err(FlowError::InvalidResponse(i)));
            }
        }
    }

    /// DESIGN rule 2: double the wait on each failure in a row, cap it, never go below the
    /// interval, and honour `Retry-After`.
    fn back_off(
        &mut self,
        p: &mut Polling,
        cause: BackOffCause,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        p.failures = p.failures.saturating_add(1);
        let factor = 1u32.checked_shl(p.failures.min(31)).unwrap_or(u32::MAX);
        let doubled = p.interval.max(MIN_BACKOFF).saturating_mul(factor);
        let delay = doubled
            .min(self.config.max_backoff)
            .max(p.interval)
            .max(retry_after.unwrap_or_default());
        p.next_at = now.checked_add(delay).unwrap_or(p.deadline);
        self.events.push(Event::BackOff { delay, cause });
    }
}

fn invalid(
    endpoint: Endpoint,
    status: u16,
    content_type: Option<String>,
    problem: Problem,
) -> FlowError {
    FlowError::InvalidResponse(InvalidResponse {
        endpoint,
        status,
        content_type,
        problem,
    })
}

/// DESIGN rule 8: the body decides. An `error` member makes an OAuth error at any status
/// (GitHub sends them with 200, Google with 428 and 403, Auth0 with 403 and 429).
fn classify<'a>(
    endpoint: Endpoint,
    status: StatusCode,
    headers: &HeaderMap,
    body: &'a [u8],
    limit: usize,
) -> Answer<'a> {
    let code = status.as_u16();
    let content_type = || {
        headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if body.len() > limit {
        return Answer::Invalid(InvalidResponse {
            endpoint,
            status: code,
            content_type: content_type(),
            problem: Problem::BodyTooLarge { limit },
        });
    }
    let retryable = matches!(code, 429 | 502 | 503 | 504);
    match wire::parse_body(headers, body) {
        Ok(mut fields) => {
            if let Some(error) = take_error_code(&mut fields) {
                let description = take_string(&mut fields, "error_description");
                let uri = take_string(&mut fields, "error_uri");
                return Answer::Error(ErrorResponse {
                    endpoint,
                    status: code,
                    error,
                    description,
                    uri,
                    extra: fields.into_map(),
                });
            }
            if status.is_success() {
                Answer::Success {
                    fields,
                    status: code,
                    content_type: content_type(),
                }
            } else if retryable {
                Answer::Retry {
                    status: code,
                    retry_after: wire::retry_after(headers),
                    content_type: content_type(),
                }
            } else {
                Answer::Invalid(InvalidResponse {
                    endpoint,
                    status: code,
                    content_type: content_type(),
                    problem: Problem::UnexpectedStatus,
                })
            }
        }
        Err(_) if retryable => Answer::Retry {
            status: code,
            retry_after: wire::retry_after(headers),
            content_type: content_type(),
        },
        Err(problem) => Answer::Invalid(InvalidResponse {
            endpoint,
            status: code,
            content_type: content_type(),
            problem,
        }),
    }
}

/// The `error` member, or Google's quota answer `{"error_code": "rate_limit_exceeded"}`.
fn take_error_code(fields: &mut Fields<'_>) -> Option<String> {
    let name = ["error", "error_code"].into_iter().find(
        |name| matches!(fields.get(name), Some(serde_json::Value::String(s)) if !s.is_empty()),
    )?;
    take_string(fields, name)
}

fn take_string(fields: &mut Fields<'_>, name: &str) -> Option<String> {
    match fields.get(name) {
        Some(serde_json::Value::String(_)) => match fields.remove(name) {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}
