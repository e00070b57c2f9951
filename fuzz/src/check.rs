//! A driver for one flow that checks every output: the design's rules (DESIGN rules 1-13,
//! through the simulator's one checker, `device_grant_sim::rules`) and the API's promises
//! about requests, bodies, secrets and misuse; it panics with a description when one breaks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::serde_json::Value;
use device_grant::url::{self, Url, form_urlencoded};
use device_grant::{
    Config, Endpoint, ErrorResponse, Event, Flow, FlowError, Output, Problem, Profile,
    RefreshToken, RequestId, TokenResponse, TransportErrorKind, UriProblem, UsageError,
};
use device_grant_sim::rules::{self as model, ErrorBody, Limits, Members, Prediction, Rules, Step};

pub use device_grant_sim::rules::Grant;

use super::input::Reply;

/// The endpoints every harness configuration uses.
pub const DEVICE_URL: &str = "https://as.example/oauth2/device";
/// See [`DEVICE_URL`].
pub const TOKEN_URL: &str = "https://as.example/oauth2/token";
const CLIENT_SECRET: &str = "client-secret-4b1d9e77c3";
const REFRESH_SECRET: &str = "refresh-token-secret-8a2f6c0e";
const MAX_DRAIN: usize = 32;

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
        // The harness models one device request; its retry is tested in the core's scenarios.
        let config = b
            .default_interval(default_interval)
            .max_backoff(max_backoff)
            .device_retries(1, Duration::ZERO)
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

/// What came back for the last request, for the checks of the result it led to.
struct Answered {
    step: Step,
    now: Instant,
    status: Option<u16>,
    content_type: Option<String>,
    transport: Option<TransportErrorKind>,
    prediction: Prediction,
}

/// One flow, its driver's clock, and what has been observed so far.
pub struct Run {
    /// The flow under test.
    pub flow: Flow,
    grant: Grant,
    config: Arc<Config>,
    rules: Rules,
    now: Instant,
    outstanding: Option<(RequestId, Step)>,
    issued: Vec<RequestId>,
    device_sent: bool,
    refresh_sent: bool,
    done: bool,
    ended_by_answer: bool,
    interval: Option<Duration>,
    poll_body: Option<Vec<u8>>,
    last_wait: Option<Instant>,
    answered: Option<Answered>,
    secrets: Vec<Vec<u8>>,
    side_ids: Vec<RequestId>,
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
        let limits = Limits {
            default_interval: setup.default_interval,
            max_backoff: setup.max_backoff,
        };
        Run {
            flow,
            grant,
            config,
            rules: Rules::new(grant, now, limits),
            now,
            outstanding: None,
            issued: Vec::new(),
            device_sent: false,
            refresh_sent: false,
            done: false,
            ended_by_answer: false,
            interval: None,
            poll_body: None,
            last_wait: None,
            answered: None,
            secrets: vec![CLIENT_SECRET.into(), REFRESH_SECRET.into()],
            side_ids: Vec::new(),
        }
    }

    /// The driver's clock: the latest `now` handed to the flow.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The device code's deadline, once known.
    pub fn deadline(&self) -> Option<Instant> {
        self.rules.deadline()
    }

    /// The last `WaitUntil` instant, while the flow waits for it.
    pub fn last_wait(&self) -> Option<Instant> {
        self.last_wait
    }

    /// Whether the flow has said `Done`.
    pub fn finished(&self) -> bool {
        self.done
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

    /// Panics with the rules broken so far.
    fn rules_hold(&mut self) {
        let broken = self.rules.take_breaches();
        if !broken.is_empty() {
            let list: Vec<String> = broken.iter().map(ToString::to_string).collect();
            panic!("rules broken:\n  {}", list.join("\n  "));
        }
    }

    /// One `poll_output`, checked.
    pub fn poll(&mut self) -> Polled {
        let out = self.flow.poll_output();
        self.no_secret("an output's Debug", &format!("{out:?}"));
        self.rules.output(&out);
        self.rules_hold();
        if self.done {
            return Polled::Done;
        }
        let polled = match out {
            Output::Event(event) => {
                self.event(&event);
                Polled::Event
            }
            Output::Send { id, request } => {
                self.send(id, &request);
                Polled::Send(id)
            }
            Output::WaitUntil(at) => {
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
        if polled.blocks() && !matches!(polled, Polled::Done) {
            assert!(!self.flow.is_done(), "is_done() while the flow goes on");
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
        let deadline = self.flow.deadline().expect("polling has a deadline");
        assert_eq!(Some(deadline), self.rules.deadline(), "the deadline moved");
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
    }

    fn event(&mut self, event: &Event) {
        self.no_secret("an event", &format!("{event:?}"));
        match event {
            Event::UserCode(prompt) => {
                assert!(!prompt.user_code().is_empty());
                assert!(!prompt.verification_uri().is_empty());
                assert!(!prompt.expires_in().is_zero());
                if let Some(Prediction::Device(fields)) = self.rules.prediction() {
                    check_prompt(prompt, fields);
                }
            }
            Event::SlowDown { interval } => {
                assert_eq!(Some(*interval), self.interval, "SlowDown != interval()");
            }
            Event::BackOff { .. } => {}
            other => panic!("an event the harness does not know: {other:?}"),
        }
    }

    fn finish(&mut self, result: Result<TokenResponse, FlowError>) {
        assert!(self.flow.is_done(), "Done while is_done() is false");
        if let Err(e) = &result {
            self.no_secret("an error's Display", &e.to_string());
        }
        if self.ended_by_answer {
            let info = self.answered.as_ref().expect("an answer ended the flow");
            self.check_result(info, &result);
        }
        self.done = true;
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
            // The device request's retry gave up, here at once: a Retry-After past the
            // back-off cap is not waited out (PROVIDERS §16).
            Err(FlowError::Unavailable { endpoint, .. }) => {
                assert_eq!(info.step, Step::Device);
                assert_eq!(*endpoint, Endpoint::DeviceAuthorization);
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
            // The rules report pending, slow_down and back-off answers that end the flow.
            _ => {}
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
    /// The side flow is driven by the simulator's driver, its device request answered and
    /// every poll failing, and stopped once it has issued enough ids.
    fn foreign(&mut self, n: usize) -> RequestId {
        if self.side_ids.len() <= n {
            let config = Config::builder("side")
                .device_endpoint(DEVICE_URL)
                .token_endpoint(TOKEN_URL)
                .build()
                .expect("valid");
            let now = Instant::now();
            let body = r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":31536000,"interval":1}"#;
            let mut server = device_grant_sim::Scripted::repeating_last([
                device_grant_sim::Answer::json(200, body),
                device_grant_sim::Answer::Transport(TransportErrorKind::Io),
            ]);
            let options = device_grant_sim::Options {
                max_steps: 4 * n + 8,
                check: false,
                ..device_grant_sim::Options::default()
            };
            let ids = &mut self.side_ids;
            ids.clear();
            device_grant_sim::drive_inspect(
                Flow::device(config, now),
                &mut server,
                now,
                options,
                &mut |_, out| {
                    if let Output::Send { id, .. } = out {
                        ids.push(*id);
                    }
                },
            );
        }
        let id = self
            .side_ids
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
        let mut owned = device_grant::http::Response::new(reply.body.clone());
        *owned.status_mut() =
            device_grant::http::StatusCode::from_u16(reply.status).expect("100..=999");
        *owned.headers_mut() = reply.headers.clone();
        let answer = device_grant_sim::Answer::Response(owned);
        let content_type = reply.content_type().map(str::to_owned);
        self.answered(
            step,
            before,
            &answer,
            Some(reply.status),
            content_type,
            None,
        );
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
        let answer = device_grant_sim::Answer::Transport(kind);
        self.answered(step, before, &answer, None, None, Some(kind));
    }

    fn answered(
        &mut self,
        step: Step,
        interval_before: Option<Duration>,
        answer: &device_grant_sim::Answer,
        status: Option<u16>,
        content_type: Option<String>,
        transport: Option<TransportErrorKind>,
    ) {
        self.rules.answered(&self.flow, self.now, answer);
        self.rules_hold();
        let prediction = self
            .rules
            .prediction()
            .cloned()
            .unwrap_or(Prediction::Unknown);
        let done = self.flow.is_done();
        // What the rules cannot tell: whether a device answer's body must be accepted.
        if let (Step::Device, Prediction::Device(fields), None) = (step, &prediction, transport) {
            if device_problem(fields).is_some() {
                assert!(done, "a device answer without its codes was accepted");
            } else if device_must_succeed(fields, self.now) {
                assert!(!done, "a valid device answer ended the flow");
            }
        }
        if done {
            self.ended_by_answer = true;
        } else if step == Step::Poll {
            assert!(
                self.flow.interval() >= interval_before,
                "the interval shrank"
            );
        }
        self.interval = self.flow.interval();
        self.answered = Some(Answered {
            step,
            now: self.now,
            status,
            content_type,
            transport,
            prediction,
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
        self.rules.timeout(&self.flow, self.now);
        self.rules_hold();
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
        self.rules.cancelled(&self.flow);
        self.rules_hold();
        self.observe();
    }

    /// Checks what the accessors say.
    fn observe(&mut self) {
        if self.flow.is_done() {
            assert_eq!(self.flow.deadline(), None);
            assert_eq!(self.flow.interval(), None);
            return;
        }
        if let Some(d) = self.rules.deadline() {
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
        if let Some(problem) = required_string_problem(fields, name) {
            return assert_problem(result, &problem);
        }
    }
    let optional = ["expires_in", "refresh_token", "id_token", "scope"];
    match result {
        Ok(token) => {
            assert_eq!(
                Some(token.access_token().secret()),
                non_empty(fields, "access_token")
            );
            assert_eq!(Some(token.token_type()), non_empty(fields, "token_type"));
            match non_empty(fields, "refresh_token") {
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
            // DESIGN rule 13: an optional member of an unexpected type stays in `extra`.
            for name in optional {
                let Some(value) = fields.get(name) else {
                    continue;
                };
                let unexpected = match name {
                    "refresh_token" | "id_token" => {
                        !matches!(value, Value::Null | Value::String(_))
                    }
                    "expires_in" => {
                        matches!(value, Value::Bool(_) | Value::Array(_) | Value::Object(_))
                    }
                    _ => match value {
                        Value::String(_) => false,
                        Value::Array(items) => !items.iter().all(Value::is_string),
                        _ => true,
                    },
                };
                if unexpected {
                    assert_eq!(
                        token.extra().get(name),
                        Some(value),
                        "`{name}` of an unexpected type was not kept in extra"
                    );
                }
            }
        }
        // DESIGN rule 13: with valid required members, nothing may cost the token.
        Err(FlowError::InvalidResponse(i)) => {
            panic!(
                "a token response with valid required members rejected for {:?}",
                i.problem()
            )
        }
        other => panic!("a token response ended as {other:?}"),
    }
}

/// The problem the core must report for a device response, when the harness can tell.
fn device_problem(fields: &Members) -> Option<Problem> {
    ["device_code", "user_code"]
        .into_iter()
        .find_map(|name| required_string_problem(fields, name))
        .or_else(|| device_uris(fields).err())
}

/// The verification URIs the prompt must show (`verification_uri`, or Google's
/// `verification_url`, and `verification_uri_complete`), or the problem the core must report
/// for them (DESIGN "Server text is untrusted").
fn device_uris(fields: &Members) -> Result<(String, Option<String>), Problem> {
    let uri = match fields.get("verification_uri") {
        Some(Value::String(s)) if !s.is_empty() => s,
        None | Some(Value::Null | Value::String(_)) => match fields.get("verification_url") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::String(_)) => return Err(Problem::EmptyField("verification_uri")),
            None | Some(Value::Null) => return Err(Problem::MissingField("verification_uri")),
            Some(_) => {
                return Err(Problem::InvalidField {
                    field: "verification_url",
                    expected: "a string",
                });
            }
        },
        Some(_) => {
            return Err(Problem::InvalidField {
                field: "verification_uri",
                expected: "a string",
            });
        }
    };
    let check =
        |raw: &str, field| shown_uri(raw).map_err(|reason| Problem::UnsafeUri { field, reason });
    let uri = check(uri, "verification_uri")?;
    // An optional member of another type is cosmetic (rule 13): it goes to `extra`.
    let complete = match fields.get("verification_uri_complete") {
        Some(Value::String(s)) if !s.is_empty() => Some(check(s, "verification_uri_complete")?),
        _ => None,
    };
    Ok((uri, complete))
}

/// What the prompt shows for a verification URI: the server's text when absolute, else
/// resolved against the device endpoint; `https`, or `http` on a loopback host, with a host
/// and without credentials (the harness configurations never allow insecure http).
fn shown_uri(raw: &str) -> Result<String, UriProblem> {
    let (url, resolved) = match Url::parse(raw) {
        Ok(url) => (url, false),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let base = Url::parse(DEVICE_URL).expect("a valid endpoint");
            (base.join(raw).map_err(|_| UriProblem::NotAUrl)?, true)
        }
        Err(_) => return Err(UriProblem::NotAUrl),
    };
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(UriProblem::InsecureHttp),
        _ => return Err(UriProblem::Scheme),
    }
    if url.host().is_none() {
        return Err(UriProblem::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UriProblem::Credentials);
    }
    Ok(if resolved { url.into() } else { raw.to_owned() })
}

/// Whether a device response is plainly valid: the required members as non-empty strings,
/// safe verification URIs and a whole, modest `expires_in`. Optional members of another type
/// do not count (DESIGN rule 13).
fn device_must_succeed(fields: &Members, now: Instant) -> bool {
    const MONTH: u64 = 30 * 24 * 3600;
    let expires_ok = fields
        .get("expires_in")
        .and_then(model::whole_seconds)
        .is_some_and(|s| s > 0 && s <= MONTH && now.checked_add(Duration::from_secs(s)).is_some());
    device_problem(fields).is_none() && expires_ok
}

fn check_prompt(prompt: &device_grant::Prompt, fields: &Members) {
    assert_eq!(Some(prompt.user_code()), non_empty(fields, "user_code"));
    let (uri, complete) = device_uris(fields).expect("the core accepted these URIs");
    assert_eq!(prompt.verification_uri(), uri);
    assert_eq!(prompt.verification_uri_complete(), complete.as_deref());
    match fields.get("message") {
        Some(Value::String(m)) => assert_eq!(prompt.message(), Some(m.as_str())),
        None | Some(Value::Null) => assert_eq!(prompt.message(), None),
        // DESIGN rule 13: kept, not a reason to refuse the code.
        Some(other) => assert_eq!(prompt.extra().get("message"), Some(other)),
    }
    if let Some(other) = fields
        .get("verification_uri_complete")
        .filter(|v| !matches!(v, Value::Null | Value::String(_)))
    {
        assert_eq!(
            prompt.extra().get("verification_uri_complete"),
            Some(other),
            "rule 13"
        );
    }
    if let Some(s) = fields.get("expires_in").and_then(model::whole_seconds) {
        let sent = Duration::from_secs(s);
        assert!(prompt.expires_in() <= sent);
        if s <= 30 * 24 * 3600 {
            assert_eq!(prompt.expires_in(), sent);
        }
    }
}

/// What `required_string` in the core reports for a member, if anything.
fn required_string_problem(fields: &Members, name: &'static str) -> Option<Problem> {
    match fields.get(name) {
        None | Some(Value::Null) => Some(Problem::MissingField(name)),
        Some(Value::String(s)) if s.is_empty() => Some(Problem::EmptyField(name)),
        Some(Value::String(_)) => None,
        Some(_) => Some(Problem::InvalidField {
            field: name,
            expected: "a string",
        }),
    }
}

/// A member that is a non-empty string.
fn non_empty<'a>(fields: &'a Members, name: &str) -> Option<&'a str> {
    match fields.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}
