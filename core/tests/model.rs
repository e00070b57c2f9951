//! A property-based model of the flow: proptest generates server answers, transport failures,
//! clock ticks, cancellation and misuse, and after every step the rules of the design hold,
//! as the simulator's one rule checker (`device_grant_sim::rules`) reads them: the interval,
//! back-off, no early poll, the deadline, one prompt before the first poll, a sticky `Done`,
//! `WaitUntil` in the future, answers classified by body at any status, `Retry-After` on
//! every answer, 429 and 503 backing off whatever error they carry, and `cancel` dropping
//! what was queued.
//!
//! Two drivers feed it: a stepper for what a run-to-completion driver cannot do (ticks at
//! any time, cancellation, answers for the wrong request), and the simulator's `drive` over
//! generated answer scripts.

use std::time::{Duration, Instant};

use device_grant::{Config, Flow, FlowError, Output, RequestId, TransportErrorKind};
use device_grant_sim::rules::{Grant, Limits, Rules};
use device_grant_sim::{Answer as Reply, Scripted};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Answer {
    /// With a `Retry-After` (rule 11) when `Some`.
    Pending(u16, Option<u64>),
    SlowDown(u16, Option<u64>),
    Denied(u16, &'static str),
    Expired(u16, &'static str),
    OtherError(u16),
    TemporarilyUnavailable(u16, Option<u64>),
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
    Stale,
}

fn status(choices: &'static [u16]) -> impl Strategy<Value = u16> {
    prop::sample::select(choices)
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        6 => (status(&[200, 400, 403, 428]), prop::option::weighted(0.2, 0u64..60)).prop_map(|(s, r)| Answer::Pending(s, r)),
        2 => (status(&[200, 400, 403, 429]), prop::option::of(0u64..40)).prop_map(|(s, i)| Answer::SlowDown(s, i)),
        1 => (status(&[200, 400, 403]), prop::sample::select(&["access_denied", "authorization_declined"][..])).prop_map(|(s, c)| Answer::Denied(s, c)),
        1 => (status(&[200, 400]), prop::sample::select(&["expired_token", "code_expired"][..])).prop_map(|(s, c)| Answer::Expired(s, c)),
        // At 429 and 503 an error no rule covers backs off (rule 11).
        1 => status(&[200, 400, 401, 429, 503]).prop_map(Answer::OtherError),
        1 => (status(&[400, 503]), prop::option::of(0u64..60)).prop_map(|(s, r)| Answer::TemporarilyUnavailable(s, r)),
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
        1 => Just(Action::Stale),
    ]
}

fn response(a: &Answer) -> http::Response<Vec<u8>> {
    let (status, body, extra): (u16, String, Option<(&str, String)>) = match a {
        Answer::Pending(s, r) => (
            *s,
            r#"{"error":"authorization_pending"}"#.into(),
            r.map(|r| ("retry-after", r.to_string())),
        ),
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
        Answer::TemporarilyUnavailable(s, r) => (
            *s,
            r#"{"error":"temporarily_unavailable"}"#.into(),
            r.map(|r| ("retry-after", r.to_string())),
        ),
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

fn config() -> Config {
    Config::builder("client")
        .device_endpoint("https://as.example/device")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap()
}

fn device_body(device_interval: Option<u64>, expires_in: u64) -> String {
    match device_interval {
        Some(i) => format!(
            r#"{{"device_code":"dc","user_code":"UC","verification_uri":"https://v","expires_in":{expires_in},"interval":{i}}}"#
        ),
        None => format!(
            r#"{{"device_code":"dc","user_code":"UC","verification_uri":"https://v","expires_in":{expires_in}}}"#
        ),
    }
}

fn clean(rules: &Rules) -> Result<(), TestCaseError> {
    match rules.breaches() {
        [] => Ok(()),
        breaches => Err(TestCaseError::fail(format!("{breaches:#?}"))),
    }
}

/// Steps the flow through `actions`, feeding everything to the rule checker.
fn check(
    device_interval: Option<u64>,
    expires_in: u64,
    actions: Vec<Action>,
) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut flow = Flow::device(config(), t0);
    let mut rules = Rules::new(Grant::Device, t0, Limits::default());
    let first = flow.poll_output();
    rules.output(&first);
    let Output::Send { id, .. } = first else {
        return Err(TestCaseError::fail(
            "first output must be the device request",
        ));
    };
    let mut now = t0;
    let device = Reply::json(200, &device_body(device_interval, expires_in));
    let Reply::Response(r) = &device else {
        unreachable!()
    };
    flow.handle_response(id, r.clone(), now).unwrap();
    rules.answered(&flow, now, &device);
    let mut out: Option<RequestId> = None;
    let mut wake: Option<Instant> = None;
    let mut done = false;

    for action in actions {
        // Drain what the flow wants until it waits.
        for _ in 0..10 {
            let output = flow.poll_output();
            rules.output(&output);
            match output {
                Output::Event(_) => continue,
                Output::Send { id, request } => {
                    prop_assert_eq!(request.uri().path(), "/token");
                    out = Some(id);
                }
                Output::WaitUntil(at) => wake = Some(at),
                Output::AwaitResponse(id) => prop_assert_eq!(Some(id), out),
                Output::Done(_) => done = true,
                _ => return Err(TestCaseError::fail("unknown output")),
            }
            break;
        }
        clean(&rules)?;

        match action {
            Action::Answer(a) => {
                let Some(id) = out else { continue };
                if done {
                    prop_assert!(flow.handle_response(id, response(&a), now).is_err());
                    continue;
                }
                flow.handle_response(id, response(&a), now).unwrap();
                out = None;
                rules.answered(&flow, now, &Reply::Response(response(&a)));
            }
            Action::Transport(kind) => {
                let Some(id) = out else { continue };
                if done {
                    prop_assert!(flow.handle_transport_error(id, kind, now).is_err());
                    continue;
                }
                flow.handle_transport_error(id, kind, now).unwrap();
                out = None;
                rules.answered(&flow, now, &Reply::Transport(kind));
            }
            Action::Tick(ms) => {
                if let Some(t) = now.checked_add(Duration::from_millis(ms)) {
                    now = t;
                    let r = flow.handle_timeout(now);
                    prop_assert_eq!(r.is_err(), done);
                    rules.timeout(&flow, now);
                }
            }
            Action::Wake => {
                if let Some(at) = wake.take() {
                    now = now.max(at);
                    let r = flow.handle_timeout(now);
                    prop_assert_eq!(r.is_err(), done);
                    rules.timeout(&flow, now);
                }
            }
            Action::Cancel => {
                flow.cancel();
                rules.cancelled(&flow);
                prop_assert!(flow.is_done(), "cancel did not end the flow");
            }
            Action::Stale => {
                let before = (flow.deadline(), flow.interval(), flow.is_done());
                // Ids are handed out in order, so a fresh flow's first id is this flow's first:
                // the device request, long answered.
                let mut probe = Flow::device(flow.config().clone(), now);
                let bogus = match probe.poll_output() {
                    Output::Send { id, .. } => Some(id),
                    _ => None,
                };
                if let Some(bogus) = bogus.filter(|b| Some(*b) != out) {
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
        clean(&rules)?;
    }
    // Whatever is left comes out, and the end (if any) is sticky.
    for _ in 0..10 {
        let output = flow.poll_output();
        rules.output(&output);
        if matches!(output, Output::Done(_)) {
            rules.output(&flow.poll_output());
            break;
        }
        if !matches!(output, Output::Event(_)) {
            break;
        }
    }
    clean(&rules)
}

/// The same rules over whole runs: `drive` answers every request from a generated script
/// (the last answer repeating) and sleeps through every wait.
fn check_driven(
    device_interval: Option<u64>,
    expires_in: u64,
    answers: Vec<Action>,
) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut script = vec![Reply::json(200, &device_body(device_interval, expires_in))];
    script.extend(answers.iter().filter_map(|a| match a {
        Action::Answer(a) => Some(Reply::Response(response(a))),
        Action::Transport(kind) => Some(Reply::Transport(*kind)),
        _ => None,
    }));
    script.push(Reply::json(400, r#"{"error":"authorization_pending"}"#));
    let run = device_grant_sim::drive(
        Flow::device(config(), t0),
        &mut Scripted::repeating_last(script),
        t0,
    );
    prop_assert!(run.breaches.is_empty(), "{:#?}", run.breaches);
    if let Err(FlowError::Expired(None)) = &run.outcome {
        prop_assert!(run.end >= t0 + Duration::from_secs(expires_in));
    }
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

    #[test]
    fn rules_hold_over_driven_runs(
        interval in prop::option::of(0u64..12),
        expires_in in prop_oneof![1u64..90, 90u64..600],
        actions in prop::collection::vec(action(), 0..30),
    ) {
        check_driven(interval, expires_in, actions)?;
    }
}
