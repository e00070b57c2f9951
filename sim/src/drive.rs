//! Driving a [`Flow`] in memory: a [`Responder`] answers each request at once, a virtual
//! clock jumps to each `WaitUntil`, and [`Rules`] checks every step.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use device_grant::{Event, Flow, FlowError, Output, TokenResponse, TransportErrorKind};

use crate::rules::{Breach, Grant, Limits, Rules};

/// What came back for a request: a response, or no response at all.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Answer {
    /// An HTTP response (any status).
    Response(http::Response<Vec<u8>>),
    /// No response: what the HTTP client reported instead.
    Transport(TransportErrorKind),
}

impl Answer {
    /// A response with a `Content-Type` (none when `content_type` is empty) and a body.
    ///
    /// # Panics
    ///
    /// When `status` is not in `100..=999`.
    pub fn http(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        let mut b = http::Response::builder().status(status);
        if !content_type.is_empty() {
            b = b.header(http::header::CONTENT_TYPE, content_type);
        }
        Answer::Response(b.body(body.into()).expect("a status in 100..=999"))
    }

    /// A JSON response (`application/json; charset=utf-8`).
    pub fn json(status: u16, body: &str) -> Answer {
        Answer::http(status, "application/json; charset=utf-8", body)
    }

    /// A form-encoded response.
    pub fn form(status: u16, body: &str) -> Answer {
        Answer::http(
            status,
            "application/x-www-form-urlencoded; charset=utf-8",
            body,
        )
    }

    /// The same answer with one more header (no change to a transport failure).
    ///
    /// # Panics
    ///
    /// When the name or value is not a valid header.
    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        if let Answer::Response(r) = &mut self {
            let name = http::HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            let value = http::HeaderValue::from_str(value).expect("a header value");
            r.headers_mut().append(name, value);
        }
        self
    }
}

impl From<&crate::fixtures::Fixture> for Answer {
    fn from(f: &crate::fixtures::Fixture) -> Answer {
        Answer::Response(f.response())
    }
}

/// Something that answers a flow's requests at a virtual time: the in-memory
/// [`Peer`](crate::Peer), or [`Scripted`] canned answers.
pub trait Responder {
    /// The answer to `request`, sent at `now`.
    fn respond(&mut self, request: &http::Request<Vec<u8>>, now: Instant) -> Answer;
}

/// Canned answers handed out in order, whatever the request.
#[derive(Clone, Debug, Default)]
pub struct Scripted {
    answers: VecDeque<Answer>,
    repeat_last: Option<Answer>,
}

impl Scripted {
    /// These answers, in order. Asking for more is a bug in the test: it panics.
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Scripted {
        Scripted {
            answers: answers.into_iter().collect(),
            repeat_last: None,
        }
    }

    /// These answers, in order, the last one repeating for ever (a server stuck in one
    /// state). `answers` must not be empty.
    pub fn repeating_last(answers: impl IntoIterator<Item = Answer>) -> Scripted {
        let mut s = Scripted::new(answers);
        s.repeat_last = s.answers.back().cloned();
        s
    }

    /// Answers not handed out yet.
    pub fn remaining(&self) -> usize {
        self.answers.len()
    }
}

impl Responder for Scripted {
    fn respond(&mut self, _request: &http::Request<Vec<u8>>, _now: Instant) -> Answer {
        match (self.answers.pop_front(), &self.repeat_last) {
            (Some(a), _) => a,
            (None, Some(last)) => last.clone(),
            (None, None) => panic!("the scripted answers ran out"),
        }
    }
}

/// A closure answers like a server: `|request, now| Answer::json(200, "...")`.
impl<F> Responder for F
where
    F: FnMut(&http::Request<Vec<u8>>, Instant) -> Answer,
{
    fn respond(&mut self, request: &http::Request<Vec<u8>>, now: Instant) -> Answer {
        self(request, now)
    }
}

/// A request the flow sent, with the virtual time it left.
#[derive(Debug)]
pub struct Sent {
    /// When it was sent.
    pub at: Instant,
    /// The request: method, URI, headers, body.
    pub request: http::Request<Vec<u8>>,
}

impl Sent {
    /// The form body, decoded (later duplicates win).
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.request.body())
            .into_owned()
            .collect()
    }

    /// The URI's path.
    pub fn path(&self) -> &str {
        self.request.uri().path()
    }
}

/// Everything a test asserts on after [`drive`].
#[derive(Debug)]
pub struct Run {
    /// The virtual start.
    pub start: Instant,
    /// The virtual time of the last step.
    pub end: Instant,
    /// Every request, in order.
    pub sent: Vec<Sent>,
    /// Every event, with the virtual time it came out.
    pub events: Vec<(Instant, Event)>,
    /// How the flow ended (`Cancelled` when the step limit stopped it).
    pub outcome: Result<TokenResponse, FlowError>,
    /// The rules the flow broke, plus driver problems (misuse errors, the step limit) under
    /// rule 0.
    pub breaches: Vec<Breach>,
    /// `poll_output` calls made.
    pub steps: usize,
}

impl Run {
    /// The requests after the first (the polls of a device flow).
    pub fn polls(&self) -> Vec<&Sent> {
        self.sent.iter().skip(1).collect()
    }

    /// The error.
    ///
    /// # Panics
    ///
    /// When the flow got a token.
    pub fn err(&self) -> &FlowError {
        self.outcome
            .as_ref()
            .expect_err("the flow should have failed")
    }

    /// The token.
    ///
    /// # Panics
    ///
    /// When the flow failed.
    pub fn token(&self) -> &TokenResponse {
        match &self.outcome {
            Ok(t) => t,
            Err(e) => panic!("the flow failed: {e} ({e:?})"),
        }
    }

    /// Seconds between the start and each send.
    pub fn send_times(&self) -> Vec<f64> {
        self.sent
            .iter()
            .map(|s| (s.at - self.start).as_secs_f64())
            .collect()
    }

    /// The prompt of the `UserCode` event, if there was one.
    pub fn prompt(&self) -> Option<&device_grant::Prompt> {
        self.events.iter().find_map(|(_, e)| match e {
            Event::UserCode(p) => Some(p),
            _ => None,
        })
    }

    /// Panics with every breach, if there is one.
    ///
    /// # Panics
    ///
    /// When a rule was broken.
    pub fn assert_clean(&self) {
        if !self.breaches.is_empty() {
            let list: Vec<String> = self.breaches.iter().map(ToString::to_string).collect();
            panic!("rules broken:\n  {}", list.join("\n  "));
        }
    }
}

/// How [`drive_with`] drives.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Virtual time between a request leaving and its answer arriving. When not zero, the
    /// flow is told the time (`handle_timeout`) just before the answer arrives, as a driver
    /// that wakes up while a request is out would.
    pub latency: Duration,
    /// The most `poll_output` calls before the flow is cancelled (and a breach recorded).
    pub max_steps: usize,
    /// What the rules need to know of the configuration.
    pub limits: Limits,
    /// Whether [`Rules`] watch the run. Only benchmarks, which measure the library alone,
    /// turn it off.
    pub check: bool,
}

impl Default for Options {
    /// No latency, 100 000 steps, the core's default limits, rules checked.
    fn default() -> Self {
        Options {
            latency: Duration::ZERO,
            max_steps: 100_000,
            limits: Limits::default(),
            check: true,
        }
    }
}

/// Drives `flow` (created at `start`) to its end against `responder` with
/// [`Options::default`]: each request is answered at once, the clock jumps to each
/// `WaitUntil`, and [`Rules`] checks every step.
pub fn drive(flow: Flow, responder: &mut dyn Responder, start: Instant) -> Run {
    drive_with(flow, responder, start, Options::default())
}

/// [`drive`] with other [`Options`].
pub fn drive_with(
    flow: Flow,
    responder: &mut dyn Responder,
    start: Instant,
    options: Options,
) -> Run {
    drive_inspect(flow, responder, start, options, &mut |_, _| {})
}

/// [`drive_with`], showing `inspect` the flow and each output before the driver acts on it
/// (for tests of what the flow prints along the way).
pub fn drive_inspect(
    mut flow: Flow,
    responder: &mut dyn Responder,
    start: Instant,
    options: Options,
    inspect: &mut dyn FnMut(&Flow, &Output),
) -> Run {
    // The flow does not say which grant it runs; its first request does.
    let mut rules: Option<Rules> = None;
    let mut driver_breaches = Vec::new();
    let mut now = start;
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let mut steps = 0;
    let breach = |list: &mut Vec<Breach>, at: Instant, what: String| {
        list.push(Breach { rule: 0, at, what });
    };
    let outcome = loop {
        if steps == options.max_steps {
            breach(
                &mut driver_breaches,
                now,
                format!("the flow did not finish in {} steps", options.max_steps),
            );
            flow.cancel();
            if let Some(r) = rules.as_mut() {
                r.cancelled(&flow);
            }
        }
        steps += 1;
        let output = flow.poll_output();
        inspect(&flow, &output);
        let r = rules.get_or_insert_with(|| {
            let refresh = matches!(&output, Output::Send { request, .. }
                if url::form_urlencoded::parse(request.body())
                    .any(|(k, v)| k == "grant_type" && v == "refresh_token"));
            let grant = if refresh {
                Grant::Refresh
            } else {
                Grant::Device
            };
            Rules::new(grant, start, options.limits)
        });
        let check = options.check;
        if check {
            r.output(&output);
        }
        match output {
            Output::Send { id, request } => {
                let answer = responder.respond(&request, now);
                sent.push(Sent { at: now, request });
                if !options.latency.is_zero() {
                    now += options.latency;
                    if let Err(e) = flow.handle_timeout(now) {
                        breach(&mut driver_breaches, now, format!("{e}"));
                    }
                    if check {
                        r.timeout(&flow, now);
                    }
                }
                // The rules read the answer after the flow did; keep a copy only for them.
                let (handled, seen) = match answer {
                    Answer::Response(response) => {
                        let seen = check.then(|| Answer::Response(response.clone()));
                        (flow.handle_response(id, response, now), seen)
                    }
                    Answer::Transport(kind) => (
                        flow.handle_transport_error(id, kind, now),
                        Some(Answer::Transport(kind)),
                    ),
                };
                match (handled, seen) {
                    (Ok(()), Some(seen)) if check => r.answered(&flow, now, &seen),
                    (Ok(()), _) => {}
                    (Err(e), _) => breach(&mut driver_breaches, now, format!("{e}")),
                }
            }
            Output::Event(e) => events.push((now, e)),
            Output::WaitUntil(at) => {
                now = now.max(at);
                if let Err(e) = flow.handle_timeout(now) {
                    breach(&mut driver_breaches, now, format!("{e}"));
                }
                if check {
                    r.timeout(&flow, now);
                }
            }
            Output::AwaitResponse(id) => {
                breach(
                    &mut driver_breaches,
                    now,
                    format!("{id:?} is out but the driver answers at once"),
                );
                flow.cancel();
                r.cancelled(&flow);
            }
            Output::Done(result) => {
                if check {
                    // Sticky: asking again gives the same.
                    r.output(&flow.poll_output());
                }
                break result;
            }
            other => {
                breach(&mut driver_breaches, now, format!("unexpected {other:?}"));
                flow.cancel();
                r.cancelled(&flow);
            }
        }
    };
    let mut breaches = rules.map(|mut r| r.take_breaches()).unwrap_or_default();
    breaches.extend(driver_breaches);
    Run {
        start,
        end: now,
        sent,
        events,
        outcome,
        breaches,
        steps,
    }
}
