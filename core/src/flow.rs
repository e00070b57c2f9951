//! The state machine: one type for both grants, one output enum, inputs that carry `now`.
//!
//! The flow never reads a clock, sleeps or does I/O. It says what to send
//! ([`Output::Send`]), what to tell the user ([`Output::Event`]), until when nothing needs to
//! happen ([`Output::WaitUntil`]), and how it ended ([`Output::Done`]). The driver feeds back
//! responses, transport failures and the passing of time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Response;

use crate::answer::{self, Answer, ErrorCode};
use crate::config::Config;
use crate::data_centre;
use crate::device::{self, Prompt};
use crate::dpop;
use crate::error::ErrorResponse;
use crate::error::{
    ConfigError, Endpoint, FlowError, InvalidResponse, Problem, TransportErrorKind, UsageError,
};
use crate::outgoing::{Lent, Once, Outgoing};
use crate::request::{self, Prepared};
use crate::request_id::RequestId;
use crate::secret::{DeviceCode, RefreshToken};
use crate::token::{self, TokenResponse};
use crate::wire;

/// What the flow wants next. Call [`Flow::poll_output`] until it returns `Send`, `WaitUntil`,
/// `AwaitResponse` or `Done`.
#[must_use = "an output is an instruction: a dropped `Send` is a request never sent"]
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
    /// Only from [`Flow::poll_output_lent`]: a request to send, lent by [`Flow::outgoing`].
    /// Hand its answer to [`Flow::handle_answer`] (or [`Flow::handle_response`]), or its
    /// failure to [`Flow::handle_transport_error`].
    Lent(RequestId),
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
            Output::Lent(id) => f.debug_tuple("Lent").field(id).finish(),
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
        // Integer arithmetic: formatting a float would link the float printer for this alone.
        let text = format!("{}.{:03}", millis / 1000, millis % 1000);
        text.trim_end_matches('0').to_owned()
    }
}

/// Why polling backs off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackOffCause {
    /// The request did not get an answer (RFC 8628 §3.5: reduce the polling frequency).
    Transport(TransportErrorKind),
    /// 429, 502, 503 or 504 without an OAuth error in the body (throttling, gateway pages),
    /// or 429 or 503 with an OAuth error the flow has no rule for (a rate limiter's own).
    Status(u16),
    /// The OAuth error `temporarily_unavailable`.
    TemporarilyUnavailable,
    /// `slow_down` in answer to the device authorization request (authentik, AWS), where no
    /// polling interval exists yet.
    SlowDown,
}

impl std::fmt::Display for BackOffCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackOffCause::Transport(kind) => kind.fmt(f),
            BackOffCause::Status(status) => write!(f, "the server is busy (HTTP {status})"),
            BackOffCause::TemporarilyUnavailable => {
                f.write_str("the server is temporarily unavailable")
            }
            BackOffCause::SlowDown => f.write_str("the server asked to slow down"),
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
#[must_use = "a flow does nothing until it is driven with `poll_output`"]
pub struct Flow {
    pub(crate) config: Arc<Config>,
    pub(crate) now: Instant,
    pub(crate) next_id: RequestId,
    pub(crate) events: Vec<Event>,
    pub(crate) state: State,
    /// DPoP's nonce and retry bookkeeping, when proofs are sent. Boxed, as most flows send
    /// none.
    pub(crate) dpop: Option<Box<dpop::Session>>,
    /// What a lent request needs beyond the state (see [`Flow::poll_output_lent`]). Boxed,
    /// and `None` for a lent poll without DPoP.
    pub(crate) lent: Option<Box<Lent>>,
    /// Whether the request out was lent rather than given out.
    pub(crate) lending: bool,
}

// One state per flow; boxing `Polling` would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
/// Each request's state keeps its request out in the same variant, so sending changes a
/// field in place and never moves the state out.
#[derive(Debug)]
pub(crate) enum State {
    /// Asking for a device code.
    Authorize(Authorize),
    Polling(Polling),
    /// Redeeming a refresh token; `Some` while the request is out.
    Refresh(RefreshToken, Option<RequestId>),
    Done(Box<Result<TokenResponse, FlowError>>),
    /// Only between [`Flow::transition`] taking the state and storing the next one, which it
    /// does in one assignment: no code path can leave it behind. Should it ever be seen (a
    /// bug), the flow ends with [`FlowError::Internal`] rather than guessing.
    Transition,
}

/// The device authorization request, retried while it fails in a way worth retrying.
#[derive(Debug, Default)]
pub(crate) struct Authorize {
    /// `Some` while the request is out.
    pub(crate) in_flight: Option<RequestId>,
    /// Requests sent so far.
    pub(crate) attempts: u32,
    /// No retry before this.
    pub(crate) next_at: Option<Instant>,
}

pub(crate) struct Polling {
    /// Every poll's target and body, built once; the body holds the device code.
    pub(crate) request: Prepared,
    /// Zoho's `other_dc`: the data centre to look up before the next poll; its request is
    /// `in_flight` while out. Boxed: one provider's rare detour should not make every
    /// pending flow 120 bytes larger.
    pub(crate) lookup: Option<Box<data_centre::Lookup>>,
    /// Whether polls already moved to another data centre (once per flow).
    pub(crate) moved: bool,
    pub(crate) deadline: Instant,
    pub(crate) interval: Duration,
    pub(crate) next_at: Instant,
    pub(crate) in_flight: Option<RequestId>,
    pub(crate) failures: u32,
    /// What the user was shown, kept so that a snapshot can show it again.
    pub(crate) prompt: Prompt,
    /// Kept apart from the prepared poll, whose encoding depends on the dialect, so that a
    /// snapshot can carry it.
    pub(crate) device_code: DeviceCode,
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
            .field("lookup", &self.lookup)
            .finish_non_exhaustive()
    }
}

/// What [`Flow::ready`] decided to send.
enum Ready {
    Once(Once),
    /// The poll the polling state keeps.
    Poll,
}

/// The next state after an ended flow.
fn done(result: Result<TokenResponse, FlowError>) -> State {
    State::Done(Box::new(result))
}

impl Flow {
    /// Starts a device authorization grant (RFC 8628). `now` is the driver's clock.
    pub fn device(config: impl Into<Arc<Config>>, now: Instant) -> Flow {
        Flow::new(config.into(), now, State::Authorize(Authorize::default()))
    }

    /// Starts a refresh-token grant (RFC 6749 §6). When the server does not rotate the
    /// refresh token, the result carries this one.
    pub fn refresh(
        config: impl Into<Arc<Config>>,
        refresh_token: RefreshToken,
        now: Instant,
    ) -> Flow {
        Flow::new(config.into(), now, State::Refresh(refresh_token, None))
    }

    pub(crate) fn new(config: Arc<Config>, now: Instant, state: State) -> Flow {
        let dpop = config.dpop.as_ref().map(|_| Box::default());
        Flow {
            config,
            now,
            next_id: RequestId::FIRST,
            events: Vec::new(),
            dpop,
            state,
            lent: None,
            lending: false,
        }
    }

    /// The configuration this flow runs with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The largest body [`Flow::handle_response`] accepts. Read at most one byte more than
    /// this from the network and pass what you read: the flow then ends with
    /// [`Problem::BodyTooLarge`] instead of your program buffering a huge body.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.config.body_limit
    }

    /// When the device code expires, once it is known.
    #[must_use]
    pub fn deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Polling(p) => Some(p.deadline),
            _ => None,
        }
    }

    /// The polling interval in force, once polling has started.
    #[must_use]
    pub fn interval(&self) -> Option<Duration> {
        match &self.state {
            State::Polling(p) => Some(p.interval),
            _ => None,
        }
    }

    /// Whether the flow has ended.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// The next thing to do. Events come first, in order; then a request to send, a time to
    /// wait for, a request to wait on, or the result.
    pub fn poll_output(&mut self) -> Output {
        let (id, ready) = match self.ready() {
            Ok(ready) => ready,
            Err(output) => return output,
        };
        let config = &self.config;
        let mut request = match ready {
            Ready::Once(Once::Post(prepared)) => request::into_post(config, prepared),
            Ready::Once(Once::Get(uri)) => request::get(config, uri),
            Ready::Poll => match &self.state {
                State::Polling(p) => request::post(config, &p.request),
                _ => return self.finish(Err(FlowError::Internal)),
            },
        };
        if let (Some(session), Some(config)) = (&self.dpop, &self.config.dpop)
            && let Err(e) = session.attach(config, &mut request)
        {
            return self.finish(Err(FlowError::Dpop(e)));
        }
        Output::Send { id, request }
    }

    /// [`Flow::poll_output`], except that a request to send stays in the flow: it returns
    /// [`Output::Lent`] where `poll_output` returns [`Output::Send`], and [`Flow::outgoing`]
    /// lends the request's parts until its answer or failure is handed in. No request value is
    /// built, and a poll's body is not copied: the way for HTTP clients that take parts, and
    /// for in-memory transports.
    ///
    /// ```
    /// use std::time::Instant;
    /// use device_grant::{Config, Flow, Output};
    ///
    /// let config = Config::builder("my-client")
    ///     .device_endpoint("https://login.example.com/device")
    ///     .token_endpoint("https://login.example.com/token")
    ///     .build()?;
    /// let mut flow = Flow::device(config, Instant::now());
    /// let Output::Lent(id) = flow.poll_output_lent() else { panic!("a request first") };
    /// let request = flow.outgoing().expect("lent until answered");
    /// assert_eq!(request.id(), id);
    /// assert_eq!(request.method(), device_grant::http::Method::POST);
    /// assert_eq!(request.uri(), "https://login.example.com/device");
    /// assert_eq!(request.body(), b"client_id=my-client");
    /// # Ok::<(), device_grant::ConfigError>(())
    /// ```
    pub fn poll_output_lent(&mut self) -> Output {
        let (id, ready) = match self.ready() {
            Ok(ready) => ready,
            Err(output) => return output,
        };
        let once = match ready {
            Ready::Once(once) => Some(once),
            Ready::Poll => None,
        };
        let proof = match (&self.dpop, &self.config.dpop) {
            (Some(session), Some(config)) => {
                let Some(request) = self.lend(id, once.as_ref(), None) else {
                    return self.finish(Err(FlowError::Internal));
                };
                match session.header(config, &request.method(), request.uri()) {
                    Ok(proof) => Some(proof),
                    Err(e) => return self.finish(Err(FlowError::Dpop(e))),
                }
            }
            _ => None,
        };
        self.lent = if once.is_some() || proof.is_some() {
            Some(Box::new(Lent { once, proof }))
        } else {
            None
        };
        self.lending = true;
        Output::Lent(id)
    }

    /// The request [`Flow::poll_output_lent`] made ready, until its answer or failure is
    /// handed in (or the flow is cancelled); `None` otherwise, and for requests given out
    /// by [`Flow::poll_output`].
    #[must_use]
    pub fn outgoing(&self) -> Option<Outgoing<'_>> {
        if !self.lending {
            return None;
        }
        let lent = self.lent.as_deref();
        self.lend(
            self.in_flight()?,
            lent.and_then(|l| l.once.as_ref()),
            lent.and_then(|l| l.proof.as_ref()),
        )
    }

    /// Request `id` as lent: the one sent once, or else the poll the polling state keeps.
    fn lend<'a>(
        &'a self,
        id: RequestId,
        once: Option<&'a Once>,
        proof: Option<&'a http::HeaderValue>,
    ) -> Option<Outgoing<'a>> {
        let config = &*self.config;
        let (get, uri, headers, body): (_, _, _, &[u8]) = match once {
            Some(Once::Post(p)) => (false, &p.uri, &config.post_headers, &p.body),
            Some(Once::Get(uri)) => (true, uri, &config.get_headers, &[]),
            None => match &self.state {
                State::Polling(p) => (false, &p.request.uri, &config.post_headers, &p.request.body),
                _ => return None,
            },
        };
        Some(Outgoing {
            id,
            get,
            uri,
            headers,
            proof,
            body,
        })
    }

    /// The request out, if any.
    fn in_flight(&self) -> Option<RequestId> {
        match &self.state {
            State::Authorize(a) => a.in_flight,
            State::Refresh(_, out) => *out,
            State::Polling(p) => p.in_flight,
            State::Done(_) | State::Transition => None,
        }
    }

    /// What to send next, or what to return instead; the state then has the request out.
    // Inlined into its two callers: a call would copy the large `Output` it may return and
    // cost a frame on every step (measured, see BENCHMARKS.md). The `Output` is what the
    // callers return, so it is not boxed.
    #[inline(always)]
    #[allow(clippy::result_large_err)]
    fn ready(&mut self) -> Result<(RequestId, Ready), Output> {
        if !self.events.is_empty() {
            let event = self.events.remove(0);
            if self.events.is_empty() {
                // A pending flow keeps no spare capacity around.
                self.events = Vec::new();
            }
            return Err(Output::Event(event));
        }
        let now = self.now;
        let id = self.next_id;
        let config = &self.config;
        let ready = match &mut self.state {
            State::Done(result) => return Err(Output::Done((**result).clone())),
            State::Transition => return Err(self.finish(Err(FlowError::Internal))),
            State::Authorize(Authorize {
                in_flight: Some(id),
                ..
            })
            | State::Refresh(_, Some(id)) => {
                return Err(Output::AwaitResponse(*id));
            }
            State::Authorize(a) => match &config.device_endpoint {
                Some(_) if a.next_at.is_some_and(|at| now < at) => {
                    return Err(Output::WaitUntil(a.next_at.unwrap_or(now)));
                }
                Some((_, uri)) => {
                    a.in_flight = Some(id);
                    a.attempts += 1;
                    a.next_at = None;
                    Ready::Once(Once::Post(request::device_authorization(config, uri)))
                }
                None => {
                    return Err(
                        self.finish(Err(FlowError::Config(ConfigError::MissingDeviceEndpoint)))
                    );
                }
            },
            State::Refresh(token, in_flight) => {
                *in_flight = Some(id);
                Ready::Once(Once::Post(request::refresh(config, token)))
            }
            State::Polling(p) => {
                if let Some(id) = p.in_flight {
                    return Err(Output::AwaitResponse(id));
                }
                if now >= p.deadline {
                    return Err(self.finish(Err(FlowError::Expired(None))));
                }
                if let Some(lookup) = &p.lookup {
                    // Asked at once: it is not a poll, and the next poll needs its answer.
                    p.in_flight = Some(id);
                    Ready::Once(Once::Get(lookup.target(config)))
                } else if now < p.next_at {
                    return Err(Output::WaitUntil(p.next_at.min(p.deadline)));
                } else {
                    p.in_flight = Some(id);
                    Ready::Poll
                }
            }
        };
        self.next_id = id.next();
        Ok((id, ready))
    }

    /// Hands in the answer to request `id`, whatever its status. Pass the body as read, at
    /// most [`Flow::body_limit`] + 1 bytes.
    pub fn handle_response<B: AsRef<[u8]>>(
        &mut self,
        id: RequestId,
        response: Response<B>,
        now: Instant,
    ) -> Result<(), UsageError> {
        let (parts, body) = response.into_parts();
        self.handle_answer(id, parts.status, &parts.headers, body.as_ref(), now)
    }

    /// [`Flow::handle_response`] with the answer in parts, for HTTP clients that do not hand
    /// over an `http::Response`: the status, the headers, and the body as read, at most
    /// [`Flow::body_limit`] + 1 bytes.
    pub fn handle_answer(
        &mut self,
        id: RequestId,
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
        now: Instant,
    ) -> Result<(), UsageError> {
        self.expect(id)?;
        self.end_lending();
        self.tick(now);
        let now = self.now;
        let endpoint = match &self.state {
            State::Authorize(_) => Endpoint::DeviceAuthorization,
            State::Polling(p) if p.lookup.is_some() => Endpoint::ServerInfo,
            _ => Endpoint::Token,
        };
        let shape = self.config.profile.shape_ref();
        let answer = answer::classify(
            shape,
            endpoint,
            status,
            headers,
            body,
            self.config.body_limit,
        );
        if let Some(session) = &mut self.dpop
            && session.answered(headers, &answer)
        {
            // RFC 9449 §8: the same request again, now, with the nonce; not a poll.
            match &mut self.state {
                State::Authorize(a) => a.in_flight = None,
                State::Refresh(_, out) => *out = None,
                State::Polling(p) => p.in_flight = None,
                State::Done(_) | State::Transition => {}
            }
            return Ok(());
        }
        // The answer nearly every poll gets changes two fields of the state: done in place,
        // without moving the state out and back.
        if let (
            State::Polling(p),
            Answer::Error {
                code: ErrorCode::AuthorizationPending,
                retry_after,
                ..
            },
        ) = (&mut self.state, &answer)
            && p.lookup.is_none()
        {
            still_pending(p, *retry_after, now);
            return Ok(());
        }
        self.transition(|flow, state| match state {
            State::Authorize(a) => flow.on_authorization(a, answer, now),
            State::Refresh(used, _) => flow.on_refresh(answer, used, now),
            State::Polling(p) if p.lookup.is_some() => flow.on_lookup(p, answer, now),
            State::Polling(p) => flow.on_poll(p, answer, now),
            // `expect` let through only states with a request out.
            other @ (State::Done(_) | State::Transition) => other,
        });
        if let (Some(config), State::Done(result)) = (&self.config.dpop, &mut self.state) {
            dpop::check_binding(config, result);
        }
        Ok(())
    }

    /// Hands in the failure of request `id` to get an answer. While polling this backs off
    /// and keeps going until the code expires (RFC 8628 §3.5); the device authorization
    /// request is retried a few times, except after [`TransportErrorKind::Other`] (a TLS or
    /// protocol failure, which another try would meet again); a refresh ends the flow.
    pub fn handle_transport_error(
        &mut self,
        id: RequestId,
        kind: TransportErrorKind,
        now: Instant,
    ) -> Result<(), UsageError> {
        self.expect(id)?;
        self.end_lending();
        self.tick(now);
        let now = self.now;
        self.transition(|flow, state| match state {
            State::Authorize(_) if kind == TransportErrorKind::Other => {
                done(Err(FlowError::Transport {
                    endpoint: Endpoint::DeviceAuthorization,
                    kind,
                }))
            }
            State::Authorize(a) => {
                flow.retry_authorization(a, BackOffCause::Transport(kind), None, now, || {
                    FlowError::Transport {
                        endpoint: Endpoint::DeviceAuthorization,
                        kind,
                    }
                })
            }
            State::Polling(mut p) if p.lookup.is_some() => {
                p.in_flight = None;
                done(Err(FlowError::Transport {
                    endpoint: Endpoint::ServerInfo,
                    kind,
                }))
            }
            State::Refresh(..) => done(Err(FlowError::Transport {
                endpoint: Endpoint::Token,
                kind,
            })),
            State::Polling(mut p) => {
                p.in_flight = None;
                flow.back_off(&mut p, BackOffCause::Transport(kind), None, now);
                State::Polling(p)
            }
            other @ (State::Done(_) | State::Transition) => other,
        });
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
            self.state = done(Err(FlowError::Expired(None)));
        }
        Ok(())
    }

    /// Ends the flow with [`FlowError::Cancelled`], unless it has already ended, and drops
    /// every queued output: the next [`Flow::poll_output`] is the `Done`. An answer to a
    /// request still out is then refused with [`UsageError::Finished`].
    pub fn cancel(&mut self) {
        self.end_lending();
        if !self.is_done() {
            // DESIGN rule 12: nothing queued survives, not even a UserCode not yet shown.
            self.events = Vec::new();
            self.state = done(Err(FlowError::Cancelled));
        }
    }

    /// Moves the state out, computes the next one and stores it, in one assignment: every
    /// branch of `next` has to name a state, so none can leave a stale one behind.
    fn transition(&mut self, next: impl FnOnce(&mut Flow, State) -> State) {
        let state = std::mem::replace(&mut self.state, State::Transition);
        self.state = next(self, state);
    }

    /// The lent request is answered or abandoned: what it kept goes.
    fn end_lending(&mut self) {
        self.lending = false;
        self.lent = None;
    }

    fn tick(&mut self, now: Instant) {
        // A clock that steps back is ignored rather than trusted.
        self.now = self.now.max(now);
    }

    fn expect(&self, id: RequestId) -> Result<(), UsageError> {
        let waiting = match &self.state {
            State::Done(_) => return Err(UsageError::Finished),
            State::Authorize(a) => a.in_flight,
            State::Refresh(_, w) => *w,
            State::Polling(p) => p.in_flight,
            State::Transition => None,
        };
        if waiting == Some(id) {
            Ok(())
        } else {
            Err(UsageError::UnknownRequest(id))
        }
    }

    fn finish(&mut self, result: Result<TokenResponse, FlowError>) -> Output {
        self.state = done(result.clone());
        Output::Done(result)
    }

    fn on_authorization(&mut self, mut a: Authorize, answer: Answer<'_>, now: Instant) -> State {
        a.in_flight = None;
        let (fields, status, content_type) = match answer {
            Answer::Success {
                fields,
                status,
                content_type,
            } => (fields, status, content_type),
            // No code was issued yet, so retrying cannot leave one behind (PROVIDERS §16).
            Answer::Error {
                code: code @ (ErrorCode::SlowDown | ErrorCode::TemporarilyUnavailable),
                error,
                retry_after,
            } => {
                let cause = if code == ErrorCode::SlowDown {
                    BackOffCause::SlowDown
                } else {
                    BackOffCause::TemporarilyUnavailable
                };
                return self.retry_authorization(a, cause, retry_after, now, || {
                    FlowError::OAuth(error.into_response())
                });
            }
            Answer::Error {
                code: ErrorCode::Other,
                error,
                retry_after,
            } if matches!(error.status, 429 | 503) => {
                let cause = BackOffCause::Status(error.status);
                return self.retry_authorization(a, cause, retry_after, now, || {
                    FlowError::OAuth(error.into_response())
                });
            }
            Answer::Error { error, .. } => return done(Err(self.refusal(error.into_response()))),
            Answer::Retry {
                status,
                retry_after,
                content_type,
            } => {
                return self.retry_authorization(
                    a,
                    BackOffCause::Status(status),
                    retry_after,
                    now,
                    || {
                        invalid(
                            Endpoint::DeviceAuthorization,
                            status,
                            content_type,
                            Problem::UnexpectedStatus,
                        )
                    },
                );
            }
            Answer::Invalid(i) => return done(Err(FlowError::InvalidResponse(i))),
        };
        let uris = device::UriRules {
            base: self
                .config
                .device_endpoint
                .as_ref()
                .map_or(&self.config.token_endpoint.0, |(url, _)| url),
            allow_insecure_http: self.config.allow_insecure_http,
            default_expires_in: self.config.profile.shape_ref().default_expires_in,
        };
        match device::parse(fields, now, &uris) {
            Ok(auth) => {
                let interval = auth.interval.unwrap_or(self.config.default_interval);
                let deadline = auth.prompt.expires_at();
                let request =
                    request::poll(&self.config, &auth.device_code, auth.prompt.user_code());
                let prompt = auth.prompt.clone();
                self.events.push(Event::UserCode(auth.prompt));
                State::Polling(Polling {
                    request,
                    lookup: None,
                    moved: false,
                    deadline,
                    interval,
                    // Wait first: RFC 8628 §3.5 asks for the interval "before each new request",
                    // and nobody has typed the code yet anyway.
                    next_at: now.checked_add(interval).unwrap_or(deadline),
                    in_flight: None,
                    failures: 0,
                    prompt,
                    device_code: auth.device_code,
                })
            }
            Err(problem) => done(Err(invalid(
                Endpoint::DeviceAuthorization,
                status,
                content_type,
                problem,
            ))),
        }
    }

    fn on_refresh(&mut self, answer: Answer<'_>, used: RefreshToken, now: Instant) -> State {
        done(match answer {
            Answer::Success {
                fields,
                status,
                content_type,
            } => match token::parse(fields, self.config.profile.shape_ref().comma_scopes, now) {
                Ok(mut token) => {
                    if token.refresh_token().is_none() {
                        token.members_mut().refresh_token = Some(used);
                    }
                    Ok(token)
                }
                Err(problem) => Err(invalid(Endpoint::Token, status, content_type, problem)),
            },
            Answer::Error { error, .. } => Err(self.refusal(error.into_response())),
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
        })
    }

    fn on_poll(&mut self, mut p: Polling, answer: Answer<'_>, now: Instant) -> State {
        p.in_flight = None;
        let error = match answer {
            Answer::Success {
                fields,
                status,
                content_type,
            } => {
                return done(
                    token::parse(fields, self.config.profile.shape_ref().comma_scopes, now)
                        .map_err(|problem| invalid(Endpoint::Token, status, content_type, problem)),
                );
            }
            Answer::Retry {
                status,
                retry_after,
                ..
            } => {
                self.back_off(&mut p, BackOffCause::Status(status), retry_after, now);
                return State::Polling(p);
            }
            Answer::Invalid(i) => return done(Err(FlowError::InvalidResponse(i))),
            Answer::Error {
                code,
                error,
                retry_after,
            } => (code, error, retry_after),
        };
        match error {
            (ErrorCode::AuthorizationPending, _, retry_after) => {
                still_pending(&mut p, retry_after, now);
                State::Polling(p)
            }
            (ErrorCode::SlowDown, e, retry_after) => {
                p.failures = 0;
                let mut interval = p.interval.saturating_add(SLOW_DOWN_STEP);
                // GitHub sends the new interval along; it may be larger still.
                if let Ok(Some(sent)) = wire::seconds_of(e.get("interval"), "interval") {
                    interval = interval.max(sent);
                }
                p.interval = interval;
                // The interval stays what slow_down makes it; a Retry-After only delays
                // this one poll.
                let wait = interval.max(retry_after.unwrap_or_default());
                p.next_at = now.checked_add(wait).unwrap_or(p.deadline);
                self.events.push(Event::SlowDown { interval });
                State::Polling(p)
            }
            (ErrorCode::AccessDenied | ErrorCode::AuthorizationDeclined, e, _) => {
                done(Err(FlowError::Denied(e.into_response())))
            }
            (ErrorCode::ExpiredToken | ErrorCode::CodeExpired, e, _) => {
                done(Err(FlowError::Expired(Some(e.into_response()))))
            }
            (ErrorCode::TemporarilyUnavailable, _, retry_after) => {
                self.back_off(
                    &mut p,
                    BackOffCause::TemporarilyUnavailable,
                    retry_after,
                    now,
                );
                State::Polling(p)
            }
            // DESIGN rule 11: 429 and 503 say "not now" whatever words come with them (a rate
            // limiter's `{"error":"Too Many Requests"}`, Google's `rate_limit_exceeded`).
            (ErrorCode::Other, e, retry_after) if matches!(e.status, 429 | 503) => {
                self.back_off(&mut p, BackOffCause::Status(e.status), retry_after, now);
                State::Polling(p)
            }
            (ErrorCode::OtherDataCentre, e, _)
                if self.config.profile.shape_ref().data_centres && !p.moved =>
            {
                match data_centre::Lookup::new(&self.config, e.into_response()) {
                    Ok(lookup) => {
                        p.lookup = Some(Box::new(lookup));
                        p.next_at = now.checked_add(p.interval).unwrap_or(p.deadline);
                        State::Polling(p)
                    }
                    Err(e) => done(Err(FlowError::OAuth(e))),
                }
            }
            (_, e, _) => done(Err(self.refusal(e.into_response()))),
        }
    }

    /// The answer of `/oauth/serverinfo`: polls move to the data centre it names.
    fn on_lookup(&mut self, mut p: Polling, answer: Answer<'_>, _now: Instant) -> State {
        p.in_flight = None;
        let Some(lookup) = p.lookup.take() else {
            return done(Err(FlowError::Internal));
        };
        match lookup.answer(&self.config, answer, &p.request.uri) {
            Ok(uri) => {
                p.request.uri = uri;
                p.moved = true;
                State::Polling(p)
            }
            Err(e) => done(Err(e)),
        }
    }

    /// An OAuth error that ends the flow: AWS's wrong-region answer is told apart.
    fn refusal(&self, error: ErrorResponse) -> FlowError {
        if self.config.profile.shape_ref().region_hint
            && error.error == "invalid_request"
            && let Some(serde_json::Value::String(region)) = error.extra.get("region")
        {
            let endpoint = match error.extra.get("endpoint") {
                Some(serde_json::Value::String(e)) => Some(e.clone()),
                _ => None,
            };
            return FlowError::WrongRegion {
                region: region.clone(),
                endpoint,
                error: Box::new(error),
            };
        }
        FlowError::OAuth(error)
    }

    /// Retries the device authorization request after a failure worth retrying, with
    /// doubling back-off and `Retry-After` honoured, or ends the flow when the attempts run
    /// out or the server asks for a longer wait than the back-off cap (a rate limit of so
    /// many per hour is better reported than waited out).
    fn retry_authorization(
        &mut self,
        mut a: Authorize,
        cause: BackOffCause,
        retry_after: Option<Duration>,
        now: Instant,
        last: impl FnOnce() -> FlowError,
    ) -> State {
        a.in_flight = None;
        let config = &self.config;
        let too_long = retry_after.is_some_and(|wait| wait > config.max_backoff);
        if a.attempts >= config.device_attempts || too_long {
            if a.attempts <= 1 && !too_long {
                // Retrying was switched off: the failure is the answer.
                return done(Err(last()));
            }
            return done(Err(FlowError::Unavailable {
                endpoint: Endpoint::DeviceAuthorization,
                attempts: a.attempts,
                cause,
                retry_after,
            }));
        }
        let factor = 1u32
            .checked_shl(a.attempts.saturating_sub(1).min(31))
            .unwrap_or(u32::MAX);
        let delay = config
            .device_retry_delay
            .max(MIN_BACKOFF)
            .saturating_mul(factor)
            .min(config.max_backoff)
            .max(retry_after.unwrap_or_default());
        a.next_at = Some(now.checked_add(delay).unwrap_or(now));
        self.events.push(Event::BackOff { delay, cause });
        State::Authorize(a)
    }

    /// DESIGN rule 2: double the wait on each failure in a row, cap it, never go below the
    /// interval (nor reach it after a time-out), and honour `Retry-After`.
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
        let mut delay = doubled.min(self.config.max_backoff).max(p.interval);
        // A poll that timed out or broke mid-answer may have reached the server, and its
        // lost answer may have been a slow_down: wait longer than the interval, even past
        // the cap, so that a server counting arrivals never sees two within one interval.
        if matches!(
            cause,
            BackOffCause::Transport(TransportErrorKind::Timeout | TransportErrorKind::Io)
        ) {
            delay = delay.max(p.interval.saturating_add(SLOW_DOWN_STEP));
        }
        // DESIGN rule 11: a Retry-After is honoured, whatever the body said.
        let delay = delay.max(retry_after.unwrap_or_default());
        p.next_at = now.checked_add(delay).unwrap_or(p.deadline);
        self.events.push(Event::BackOff { delay, cause });
    }
}

/// `authorization_pending`: the next poll after the interval, or after the server's
/// `Retry-After` when that is longer.
fn still_pending(p: &mut Polling, retry_after: Option<Duration>, now: Instant) {
    p.in_flight = None;
    p.failures = 0;
    // Counted from the answer, not the request: spacing between arrivals at the server then
    // never falls below the interval.
    let wait = p.interval.max(retry_after.unwrap_or_default());
    p.next_at = now.checked_add(wait).unwrap_or(p.deadline);
}

fn invalid(
    endpoint: Endpoint,
    status: u16,
    content_type: Option<&str>,
    problem: Problem,
) -> FlowError {
    FlowError::InvalidResponse(InvalidResponse {
        endpoint,
        status,
        content_type: content_type.map(str::to_owned),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_show_at_most_three_decimals_without_trailing_zeros() {
        let ms = Duration::from_millis;
        assert_eq!(seconds(ms(5000)), "5");
        assert_eq!(seconds(ms(5050)), "5.05");
        assert_eq!(seconds(ms(500)), "0.5");
        assert_eq!(seconds(ms(1)), "0.001");
        assert_eq!(seconds(ms(61_250)), "61.25");
    }
}
