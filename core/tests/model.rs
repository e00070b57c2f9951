//! A property-based model of the flow: proptest generates server answers, transport failures,
//! clock ticks, cancellation and misuse, and after every step the rules of the design hold:
//!
//! 1. the interval starts at the server's (5 s when absent or 0) and grows by 5 s per
//!    `slow_down`, or to GitHub's larger `interval`;
//! 2. transport failures and throttling back off without ending the flow;
//! 3. no poll before the previous answer plus the interval in force;
//! 4. nothing sent at or after the deadline;
//! 5. `UserCode` exactly once, before the first poll;
//! 6. after `Done`, only the same `Done`;
//! 7. `WaitUntil` always later than the last `now`;
//! 8. answers are classified by body at any status.

use std::time::{Duration, Instant};

use device_grant::{Config, Event, Flow, FlowError, Output, RequestId, TransportErrorKind};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Answer {
    Pending(u16),
    SlowDown(u16, Option<u64>),
    Denied(u16, &'static str),
    Expired(u16, &'static str),
    OtherError(u16),
    TemporarilyUnavailable(u16),
    Throttled(u16, Option<u64>),
    Garbage(u16, Vec<u8>),
    Success,
}

#[derive(Clone, Debug)]
enum Action {
    Answer(Answer),
    Transport(TransportErrorKind),
    /// Advance the clock by this many milliseconds.
    Tick(u64),
    /// Advance the clock to the instant the flow asked to be woken at.
    Wake,
    Cancel,
    /// Hand in an answer for a request id that is not the one out.
    Stale(u64),
}

fn status(choices: &'static [u16]) -> impl Strategy<Value = u16> {
    prop::sample::select(choices)
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        6 => status(&[200, 400, 403, 428]).prop_map(Answer::Pending),
        2 => (status(&[200, 400, 403, 429]), prop::option::of(0u64..40)).prop_map(|(s, i)| Answer::SlowDown(s, i)),
        1 => (status(&[200, 400, 403]), prop::sample::select(&["access_denied", "authorization_declined"][..])).prop_map(|(s, c)| Answer::Denied(s, c)),
        1 => (status(&[200, 400]), prop::sample::select(&["expired_token", "code_expired"][..])).prop_map(|(s, c)| Answer::Expired(s, c)),
        1 => status(&[200, 400, 401]).prop_map(Answer::OtherError),
        1 => status(&[400, 503]).prop_map(Answer::TemporarilyUnavailable),
        2 => (status(&[429, 502, 503, 504]), prop::option::of(0u64..100_000)).prop_map(|(s, r)| Answer::Throttled(s, r)),
        1 => (status(&[200, 400, 500]), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(s, b)| Answer::Garbage(s, b)),
        1 => Just(Answer::Success),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => answer().prop_map(Action::Answer),
        2 => prop_oneof![
            Just(TransportErrorKind::Connect),
            Just(TransportErrorKind::Timeout),
            Just(TransportErrorKind::Io),
            Just(TransportErrorKind::Other)
        ]
        .prop_map(Action::Transport),
        2 => prop_oneof![0u64..20_000, Just(u64::MAX / 4)].prop_map(Action::Tick),
        6 => Just(Action::Wake),
        1 => Just(Action::Cancel),
        1 => (0u64..1000).prop_map(Action::Stale),
    ]
}

fn response(a: &Answer) -> http::Response<Vec<u8>> {
    let (status, body, extra): (u16, String, Option<(&str, String)>) = match a {
        Answer::Pending(s) => (*s, r#"{"error":"authorization_pending"}"#.into(), None),
        Answer::SlowDown(s, None) => (*s, r#"{"error":"slow_down"}"#.into(), None),
        Answer::SlowDown(s, Some(i)) => (
            *s,
            format!(r#"{{"error":"slow_down","interval":{i}}}"#),
            None,
        ),
        Answer::Denied(s, c) | Answer::Expired(s, c) => (*s, format!(r#"{{"error":"{c}"}}"#), None),
        Answer::OtherError(s) => (
            *s,
            r#"{"error":"invalid_grant","error_codes":[1]}"#.into(),
            None,
        ),
        Answer::TemporarilyUnavailable(s) => {
            (*s, r#"{"error":"temporarily_unavailable"}"#.into(), None)
        }
        Answer::Throttled(s, r) => (
            *s,
            "<html>busy</html>".into(),
            r.map(|r| ("retry-after", r.to_string())),
        ),
        Answer::Garbage(s, b) => {
            return http::Response::builder()
                .status(*s)
                .body(b.clone())
                .unwrap();
        }
        Answer::Success => (
            200,
            r#"{"access_token":"at","token_type":"Bearer"}"#.into(),
            None,
        ),
    };
    let mut b = http::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some((k, v)) = extra {
        b = b.header(k, v);
    }
    b.body(body.into_bytes()).unwrap()
}

/// The reference model of what the flow must do.
struct Model {
    interval: Duration,
    deadline: Instant,
    /// The time of the last answer (or the device response): no poll before it + interval.
    last_answer: Instant,
    /// Extra wait demanded by back-off (at least the interval).
    earliest: Instant,
    user_codes: usize,
    polls: usize,
    /// Failures in a row, for the doubling back-off.
    failures: u32,
}

impl Model {
    /// Rule 2: the wait doubles per failure in a row (from at least 100 ms), is capped at
    /// 60 s, never drops below the interval, and honours Retry-After.
    fn back_off(&mut self, now: Instant, retry_after: Option<Duration>) {
        self.failures += 1;
        let doubled = self
            .interval
            .max(Duration::from_millis(100))
            .saturating_mul(1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX));
        let delay = doubled
            .min(Duration::from_secs(60))
            .max(self.interval)
            .max(retry_after.unwrap_or_default());
        self.earliest = now
            .checked_add(delay)
            .unwrap_or(self.deadline)
            .min(self.deadline.max(now));
    }
}

fn check(
    device_interval: Option<u64>,
    expires_in: u64,
    actions: Vec<Action>,
) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let config = Config::builder("client")
        .device_endpoint("https://as.example/device")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    let mut flow = Flow::device(config, t0);
    let Output::Send { id, .. } = flow.poll_output() else {
        return Err(TestCaseError::fail(
            "first output must be the device request",
        ));
    };
    let body = match device_interval {
        Some(i) => format!(
            r#"{{"device_code":"dc","user_code":"UC","verification_uri":"https://v","expires_in":{expires_in},"interval":{i}}}"#
        ),
        None => format!(
            r#"{{"device_code":"dc","user_code":"UC","verification_uri":"https://v","expires_in":{expires_in}}}"#
        ),
    };
    let mut now = t0;
    flow.handle_response(
        id,
        http::Response::builder().status(200).body(body).unwrap(),
        now,
    )
    .unwrap();
    let interval = match device_interval {
        Some(0) | None => Duration::from_secs(5),
        Some(i) => Duration::from_secs(i),
    };
    let mut model = Model {
        interval,
        deadline: t0 + Duration::from_secs(expires_in),
        last_answer: t0,
        earliest: t0 + interval,
        user_codes: 0,
        polls: 0,
        failures: 0,
    };
    let mut out: Option<(RequestId, Instant)> = None;
    let mut wake: Option<Instant> = None;
    let mut done: Option<Result<device_grant::TokenResponse, FlowError>> = None;
    let mut last_answer: Option<Answer> = None;

    for action in actions {
        // Drain what the flow wants until it waits.
        for _ in 0..10 {
            match flow.poll_output() {
                Output::Event(Event::UserCode(_)) => {
                    model.user_codes += 1;
                    prop_assert_eq!(
                        model.polls,
                        0,
                        "rule 5: the prompt comes before the first poll"
                    );
                }
                Output::Event(Event::SlowDown { interval }) => {
                    prop_assert_eq!(interval, model.interval, "rule 1");
                }
                Output::Event(_) => {}
                Output::Send { id, request } => {
                    prop_assert!(done.is_none(), "rule 6");
                    prop_assert!(
                        now < model.deadline,
                        "rule 4: sent at or after the deadline"
                    );
                    prop_assert!(
                        now >= model.last_answer + model.interval,
                        "rule 3: poll before the interval"
                    );
                    prop_assert!(
                        now >= model.earliest,
                        "rule 2: poll before the back-off ended"
                    );
                    prop_assert_eq!(request.uri().path(), "/token");
                    model.polls += 1;
                    out = Some((id, now));
                    break;
                }
                Output::WaitUntil(at) => {
                    prop_assert!(at > now, "rule 7: WaitUntil not in the future");
                    prop_assert!(at <= model.deadline);
                    wake = Some(at);
                    break;
                }
                Output::AwaitResponse(id) => {
                    prop_assert_eq!(Some(id), out.map(|o| o.0));
                    break;
                }
                Output::Done(result) => {
                    if let Some(previous) = &done {
                        prop_assert_eq!(previous, &result, "rule 6: Done is sticky");
                    }
                    done = Some(result);
                    break;
                }
                _ => return Err(TestCaseError::fail("unknown output")),
            }
        }
        prop_assert!(model.user_codes <= 1, "rule 5: one prompt");

        match action {
            Action::Answer(a) => {
                let Some((id, _)) = out else { continue };
                if done.is_some() {
                    prop_assert!(flow.handle_response(id, response(&a), now).is_err());
                    continue;
                }
                flow.handle_response(id, response(&a), now).unwrap();
                out = None;
                model.last_answer = now;
                model.earliest = now + model.interval;
                match &a {
                    Answer::SlowDown(_, sent) => {
                        model.failures = 0;
                        model.interval += Duration::from_secs(5);
                        if let Some(s) = sent {
                            model.interval = model.interval.max(Duration::from_secs(*s));
                        }
                        model.earliest = now + model.interval;
                    }
                    Answer::Throttled(_, r) => model.back_off(now, r.map(Duration::from_secs)),
                    Answer::TemporarilyUnavailable(_) => model.back_off(now, None),
                    _ => model.failures = 0,
                }
                last_answer = Some(a);
            }
            Action::Transport(kind) => {
                let Some((id, _)) = out else { continue };
                if done.is_some() {
                    prop_assert!(flow.handle_transport_error(id, kind, now).is_err());
                    continue;
                }
                flow.handle_transport_error(id, kind, now).unwrap();
                out = None;
                model.last_answer = now;
                model.back_off(now, None);
                last_answer = None;
            }
            Action::Tick(ms) => {
                if let Some(t) = now.checked_add(Duration::from_millis(ms)) {
                    now = t;
                    let r = flow.handle_timeout(now);
                    prop_assert_eq!(r.is_err(), done.is_some());
                }
            }
            Action::Wake => {
                if let Some(at) = wake.take() {
                    now = now.max(at);
                    let r = flow.handle_timeout(now);
                    prop_assert_eq!(r.is_err(), done.is_some());
                }
            }
            Action::Cancel => {
                flow.cancel();
                if done.is_none() {
                    done = None;
                    match flow.poll_output() {
                        Output::Done(r) => {
                            prop_assert_eq!(&r, &Err(FlowError::Cancelled));
                            done = Some(r);
                        }
                        // Events queued before the cancel still come out first.
                        Output::Event(_) => {}
                        _ => return Err(TestCaseError::fail("cancel did not end the flow")),
                    }
                }
            }
            Action::Stale(n) => {
                let before = (flow.deadline(), flow.interval(), flow.is_done());
                let bogus = match out {
                    // Ids are handed out in order; an id the flow never issued is bogus.
                    Some(_) | None => {
                        let mut probe = Flow::device(flow.config().clone(), now);
                        let mut last = None;
                        for _ in 0..=(n % 3) {
                            if let Output::Send { id, .. } = probe.poll_output() {
                                last = Some(id);
                            }
                        }
                        last
                    }
                };
                if let Some(bogus) = bogus.filter(|b| Some(*b) != out.map(|o| o.0)) {
                    prop_assert!(
                        flow.handle_transport_error(bogus, TransportErrorKind::Io, now)
                            .is_err()
                    );
                    prop_assert_eq!(
                        before,
                        (flow.deadline(), flow.interval(), flow.is_done()),
                        "misuse changed the state"
                    );
                }
            }
        }

        // Rule 8 and the end states: what ended the flow must match what the server said.
        if done.is_none() && flow.is_done() {
            let Output::Done(result) = flow.poll_output() else {
                unreachable!()
            };
            match (&last_answer, &result) {
                (_, Err(FlowError::Cancelled)) => {}
                (_, Err(FlowError::Expired(None))) => prop_assert!(now >= model.deadline),
                (Some(Answer::Success), r) => prop_assert!(r.is_ok()),
                (Some(Answer::Denied(..)), r) => {
                    prop_assert!(matches!(r, Err(FlowError::Denied(_))))
                }
                (Some(Answer::Expired(..)), r) => {
                    prop_assert!(matches!(r, Err(FlowError::Expired(Some(_)))))
                }
                (Some(Answer::OtherError(_)), r) => prop_assert!(
                    matches!(r, Err(FlowError::OAuth(e)) if e.error() == "invalid_grant")
                ),
                (Some(Answer::Garbage(..)), r) => prop_assert!(matches!(
                    r,
                    Err(FlowError::InvalidResponse(_)) | Err(FlowError::OAuth(_)) | Ok(_)
                )),
                (a, r) => {
                    return Err(TestCaseError::fail(format!(
                        "{a:?} must not end the flow, got {r:?}"
                    )));
                }
            }
            done = Some(result);
        }
    }
    prop_assert!(model.user_codes <= 1);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rules_hold_after_every_step(
        interval in prop::option::of(0u64..12),
        expires_in in prop_oneof![1u64..90, 90u64..4000],
        actions in prop::collection::vec(action(), 1..60),
    ) {
        check(interval, expires_in, actions)?;
    }
}
