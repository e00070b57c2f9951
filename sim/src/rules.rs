//! The rules of the core's design (DESIGN.md rules 1-13, as far as they show from outside),
//! checked on everything a driver sees: the one checker behind [`drive()`](crate::drive()), the
//! proptest model in the core's tests and the fuzz harness.
//!
//! [`Rules`] is fed what happens, in order: every [`Output`] the flow gives
//! ([`Rules::output`]), every answer handed to it ([`Rules::answered`]), every clock tick
//! ([`Rules::timeout`]) and cancellation ([`Rules::cancelled`]). It predicts what an answer
//! must lead to from its own reading of the body ([`predict`]), deliberately independent of
//! the core's parser, and records a [`Breach`] for every rule broken:
//!
//! 1. the interval starts at the server's (the default when absent or 0) and grows by exactly
//!    5 s per `slow_down`, or to the server's larger `interval`; it never grows otherwise;
//! 2. transport failures, throttling and `temporarily_unavailable` back off without ending the
//!    flow: the wait doubles per failure in a row from the interval (at least 100 ms), is
//!    capped, never drops below the interval, and honours `Retry-After`;
//! 3. no poll before the last answer plus the wait in force, nor before the last poll plus
//!    the interval; a `WaitUntil` names exactly that instant (or the deadline, if earlier);
//! 4. nothing sent at or after the deadline, and an idle flow ends once the deadline passed;
//! 5. `UserCode` exactly once, after the device answer and before the first poll;
//! 6. after `Done`, only the same `Done`;
//! 7. `WaitUntil` always later than the last `now`, never past the deadline, and a flow woken
//!    at its `WaitUntil` moves on;
//! 8. answers are classified by body at any status: what ended the flow matches what the
//!    server said (pending, `slow_down` and back-off answers never end it);
//! 11. `Retry-After` is honoured whatever the body: the next poll waits for the later of it
//!     and what the answer otherwise asks (the interval after `authorization_pending`, the new
//!     interval after `slow_down`, the back-off); 429 and 503 back off whatever OAuth error
//!     they carry, unless it is one with a rule of its own (pending, `slow_down`, denied,
//!     expired); after a time-out or a broken answer the next wait is the back-off but at
//!     least the interval plus 5 s, even above the cap (the lost answer may have been a
//!     `slow_down`);
//! 12. after `cancel()` the next output is `Done(Err(Cancelled))`: nothing queued survives;
//! 13. a success body with a non-empty `access_token` and `token_type` strings gives a
//!     token, whatever its optional members;
//! 14. with DPoP configured, `use_dpop_nonce` with a `DPoP-Nonce` header is answered by the
//!     same request again at once (not a poll: no interval applies, the count and the
//!     waits stay as they were), once; a second one in a row ends the flow as `OAuth`.
//!
//! Rule 9's details (which member is wrong, verification URI safety) and rule 10's cap are
//! checked by the fuzz harness, which knows the configuration's endpoints.
//!
//! ```
//! use device_grant_sim::rules::{Grant, Limits, Rules};
//! use std::time::Instant;
//!
//! let rules = Rules::new(Grant::Device, Instant::now(), Limits::default());
//! assert!(rules.breaches().is_empty());
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use device_grant::serde_json::{self, Map, Value};
use device_grant::url::form_urlencoded;
use device_grant::{
    BackOffCause, Event, Flow, FlowError, Output, TokenResponse, TransportErrorKind,
};

use crate::drive::Answer;
use crate::encoding::parse_imf_fixdate;

/// RFC 8628 §3.5: what one `slow_down` adds to the interval.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The smallest base of the back-off doubling.
pub const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// Which grant a flow runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `Flow::device`: a device authorization request, then polls.
    Device,
    /// `Flow::refresh`: one refresh-token request.
    Refresh,
}

/// The settings of the flow's configuration the rules depend on. The core's `Config` does
/// not expose the first two, so a caller that changed them says so here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The interval when the server sends none (or 0).
    pub default_interval: Duration,
    /// The back-off cap.
    pub max_backoff: Duration,
}

impl Default for Limits {
    /// The core's defaults.
    fn default() -> Self {
        Limits {
            default_interval: device_grant::DEFAULT_INTERVAL,
            max_backoff: device_grant::DEFAULT_MAX_BACKOFF,
        }
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// The rule's number in the [module documentation](self).
    pub rule: u8,
    /// The virtual time it was seen at.
    pub at: Instant,
    /// What happened.
    pub what: String,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}: {}", self.rule, self.what)
    }
}

/// Which request an answer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The device authorization request.
    Device,
    /// A device code poll.
    Poll,
    /// The refresh-token grant.
    Refresh,
}

/// What an answer must lead to, read independently of the core.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Prediction {
    /// No telling (no `Content-Type`, a header that lies, a body that does not parse).
    Unknown,
    /// Rejected for its size: `InvalidResponse` with `BodyTooLarge`.
    TooLarge,
    /// An OAuth error that ends the flow as `OAuth`.
    OAuth(ErrorBody),
    /// `access_denied` or `authorization_declined` while polling.
    Denied(ErrorBody),
    /// `expired_token` or `code_expired` while polling.
    Expired(ErrorBody),
    /// `authorization_pending` while polling: keep going, no event.
    Pending,
    /// `slow_down` while polling.
    SlowDown {
        /// The `interval` member: `Some(None)` when absent, `None` when it is not a whole
        /// number of seconds.
        sent: Option<Option<Duration>>,
    },
    /// `temporarily_unavailable` while polling: back off.
    TemporarilyUnavailable,
    /// While polling, 429, 502, 503 or 504 without an OAuth error, or 429 or 503 with an
    /// OAuth error that has no rule of its own (a rate limiter's words): back off.
    RetryStatus,
    /// Neither success nor retryable without an OAuth error, or retryable outside polling:
    /// `InvalidResponse` with `UnexpectedStatus`.
    UnexpectedStatus,
    /// A success body at the token endpoint.
    Token(Members),
    /// A success body at the device authorization endpoint.
    Device(Members),
    /// `use_dpop_nonce` with a `DPoP-Nonce` header, with DPoP configured and not already
    /// the answer to the retry: send the same request again at once (rule 14).
    DpopNonce,
}

/// An OAuth error body: its code and every member the server sent.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorBody {
    /// The `error` member (or Google's `error_code`).
    pub code: String,
    /// Every member.
    pub fields: Map<String, Value>,
}

/// The members of a body.
pub type Members = Map<String, Value>;

/// Reads an answer (`status`, its `Content-Type`, `body`) to `step` for a flow whose body
/// limit is `limit`.
pub fn predict(
    step: Step,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Prediction {
    if body.len() > limit {
        return Prediction::TooLarge;
    }
    let retryable = matches!(status, 429 | 502 | 503 | 504);
    let Some(fields) = content_type.and_then(|ct| members(ct, body)) else {
        // A throttling or gateway page labelled JSON that is not: no OAuth error in it.
        let declared_json = content_type.is_some_and(|ct| {
            let media = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            media == "application/json"
        });
        if retryable && step != Step::Refresh && declared_json {
            return Prediction::RetryStatus;
        }
        return Prediction::Unknown;
    };
    if let Some(code) = error_code(&fields) {
        let body = ErrorBody { code, fields };
        if step == Step::Device {
            // The device request is retried on these (PROVIDERS §16); no code was issued.
            return match body.code.as_str() {
                "slow_down" => Prediction::SlowDown { sent: None },
                "temporarily_unavailable" => Prediction::TemporarilyUnavailable,
                _ if matches!(status, 429 | 503) => Prediction::RetryStatus,
                _ => Prediction::OAuth(body),
            };
        }
        if step != Step::Poll {
            return Prediction::OAuth(body);
        }
        return match body.code.as_str() {
            "authorization_pending" => Prediction::Pending,
            "slow_down" => Prediction::SlowDown {
                sent: match body.fields.get("interval") {
                    None | Some(Value::Null) => Some(None),
                    Some(v) => whole_seconds(v).map(|s| Some(Duration::from_secs(s))),
                },
            },
            "access_denied" | "authorization_declined" => Prediction::Denied(body),
            "expired_token" | "code_expired" => Prediction::Expired(body),
            "temporarily_unavailable" => Prediction::TemporarilyUnavailable,
            // Rule 11: "not now", whatever the words.
            _ if matches!(status, 429 | 503) => Prediction::RetryStatus,
            _ => Prediction::OAuth(body),
        };
    }
    if (200..300).contains(&status) {
        match step {
            Step::Device => Prediction::Device(fields),
            Step::Poll | Step::Refresh => Prediction::Token(fields),
        }
    } else if retryable && step != Step::Refresh {
        Prediction::RetryStatus
    } else {
        Prediction::UnexpectedStatus
    }
}

/// The members of the body when the declared `Content-Type` settles how it reads: JSON that
/// parses as an object, or a form body with at least one `=`. When the header lies (a form
/// body labelled JSON, as a misconfigured gateway sends, or the other way round) the body is
/// read the way it looks, as the client is meant to do: a body that starts with `{` as JSON,
/// one line of printable ASCII with an `=` as a form.
fn members(content_type: &str, body: &[u8]) -> Option<Members> {
    let media = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let trimmed = body.trim_ascii();
    let looks_json = trimmed.first() == Some(&b'{');
    let looks_form = !looks_json
        && !trimmed.is_empty()
        && trimmed.contains(&b'=')
        && trimmed.iter().all(u8::is_ascii_graphic);
    if media == "application/json" || media.ends_with("+json") {
        json_members(body).or_else(|| looks_form.then(|| form_members(trimmed)).flatten())
    } else if media == "application/x-www-form-urlencoded" {
        form_members(trimmed).or_else(|| looks_json.then(|| json_members(body)).flatten())
    } else {
        None
    }
}

fn json_members(body: &[u8]) -> Option<Members> {
    serde_json::from_slice::<Members>(body).ok()
}

fn form_members(trimmed: &[u8]) -> Option<Members> {
    if trimmed.is_empty() || !trimmed.contains(&b'=') {
        return None;
    }
    let mut fields = Map::new();
    for (k, v) in form_urlencoded::parse(trimmed) {
        fields
            .entry(k.into_owned())
            .or_insert_with(|| Value::String(v.into_owned()));
    }
    Some(fields)
}

/// The `error` member when it is a non-empty string, else Google's `error_code`.
pub fn error_code(fields: &Members) -> Option<String> {
    ["error", "error_code"]
        .iter()
        .find_map(|name| match fields.get(*name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
}

/// A whole number of seconds, as a JSON number or a numeric string.
pub fn whole_seconds(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What is known of a `Retry-After` header: delay-seconds, and an IMF-fixdate measured
/// against an IMF-fixdate `Date` header, are read; the obsolete date formats and anything
/// odd are not (the core may or may not read them: the rules then only ask for a wait at
/// least as long as without the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RetryAfter {
    Known(Option<Duration>),
    Unknown,
}

impl RetryAfter {
    /// The wait: `base`, or the header's delay when later. `None` when the header could not
    /// be read here, so the wait is only known to be at least `base`.
    fn wait(self, base: Duration) -> Option<Duration> {
        match self {
            RetryAfter::Known(ra) => Some(base.max(ra.unwrap_or_default())),
            RetryAfter::Unknown => None,
        }
    }
}

fn retry_after(headers: &http::HeaderMap) -> RetryAfter {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .map(str::trim)
    };
    let Some(value) = headers.get(http::header::RETRY_AFTER) else {
        return RetryAfter::Known(None);
    };
    match value.to_str().ok().map(str::trim) {
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_or(RetryAfter::Unknown, |n| {
                RetryAfter::Known(Some(Duration::from_secs(n)))
            })
        }
        Some(s) => match parse_imf_fixdate(s) {
            // RFC 9110 §10.2.3: a date is a time; without the server's `Date` to measure
            // it against, the core ignores it (it reads no clock).
            Some(at) => match text(http::header::DATE) {
                None => RetryAfter::Known(None),
                Some(d) => parse_imf_fixdate(d).map_or(RetryAfter::Unknown, |date| {
                    RetryAfter::Known(Some(Duration::from_secs(at.saturating_sub(date))))
                }),
            },
            None => RetryAfter::Unknown,
        },
        None => RetryAfter::Unknown,
    }
}

/// The last answer, until the flow has said what it makes of it.
#[derive(Debug)]
struct Answered {
    step: Step,
    at: Instant,
    status: Option<u16>,
    transport: Option<TransportErrorKind>,
    retry_after: RetryAfter,
    prediction: Prediction,
    events: Vec<&'static str>,
    settled: bool,
    /// Whether the answer ended the flow.
    ended: bool,
}

#[derive(Debug)]
enum Cause {
    Answer,
    Clock,
    Cancel,
}

/// The checker for one flow; see the [module documentation](self).
#[derive(Debug)]
pub struct Rules {
    grant: Grant,
    limits: Limits,
    now: Instant,
    outstanding: Option<Step>,
    sent_first: bool,
    polls: u32,
    user_codes: u32,
    deadline: Option<Instant>,
    interval: Option<Duration>,
    /// No poll before this; `None` with a deadline set: not before the end of time.
    earliest: Option<Instant>,
    /// Whether `earliest` is exactly when the next poll is due, not only a lower bound.
    exact: bool,
    last_poll: Option<Instant>,
    failures: u32,
    last_wait: Option<Instant>,
    must_progress: bool,
    /// The device authorization request failed and the flow said it would send it again
    /// (PROVIDERS §16): the next request is that retry, not a poll, and not before this.
    device_retry_at: Option<Instant>,
    answered: Option<Answered>,
    cause: Option<Cause>,
    done: Option<Result<TokenResponse, FlowError>>,
    breaches: Vec<Breach>,
    /// Rule 14: the request to send again at once, and whether the one out is that retry.
    retry: Option<Step>,
    retried: bool,
}

impl Rules {
    /// A checker for a flow of `grant` created at `start`.
    pub fn new(grant: Grant, start: Instant, limits: Limits) -> Rules {
        Rules {
            grant,
            limits,
            now: start,
            outstanding: None,
            sent_first: false,
            polls: 0,
            user_codes: 0,
            deadline: None,
            interval: None,
            earliest: None,
            exact: false,
            last_poll: None,
            failures: 0,
            last_wait: None,
            must_progress: false,
            device_retry_at: None,
            answered: None,
            cause: None,
            done: None,
            breaches: Vec::new(),
            retry: None,
            retried: false,
        }
    }

    /// Every breach so far.
    pub fn breaches(&self) -> &[Breach] {
        &self.breaches
    }

    /// Takes the breaches out.
    pub fn take_breaches(&mut self) -> Vec<Breach> {
        std::mem::take(&mut self.breaches)
    }

    /// The virtual clock: the latest `now` handed to the flow.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The deadline, once the device answer gave one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The interval the rules expect to be in force.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// Polls sent so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// How the last answer was read, until the next one.
    pub fn prediction(&self) -> Option<&Prediction> {
        self.answered.as_ref().map(|a| &a.prediction)
    }

    /// The result the flow ended with, once it said `Done`.
    pub fn done(&self) -> Option<&Result<TokenResponse, FlowError>> {
        self.done.as_ref()
    }

    fn breach(&mut self, rule: u8, what: impl Into<String>) {
        self.breaches.push(Breach {
            rule,
            at: self.now,
            what: what.into(),
        });
    }

    /// One output of `poll_output`.
    pub fn output(&mut self, output: &Output) {
        if let Some(done) = &self.done {
            match output {
                Output::Done(again) if again == done => {}
                other => {
                    let what = format!("{other:?} after Done");
                    self.breach(6, what);
                }
            }
            return;
        }
        if matches!(self.cause, Some(Cause::Cancel))
            && !matches!(output, Output::Done(Err(FlowError::Cancelled)))
        {
            let what = format!("{output:?} after cancel, not Done(Err(Cancelled))");
            self.breach(12, what);
        }
        match output {
            Output::Event(event) => self.event(event),
            Output::Send { request, .. } => {
                self.settle();
                self.progress(true);
                self.send(request);
            }
            Output::WaitUntil(at) => {
                self.settle();
                self.progress(false);
                if *at <= self.now {
                    let what = format!("WaitUntil({at:?}) is not later than now {:?}", self.now);
                    self.breach(7, what);
                }
                if self.outstanding.is_some() {
                    self.breach(7, "WaitUntil with a request out");
                }
                if self.deadline.is_some_and(|d| *at > d) {
                    self.breach(7, "WaitUntil past the deadline");
                }
                if let Some(deadline) = self.deadline.filter(|_| self.exact) {
                    let due = self.earliest.map_or(deadline, |e| e.min(deadline));
                    if *at != due {
                        let what = format!(
                            "WaitUntil {:?} after the last answer, not {:?}",
                            at.saturating_duration_since(self.now),
                            due.saturating_duration_since(self.now)
                        );
                        self.breach(3, what);
                    }
                }
                self.last_wait = Some(*at);
            }
            Output::AwaitResponse(_) => {
                self.settle();
                self.progress(false);
                if self.outstanding.is_none() {
                    self.breach(7, "AwaitResponse with no request out");
                }
            }
            Output::Done(result) => {
                self.settle();
                self.must_progress = false;
                self.finish(result);
                self.done = Some(result.clone());
            }
            other => {
                let what = format!("an output the rules do not know: {other:?}");
                self.breach(7, what);
            }
        }
    }

    fn progress(&mut self, moved: bool) {
        if self.must_progress && !moved {
            self.breach(7, "the WaitUntil instant came and the flow still waits");
        }
        self.must_progress = false;
    }

    fn send(&mut self, request: &http::Request<Vec<u8>>) {
        if self.outstanding.is_some() {
            self.breach(3, "a second request while one is out");
        }
        if let Some(step) = self.retry.take() {
            // Rule 14: the nonce retry is not a poll; no interval applies to it.
            self.retried = true;
            self.outstanding = Some(step);
            self.last_wait = None;
            return;
        }
        let step = match self.grant {
            Grant::Refresh => {
                if self.sent_first {
                    self.breach(6, "a refresh flow sent twice");
                }
                Step::Refresh
            }
            Grant::Device if !self.sent_first => Step::Device,
            Grant::Device if self.user_codes == 0 && self.device_retry_at.is_some() => {
                if self.device_retry_at.is_some_and(|at| self.now < at) {
                    self.breach(3, "the device request retried before its back-off ended");
                }
                self.device_retry_at = None;
                Step::Device
            }
            Grant::Device => Step::Poll,
        };
        self.sent_first = true;
        self.outstanding = Some(step);
        self.last_wait = None;
        if step != Step::Poll {
            return;
        }
        if request.method() != http::Method::POST {
            self.breach(3, format!("a poll with {}", request.method()));
        }
        if self.user_codes != 1 {
            self.breach(5, "a poll before Event::UserCode");
        }
        match self.deadline {
            Some(d) if self.now >= d => {
                let what = format!("a poll at or after the deadline ({:?} late)", self.now - d);
                self.breach(4, what);
            }
            _ => {}
        }
        match self.earliest {
            Some(t) if self.now < t => {
                let what = format!(
                    "a poll {:?} before the interval or back-off since the last answer ended",
                    t - self.now
                );
                self.breach(3, what);
            }
            None => self.breach(
                3,
                "a poll although the next one is due after the end of time",
            ),
            _ => {}
        }
        if let (Some(last), Some(interval)) = (self.last_poll, self.interval)
            && last.checked_add(interval).is_none_or(|n| self.now < n)
        {
            self.breach(3, "a poll before the last poll + the interval");
        }
        self.polls += 1;
        self.last_poll = Some(self.now);
    }

    fn event(&mut self, event: &Event) {
        let Some(info) = self.answered.as_mut().filter(|a| !a.settled) else {
            let what = format!("{event:?} with no answer to come from");
            self.breach(5, what);
            return;
        };
        let (step, at, info_retry) = (info.step, info.at, info.retry_after);
        match event {
            Event::UserCode(prompt) => {
                info.events.push("UserCode");
                if step != Step::Device {
                    self.breach(5, "a user code after a poll answer or in a refresh");
                }
                self.user_codes += 1;
                if self.user_codes > 1 {
                    self.breach(5, "a second Event::UserCode");
                }
                if self.polls > 0 {
                    self.breach(5, "Event::UserCode after a poll");
                }
                if at.checked_add(prompt.expires_in()) != Some(prompt.expires_at()) {
                    self.breach(4, "expires_at is not the arrival + expires_in");
                }
                match self.deadline {
                    Some(d) if d != prompt.expires_at() => {
                        self.breach(4, "the flow's deadline is not the prompt's expires_at");
                    }
                    _ => self.deadline = Some(prompt.expires_at()),
                }
            }
            Event::SlowDown { interval } => {
                info.events.push("SlowDown");
                let sent = match &info.prediction {
                    Prediction::SlowDown { sent } => *sent,
                    Prediction::Unknown => None,
                    other => {
                        let what = format!("SlowDown after {other:?}");
                        self.breach(1, what);
                        None
                    }
                };
                let Some(before) = self.interval.filter(|_| step == Step::Poll) else {
                    self.breach(1, "SlowDown outside polling");
                    return;
                };
                let stepped = before.saturating_add(SLOW_DOWN_STEP);
                match sent {
                    Some(sent) => {
                        let want = stepped.max(sent.unwrap_or_default());
                        if *interval != want {
                            let what = format!(
                                "slow_down made the interval {interval:?}, not {want:?} \
                                 ({before:?} + 5 s, or the interval sent)"
                            );
                            self.breach(1, what);
                        }
                    }
                    None if *interval < stepped => {
                        self.breach(1, "slow_down added less than 5 s");
                    }
                    None => {}
                }
                self.interval = Some(*interval);
                let retry = info_retry;
                let wait = retry.wait(*interval);
                self.exact = wait.is_some();
                self.earliest = at.checked_add(wait.unwrap_or(*interval));
            }
            Event::BackOff { delay, cause } if step == Step::Device => {
                info.events.push("BackOff");
                let (status, transport, retry) = (info.status, info.transport, info.retry_after);
                // The device request's own back-off: no interval yet, Retry-After a floor.
                if let RetryAfter::Known(Some(ra)) = retry
                    && *delay < ra
                {
                    self.breach(2, "a device request retried before its Retry-After");
                }
                let fits = match cause {
                    BackOffCause::Transport(kind) => transport == Some(*kind),
                    BackOffCause::Status(s) => status == Some(*s),
                    _ => status.is_some(),
                };
                if !fits {
                    let what = format!("back-off cause {cause:?} for that device answer");
                    self.breach(2, what);
                }
                self.device_retry_at = at.checked_add(*delay);
            }
            Event::BackOff { delay, cause } => {
                info.events.push("BackOff");
                let (status, transport, retry) = (info.status, info.transport, info.retry_after);
                let Some(interval) = self.interval.filter(|_| step == Step::Poll) else {
                    self.breach(2, "BackOff outside polling");
                    return;
                };
                // A response's Retry-After counts whatever the cause (rule 11); a transport
                // failure has none.
                let mut retry_after = RetryAfter::Known(None);
                let mut lost_answer = false;
                match cause {
                    BackOffCause::Transport(kind) if transport == Some(*kind) => {
                        lost_answer =
                            matches!(kind, TransportErrorKind::Timeout | TransportErrorKind::Io);
                    }
                    BackOffCause::Status(s) if status == Some(*s) => {
                        if !matches!(s, 429 | 502 | 503 | 504) {
                            self.breach(2, format!("back-off on status {s}"));
                        }
                        retry_after = retry;
                    }
                    BackOffCause::TemporarilyUnavailable if status.is_some() => {
                        retry_after = retry;
                    }
                    other => {
                        let what = format!("back-off cause {other:?} for that answer");
                        self.breach(2, what);
                    }
                }
                self.failures = self.failures.saturating_add(1);
                let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
                let mut plain = interval
                    .max(MIN_BACKOFF)
                    .saturating_mul(factor)
                    .min(self.limits.max_backoff)
                    .max(interval);
                if lost_answer {
                    // Rule 11: longer than the interval, even above the cap.
                    plain = plain.max(interval.saturating_add(SLOW_DOWN_STEP));
                }
                match retry_after.wait(plain) {
                    Some(want) if *delay != want => {
                        let what = format!(
                            "back-off of {delay:?} after {} failures in a row \
                             ({cause:?}, Retry-After {retry_after:?}), not {want:?}",
                            self.failures
                        );
                        self.breach(2, what);
                    }
                    Some(_) => {}
                    None if *delay < plain => {
                        self.breach(2, "back-off shorter than without Retry-After");
                    }
                    None => {}
                }
                self.exact = retry_after.wait(plain).is_some();
                self.earliest = at.checked_add(*delay).or(self.deadline);
            }
            other => {
                let what = format!("an event the rules do not know: {other:?}");
                self.breach(5, what);
            }
        }
    }

    /// Checks the events of the last answer once the flow moved on.
    fn settle(&mut self) {
        let Some(info) = self.answered.as_mut() else {
            return;
        };
        if info.settled {
            return;
        }
        info.settled = true;
        if matches!(self.cause, Some(Cause::Cancel)) {
            // Rule 12: cancel dropped whatever events were still queued.
            return;
        }
        let ended = info.ended;
        let kinds = info.events.clone();
        let want: Option<&[&str]> = if ended {
            Some(&[])
        } else {
            match (info.step, &info.prediction, info.transport) {
                (_, Prediction::DpopNonce, _) => Some(&[]),
                (Step::Device, Prediction::Device(_), None) => Some(&["UserCode"]),
                // No telling whether the core read a code or a page worth retrying.
                (Step::Device, Prediction::Unknown, None) => None,
                // A failed device request that did not end the flow is retried.
                (Step::Device, _, _) => Some(&["BackOff"]),
                (Step::Poll, _, Some(_)) => Some(&["BackOff"]),
                (Step::Poll, Prediction::Pending, _) => Some(&[]),
                (Step::Poll, Prediction::SlowDown { .. }, _) => Some(&["SlowDown"]),
                (Step::Poll, Prediction::TemporarilyUnavailable | Prediction::RetryStatus, _) => {
                    Some(&["BackOff"])
                }
                _ => None,
            }
        };
        let step = info.step;
        let nonce = info.prediction == Prediction::DpopNonce;
        match want {
            Some(want) if kinds != want => {
                let rule = if kinds.contains(&"SlowDown") || want.contains(&"SlowDown") {
                    1
                } else if kinds.contains(&"UserCode") || want.contains(&"UserCode") {
                    5
                } else {
                    2
                };
                self.breach(
                    rule,
                    format!("events {kinds:?} after an answer, not {want:?}"),
                );
            }
            // An answer the checker cannot read: at most one event, of a kind that answer's
            // step can give (a device answer read as a code, or retried; a poll answer).
            None if step == Step::Device
                && !(kinds.is_empty() || kinds == ["UserCode"] || kinds == ["BackOff"]) =>
            {
                self.breach(5, format!("events {kinds:?} after a device answer"));
            }
            None if step != Step::Device
                && !(kinds.is_empty() || kinds == ["SlowDown"] || kinds == ["BackOff"]) =>
            {
                self.breach(8, format!("events {kinds:?} after a poll answer"));
            }
            _ => {}
        }
        if step == Step::Poll && !kinds.contains(&"BackOff") && !nonce {
            // Pending and slow_down answers end a run of failures.
            self.failures = 0;
        }
    }

    /// An answer (a response or a transport failure) was handed to `flow` at `now`.
    pub fn answered(&mut self, flow: &Flow, now: Instant, answer: &Answer) {
        self.tick(now);
        let Some(step) = self.outstanding.take() else {
            self.breach(6, "an answer accepted with no request out");
            return;
        };
        let (status, transport, retry, prediction) = match answer {
            Answer::Response(r) => {
                let ct = r
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                let p = predict(step, r.status().as_u16(), ct, r.body(), flow.body_limit());
                (Some(r.status().as_u16()), None, retry_after(r.headers()), p)
            }
            Answer::Transport(kind) => (
                None,
                Some(*kind),
                RetryAfter::Known(None),
                Prediction::Unknown,
            ),
        };
        let first_nonce = !std::mem::take(&mut self.retried);
        if first_nonce
            && flow.config().dpop_signer().is_some()
            && let Answer::Response(r) = answer
            && r.headers().contains_key("dpop-nonce")
            && matches!(&prediction, Prediction::OAuth(b) if b.code == "use_dpop_nonce")
        {
            if flow.is_done() {
                self.breach(14, "use_dpop_nonce with a nonce ended the flow");
            }
            self.retry = Some(step);
            self.answered = Some(Answered {
                step,
                at: now,
                status,
                transport,
                retry_after: retry,
                prediction: Prediction::DpopNonce,
                events: Vec::new(),
                settled: false,
                ended: false,
            });
            return;
        }
        let must_end = match (step, &prediction, transport) {
            (Step::Refresh, _, _) => Some(true),
            // Retried while attempts last, then the end.
            (Step::Device, _, Some(_))
            | (
                Step::Device,
                Prediction::SlowDown { .. }
                | Prediction::TemporarilyUnavailable
                | Prediction::RetryStatus,
                _,
            ) => None,
            (Step::Poll, _, Some(_)) => Some(false),
            (_, Prediction::Unknown | Prediction::Device(_), _) => None,
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
        let done = flow.is_done();
        if let Some(end) = must_end
            && end != done
        {
            let what = if end {
                format!("{prediction:?} at {step:?} did not end the flow")
            } else {
                format!("{prediction:?} at {step:?} ended the flow")
            };
            self.breach(if transport.is_some() { 2 } else { 8 }, what);
        }
        if done {
            self.cause = Some(Cause::Answer);
        } else if step == Step::Device {
            let flow_interval = flow.interval();
            let want = match &prediction {
                Prediction::Device(fields) => match fields.get("interval") {
                    None | Some(Value::Null) => Some(self.limits.default_interval),
                    Some(v) => match whole_seconds(v) {
                        Some(0) => Some(self.limits.default_interval),
                        Some(s) => Some(Duration::from_secs(s)),
                        None => None,
                    },
                },
                _ => None,
            };
            if let Some(want) = want
                && flow_interval != Some(want)
            {
                let what = format!("the first interval is {flow_interval:?}, not {want:?}");
                self.breach(1, what);
            }
            self.interval = want.or(flow_interval);
            self.deadline = flow.deadline();
        }
        if !done {
            // What an answer without an event asks for; `SlowDown` and `BackOff` replace it.
            let wait = match (step, &prediction) {
                (Step::Device, _) => self.interval.map(|i| (i, true)),
                (Step::Poll, Prediction::Pending) => self
                    .interval
                    .map(|i| retry.wait(i).map_or((i, false), |w| (w, true))),
                _ => self.interval.map(|i| (i, false)),
            };
            self.exact = wait.is_some_and(|(_, exact)| exact);
            self.earliest = wait.and_then(|(w, _)| now.checked_add(w));
        }
        self.answered = Some(Answered {
            step,
            at: now,
            status,
            transport,
            retry_after: retry,
            prediction,
            events: Vec::new(),
            settled: false,
            ended: done,
        });
    }

    /// `handle_timeout(now)` was called on `flow`.
    pub fn timeout(&mut self, flow: &Flow, now: Instant) {
        self.tick(now);
        if self.done.is_some() {
            return;
        }
        if flow.is_done() {
            if self.cause.is_none() {
                self.cause = Some(Cause::Clock);
            }
            if self.outstanding.is_some() {
                self.breach(4, "a timeout ended a flow with a request out");
            }
        } else if let (Some(deadline), None) = (self.deadline, self.outstanding)
            && self.now >= deadline
        {
            self.breach(4, "the deadline passed and the flow goes on");
        }
        if self.last_wait.is_some_and(|w| self.now >= w) {
            self.must_progress = true;
        }
    }

    /// `cancel()` was called on `flow`.
    pub fn cancelled(&mut self, flow: &Flow) {
        if self.done.is_none() && self.cause.is_none() {
            self.cause = Some(Cause::Cancel);
            self.must_progress = false;
            if !flow.is_done() {
                self.breach(6, "cancel did not end the flow");
            }
        }
    }

    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    fn finish(&mut self, result: &Result<TokenResponse, FlowError>) {
        match self.cause {
            None | Some(Cause::Clock) => {
                if !matches!(result, Err(FlowError::Expired(None))) {
                    let what = format!("the flow ended by itself with {result:?}");
                    self.breach(4, what);
                } else if self.deadline.is_none_or(|d| self.now < d) {
                    self.breach(4, "Expired before the deadline");
                }
            }
            Some(Cause::Cancel) => {
                if !matches!(result, Err(FlowError::Cancelled)) {
                    let what = format!("cancel ended the flow with {result:?}");
                    self.breach(6, what);
                }
            }
            Some(Cause::Answer) => {
                let Some(info) = &self.answered else { return };
                let fits = match (&info.prediction, result) {
                    (_, Err(FlowError::Unavailable { .. })) => info.step == Step::Device,
                    // Retrying switched off: the failure itself ends the flow.
                    (
                        Prediction::RetryStatus
                        | Prediction::SlowDown { .. }
                        | Prediction::TemporarilyUnavailable,
                        Err(_),
                    ) if info.step == Step::Device => true,
                    (_, Err(FlowError::Transport { kind, .. })) => info.transport == Some(*kind),
                    (_, _) if info.transport.is_some() => false,
                    (Prediction::Unknown, _) => true,
                    (Prediction::TooLarge | Prediction::UnexpectedStatus, r) => {
                        matches!(r, Err(FlowError::InvalidResponse(_)))
                    }
                    (Prediction::OAuth(b), Err(FlowError::WrongRegion { error, .. })) => {
                        error.error() == b.code
                    }
                    (Prediction::OAuth(b), Err(FlowError::OAuth(e)))
                    | (Prediction::Denied(b), Err(FlowError::Denied(e)))
                    | (Prediction::Expired(b), Err(FlowError::Expired(Some(e)))) => {
                        e.error() == b.code
                    }
                    // Rules 9 and 13: the required members decide, nothing else.
                    (Prediction::Token(fields), Ok(_)) => token_valid(fields),
                    (Prediction::Token(fields), Err(FlowError::InvalidResponse(_))) => {
                        !token_valid(fields)
                    }
                    (Prediction::Device(_), Err(FlowError::InvalidResponse(_))) => true,
                    _ => false,
                };
                if !fits {
                    let what = format!("{:?} ended the flow with {result:?}", info.prediction);
                    self.breach(8, what);
                }
            }
        }
    }
}

/// Whether a success body must give a token (rules 9 and 13): `access_token` and
/// `token_type` are non-empty strings; optional members never cost the token.
fn token_valid(fields: &Members) -> bool {
    // AWS's SSO OIDC answers in camelCase (PROVIDERS.md, AWS).
    [("access_token", "accessToken"), ("token_type", "tokenType")]
        .iter()
        .all(|(snake, camel)| {
            [snake, camel]
                .iter()
                .any(|name| matches!(fields.get(**name), Some(Value::String(s)) if !s.is_empty()))
        })
}
