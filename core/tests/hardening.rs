//! Hardening of the core against hostile or sloppy servers: server text that is safe to print,
//! verification URIs the user can safely be sent to, `Retry-After` and 429/503 whatever the
//! body, time-outs, cancellation, and tokens kept despite cosmetic members.
//!
//! Self-contained: only the public API, a virtual clock and one small driver.

use std::time::{Duration, Instant};

use device_grant::http::Response;
use device_grant::{
    BackOffCause, Config, Event, Flow, FlowError, Output, Problem, RequestId, TokenResponse,
    TransportErrorKind, UriProblem, display_safe,
};

const DEVICE: &str = "https://as.example/oauth/device";
const TOKEN: &str = "https://as.example/oauth/token";

fn config() -> Config {
    Config::builder("client")
        .device_endpoint(DEVICE)
        .token_endpoint(TOKEN)
        .build()
        .unwrap()
}

fn device_body(uri: &str) -> String {
    serde_json::json!({
        "device_code": "dc", "user_code": "WDJB-MJHT", "verification_uri": uri,
        "expires_in": 1800, "interval": 5,
    })
    .to_string()
}

/// An answer with a JSON body and extra headers.
fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Vec<u8>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body.as_bytes().to_vec()).unwrap()
}

/// What a flow said between two inputs.
#[derive(Debug, Default)]
struct Said {
    events: Vec<Event>,
    /// The request to answer next, if one went out.
    sent: Option<RequestId>,
    wait_until: Option<Instant>,
    done: Option<Result<TokenResponse, FlowError>>,
}

/// Drains outputs until the flow needs an input. Bounded: a flow that keeps talking fails
/// the test instead of hanging it.
fn drain(flow: &mut Flow) -> Said {
    let mut said = Said::default();
    for _ in 0..100 {
        match flow.poll_output() {
            Output::Event(e) => said.events.push(e),
            Output::Send { id, .. } => {
                said.sent = Some(id);
                return said;
            }
            Output::WaitUntil(at) => {
                said.wait_until = Some(at);
                return said;
            }
            Output::Done(result) => {
                said.done = Some(result);
                return said;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the flow kept talking")
}

/// A device flow that has shown its code and sent its first poll at `start + 5 s`.
fn polling(config: Config, start: Instant) -> (Flow, RequestId, Instant) {
    let mut flow = Flow::device(config, start);
    let id = drain(&mut flow).sent.unwrap();
    flow.handle_response(
        id,
        answer(200, &[], &device_body("https://as.example/device")),
        start,
    )
    .unwrap();
    let said = drain(&mut flow);
    let at = said.wait_until.unwrap();
    flow.handle_timeout(at).unwrap();
    let id = drain(&mut flow).sent.unwrap();
    (flow, id, at)
}

/// Answers the poll `id` at `now` and returns what followed, with the wait measured from now.
fn poll_answer(
    flow: &mut Flow,
    id: RequestId,
    now: Instant,
    reply: Response<Vec<u8>>,
) -> (Said, Option<Duration>) {
    flow.handle_response(id, reply, now).unwrap();
    let said = drain(flow);
    let wait = said.wait_until.map(|at| at - now);
    (said, wait)
}

// 1. Server text is safe to print.

const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}evil\u{200b}\r\n";

fn assert_clean(shown: &str) {
    assert_clean_lines(shown);
    assert!(!shown.contains('\n'), "a line break in {shown:?}");
}

/// Clean, allowing the line breaks of the crate's own layout.
fn assert_clean_lines(shown: &str) {
    for bad in ['\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{200b}', '\u{9b}'] {
        assert!(!shown.contains(bad), "{bad:?} in {shown:?}");
    }
}

#[test]
fn display_of_server_text_strips_escapes_and_escapes_controls() {
    assert_eq!(display_safe("ABCD-EFGH"), "ABCD-EFGH");
    let shown = display_safe(HOSTILE);
    assert_clean(&shown);
    // The OSC title and the CSI clear are gone; the rest is visible, not interpreted.
    assert_eq!(shown, "\\u{202e}evil\\u{200b}\\u{d}\\u{a}");
    for c in [
        '\u{61c}', '\u{200e}', '\u{200f}', '\u{2066}', '\u{2069}', '\u{2060}', '\u{feff}',
    ] {
        assert!(!display_safe(&format!("a{c}b")).contains(c), "{c:?}");
    }
}

#[test]
fn prompt_and_event_display_are_safe_while_accessors_stay_raw() {
    let start = Instant::now();
    let mut flow = Flow::device(config(), start);
    let id = drain(&mut flow).sent.unwrap();
    let body = serde_json::json!({
        "device_code": "dc", "user_code": format!("WDJB{HOSTILE}"),
        "verification_uri": "https://as.example/device",
        "verification_uri_complete": format!("https://as.example/device?c=\u{1b}[31m"),
        "expires_in": 600,
    });
    flow.handle_response(id, answer(200, &[], &body.to_string()), start)
        .unwrap();
    let said = drain(&mut flow);
    let [Event::UserCode(prompt)] = &said.events[..] else {
        panic!("{:?}", said.events)
    };
    assert_eq!(prompt.user_code(), format!("WDJB{HOSTILE}"));
    assert!(
        prompt
            .verification_uri_complete()
            .unwrap()
            .contains('\u{1b}')
    );
    let shown = prompt.to_string();
    assert_clean_lines(&shown);
    // Its own three lines; the server's CR LF cannot add a fourth.
    assert_eq!(shown.lines().count(), 3, "{shown}");
    assert!(shown.contains("WDJB\\u{202e}evil"), "{shown}");
    assert_eq!(said.events[0].to_string(), shown);
}

#[test]
fn error_display_is_safe_while_accessors_stay_raw() {
    let start = Instant::now();
    let (mut flow, id, at) = polling(config(), start);
    let body = serde_json::json!({
        "error": format!("invalid_grant{HOSTILE}"),
        "error_description": format!("\u{1b}[8mhidden\u{1b}[0m \u{202e}txt.exe"),
    });
    let (said, _) = poll_answer(&mut flow, id, at, answer(400, &[], &body.to_string()));
    let error = said.done.unwrap().unwrap_err();
    let response = error.error_response().unwrap();
    assert_eq!(response.error(), format!("invalid_grant{HOSTILE}"));
    assert!(response.description().unwrap().contains('\u{1b}'));
    for shown in [error.to_string(), response.to_string()] {
        assert_clean(&shown);
        assert!(shown.contains("hidden \\u{202e}txt.exe"), "{shown}");
    }
}

// 2. Verification URIs.

fn authorize(config: Config, uri: &str) -> Result<String, FlowError> {
    let start = Instant::now();
    let mut flow = Flow::device(config, start);
    let id = drain(&mut flow).sent.unwrap();
    flow.handle_response(id, answer(200, &[], &device_body(uri)), start)
        .unwrap();
    let said = drain(&mut flow);
    if let Some(result) = said.done {
        return Err(result.unwrap_err());
    }
    match &said.events[..] {
        [Event::UserCode(p)] => Ok(p.verification_uri().to_owned()),
        other => panic!("{other:?}"),
    }
}

fn uri_problem(error: FlowError) -> (&'static str, UriProblem) {
    match error {
        FlowError::InvalidResponse(i) => match i.problem() {
            Problem::UnsafeUri { field, reason } => (field, *reason),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn verification_uris_must_be_https_or_loopback_http() {
    assert_eq!(
        authorize(config(), "https://as.example/device").unwrap(),
        "https://as.example/device"
    );
    assert!(authorize(config(), "http://127.0.0.1:8080/device").is_ok());
    assert!(authorize(config(), "http://localhost/device").is_ok());
    let refused = [
        ("javascript:alert(1)", UriProblem::Scheme),
        ("file:///etc/passwd", UriProblem::Scheme),
        ("data:text/html,hi", UriProblem::Scheme),
        (
            "https://as.example@evil.example/device",
            UriProblem::Credentials,
        ),
        ("https://user:pw@as.example/device", UriProblem::Credentials),
        ("http://evil.example/device", UriProblem::InsecureHttp),
        ("https://[::1/device", UriProblem::NotAUrl),
    ];
    for (uri, want) in refused {
        let e = authorize(config(), uri).unwrap_err();
        assert_eq!(uri_problem(e), ("verification_uri", want), "{uri}");
    }
}

#[test]
fn the_complete_uri_is_checked_too() {
    let start = Instant::now();
    let mut flow = Flow::device(config(), start);
    let id = drain(&mut flow).sent.unwrap();
    let body = serde_json::json!({
        "device_code": "dc", "user_code": "U", "verification_uri": "https://as.example/d",
        "verification_uri_complete": "javascript:alert(1)", "expires_in": 600,
    });
    flow.handle_response(id, answer(200, &[], &body.to_string()), start)
        .unwrap();
    let e = drain(&mut flow).done.unwrap().unwrap_err();
    assert_eq!(
        uri_problem(e),
        ("verification_uri_complete", UriProblem::Scheme)
    );
}

#[test]
fn relative_uris_resolve_against_the_device_endpoint() {
    assert_eq!(
        authorize(config(), "/activate").unwrap(),
        "https://as.example/activate"
    );
    assert_eq!(
        authorize(config(), "activate?x=1").unwrap(),
        "https://as.example/oauth/activate?x=1"
    );
    // Protocol-relative: the host changes, the scheme stays https.
    assert_eq!(
        authorize(config(), "//other.example/go").unwrap(),
        "https://other.example/go"
    );
}

#[test]
fn allow_insecure_http_accepts_plain_http_uris() {
    let lab = Config::builder("client")
        .device_endpoint("http://lab.internal/device")
        .token_endpoint("http://lab.internal/token")
        .allow_insecure_http()
        .build()
        .unwrap();
    assert_eq!(
        authorize(lab.clone(), "http://lab.internal/activate").unwrap(),
        "http://lab.internal/activate"
    );
    // Relative to an http endpoint: resolved, then allowed by the same opt-in.
    assert_eq!(
        authorize(lab.clone(), "/activate").unwrap(),
        "http://lab.internal/activate"
    );
    // The opt-in is about http only.
    assert_eq!(
        uri_problem(authorize(lab, "javascript:alert(1)").unwrap_err()).1,
        UriProblem::Scheme
    );
}

// 3. Flow rules 11-13.

#[test]
fn retry_after_with_temporarily_unavailable_is_honoured() {
    let start = Instant::now();
    let (mut flow, id, at) = polling(config(), start);
    let (said, wait) = poll_answer(
        &mut flow,
        id,
        at,
        answer(
            503,
            &[("retry-after", "45")],
            r#"{"error":"temporarily_unavailable"}"#,
        ),
    );
    assert_eq!(wait, Some(Duration::from_secs(45)));
    assert!(matches!(
        said.events[..],
        [Event::BackOff {
            delay,
            cause: BackOffCause::TemporarilyUnavailable
        }] if delay == Duration::from_secs(45)
    ));
}

#[test]
fn retry_after_with_slow_down_is_the_later_of_both() {
    let start = Instant::now();
    let (mut flow, id, at) = polling(config(), start);
    let (said, wait) = poll_answer(
        &mut flow,
        id,
        at,
        answer(429, &[("retry-after", "30")], r#"{"error":"slow_down"}"#),
    );
    assert_eq!(wait, Some(Duration::from_secs(30)), "max(5 + 5, 30)");
    // The interval itself grows by 5 s only: Retry-After delays one poll.
    assert_eq!(flow.interval(), Some(Duration::from_secs(10)));
    assert!(matches!(
        said.events[..],
        [Event::SlowDown { interval }] if interval == Duration::from_secs(10)
    ));
    // A short Retry-After does not shorten the slow_down rule.
    flow.handle_timeout(at + Duration::from_secs(30)).unwrap();
    let id = drain(&mut flow).sent.unwrap();
    let now = at + Duration::from_secs(30);
    let (_, wait) = poll_answer(
        &mut flow,
        id,
        now,
        answer(429, &[("retry-after", "1")], r#"{"error":"slow_down"}"#),
    );
    assert_eq!(wait, Some(Duration::from_secs(15)));
}

#[test]
fn retry_after_with_authorization_pending_delays_the_next_poll() {
    let start = Instant::now();
    let (mut flow, id, at) = polling(config(), start);
    let (said, wait) = poll_answer(
        &mut flow,
        id,
        at,
        answer(
            400,
            &[("retry-after", "20")],
            r#"{"error":"authorization_pending"}"#,
        ),
    );
    assert_eq!(wait, Some(Duration::from_secs(20)));
    assert!(said.events.is_empty());
    assert_eq!(flow.interval(), Some(Duration::from_secs(5)));
}

#[test]
fn unknown_oauth_errors_at_429_and_503_back_off() {
    for status in [429, 503] {
        let start = Instant::now();
        let (mut flow, id, at) = polling(config(), start);
        let (said, wait) = poll_answer(
            &mut flow,
            id,
            at,
            answer(status, &[], r#"{"error":"Too Many Requests"}"#),
        );
        assert!(said.done.is_none(), "{status}: {:?}", said.done);
        assert!(
            matches!(said.events[..], [Event::BackOff { cause: BackOffCause::Status(s), .. }] if s == status),
            "{status}: {:?}",
            said.events
        );
        assert!(wait.unwrap() >= Duration::from_secs(5));
        // With a Retry-After, that is the wait.
        flow.handle_timeout(at + wait.unwrap()).unwrap();
        let id = drain(&mut flow).sent.unwrap();
        let now = at + wait.unwrap();
        let (_, wait) = poll_answer(
            &mut flow,
            id,
            now,
            answer(
                status,
                &[("retry-after", "50")],
                r#"{"error":"rate_limit_exceeded"}"#,
            ),
        );
        assert_eq!(wait, Some(Duration::from_secs(50)), "{status}");
    }
    // Elsewhere an unknown error still ends the flow.
    let start = Instant::now();
    let (mut flow, id, at) = polling(config(), start);
    let (said, _) = poll_answer(
        &mut flow,
        id,
        at,
        answer(400, &[], r#"{"error":"Too Many Requests"}"#),
    );
    assert!(matches!(said.done, Some(Err(FlowError::OAuth(_)))));
}

#[test]
fn after_a_time_out_the_wait_is_longer_than_the_interval_even_above_the_cap() {
    // An interval above the 60 s back-off cap.
    let start = Instant::now();
    let mut flow = Flow::device(config(), start);
    let id = drain(&mut flow).sent.unwrap();
    let body = serde_json::json!({"device_code": "dc", "user_code": "U",
        "verification_uri": "https://as.example/d", "expires_in": 3600, "interval": 90});
    flow.handle_response(id, answer(200, &[], &body.to_string()), start)
        .unwrap();
    let at = drain(&mut flow).wait_until.unwrap();
    flow.handle_timeout(at).unwrap();
    let id = drain(&mut flow).sent.unwrap();
    flow.handle_transport_error(id, TransportErrorKind::Timeout, at)
        .unwrap();
    let said = drain(&mut flow);
    let wait = said.wait_until.unwrap() - at;
    assert!(wait > Duration::from_secs(90), "{wait:?}");
    assert!(matches!(
        said.events[..],
        [Event::BackOff {
            cause: BackOffCause::Transport(TransportErrorKind::Timeout),
            ..
        }]
    ));
    // With the interval exactly at the cap.
    let capped = Config::builder("client")
        .device_endpoint(DEVICE)
        .token_endpoint(TOKEN)
        .max_backoff(Duration::from_secs(5))
        .build()
        .unwrap();
    let (mut flow, id, at) = polling(capped, start);
    flow.handle_transport_error(id, TransportErrorKind::Timeout, at)
        .unwrap();
    let wait = drain(&mut flow).wait_until.unwrap() - at;
    assert!(wait > Duration::from_secs(5), "{wait:?}");
}

#[test]
fn cancel_drops_every_queued_output() {
    let start = Instant::now();
    let mut flow = Flow::device(config(), start);
    let id = drain(&mut flow).sent.unwrap();
    flow.handle_response(
        id,
        answer(200, &[], &device_body("https://as.example/d")),
        start,
    )
    .unwrap();
    // The UserCode event is queued, not yet taken.
    flow.cancel();
    assert!(matches!(
        flow.poll_output(),
        Output::Done(Err(FlowError::Cancelled))
    ));
    assert!(matches!(
        flow.poll_output(),
        Output::Done(Err(FlowError::Cancelled))
    ));
}

fn token_from(body: &str) -> TokenResponse {
    let start = Instant::now();
    let (mut flow, id, at) = polling(config(), start);
    let (said, _) = poll_answer(&mut flow, id, at, answer(200, &[], body));
    said.done.unwrap().expect("the token is kept")
}

#[test]
fn optional_members_of_unexpected_types_stay_in_extra() {
    let t = token_from(
        r#"{"access_token":"at","token_type":"Bearer","scope":42,"expires_in":"3600s","refresh_token":7,"id_token":{"x":1}}"#,
    );
    assert_eq!(t.access_token().secret(), "at");
    assert_eq!(t.scopes(), None);
    assert_eq!(t.expires_in(), None);
    assert!(t.refresh_token().is_none());
    assert_eq!(t.extra()["scope"], 42);
    assert_eq!(t.extra()["expires_in"], "3600s");
    assert_eq!(t.extra()["refresh_token"], 7);
    assert_eq!(t.extra()["id_token"]["x"], 1);
    let t = token_from(r#"{"access_token":"at","token_type":"Bearer","scope":["a",1]}"#);
    assert_eq!(t.extra()["scope"], serde_json::json!(["a", 1]));
    // Required members are still validated (rule 9).
    let start = Instant::now();
    let (mut flow, id, at) = polling(config(), start);
    let (said, _) = poll_answer(
        &mut flow,
        id,
        at,
        answer(200, &[], r#"{"access_token":5,"token_type":"b"}"#),
    );
    assert!(matches!(
        said.done,
        Some(Err(FlowError::InvalidResponse(_)))
    ));
}

#[test]
fn a_numeric_message_does_not_cost_the_device_code() {
    let start = Instant::now();
    let mut flow = Flow::device(config(), start);
    let id = drain(&mut flow).sent.unwrap();
    let body = serde_json::json!({"device_code": "dc", "user_code": "U",
        "verification_uri": "https://as.example/d", "expires_in": 600,
        "message": 12, "verification_uri_complete": ["x"], "interval": "soon"});
    flow.handle_response(id, answer(200, &[], &body.to_string()), start)
        .unwrap();
    let said = drain(&mut flow);
    let [Event::UserCode(p)] = &said.events[..] else {
        panic!("{said:?}")
    };
    assert_eq!(p.message(), None);
    assert_eq!(p.extra()["message"], 12);
    assert_eq!(
        p.extra()["verification_uri_complete"],
        serde_json::json!(["x"])
    );
    assert_eq!(p.extra()["interval"], "soon");
    assert_eq!(flow.interval(), Some(Duration::from_secs(5)));
}

#[test]
fn retry_after_dates_in_all_three_formats() {
    let date = "Sun, 06 Nov 1994 08:49:37 GMT";
    for retry_after in [
        "Sun, 06 Nov 1994 08:50:17 GMT",
        "Sunday, 06-Nov-94 08:50:17 GMT",
        "Sun Nov  6 08:50:17 1994",
    ] {
        let start = Instant::now();
        let (mut flow, id, at) = polling(config(), start);
        let (_, wait) = poll_answer(
            &mut flow,
            id,
            at,
            answer(
                503,
                &[("retry-after", retry_after), ("date", date)],
                "<html>busy</html>",
            ),
        );
        assert_eq!(wait, Some(Duration::from_secs(40)), "{retry_after}");
    }
}

#[test]
fn a_tls_failure_of_the_device_request_is_not_retried_but_a_broken_connection_is() {
    let start = Instant::now();
    // A TLS or protocol failure would meet the same certificate again: the flow ends.
    let mut flow = Flow::device(config(), start);
    let id = drain(&mut flow).sent.expect("the device request");
    flow.handle_transport_error(id, TransportErrorKind::Other, start)
        .unwrap();
    let said = drain(&mut flow);
    assert!(said.events.is_empty(), "{:?}", said.events);
    assert!(
        matches!(
            said.done,
            Some(Err(FlowError::Transport {
                kind: TransportErrorKind::Other,
                ..
            }))
        ),
        "{:?}",
        said.done
    );

    // A broken connection is worth another try, after a back-off.
    let mut flow = Flow::device(config(), start);
    let id = drain(&mut flow).sent.expect("the device request");
    flow.handle_transport_error(id, TransportErrorKind::Io, start)
        .unwrap();
    let said = drain(&mut flow);
    assert!(
        matches!(
            said.events.as_slice(),
            [Event::BackOff {
                cause: BackOffCause::Transport(TransportErrorKind::Io),
                ..
            }]
        ),
        "{:?}",
        said.events
    );
    let at = said.wait_until.expect("a wait before the retry");
    assert!(at > start);
    flow.handle_timeout(at).unwrap();
    assert!(drain(&mut flow).sent.is_some(), "the device request again");
}
