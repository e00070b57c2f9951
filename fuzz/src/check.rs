//! A driver for one flow that checks every output against the rules the core owns
//! (DESIGN rules 1-10 and the API's promises), and panics with a description when one breaks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::serde_json::Value;
use device_grant::url::form_urlencoded;
use device_grant::{
    BackOffCause, Config, Endpoint, ErrorResponse, Event, Flow, FlowError, Output, Problem,
    Profile, RefreshToken, RequestId, TokenResponse, TransportErrorKind, UsageError,
};

use super::input::Reply;
use super::model::{self, ErrorBody, Members, Prediction, Step};

/// The endpoints every harness configuration uses.
pub const DEVICE_URL: &str = "https://as.example/oauth2/device";
/// See [`DEVICE_URL`].
pub const TOKEN_URL: &str = "https://as.example/oauth2/token";
const CLIENT_SECRET: &str = "client-secret-4b1d9e77c3";
const REFRESH_SECRET: &str = "refresh-token-secret-8a2f6c0e";
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
const MAX_DRAIN: usize = 32;

/// Which grant a run drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `Flow::device`.
    Device,
    /// `Flow::refresh`.
    Refresh,
}

/// A configuration chosen by one byte: provider profile, client authentication, and limits.
pub struct Setup {
    /// The configuration.
    pub config: Config,
    /// The back-off cap it was built with (the config does not expose it).
    pub max_backoff: Duration,
    /// The default interval it was built with.
    pub default_interval: Duration,
}

impl Setup {
    /// Decodes the selector.
    pub fn new(sel: u8) -> Setup {
        let profile = match sel & 7 {
            1 => Profile::AzureAdV1 {
                resource: "https://management.core.windows.net/".into(),
            },
            2 => Profile::MicrosoftV2,
            3 => Profile::Google,
            4 => Profile::GitHub,
            _ => Profile::Rfc8628,
        };
        let mut b = Config::builder("client-1")
            .device_endpoint(DEVICE_URL)
            .token_endpoint(TOKEN_URL)
            .scope("openid offline_access")
            .profile(profile);
        b = match (sel >> 3) & 3 {
            1 => b.client_secret_basic(CLIENT_SECRET),
            2 => b.client_secret_post(CLIENT_SECRET),
            _ => b,
        };
        let mut max_backoff = device_grant::DEFAULT_MAX_BACKOFF;
        let mut default_interval = device_grant::DEFAULT_INTERVAL;
        match sel >> 5 {
            1 => b = b.body_limit(64),
            2 => b = b.body_limit(600),
            3 => default_interval = Duration::from_millis(1),
            4 => default_interval = Duration::ZERO,
            5 => max_backoff = Duration::ZERO,
            6 => {
                max_backoff = Duration::from_secs(2);
                default_interval = Duration::from_secs(30);
            }
            _ => {}
        }
        let config = b
            .default_interval(default_interval)
            .max_backoff(max_backoff)
            .build()
            .expect("the harness configurations are valid");
        Setup {
            config,
            max_backoff,
            default_interval,
        }
    }
}

/// What one `poll_output` call gave, as far as the driver cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polled {
    /// An event: poll again.
    Event,
    /// A request to answer.
    Send(RequestId),
    /// Nothing until then.
    Wait(Instant),
    /// A request is out.
    Await(RequestId),
    /// The flow ended.
    Done,
}

impl Polled {
    fn blocks(self) -> bool {
        !matches!(self, Polled::Event)
    }
}

/// Which id an input carries.
#[derive(Clone, Copy, Debug)]
pub enum Which {
    /// The request that is out; without one, the last one issued (then it is misuse).
    Current,
    /// The `n`-th id issued, counting back from the last one.
    Stale(usize),
    /// An id this flow never issued.
    Unknown(usize),
}

enum Cause {
    Answer,
    Clock,
    Cancel,
}

/// What the harness knows about `Retry-After`.
#[derive(Clone, Copy)]
enum RetryAfter {
    Known(Option<Duration>),
    Unknown,
}

/// What came back for a request: an answer or a failure.
struct Received {
    status: Option<u16>,
    content_type: Option<String>,
    transport: Option<TransportErrorKind>,
    retry_after: RetryAfter,
}

struct Answered {
    step: Step,
    now: Instant,
    interval_before: Option<Duration>,
    interval_after: Option<Duration>,
    status: Option<u16>,
    content_type: Option<String>,
    transport: Option<TransportErrorKind>,
    retry_after: RetryAfter,
    prediction: Prediction,
    done: bool,
    events: Vec<Event>,
    settled: bool,
}

#[derive(Clone, Copy)]
enum Earliest {
    Unset,
    At(Instant),
    Never,
}

/// One flow, its driver's clock, and what has been observed so far.
pub struct Run {
    /// The flow under test.
    pub flow: Flow,
    grant: Grant,
    config: Arc<Config>,
    max_backoff: Duration,
    default_interval: Duration,
    now: Instant,
    outstanding: Option<(RequestId, Step)>,
    issued: Vec<RequestId>,
    device_sent: bool,
    refresh_sent: bool,
    polls_sent: u32,
    user_code_seen: bool,
    done: Option<Result<TokenResponse, FlowError>>,
    cause: Option<Cause>,
    deadline: Option<Instant>,
    interval: Option<Duration>,
    earliest: Earliest,
    last_poll: Option<Instant>,
    poll_body: Option<Vec<u8>>,
    last_wait: Option<Instant>,
    must_progress: bool,
    answered: Option<Answered>,
    last_backoff: Option<Duration>,
    secrets: Vec<Vec<u8>>,
    side: Option<(Flow, Instant, Vec<RequestId>)>,
}

impl Run {
    /// Starts a flow with the configuration chosen by `sel`.
    pub fn new(grant: Grant, sel: u8) -> Run {
        let setup = Setup::new(sel);
        let config = Arc::new(setup.config);
        let now = Instant::now();
        let flow = match grant {
            Grant::Device => Flow::device(config.clone(), now),
            Grant::Refresh => Flow::refresh(config.clone(), RefreshToken::new(REFRESH_SECRET), now),
        };
        Run {
            flow,
            grant,
            config,
            max_backoff: setup.max_backoff,
            default_interval: setup.default_interval,
            now,
            outstanding: None,
            issued: Vec::new(),
            device_sent: false,
            refresh_sent: false,
            polls_sent: 0,
            user_code_seen: false,
            done: None,
            cause: None,
            deadline: None,
            interval: None,
            earliest: Earliest::Unset,
            last_poll: None,
            poll_body: None,
            last_wait: None,
            must_progress: false,
            answered: None,
            last_backoff: None,
            secrets: vec![CLIENT_SECRET.into(), REFRESH_SECRET.into()],
            side: None,
        }
    }

    /// The driver's clock: the latest `now` handed to the flow.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The device code's deadline, once known.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The last `WaitUntil` instant, while the flow waits for it.
    pub fn last_wait(&self) -> Option<Instant> {
        self.last_wait
    }

    /// Whether the flow has said `Done`.
    pub fn finished(&self) -> bool {
        self.done.is_some()
    }

    /// Adds a value that must never appear in any `Debug` or `Display` output.
    pub fn add_secret(&mut self, secret: &str) {
        self.secrets.push(secret.as_bytes().to_vec());
    }

    fn no_secret(&self, what: &str, text: &str) {
        for s in &self.secrets {
            let s = std::str::from_utf8(s).expect("secrets are text");
            assert!(!text.contains(s), "a secret appears in {what}: {text}");
        }
    }

    /// One `poll_output`, checked.
    pub fn poll(&mut self) -> Polled {
        let out = self.flow.poll_output();
        self.no_secret("an output's Debug", &format!("{out:?}"));
        if let Some(done) = &self.done {
            match &out {
                Output::Done(again) => assert_eq!(again, done, "Done changed"),
                other => panic!("{other:?} after Done"),
            }
            return Polled::Done;
        }
        let polled = match out {
            Output::Event(event) => {
                self.event(event);
                Polled::Event
            }
            Output::Send { id, request } => {
                self.send(id, &request);
                Polled::Send(id)
            }
            Output::WaitUntil(at) => {
                assert!(
                    at > self.now,
                    "WaitUntil({at:?}) is not later than now {:?}",
                    self.now
                );
                assert!(self.outstanding.is_none(), "WaitUntil with a request out");
                let deadline = self.flow.deadline().expect("only polling waits");
                assert!(at <= deadline, "WaitUntil past the deadline");
                self.last_wait = Some(at);
                Polled::Wait(at)
            }
            Output::AwaitResponse(id) => {
                assert_eq!(
                    self.outstanding.map(|o| o.0),
                    Some(id),
                    "AwaitResponse for a request that is not out"
                );
                Polled::Await(id)
            }
            Output::Done(result) => {
                self.finish(result);
                Polled::Done
            }
            other => panic!("an output the harness does not know: {other:?}"),
        };
        if polled.blocks() {
            self.settle();
            if self.must_progress {
                assert!(
                    matches!(polled, Polled::Send(_) | Polled::Done),
                    "the WaitUntil instant came and the flow still waits: {polled:?}"
                );
                self.must_progress = false;
            }
            if !matches!(polled, Polled::Done) {
                assert!(!self.flow.is_done(), "is_done() while the flow goes on");
            }
        }
        polled
    }

    /// Polls until the flow blocks: a request to send, a time to wait for, or the end.
    pub fn drain(&mut self) -> Polled {
        for _ in 0..MAX_DRAIN {
            let polled = self.poll();
            if polled.blocks() {
                return polled;
            }
        }
        panic!("more than {MAX_DRAIN} events in a row");
    }

    fn send(&mut self, id: RequestId, request: &device_grant::http::Request<Vec<u8>>) {
        assert!(
            self.outstanding.is_none(),
            "a second request while one is out"
        );
        assert!(!self.issued.contains(&id), "request id {id:?} reused");
        self.issued.push(id);
        assert_eq!(request.method(), "POST");
        assert_eq!(
            request.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/x-www-form-urlencoded"[..])
        );
        let form: Vec<(String, String)> = form_urlencoded::parse(request.body())
            .into_owned()
            .collect();
        let param = |name: &str| param(&form, name);
        let step = match self.grant {
            Grant::Refresh => {
                assert!(!self.refresh_sent, "a refresh flow sent twice");
                self.refresh_sent = true;
                assert_eq!(request.uri().to_string(), TOKEN_URL);
                assert_eq!(param("grant_type"), Some("refresh_token"));
                assert_eq!(param("refresh_token"), Some(REFRESH_SECRET));
                Step::Refresh
            }
            Grant::Device if !self.device_sent => {
                self.device_sent = true;
                assert_eq!(request.uri().to_string(), DEVICE_URL);
                Step::Device
            }
            Grant::Device => {
                self.check_poll_send(request.body(), &form);
                Step::Poll
            }
        };
        self.outstanding = Some((id, step));
        self.last_wait = None;
    }

    fn check_poll_send(&mut self, body: &[u8], form: &[(String, String)]) {
        assert!(self.user_code_seen, "a poll before Event::UserCode");
        let deadline = self.flow.deadline().expect("polling has a deadline");
        assert_eq!(Some(deadline), self.deadline, "the deadline moved");
        assert!(
            self.now < deadline,
            "a poll sent at or after the deadline (now {:?}, deadline {deadline:?})",
            self.now
        );
        match self.earliest {
            Earliest::At(t) => assert!(
                self.now >= t,
                "a poll sent before the interval or back-off had passed since the last answer \
                 (now {:?}, allowed from {t:?})",
                self.now
            ),
            Earliest::Never => {
                panic!("a poll sent although the next one was due after the end of time")
            }
            Earliest::Unset => panic!("a poll sent before any answer"),
        }
        let interval = self.flow.interval().expect("polling has an interval");
        if let Some(last) = self.last_poll {
            let next = last.checked_add(interval);
            assert!(
                next.is_some_and(|n| self.now >= n),
                "a poll sent before the last poll + the current interval"
            );
        }
        let code_param = match self.config.profile() {
            Profile::AzureAdV1 { .. } => "code",
            _ => "device_code",
        };
        assert!(
            param(form, code_param).is_some_and(|c| !c.is_empty()),
            "a poll without the device code"
        );
        match &self.poll_body {
            Some(first) => assert_eq!(first.as_slice(), body, "the poll body changed"),
            None => self.poll_body = Some(body.to_vec()),
        }
        self.polls_sent += 1;
        self.last_poll = Some(self.now);
    }

    fn event(&mut self, event: Event) {
        self.no_secret("an event", &format!("{event:?}"));
        let info = self.answered.as_mut().expect("an event before any answer");
        assert!(!info.settled, "an event after the flow moved on: {event:?}");
        info.events.push(event.clone());
        let info = self.answered.as_ref().expect("just used");
        match &event {
            Event::UserCode(prompt) => {
                assert_eq!(self.grant, Grant::Device, "a user code in a refresh");
                assert_eq!(info.step, Step::Device, "a user code after a poll answer");
                assert!(!self.user_code_seen, "a second Event::UserCode");
                assert_eq!(self.polls_sent, 0, "Event::UserCode after a poll");
                self.user_code_seen = true;
                assert!(!prompt.user_code().is_empty());
                assert!(!prompt.verification_uri().is_empty());
                assert!(!prompt.expires_in().is_zero());
                assert_eq!(
                    info.now.checked_add(prompt.expires_in()),
                    Some(prompt.expires_at()),
                    "expires_at is not arrival + expires_in"
                );
                assert_eq!(
                    self.deadline,
                    Some(prompt.expires_at()),
                    "deadline != expires_at"
                );
                if let Prediction::Device(fields) = &info.prediction {
                    check_prompt(prompt, fields);
                }
            }
            Event::SlowDown { interval } => {
                assert_eq!(info.step, Step::Poll, "SlowDown outside polling");
                assert_eq!(
                    Some(*interval),
                    info.interval_after,
                    "SlowDown != interval()"
                );
                let before = info.interval_before.expect("polling had an interval");
                let stepped = before.saturating_add(SLOW_DOWN_STEP);
                assert!(*interval >= stepped, "slow_down added less than 5 s");
                if let Prediction::SlowDown { sent: Some(sent) } = &info.prediction {
                    assert_eq!(
                        *interval,
                        stepped.max(sent.unwrap_or_default()),
                        "slow_down interval"
                    );
                }
            }
            Event::BackOff { delay, cause } => {
                assert_eq!(info.step, Step::Poll, "BackOff outside polling");
                let interval = info.interval_after.expect("polling has an interval");
                assert!(*delay >= interval, "back-off shorter than the interval");
                let mut ceiling = self.max_backoff.max(interval);
                match cause {
                    BackOffCause::Transport(kind) => {
                        assert_eq!(info.transport, Some(*kind), "back-off cause");
                    }
                    BackOffCause::Status(s) => {
                        assert_eq!(info.status, Some(*s), "back-off status");
                        assert!(matches!(s, 429 | 502 | 503 | 504), "back-off on status {s}");
                        match info.retry_after {
                            RetryAfter::Known(ra) => {
                                let ra = ra.unwrap_or_default();
                                assert!(*delay >= ra, "Retry-After not honoured");
                                ceiling = ceiling.max(ra);
                            }
                            RetryAfter::Unknown => ceiling = Duration::MAX,
                        }
                    }
                    BackOffCause::TemporarilyUnavailable => {
                        assert!(
                            info.status.is_some(),
                            "temporarily_unavailable without an answer"
                        );
                    }
                    other => panic!("a back-off cause the harness does not know: {other:?}"),
                }
                assert!(
                    *delay <= ceiling,
                    "back-off {delay:?} above its cap {ceiling:?}"
                );
                let plain = !matches!(cause, BackOffCause::Status(_))
                    || matches!(info.retry_after, RetryAfter::Known(None));
                if plain {
                    if let Some(last) = self.last_backoff {
                        assert!(*delay >= last, "back-off shrank from {last:?} to {delay:?}");
                    }
                    self.last_backoff = Some(*delay);
                }
                let at = info.now.checked_add(*delay);
                self.earliest = match (self.earliest, at) {
                    (_, None) | (Earliest::Never, _) => Earliest::Never,
                    (Earliest::At(t), Some(a)) => Earliest::At(t.max(a)),
                    (Earliest::Unset, Some(a)) => Earliest::At(a),
                };
            }
            other => panic!("an event the harness does not know: {other:?}"),
        }
    }

    /// Checks the events of the last answer once they have all been drained.
    fn settle(&mut self) {
        let Some(info) = self.answered.as_mut() else {
            return;
        };
        if info.settled {
            return;
        }
        info.settled = true;
        let kinds: Vec<&str> = info
            .events
            .iter()
            .map(|e| match e {
                Event::UserCode(_) => "UserCode",
                Event::SlowDown { .. } => "SlowDown",
                Event::BackOff { .. } => "BackOff",
                _ => "other",
            })
            .collect();
        let expected: Option<&[&str]> = if info.done {
            Some(&[])
        } else {
            match (&info.step, &info.prediction, info.transport) {
                (Step::Device, _, _) => Some(&["UserCode"]),
                (Step::Poll, _, Some(_)) => Some(&["BackOff"]),
                (Step::Poll, Prediction::Pending, _) => Some(&[]),
                (Step::Poll, Prediction::SlowDown { .. }, _) => Some(&["SlowDown"]),
                (Step::Poll, Prediction::TemporarilyUnavailable | Prediction::RetryStatus, _) => {
                    Some(&["BackOff"])
                }
                _ => None,
            }
        };
        match expected {
            Some(want) => assert_eq!(kinds, want, "events after an answer"),
            None => assert!(
                kinds.is_empty() || kinds == ["SlowDown"] || kinds == ["BackOff"],
                "events after a poll answer: {kinds:?}"
            ),
        }
        if info.interval_after > info.interval_before && info.step == Step::Poll {
            assert_eq!(kinds, ["SlowDown"], "the interval grew without slow_down");
        }
        if info.step == Step::Poll && !kinds.contains(&"BackOff") {
            // A pending or slow_down answer resets the back-off.
            self.last_backoff = None;
        }
    }

    fn finish(&mut self, result: Result<TokenResponse, FlowError>) {
        assert!(self.flow.is_done(), "Done while is_done() is false");
        if let Err(e) = &result {
            self.no_secret("an error's Display", &e.to_string());
        }
        match self.cause {
            None | Some(Cause::Clock) => {
                assert!(
                    matches!(result, Err(FlowError::Expired(None))),
                    "the flow ended by itself with {result:?}"
                );
                let deadline = self.deadline.expect("expiry needs a deadline");
                assert!(self.now >= deadline, "Expired before the deadline");
            }
            Some(Cause::Cancel) => {
                assert!(matches!(result, Err(FlowError::Cancelled)), "{result:?}");
            }
            Some(Cause::Answer) => {
                let info = self.answered.as_ref().expect("an answer ended the flow");
                self.check_result(info, &result);
            }
        }
        self.done = Some(result);
    }

    fn check_result(&self, info: &Answered, result: &Result<TokenResponse, FlowError>) {
        let endpoint = match info.step {
            Step::Device => Endpoint::DeviceAuthorization,
            Step::Poll | Step::Refresh => Endpoint::Token,
        };
        let check_error = |e: &ErrorResponse| {
            assert_eq!(Some(e.status()), info.status);
            assert_eq!(e.endpoint(), endpoint);
            assert!(!e.error().is_empty());
        };
        match result {
            Ok(token) => {
                assert_ne!(info.step, Step::Device, "a token from the device endpoint");
                assert_eq!(token.received_at(), info.now);
                assert!(!token.access_token().secret().is_empty());
                assert!(!token.token_type().is_empty());
                if info.step == Step::Refresh {
                    assert!(
                        token.refresh_token().is_some(),
                        "a refresh lost the refresh token"
                    );
                }
            }
            Err(FlowError::Transport { endpoint: at, kind }) => {
                assert_ne!(
                    info.step,
                    Step::Poll,
                    "a poll's transport failure ended the flow"
                );
                assert_eq!(info.transport, Some(*kind));
                assert_eq!(*at, endpoint);
            }
            Err(FlowError::InvalidResponse(i)) => {
                // The regressions under `status-of-invalid-*` once got 200 and no content
                // type here for a 201 whose body failed validation.
                assert_eq!(Some(i.status()), info.status, "InvalidResponse status");
                assert_eq!(
                    i.content_type(),
                    info.content_type.as_deref(),
                    "InvalidResponse content type"
                );
                assert_eq!(i.endpoint(), endpoint);
            }
            Err(FlowError::OAuth(e)) => {
                check_error(e);
                if info.step == Step::Poll {
                    assert!(
                        !matches!(
                            e.error(),
                            "authorization_pending"
                                | "slow_down"
                                | "access_denied"
                                | "authorization_declined"
                                | "expired_token"
                                | "code_expired"
                                | "temporarily_unavailable"
                        ),
                        "`{}` ended a poll as a plain OAuth error",
                        e.error()
                    );
                }
            }
            Err(FlowError::Denied(e)) => {
                check_error(e);
                assert_eq!(info.step, Step::Poll);
                assert!(matches!(
                    e.error(),
                    "access_denied" | "authorization_declined"
                ));
            }
            Err(FlowError::Expired(Some(e))) => {
                check_error(e);
                assert_eq!(info.step, Step::Poll);
                assert!(matches!(e.error(), "expired_token" | "code_expired"));
            }
            Err(other) => panic!("an answer ended the flow with {other:?}"),
        }
        let limit = self.flow.body_limit();
        match &info.prediction {
            Prediction::Unknown => {}
            Prediction::TooLarge => assert_problem(result, &Problem::BodyTooLarge { limit }),
            Prediction::UnexpectedStatus => assert_problem(result, &Problem::UnexpectedStatus),
            Prediction::OAuth(body) => match result {
                Err(FlowError::OAuth(e)) => check_error_body(e, body),
                other => panic!("expected OAuth(`{}`), got {other:?}", body.code),
            },
            Prediction::Denied(body) => match result {
                Err(FlowError::Denied(e)) => check_error_body(e, body),
                other => panic!("expected Denied(`{}`), got {other:?}", body.code),
            },
            Prediction::Expired(body) => match result {
                Err(FlowError::Expired(Some(e))) => check_error_body(e, body),
                other => panic!("expected Expired(`{}`), got {other:?}", body.code),
            },
            Prediction::Token(fields) => check_token(info.step, fields, result),
            Prediction::Device(fields) => match device_problem(fields) {
                Some(problem) => assert_problem(result, &problem),
                None => assert!(
                    !device_must_succeed(fields, info.now),
                    "a valid device response ended the flow: {result:?}"
                ),
            },
            Prediction::Pending
            | Prediction::SlowDown { .. }
            | Prediction::TemporarilyUnavailable
            | Prediction::RetryStatus => panic!("{:?} ended the flow: {result:?}", info.prediction),
        }
    }

    /// Resolves which id an input carries.
    pub fn id(&mut self, which: Which) -> RequestId {
        match which {
            Which::Current => match (self.outstanding, self.issued.last()) {
                (Some((id, _)), _) => id,
                (None, Some(id)) => *id,
                (None, None) => self.foreign(0),
            },
            Which::Stale(n) if !self.issued.is_empty() => {
                self.issued[self.issued.len() - 1 - n % self.issued.len()]
            }
            Which::Stale(n) | Which::Unknown(n) => self.foreign(self.issued.len() + n % 8),
        }
    }

    /// An id with the number `n`, taken from another flow: ids have no public constructor.
    fn foreign(&mut self, n: usize) -> RequestId {
        let (side, now, ids) = self.side.get_or_insert_with(|| {
            let config = Config::builder("side")
                .device_endpoint(DEVICE_URL)
                .token_endpoint(TOKEN_URL)
                .build()
                .expect("valid");
            let now = Instant::now();
            (Flow::device(config, now), now, Vec::new())
        });
        let body = r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":31536000,"interval":1}"#;
        for _ in 0..(4 * n + 8) {
            if ids.len() > n {
                break;
            }
            match side.poll_output() {
                Output::Send { id, .. } => {
                    ids.push(id);
                    if ids.len() == 1 {
                        let reply = Reply::json(200, body);
                        side.handle_response(id, reply.response(), *now)
                            .expect("side flow");
                    } else {
                        side.handle_transport_error(id, TransportErrorKind::Io, *now)
                            .expect("side flow");
                    }
                }
                Output::WaitUntil(at) => {
                    *now = at;
                    side.handle_timeout(at).expect("side flow");
                }
                Output::Done(r) => panic!("the side flow ended: {r:?}"),
                _ => {}
            }
        }
        let id = ids
            .get(n)
            .copied()
            .expect("the side flow issued enough ids");
        assert!(!self.issued.contains(&id), "side id {id:?} is not foreign");
        id
    }

    fn misuse(
        &mut self,
        what: &str,
        want: UsageError,
        call: impl FnOnce(&mut Flow) -> Result<(), UsageError>,
    ) {
        let before = format!("{:?}", self.flow);
        self.no_secret("the flow's Debug", &before);
        let got = call(&mut self.flow);
        assert_eq!(got, Err(want), "{what}");
        assert_eq!(
            format!("{:?}", self.flow),
            before,
            "{what} changed the flow"
        );
    }

    fn expected_misuse(&self, id: RequestId) -> Option<UsageError> {
        if self.flow.is_done() {
            Some(UsageError::Finished)
        } else if self.outstanding.map(|o| o.0) != Some(id) {
            Some(UsageError::UnknownRequest(id))
        } else {
            None
        }
    }

    fn clear_echoed(&mut self, reply: &Reply) {
        // A server may echo anything, in the body or a header (and the fuzzer learns the
        // secrets from this very check); a secret it sent back is no longer ours to hide.
        let has = |hay: &[u8], s: &[u8]| hay.windows(s.len()).any(|w| w == s);
        self.secrets.retain(|s| {
            !has(&reply.body, s) && !reply.headers.values().any(|v| has(v.as_bytes(), s))
        });
    }

    /// Hands `reply` to the flow as the answer to request `id`.
    pub fn respond(&mut self, which: Which, reply: &Reply) {
        let id = self.id(which);
        if let Some(want) = self.expected_misuse(id) {
            let now = self.now;
            let response = reply.response();
            self.misuse("an answer for a request that is not out", want, |f| {
                f.handle_response(id, response, now)
            });
            return;
        }
        self.clear_echoed(reply);
        let (_, step) = self.outstanding.take().expect("checked above");
        let before = self.flow.interval();
        self.flow
            .handle_response(id, reply.response(), self.now)
            .expect("the answer to the request that is out");
        let retry_after =
            if reply.headers.contains_key("retry-after") && reply.retry_after.is_none() {
                RetryAfter::Unknown
            } else {
                RetryAfter::Known(reply.retry_after)
            };
        let prediction = model::predict(step, reply, self.flow.body_limit());
        let received = Received {
            status: Some(reply.status),
            content_type: reply.content_type().map(str::to_owned),
            transport: None,
            retry_after,
        };
        self.answered(step, before, received, prediction);
    }

    /// Reports that request `id` got no answer.
    pub fn transport(&mut self, which: Which, kind: TransportErrorKind) {
        let id = self.id(which);
        if let Some(want) = self.expected_misuse(id) {
            let now = self.now;
            self.misuse("a failure for a request that is not out", want, |f| {
                f.handle_transport_error(id, kind, now)
            });
            return;
        }
        let (_, step) = self.outstanding.take().expect("checked above");
        let before = self.flow.interval();
        self.flow
            .handle_transport_error(id, kind, self.now)
            .expect("the failure of the request that is out");
        let prediction = Prediction::Unknown;
        let received = Received {
            status: None,
            content_type: None,
            transport: Some(kind),
            retry_after: RetryAfter::Known(None),
        };
        self.answered(step, before, received, prediction);
    }

    fn answered(
        &mut self,
        step: Step,
        interval_before: Option<Duration>,
        received: Received,
        prediction: Prediction,
    ) {
        let Received {
            status,
            content_type,
            transport,
            retry_after,
        } = received;
        let done = self.flow.is_done();
        let must_end = match (&step, &prediction, transport) {
            (Step::Refresh, _, _) => Some(true),
            (Step::Device, _, Some(_)) => Some(true),
            (Step::Poll, _, Some(_)) => Some(false),
            (_, Prediction::Unknown, _) => None,
            (_, Prediction::Device(fields), _) => {
                if device_problem(fields).is_some() {
                    Some(true)
                } else if device_must_succeed(fields, self.now) {
                    Some(false)
                } else {
                    None
                }
            }
            (
                _,
                Prediction::Pending
                | Prediction::SlowDown { .. }
                | Prediction::TemporarilyUnavailable
                | Prediction::RetryStatus,
                _,
            ) => Some(false),
            _ => Some(true),
        };
        if let Some(end) = must_end {
            assert_eq!(done, end, "is_done() after {prediction:?} at {step:?}");
        }
        if done {
            self.cause = Some(Cause::Answer);
        } else if step == Step::Poll {
            assert!(
                self.flow.interval() >= interval_before,
                "the interval shrank"
            );
        }
        let interval_after = self.flow.interval();
        if step == Step::Device && !done {
            self.deadline = Some(self.flow.deadline().expect("polling has a deadline"));
            let interval = interval_after.expect("polling has an interval");
            if let Prediction::Device(fields) = &prediction {
                let want = match fields.get("interval") {
                    None => Some(self.default_interval),
                    Some(v) => match model::whole_seconds(v) {
                        Some(0) => Some(self.default_interval),
                        Some(s) => Some(Duration::from_secs(s)),
                        None => None,
                    },
                };
                if let Some(want) = want {
                    assert_eq!(interval, want, "the first interval");
                }
            }
        }
        if !done {
            let interval = interval_after.expect("polling has an interval");
            self.earliest = match self.now.checked_add(interval) {
                Some(t) => Earliest::At(t),
                None => Earliest::Never,
            };
        }
        self.interval = interval_after;
        self.answered = Some(Answered {
            step,
            now: self.now,
            interval_before,
            interval_after,
            status,
            content_type,
            transport,
            retry_after,
            prediction,
            done,
            events: Vec::new(),
            settled: false,
        });
        self.observe();
    }

    /// Moves the clock forward by `by` (when the sum is representable) and tells the flow.
    pub fn advance(&mut self, by: Duration) {
        if let Some(now) = self.now.checked_add(by) {
            self.timeout(now);
        }
    }

    /// Calls `handle_timeout(at)`; an `at` in the past must change nothing but is allowed.
    pub fn timeout(&mut self, at: Instant) {
        if self.flow.is_done() {
            self.misuse("handle_timeout after the end", UsageError::Finished, |f| {
                f.handle_timeout(at)
            });
            return;
        }
        self.now = self.now.max(at);
        self.flow.handle_timeout(at).expect("the flow is running");
        if self.flow.is_done() {
            assert!(
                self.outstanding.is_none(),
                "a timeout ended a flow with a request out"
            );
            self.cause = Some(Cause::Clock);
        } else if let (Some(deadline), None) = (self.deadline, self.outstanding) {
            assert!(
                self.now < deadline,
                "the deadline passed and the flow goes on"
            );
        }
        if self.last_wait.is_some_and(|w| self.now >= w) {
            self.must_progress = true;
        }
        self.observe();
    }

    /// Cancels the flow.
    pub fn cancel(&mut self) {
        if self.flow.is_done() {
            let before = format!("{:?}", self.flow);
            self.flow.cancel();
            assert_eq!(
                format!("{:?}", self.flow),
                before,
                "cancel after the end changed the flow"
            );
            return;
        }
        self.flow.cancel();
        assert!(self.flow.is_done(), "cancel did not end the flow");
        self.cause = Some(Cause::Cancel);
        self.must_progress = false;
        self.observe();
    }

    /// Checks what the accessors say.
    fn observe(&mut self) {
        if self.flow.is_done() {
            assert_eq!(self.flow.deadline(), None);
            assert_eq!(self.flow.interval(), None);
            return;
        }
        if let Some(d) = self.deadline {
            assert_eq!(self.flow.deadline(), Some(d), "the deadline moved");
        }
        if let (Some(before), Some(now)) = (self.interval, self.flow.interval()) {
            assert!(now >= before, "the interval shrank");
        }
    }

    /// Answers every request with `script` (the last one repeating) and sleeps through every
    /// wait, for at most `rounds` blocking outputs.
    pub fn script(&mut self, script: &[Answer], rounds: usize) {
        let mut next = 0;
        for _ in 0..rounds {
            match self.drain() {
                Polled::Send(_) => {
                    match &script[next.min(script.len() - 1)] {
                        Answer::Reply(reply) => self.respond(Which::Current, reply),
                        Answer::Fail(kind) => self.transport(Which::Current, *kind),
                    }
                    next += 1;
                }
                Polled::Wait(at) => self.timeout(at),
                Polled::Await(id) => panic!("the driver answered everything, yet {id:?} is out"),
                Polled::Done | Polled::Event => return,
            }
        }
    }

    /// Ends the run: cancels a flow still going, then checks that nothing moves a finished
    /// flow.
    pub fn end(mut self) {
        if !self.flow.is_done() {
            self.cancel();
        }
        assert_eq!(self.drain(), Polled::Done);
        let id = self.id(Which::Current);
        let now = self.now;
        self.misuse("an answer after the end", UsageError::Finished, |f| {
            f.handle_response(id, device_grant::http::Response::new(&b"{}"[..]), now)
        });
        self.misuse("a failure after the end", UsageError::Finished, |f| {
            f.handle_transport_error(id, TransportErrorKind::Timeout, now)
        });
        self.misuse("a timeout after the end", UsageError::Finished, |f| {
            f.handle_timeout(now)
        });
        self.cancel();
        assert_eq!(self.poll(), Polled::Done);
    }
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// One scripted answer.
pub enum Answer {
    /// An HTTP answer.
    Reply(Reply),
    /// No answer.
    Fail(TransportErrorKind),
}

fn assert_problem(result: &Result<TokenResponse, FlowError>, want: &Problem) {
    match result {
        Err(FlowError::InvalidResponse(i)) => assert_eq!(i.problem(), want),
        other => panic!("expected InvalidResponse({want:?}), got {other:?}"),
    }
}

/// DESIGN rule 8: every member the server sent is kept.
fn check_error_body(e: &ErrorResponse, body: &ErrorBody) {
    assert_eq!(e.error(), body.code);
    // The member the code came from is `error()`, not repeated among the others.
    let non_empty = |name: &str| {
        body.fields
            .iter()
            .any(|(n, v)| n == name && matches!(v, Value::String(s) if !s.is_empty()))
    };
    let code_member = if non_empty("error") {
        "error"
    } else {
        "error_code"
    };
    let mut kept = 0;
    for (name, value) in &body.fields {
        if name == code_member {
            continue;
        }
        match (name.as_str(), value) {
            ("error_description", Value::String(s)) => {
                assert_eq!(e.description(), Some(s.as_str()))
            }
            ("error_uri", Value::String(s)) => assert_eq!(e.uri(), Some(s.as_str())),
            _ => {
                assert_eq!(e.extra().get(name), Some(value), "member `{name}` lost");
                kept += 1;
            }
        }
    }
    assert_eq!(e.extra().len(), kept, "members the server did not send");
}

fn check_token(step: Step, fields: &Members, result: &Result<TokenResponse, FlowError>) {
    for name in ["access_token", "token_type"] {
        if let Some(problem) = model::required_string_problem(fields, name) {
            return assert_problem(result, &problem);
        }
    }
    let optional = ["expires_in", "refresh_token", "id_token", "scope"];
    match result {
        Ok(token) => {
            assert_eq!(
                Some(token.access_token().secret()),
                model::non_empty(fields, "access_token")
            );
            assert_eq!(
                Some(token.token_type()),
                model::non_empty(fields, "token_type")
            );
            match model::non_empty(fields, "refresh_token") {
                Some(sent) => {
                    assert_eq!(token.refresh_token().map(|r| r.secret()), Some(sent));
                    assert!(token.refresh_token_issued());
                }
                None => {
                    assert!(!token.refresh_token_issued());
                    match step {
                        Step::Refresh => assert_eq!(
                            token.refresh_token().map(|r| r.secret()),
                            Some(REFRESH_SECRET),
                            "a refresh without rotation keeps the old token"
                        ),
                        _ => assert!(token.refresh_token().is_none()),
                    }
                }
            }
            if let Some(v) = fields.get("expires_in").and_then(model::whole_seconds) {
                assert_eq!(token.expires_in(), Some(Duration::from_secs(v)));
            }
            for (name, value) in fields {
                if !optional.contains(&name.as_str())
                    && !["access_token", "token_type"].contains(&name.as_str())
                {
                    assert_eq!(token.extra().get(name), Some(value), "member `{name}` lost");
                }
            }
        }
        Err(FlowError::InvalidResponse(i)) => {
            let named = match i.problem() {
                Problem::InvalidField { field, .. } => optional.contains(field),
                _ => false,
            };
            assert!(named, "a token response rejected for {:?}", i.problem());
            assert!(
                optional.iter().any(|n| fields.contains_key(*n)),
                "a minimal valid token response was rejected"
            );
        }
        other => panic!("a token response ended as {other:?}"),
    }
}

/// The problem the core must report for a device response, when the harness can tell.
fn device_problem(fields: &Members) -> Option<Problem> {
    ["device_code", "user_code"]
        .into_iter()
        .find_map(|name| model::required_string_problem(fields, name))
}

/// Whether a device response is plainly valid: the required members as non-empty strings, a
/// whole, modest `expires_in`, and every optional member of the right type.
fn device_must_succeed(fields: &Members, now: Instant) -> bool {
    const MONTH: u64 = 30 * 24 * 3600;
    let uri_ok = model::non_empty(fields, "verification_uri").is_some()
        || (model::absent_or_string(fields, "verification_uri")
            && model::non_empty(fields, "verification_url").is_some());
    let expires_ok = fields
        .get("expires_in")
        .and_then(model::whole_seconds)
        .is_some_and(|s| s > 0 && s <= MONTH && now.checked_add(Duration::from_secs(s)).is_some());
    device_problem(fields).is_none()
        && uri_ok
        && expires_ok
        && model::absent_or_string(fields, "verification_uri_complete")
        && model::absent_or_string(fields, "message")
}

fn check_prompt(prompt: &device_grant::Prompt, fields: &Members) {
    assert_eq!(
        Some(prompt.user_code()),
        model::non_empty(fields, "user_code")
    );
    let uri = model::non_empty(fields, "verification_uri")
        .or_else(|| model::non_empty(fields, "verification_url"));
    assert_eq!(Some(prompt.verification_uri()), uri);
    if let Some(s) = fields.get("expires_in").and_then(model::whole_seconds) {
        let sent = Duration::from_secs(s);
        assert!(prompt.expires_in() <= sent);
        if s <= 30 * 24 * 3600 {
            assert_eq!(prompt.expires_in(), sent);
        }
    }
}
