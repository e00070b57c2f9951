//! Scenario suite: every provider profile through the public API with a virtual clock, using
//! the wire fixtures of each provider (status codes, encodings and bodies as they send them).

mod common;

use std::time::{Duration, Instant};

use common::{Reply, drive, form, http_reply, json, with_header};
use device_grant::{
    BackOffCause, Config, ConfigBuilder, Endpoint, Event, Flow, FlowError, Problem, Profile,
    RefreshToken, TransportErrorKind,
};
use device_grant_sim::fixtures;

const NO_LATENCY: Duration = Duration::ZERO;

/// One provider: how to configure it and what it answers.
struct Dialect {
    name: &'static str,
    config: fn() -> ConfigBuilder,
    device: fn() -> Reply,
    pending: fn() -> Reply,
    slow_down: fn() -> Reply,
    denied: fn() -> Reply,
    expired: fn() -> Reply,
    success: fn() -> Reply,
    /// The request parameters a poll must carry.
    poll_params: &'static [(&'static str, &'static str)],
    interval: u64,
}

const RFC_DC: &str = fixtures::RFC_DC_01.body;
const MSV1_DC: &str = fixtures::MSV1_DC_01.body;
const MSV1_PEND: &str = fixtures::MSV1_PEND_01.body;
const MSV1_EXP: &str = fixtures::MSV1_EXP_02.body;
const MSV1_TOK: &str = fixtures::MSV1_TOK_01.body;
const MSV2_DC: &str = fixtures::MSV2_DC_01.body;
const MSV2_PEND: &str = fixtures::MSV2_PEND_01.body;
const MSV2_DECL: &str = fixtures::MSV2_DECL_01.body;
const MSV2_EXP: &str = fixtures::MSV2_EXP_01.body;
const MSV2_TOK: &str = fixtures::MSV2_TOK_01.body;
const GOOG_DC: &str = fixtures::GOOG_DC_01.body;
const GOOG_TOK: &str = fixtures::GOOG_TOK_01.body;
const GH_DC: &str = fixtures::GH_DC_01.body;
const GH_DENY: &str = fixtures::GH_DENY_01.body;
const GH_EXP: &str = fixtures::GH_EXP_01.body;
const AUTH0_DC: &str = fixtures::AUTH0_DC.body;
const RFC_TOK: &str = fixtures::RFC_TOK_01.body;

const URN: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn dialects() -> Vec<Dialect> {
    vec![
        Dialect {
            name: "rfc8628",
            config: || {
                Config::builder("1406020730")
                    .device_endpoint("https://server.example.com/device_authorization")
                    .token_endpoint("https://server.example.com/token")
                    .scope("openid offline_access")
            },
            device: || json(200, RFC_DC),
            pending: || json(400, r#"{"error":"authorization_pending"}"#),
            slow_down: || json(400, r#"{"error":"slow_down"}"#),
            denied: || json(400, r#"{"error":"access_denied"}"#),
            expired: || json(400, r#"{"error":"expired_token"}"#),
            success: || json(200, RFC_TOK),
            poll_params: &[
                ("grant_type", URN),
                ("device_code", "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"),
                ("client_id", "1406020730"),
            ],
            interval: 5,
        },
        Dialect {
            name: "azure-ad-v1",
            config: || {
                Config::azure_ad_v1(
                    "common",
                    "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                    "https://management.core.windows.net/",
                )
            },
            device: || json(200, MSV1_DC),
            pending: || json(400, MSV1_PEND),
            slow_down: || json(400, r#"{ "error": "slow_down" }"#),
            denied: || json(400, r#"{ "error": "access_denied" }"#),
            expired: || json(400, MSV1_EXP),
            success: || json(200, MSV1_TOK),
            poll_params: &[
                ("grant_type", "device_code"),
                (
                    "code",
                    "CAQABAAEAAABeAFzDwllzTYGDLh_qYbH8uzh0ivGv5BFX8U1R8ZLSWjQSbuB9JQzKSMsSoO7p7fqNKvOeSH1aAXuKCKRcE92cmDSDY2xuOM6qI-uK2fht3XX6buJBIgTFgZQ3cQVz_gjqsiGIZiHdwt__bJnynjI2ktruQsVIQVUYO9TNh3ATrxoHSQrwwkg0Ozurb32lZMIgAA",
                ),
                ("resource", "https://management.core.windows.net/"),
                ("client_id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"),
            ],
            interval: 5,
        },
        Dialect {
            name: "microsoft-v2",
            config: || {
                Config::microsoft("organizations", "client-v2").scope("User.Read offline_access")
            },
            device: || json(200, MSV2_DC),
            pending: || json(400, MSV2_PEND),
            slow_down: || json(400, r#"{"error":"slow_down"}"#),
            denied: || json(400, MSV2_DECL),
            expired: || json(400, MSV2_EXP),
            success: || json(200, MSV2_TOK),
            poll_params: &[("grant_type", URN), ("client_id", "client-v2")],
            interval: 5,
        },
        Dialect {
            name: "google",
            config: || {
                Config::google("123.apps.googleusercontent.com", "goog-secret")
                    .scope("openid email")
            },
            device: || json(200, GOOG_DC),
            pending: || {
                json(
                    428,
                    r#"{"error":"authorization_pending","error_description":"Precondition Required"}"#,
                )
            },
            slow_down: || {
                json(
                    403,
                    r#"{"error":"slow_down","error_description":"Forbidden"}"#,
                )
            },
            denied: || {
                json(
                    403,
                    r#"{"error":"access_denied","error_description":"Forbidden"}"#,
                )
            },
            expired: || {
                json(
                    400,
                    r#"{"error":"expired_token","error_description":"Bad Request"}"#,
                )
            },
            success: || json(200, GOOG_TOK),
            poll_params: &[
                ("grant_type", URN),
                ("client_id", "123.apps.googleusercontent.com"),
                ("client_secret", "goog-secret"),
                (
                    "device_code",
                    "4/4-GMMhmHCXhWEzkobqIHGG_EnNYYsAkukHspeYUk9E8",
                ),
            ],
            interval: 5,
        },
        Dialect {
            name: "github",
            config: || Config::github("Iv1.b507a08c87ecfe98").scope("repo gist"),
            device: || form(200, GH_DC),
            pending: || form(200, "error=authorization_pending"),
            slow_down: || {
                form(
                    200,
                    "error=slow_down&error_description=Too+many+requests+have+been+made+in+the+same+timeframe.&error_uri=https%3A%2F%2Fdocs.github.com&interval=22",
                )
            },
            denied: || json(200, GH_DENY),
            expired: || json(200, GH_EXP),
            success: || {
                form(
                    200,
                    "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&token_type=bearer&scope=repo%2Cgist",
                )
            },
            poll_params: &[
                ("grant_type", URN),
                ("device_code", "3584d83530557fdd1f46af8289938c8ef79f9dc5"),
                ("client_id", "Iv1.b507a08c87ecfe98"),
            ],
            interval: 5,
        },
        Dialect {
            name: "auth0",
            config: || {
                Config::builder("auth0-client")
                    .device_endpoint("https://tenant.auth0.com/oauth/device/code")
                    .token_endpoint("https://tenant.auth0.com/oauth/token")
                    .scope("openid offline_access")
                    .param("audience", "https://api.example.com")
            },
            device: || json(200, AUTH0_DC),
            pending: || {
                json(
                    403,
                    r#"{"error":"authorization_pending","error_description":"User has yet to authorize device code."}"#,
                )
            },
            slow_down: || {
                json(
                    429,
                    r#"{"error":"slow_down","error_description":"You are polling faster than the specified interval of 5 seconds."}"#,
                )
            },
            denied: || {
                json(
                    403,
                    r#"{"error":"access_denied","error_description":"Failure: User cancelled the confirmation prompt or consent page; the code expired; there was an error."}"#,
                )
            },
            expired: || {
                json(
                    403,
                    r#"{"error":"expired_token","error_description":"Failure: the code expired"}"#,
                )
            },
            success: || json(200, RFC_TOK),
            poll_params: &[
                ("grant_type", URN),
                ("client_id", "auth0-client"),
                ("device_code", "Ag_EE...ko1p"),
            ],
            interval: 5,
        },
    ]
}

fn start(d: &Dialect) -> (Flow, Instant) {
    let t0 = Instant::now();
    (Flow::device((d.config)().build().unwrap(), t0), t0)
}

fn user_code_events(run: &common::Run) -> usize {
    run.events
        .iter()
        .filter(|(_, e)| matches!(e, Event::UserCode(_)))
        .count()
}

#[test]
fn approve_after_pending_polls() {
    for d in dialects() {
        let (flow, t0) = start(&d);
        let mut script = vec![(d.device)()];
        script.extend((0..3).map(|_| (d.pending)()));
        script.push((d.success)());
        let run = drive(flow, t0, script, NO_LATENCY);
        let token = run.token();
        assert!(!token.access_token().secret().is_empty(), "{}", d.name);
        assert_eq!(run.sent.len(), 5, "{}", d.name);
        // Wait first, then one interval between answers and the next poll.
        let i = d.interval as f64;
        assert_eq!(
            run.send_times(),
            vec![0.0, i, 2.0 * i, 3.0 * i, 4.0 * i],
            "{}",
            d.name
        );
        assert_eq!(user_code_events(&run), 1, "{}", d.name);
        // The prompt came before the first poll.
        assert!(
            run.events
                .iter()
                .any(|(at, e)| matches!(e, Event::UserCode(_)) && *at < run.sent[1].at)
        );
        for poll in run.polls() {
            let f = poll.form();
            for (k, v) in d.poll_params {
                assert_eq!(f.get(*k).map(String::as_str), Some(*v), "{}: {k}", d.name);
            }
            assert_eq!(poll.request.method(), "POST");
            assert_eq!(poll.request.headers()["accept"], "application/json");
            assert_eq!(
                poll.request.headers()["content-type"],
                "application/x-www-form-urlencoded"
            );
        }
    }
}

#[test]
fn device_requests_per_dialect() {
    for d in dialects() {
        let (flow, t0) = start(&d);
        let run = drive(flow, t0, [(d.device)(), (d.denied)()], NO_LATENCY);
        let f = run.sent[0].form();
        match d.name {
            "azure-ad-v1" => {
                assert_eq!(f["resource"], "https://management.core.windows.net/");
                assert!(!f.contains_key("scope"));
                assert_eq!(run.sent[0].request.uri().query(), Some("api-version=1.0"));
            }
            "auth0" => assert_eq!(f["audience"], "https://api.example.com"),
            "google" => assert_eq!(f["client_secret"], "goog-secret"),
            _ => assert!(f.contains_key("scope"), "{}", d.name),
        }
        assert!(f.contains_key("client_id"), "{}", d.name);
        assert!(!f.contains_key("device_code"), "{}", d.name);
    }
}

#[test]
fn slow_down_adds_five_seconds_for_good() {
    for d in dialects() {
        let (flow, t0) = start(&d);
        let script = vec![
            (d.device)(),
            (d.slow_down)(),
            (d.pending)(),
            (d.pending)(),
            (d.success)(),
        ];
        let run = drive(flow, t0, script, NO_LATENCY);
        run.token();
        let times = run.send_times();
        // GitHub's slow_down carries interval=22, which is larger than 5 + 5.
        let slowed = if d.name == "github" { 22.0 } else { 10.0 };
        assert_eq!(times[1], 5.0, "{}", d.name);
        assert_eq!(times[2] - times[1], slowed, "{}", d.name);
        assert_eq!(
            times[3] - times[2],
            slowed,
            "{}: the increase lasts",
            d.name
        );
        assert_eq!(times[4] - times[3], slowed, "{}", d.name);
        let slowdowns: Vec<_> = run
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::SlowDown { interval } => Some(*interval),
                _ => None,
            })
            .collect();
        assert_eq!(
            slowdowns,
            vec![Duration::from_secs_f64(slowed)],
            "{}",
            d.name
        );
    }
}

#[test]
fn slow_downs_accumulate() {
    let d = &dialects()[0];
    let (flow, t0) = start(d);
    let script = vec![
        (d.device)(),
        (d.slow_down)(),
        (d.slow_down)(),
        (d.slow_down)(),
        (d.success)(),
    ];
    let run = drive(flow, t0, script, NO_LATENCY);
    assert_eq!(run.send_times(), vec![0.0, 5.0, 15.0, 30.0, 50.0]);
    let told: Vec<String> = run
        .events
        .iter()
        .skip(1)
        .map(|(_, e)| e.to_string())
        .collect();
    assert_eq!(
        told[2],
        "the server asked to poll less often; polling every 20 s from now on"
    );
}

#[test]
fn github_slow_down_with_a_smaller_interval_still_adds_five() {
    let t0 = Instant::now();
    let run = drive(
        Flow::device(Config::github("c").build().unwrap(), t0),
        t0,
        [
            form(200, GH_DC),
            form(200, "error=slow_down&interval=3"),
            form(200, "access_token=a&token_type=bearer"),
        ],
        NO_LATENCY,
    );
    assert_eq!(run.send_times(), vec![0.0, 5.0, 15.0]);
}

#[test]
fn denied_in_both_spellings() {
    for d in dialects() {
        let (flow, t0) = start(&d);
        let run = drive(
            flow,
            t0,
            [(d.device)(), (d.pending)(), (d.denied)()],
            NO_LATENCY,
        );
        match run.err() {
            FlowError::Denied(e) => {
                let want = if d.name == "microsoft-v2" {
                    "authorization_declined"
                } else {
                    "access_denied"
                };
                assert_eq!(e.error(), want, "{}", d.name);
                assert_eq!(e.endpoint(), Endpoint::Token);
            }
            other => panic!("{}: {other:?}", d.name),
        }
        assert_eq!(run.sent.len(), 3, "{}: nothing after the denial", d.name);
    }
}

#[test]
fn expired_by_the_server_in_both_spellings() {
    for d in dialects() {
        let (flow, t0) = start(&d);
        let run = drive(
            flow,
            t0,
            [(d.device)(), (d.pending)(), (d.expired)()],
            NO_LATENCY,
        );
        match run.err() {
            FlowError::Expired(Some(e)) => {
                let want = if d.name == "azure-ad-v1" {
                    "code_expired"
                } else {
                    "expired_token"
                };
                assert_eq!(e.error(), want, "{}", d.name);
            }
            other => panic!("{}: {other:?}", d.name),
        }
    }
}

#[test]
fn expired_by_the_local_deadline_without_another_request() {
    for d in dialects() {
        let (flow, t0) = start(&d);
        let mut script = vec![(d.device)()];
        // A 15- or 30-minute wait: every poll pending until the code's lifetime is over.
        let lifetime = match d.name {
            "rfc8628" | "google" => 1800,
            _ => 900,
        };
        let polls = lifetime / d.interval - 1;
        script.extend((0..polls).map(|_| (d.pending)()));
        let run = drive(flow, t0, script, NO_LATENCY);
        assert!(
            matches!(run.err(), FlowError::Expired(None)),
            "{}: {:?}",
            d.name,
            run.err()
        );
        assert_eq!((run.end - t0).as_secs(), lifetime, "{}", d.name);
        let last = run.sent.last().unwrap().at;
        assert!(last < t0 + Duration::from_secs(lifetime), "{}", d.name);
    }
}

#[test]
fn other_oauth_errors_end_the_flow_with_every_field_kept() {
    let d = &dialects()[2];
    let (flow, t0) = start(d);
    let body = r#"{"error":"invalid_grant","error_description":"AADSTS50097: Device authentication is required.\r\nTrace ID: x","error_codes":[50097],"trace_id":"t-1","correlation_id":"c-1","timestamp":"2019-01-01 00:00:00Z","error_uri":"https://login.microsoftonline.com/error?code=50097"}"#;
    let run = drive(flow, t0, [(d.device)(), json(401, body)], NO_LATENCY);
    let FlowError::OAuth(e) = run.err() else {
        panic!("{:?}", run.err())
    };
    assert_eq!(e.error(), "invalid_grant");
    assert_eq!(e.status(), 401);
    assert!(e.description().unwrap().starts_with("AADSTS50097"));
    assert_eq!(
        e.uri(),
        Some("https://login.microsoftonline.com/error?code=50097")
    );
    assert_eq!(e.extra()["error_codes"][0], 50097);
    assert_eq!(e.extra()["trace_id"], "t-1");
    assert_eq!(e.extra()["correlation_id"], "c-1");
    for taken in ["error", "error_description", "error_uri"] {
        assert!(
            !e.extra().contains_key(taken),
            "{taken} is not repeated in extra"
        );
    }
    let shown = run.err().to_string();
    assert!(
        shown.contains("invalid_grant") && shown.contains("AADSTS50097"),
        "{shown}"
    );
    assert!(
        !shown.contains("Trace ID"),
        "only the first line of the description: {shown}"
    );

    // GitHub's incorrect_device_code arrives with 200 and form encoding.
    let t0 = Instant::now();
    let run = drive(
        Flow::device(Config::github("c").build().unwrap(), t0),
        t0,
        [
            form(200, GH_DC),
            form(200, "error=incorrect_device_code&error_description=bad"),
        ],
        NO_LATENCY,
    );
    assert!(
        matches!(run.err(), FlowError::OAuth(e) if e.error() == "incorrect_device_code" && e.status() == 200)
    );
}

#[test]
fn errors_at_the_device_endpoint() {
    // Microsoft answers a missing scope with 200 and an error body.
    let t0 = Instant::now();
    let cfg = Config::microsoft("common", "c").build().unwrap();
    let body = r#"{"error":"invalid_request","error_description":"AADSTS900144: The request body must contain the following parameter: 'scope'.","error_codes":[900144]}"#;
    let run = drive(Flow::device(cfg, t0), t0, [json(200, body)], NO_LATENCY);
    let FlowError::OAuth(e) = run.err() else {
        panic!()
    };
    assert_eq!(
        (e.error(), e.endpoint(), e.status()),
        ("invalid_request", Endpoint::DeviceAuthorization, 200)
    );
    // GitHub's form-encoded refusal.
    let run = drive(
        Flow::device(Config::github("c").build().unwrap(), t0),
        t0,
        [form(400, "error=device_flow_disabled")],
        NO_LATENCY,
    );
    assert!(matches!(run.err(), FlowError::OAuth(e) if e.error() == "device_flow_disabled"));
    // Google's quota answer has `error_code`, not `error`.
    let run = drive(
        Flow::device(Config::google("c", "s").build().unwrap(), t0),
        t0,
        [json(403, r#"{"error_code": "rate_limit_exceeded"}"#)],
        NO_LATENCY,
    );
    assert!(
        matches!(run.err(), FlowError::OAuth(e) if e.error() == "rate_limit_exceeded" && e.status() == 403)
    );
    // With retrying switched off, a transport failure before there is a code ends the flow.
    let run = drive(
        Flow::device(
            Config::github("c")
                .device_retries(1, Duration::ZERO)
                .build()
                .unwrap(),
            t0,
        ),
        t0,
        [Reply::Transport(TransportErrorKind::Connect)],
        NO_LATENCY,
    );
    assert_eq!(
        run.err(),
        &FlowError::Transport {
            endpoint: Endpoint::DeviceAuthorization,
            kind: TransportErrorKind::Connect
        }
    );
    // A device response that lacks what a prompt needs.
    let run = drive(
        Flow::device(Config::github("c").build().unwrap(), t0),
        t0,
        [json(
            200,
            r#"{"device_code":"d","verification_uri":"https://x","expires_in":10}"#,
        )],
        NO_LATENCY,
    );
    assert!(
        matches!(run.err(), FlowError::InvalidResponse(i) if i.problem() == &Problem::MissingField("user_code"))
    );
    // A gateway page instead of a device response, with retrying switched off (the retries
    // are in `the_device_request_is_retried_with_back_off_and_retry_after`).
    let run = drive(
        Flow::device(
            Config::github("c")
                .device_retries(1, Duration::ZERO)
                .build()
                .unwrap(),
            t0,
        ),
        t0,
        [http_reply(
            502,
            "text/html",
            b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        )],
        NO_LATENCY,
    );
    let FlowError::InvalidResponse(i) = run.err() else {
        panic!()
    };
    assert_eq!(i.status(), 502);
    assert_eq!(i.content_type(), Some("text/html"));
}

#[test]
fn transport_failures_back_off_and_recover() {
    let d = &dialects()[0];
    let (flow, t0) = start(d);
    let script = vec![
        (d.device)(),
        Reply::Transport(TransportErrorKind::Timeout),
        Reply::Transport(TransportErrorKind::Connect),
        Reply::Transport(TransportErrorKind::Io),
        (d.pending)(),
        Reply::Transport(TransportErrorKind::Other),
        (d.success)(),
    ];
    let run = drive(flow, t0, script, NO_LATENCY);
    run.token();
    // 5 s, then doubling waits (10, 20, 40), reset by the pending answer (5), then 10 again.
    assert_eq!(
        run.send_times(),
        vec![0.0, 5.0, 15.0, 35.0, 75.0, 80.0, 90.0]
    );
    let backoffs: Vec<_> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::BackOff {
                delay,
                cause: BackOffCause::Transport(k),
            } => Some((delay.as_secs(), *k)),
            _ => None,
        })
        .collect();
    let told: Vec<String> = run
        .events
        .iter()
        .filter(|(_, e)| !matches!(e, Event::UserCode(_)))
        .map(|(_, e)| e.to_string())
        .collect();
    assert_eq!(told[0], "the request timed out; polling again in 10 s");
    assert_eq!(
        told[1],
        "the connection could not be made; polling again in 20 s"
    );
    assert_eq!(
        backoffs,
        vec![
            (10, TransportErrorKind::Timeout),
            (20, TransportErrorKind::Connect),
            (40, TransportErrorKind::Io),
            (10, TransportErrorKind::Other)
        ]
    );
}

#[test]
fn back_off_is_capped_and_never_outlives_the_code() {
    let d = &dialects()[0];
    let (flow, t0) = start(d);
    let mut script = vec![(d.device)()];
    // Failures until the 1800 s code expires: waits 10, 20, 40, then 60 (the cap) each time.
    let mut t = 5u64;
    let mut waits = vec![];
    let mut n = 0u32;
    while t < 1800 {
        script.push(Reply::Transport(TransportErrorKind::Timeout));
        n += 1;
        let w = (5u64 << n).min(60);
        waits.push(w);
        t += w;
    }
    let run = drive(flow, t0, script, NO_LATENCY);
    assert!(matches!(run.err(), FlowError::Expired(None)));
    let times = run.send_times();
    let gaps: Vec<u64> = times
        .windows(2)
        .skip(1)
        .map(|w| (w[1] - w[0]) as u64)
        .collect();
    assert_eq!(gaps, waits[..gaps.len()].to_vec());
    assert!(gaps.iter().all(|g| *g <= 60));
    assert_eq!((run.end - t0).as_secs(), 1800);
}

#[test]
fn throttling_and_gateways_back_off_and_honour_retry_after() {
    let d = &dialects()[0];
    let html = b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>nginx</body></html>";
    let cases: Vec<(Reply, f64, BackOffCause)> = vec![
        (
            http_reply(429, "text/plain", b"Too Many Requests"),
            10.0,
            BackOffCause::Status(429),
        ),
        (
            with_header(http_reply(429, "text/plain", b""), "retry-after", "30"),
            30.0,
            BackOffCause::Status(429),
        ),
        (
            with_header(http_reply(503, "text/html", html), "retry-after", "2"),
            10.0,
            BackOffCause::Status(503),
        ),
        (
            http_reply(502, "text/html", html),
            10.0,
            BackOffCause::Status(502),
        ),
        (
            http_reply(504, "text/html", b""),
            10.0,
            BackOffCause::Status(504),
        ),
        (
            with_header(
                with_header(
                    http_reply(503, "text/html", html),
                    "retry-after",
                    "Sun, 06 Nov 1994 08:50:37 GMT",
                ),
                "date",
                "Sun, 06 Nov 1994 08:49:37 GMT",
            ),
            60.0,
            BackOffCause::Status(503),
        ),
        (
            json(400, r#"{"error":"temporarily_unavailable"}"#),
            10.0,
            BackOffCause::TemporarilyUnavailable,
        ),
        (
            with_header(
                json(503, r#"{"error":"temporarily_unavailable"}"#),
                "retry-after",
                "45",
            ),
            // DESIGN rule 11: Retry-After is honoured whatever the body says.
            45.0,
            BackOffCause::TemporarilyUnavailable,
        ),
    ];
    for (reply, wait, cause) in cases {
        let (flow, t0) = start(d);
        let run = drive(
            flow,
            t0,
            [(d.device)(), reply.clone(), (d.success)()],
            NO_LATENCY,
        );
        run.token();
        assert_eq!(run.send_times()[2] - run.send_times()[1], wait, "{reply:?}");
        assert!(
            run.events
                .iter()
                .any(|(_, e)| matches!(e, Event::BackOff { cause: c, .. } if *c == cause)),
            "{reply:?}"
        );
    }
}

#[test]
fn malformed_and_oversized_bodies_are_typed_errors() {
    let d = &dialects()[0];
    let cases: Vec<(Reply, Problem)> = vec![
        (
            json(200, r#"{"access_token":"x""#),
            Problem::Unreadable {
                looked_like: "malformed JSON",
            },
        ),
        (
            http_reply(200, "text/html", b"<html>Login</html>"),
            Problem::Unreadable {
                looked_like: "an HTML or XML page",
            },
        ),
        (
            json(200, r#"{"token_type":"Bearer"}"#),
            Problem::MissingField("access_token"),
        ),
        (
            json(200, r#"{"access_token":"a"}"#),
            Problem::MissingField("token_type"),
        ),
        (
            json(200, r#"{"access_token":["a"],"token_type":"Bearer"}"#),
            Problem::InvalidField {
                field: "access_token",
                expected: "a string",
            },
        ),
        (
            http_reply(200, "application/json", b"\xff\xfe{\x00"),
            Problem::Unreadable {
                looked_like: "not valid UTF-8",
            },
        ),
        (
            json(401, r#"{"message":"unauthorized"}"#),
            Problem::UnexpectedStatus,
        ),
        (
            http_reply(500, "text/html", b"<html>oops</html>"),
            Problem::Unreadable {
                looked_like: "an HTML or XML page",
            },
        ),
    ];
    for (reply, problem) in cases {
        let (flow, t0) = start(d);
        let run = drive(flow, t0, [(d.device)(), reply.clone()], NO_LATENCY);
        match run.err() {
            FlowError::InvalidResponse(i) => assert_eq!(i.problem(), &problem, "{reply:?}"),
            other => panic!("{reply:?}: {other:?}"),
        }
    }
    // A 2xx other than 200 whose body fails validation is reported with its own status.
    let (flow, t0) = start(d);
    let run = drive(
        flow,
        t0,
        [(d.device)(), json(201, r#"{"access_token":"a"}"#)],
        NO_LATENCY,
    );
    let FlowError::InvalidResponse(i) = run.err() else {
        panic!()
    };
    assert_eq!(
        (i.status(), i.content_type()),
        (201, Some("application/json; charset=utf-8"))
    );
    // Oversized: the limit plus one byte is enough to refuse.
    let t0 = Instant::now();
    let cfg = (d.config)().body_limit(1024).build().unwrap();
    let big = vec![b' '; 1025];
    let run = drive(
        Flow::device(cfg, t0),
        t0,
        [(d.device)(), http_reply(200, "application/json", &big)],
        NO_LATENCY,
    );
    let FlowError::InvalidResponse(i) = run.err() else {
        panic!()
    };
    assert_eq!(i.problem(), &Problem::BodyTooLarge { limit: 1024 });
    assert!(run.err().to_string().contains("1024"));
}

#[test]
fn huge_numbers_do_not_panic() {
    let t0 = Instant::now();
    let cfg = dialects()[0].config;
    for body in [
        r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":18446744073709551615,"interval":18446744073709551615}"#,
        r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":1e308,"interval":1e308}"#,
        r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":"99999999999999999999999","interval":"5"}"#,
    ] {
        // The prompt, then a wait to the (clamped) deadline, or polls until the server calls
        // the expiry; the rules hold either way.
        let mut server = device_grant_sim::Scripted::repeating_last([
            json(200, body),
            json(400, r#"{"error":"expired_token"}"#),
        ]);
        let run =
            device_grant_sim::drive(Flow::device(cfg().build().unwrap(), t0), &mut server, t0);
        run.assert_clean();
        assert!(matches!(run.err(), FlowError::Expired(_)), "{body}");
        assert!(run.end >= t0);
    }
}

#[test]
fn azure_ad_v1_device_answer_verbatim() {
    // Moved from the core's unit tests: the fixture, read through the public API.
    let t0 = Instant::now();
    let cfg = Config::azure_ad_v1("contoso", "04b07795", "https://graph.windows.net/")
        .build()
        .unwrap();
    let run = drive(
        Flow::device(cfg, t0),
        t0,
        [json(200, MSV1_DC), json(200, MSV1_TOK)],
        NO_LATENCY,
    );
    let p = run.prompt().unwrap();
    assert_eq!(p.user_code(), "C45FGVYJR");
    assert_eq!(p.verification_uri(), "https://microsoft.com/devicelogin");
    assert_eq!(p.expires_in(), Duration::from_secs(900));
    assert!(p.message().unwrap().starts_with("To sign in"));
    assert!(p.extra().is_empty());
    assert_eq!(
        p.to_string(),
        "To sign in, open https://microsoft.com/devicelogin and enter the code C45FGVYJR\nThe code expires in 15 min."
    );
    // The interval "5" (a string): the first poll after 5 s.
    assert_eq!(run.send_times(), [0.0, 5.0]);
}

#[test]
fn azure_ad_v1_end_to_end() {
    let t0 = Instant::now();
    let cfg = Config::azure_ad_v1(
        "contoso.onmicrosoft.com",
        "04b07795",
        "https://graph.windows.net/",
    )
    .build()
    .unwrap();
    let script = vec![
        json(200, MSV1_DC),
        json(400, MSV1_PEND),
        json(400, MSV1_PEND),
        json(200, MSV1_TOK),
    ];
    let run = drive(
        Flow::device(cfg, t0),
        t0,
        script,
        Duration::from_millis(120),
    );
    let prompt = run
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::UserCode(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(prompt.user_code(), "C45FGVYJR");
    assert_eq!(
        prompt.verification_uri(),
        "https://microsoft.com/devicelogin"
    );
    assert_eq!(prompt.expires_in(), Duration::from_secs(900));
    assert!(prompt.message().unwrap().contains("C45FGVYJR"));
    let dev = &run.sent[0];
    assert_eq!(
        dev.request.uri().to_string(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/devicecode?api-version=1.0"
    );
    let f = dev.form();
    assert_eq!(
        (f["client_id"].as_str(), f["resource"].as_str()),
        ("04b07795", "https://graph.windows.net/")
    );
    for poll in run.polls() {
        assert_eq!(poll.path(), "/contoso.onmicrosoft.com/oauth2/token");
        let f = poll.form();
        assert_eq!(f["grant_type"], "device_code");
        assert!(f["code"].starts_with("CAQABAAEAAAB"));
        assert!(!f.contains_key("device_code"));
        assert_eq!(f["resource"], "https://graph.windows.net/");
    }
    let t = run.token();
    assert_eq!(t.token_type(), "Bearer");
    assert_eq!(t.expires_in(), Some(Duration::from_secs(3600)));
    assert_eq!(t.extra()["expires_on"], "1460690464");
    assert_eq!(
        t.extra()["resource"],
        "4e725760-015b-4168-8adf-e8329e863974"
    );
    assert_eq!(t.scopes().unwrap(), ["user_impersonation"]);
    assert!(t.id_token().is_some());
    // With 120 ms latency, each poll waits 5 s after the previous answer.
    let times = run.send_times();
    assert!((times[2] - times[1] - 5.12).abs() < 1e-9, "{times:?}");
}

#[test]
fn refresh_with_and_without_rotation() {
    for d in dialects() {
        let t0 = Instant::now();
        let cfg = (d.config)().build().unwrap();
        // Rotation: the new refresh token wins.
        let run = drive(
            Flow::refresh(cfg.clone(), RefreshToken::new("old-rt"), t0),
            t0,
            [json(
                200,
                r#"{"access_token":"new-at","token_type":"Bearer","expires_in":3600,"refresh_token":"new-rt"}"#,
            )],
            NO_LATENCY,
        );
        assert_eq!(
            run.token().refresh_token().unwrap().secret(),
            "new-rt",
            "{}",
            d.name
        );
        assert!(run.token().refresh_token_issued());
        let f = run.sent[0].form();
        assert_eq!(f["grant_type"], "refresh_token", "{}", d.name);
        assert_eq!(f["refresh_token"], "old-rt", "{}", d.name);
        assert_eq!(run.sent[0].request.uri(), cfg.token_endpoint().as_str());
        if d.name == "azure-ad-v1" {
            assert_eq!(f["resource"], "https://management.core.windows.net/");
        }
        if d.name == "google" {
            assert_eq!(f["client_secret"], "goog-secret");
        }
        // No rotation: the used one is kept.
        let run = drive(
            Flow::refresh(cfg.clone(), RefreshToken::new("old-rt"), t0),
            t0,
            [json(
                200,
                r#"{"access_token":"new-at","token_type":"Bearer","expires_in":"3600"}"#,
            )],
            NO_LATENCY,
        );
        assert_eq!(
            run.token().refresh_token().unwrap().secret(),
            "old-rt",
            "{}",
            d.name
        );
        assert!(!run.token().refresh_token_issued());
        // A rejected refresh token.
        let run = drive(
            Flow::refresh(cfg, RefreshToken::new("old-rt"), t0),
            t0,
            [json(
                400,
                r#"{"error":"invalid_grant","error_description":"expired"}"#,
            )],
            NO_LATENCY,
        );
        assert!(
            matches!(run.err(), FlowError::OAuth(e) if e.error() == "invalid_grant"),
            "{}",
            d.name
        );
    }
}

#[test]
fn refresh_sends_the_narrower_scope_and_client_auth() {
    let t0 = Instant::now();
    let cfg = Config::builder("app")
        .token_endpoint("https://as.example/token")
        .scope("read")
        .client_secret_basic("s3cret")
        .build()
        .unwrap();
    let run = drive(
        Flow::refresh(cfg, RefreshToken::new("rt"), t0),
        t0,
        [json(200, RFC_TOK)],
        NO_LATENCY,
    );
    let f = run.sent[0].form();
    assert_eq!(f["scope"], "read");
    assert!(!f.contains_key("client_id") && !f.contains_key("client_secret"));
    assert!(
        run.sent[0].request.headers()["authorization"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
    // A refresh-only configuration cannot start a device flow.
    let cfg = Config::builder("app")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    let mut flow = Flow::device(cfg, t0);
    assert!(matches!(
        flow.poll_output(),
        device_grant::Output::Done(Err(FlowError::Config(_)))
    ));
}

#[test]
fn profiles_are_what_the_presets_say() {
    assert_eq!(
        Config::github("c").build().unwrap().profile(),
        &Profile::GitHub
    );
    assert!(matches!(
        Config::azure_ad_v1("t", "c", "r").build().unwrap().profile(),
        Profile::AzureAdV1 { resource } if resource == "r"
    ));
}

/// PROVIDERS §16: the device authorization request is retried while no code was issued.
#[test]
fn the_device_request_is_retried_with_back_off_and_retry_after() {
    let t0 = Instant::now();
    let device = || json(200, RFC_DC);
    let token = || json(200, fixtures::RFC_TOK_01.body);
    let config = || {
        Config::builder("c")
            .device_endpoint("https://as.example/device")
            .token_endpoint("https://as.example/token")
    };
    // 429 with Retry-After: 7 s, then a code: the retry waits the 7 s.
    let run = drive(
        Flow::device(config().build().unwrap(), t0),
        t0,
        [
            with_header(
                json(
                    429,
                    r#"{"error":"slow_down","error_description":"rate limited"}"#,
                ),
                "retry-after",
                "7",
            ),
            device(),
            token(),
        ],
        NO_LATENCY,
    );
    run.token();
    let times = run.send_times();
    assert_eq!(times[..2], [0.0, 7.0], "{times:?}");
    assert!(run.events.iter().any(|(_, e)| matches!(
        e,
        Event::BackOff { delay, cause: BackOffCause::SlowDown } if *delay == Duration::from_secs(7)
    )));
    // A transport failure, then a 503 page, then a code: 5 s, then 10 s.
    let run = drive(
        Flow::device(config().build().unwrap(), t0),
        t0,
        [
            Reply::Transport(TransportErrorKind::Connect),
            http_reply(503, "text/html", b"<html>busy</html>"),
            device(),
            token(),
        ],
        NO_LATENCY,
    );
    run.token();
    assert_eq!(run.send_times()[..3], [0.0, 5.0, 15.0]);
    // 503 every time: four attempts, then a clear error naming the cause.
    let run = drive(
        Flow::device(config().build().unwrap(), t0),
        t0,
        (0..4).map(|_| json(503, r#"{"error":"temporarily_unavailable"}"#)),
        NO_LATENCY,
    );
    let FlowError::Unavailable {
        endpoint,
        attempts,
        cause,
        ..
    } = run.err()
    else {
        panic!("{:?}", run.err())
    };
    assert_eq!(
        (*endpoint, *attempts, *cause),
        (
            Endpoint::DeviceAuthorization,
            4,
            BackOffCause::TemporarilyUnavailable
        )
    );
    let shown = run.err().to_string();
    assert!(shown.contains("gave up after 4 attempts"), "{shown}");
    assert!(run.prompt().is_none(), "no code was ever shown");
    // A Retry-After of an hour (authentik's 20 per hour) is reported, not waited out.
    let run = drive(
        Flow::device(config().build().unwrap(), t0),
        t0,
        [with_header(json(429, "{}"), "retry-after", "3600")],
        NO_LATENCY,
    );
    assert!(matches!(
        run.err(),
        FlowError::Unavailable { attempts: 1, retry_after: Some(d), .. } if d.as_secs() == 3600
    ));
    assert!(run.err().to_string().contains("wait 3600 s"));
    // Refusals are not retried.
    let run = drive(
        Flow::device(config().build().unwrap(), t0),
        t0,
        [json(400, r#"{"error":"invalid_client"}"#)],
        NO_LATENCY,
    );
    assert!(matches!(run.err(), FlowError::OAuth(e) if e.error() == "invalid_client"));
}

/// The second round of providers' fixtures, read through their profiles.
#[test]
fn provider_fixtures_read_through_their_profiles() {
    let t0 = Instant::now();
    let cfg = |profile: Profile| {
        Config::builder("c")
            .device_endpoint("https://as.example/device")
            .token_endpoint("https://as.example/token")
            .client_secret_post("s")
            .profile(profile)
            .build()
            .unwrap()
    };
    let reply = |f: &fixtures::Fixture| Reply::from(f);
    // AWS: camelCase device and token answers, snake_case errors.
    let run = drive(
        Flow::device(cfg(Profile::AwsSso), t0),
        t0,
        [
            reply(&fixtures::AWS_SDA_01),
            reply(&fixtures::AWS_PEND_01),
            reply(&fixtures::AWS_TOK_01),
        ],
        NO_LATENCY,
    );
    assert_eq!(run.prompt().unwrap().user_code(), "PMPJ-VZCJ");
    assert_eq!(run.token().access_token().secret(), "aoaEXAMPLE");
    assert_eq!(run.token().refresh_token().unwrap().secret(), "aorEXAMPLE");
    let poll: serde_json::Value = serde_json::from_slice(run.sent[1].request.body()).unwrap();
    assert_eq!(poll["grantType"], device_grant::DEVICE_CODE_GRANT);
    assert_eq!(poll["clientSecret"], "s");
    assert!(poll["deviceCode"].as_str().unwrap().starts_with("xYPX"));
    // Twitch: `message` errors; `invalid device code` is the expired code. The rule checker
    // reads RFC error members only, so it watches the RFC-worded runs; this one is checked
    // by its assertions (and over sockets in the end-to-end suite).
    let unchecked = device_grant_sim::Options {
        check: false,
        ..device_grant_sim::Options::default()
    };
    let mut script = device_grant_sim::Scripted::new([
        json(200, RFC_DC),
        reply(&fixtures::TW_PEND_01),
        reply(&fixtures::TW_SLOW_01),
        reply(&fixtures::TW_EXP_01),
    ]);
    let run = device_grant_sim::drive_with(
        Flow::device(cfg(Profile::Twitch), t0),
        &mut script,
        t0,
        unchecked,
    );
    assert!(matches!(run.err(), FlowError::Expired(Some(e)) if e.error() == "invalid device code"));
    assert_eq!(
        run.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::SlowDown { .. }))
            .count(),
        1
    );
    let run = drive(
        Flow::device(cfg(Profile::Twitch), t0),
        t0,
        [json(200, RFC_DC), reply(&fixtures::TW_TOK_01)],
        NO_LATENCY,
    );
    assert_eq!(
        run.token().scopes().unwrap(),
        ["channel:read:subscriptions"]
    );
    // Zoho's other_dc without a lookup answer naming it ends with the original error.
    // (Unchecked too: the rule checker counts the lookup as a poll.)
    let mut script = device_grant_sim::Scripted::new([
        json(200, RFC_DC),
        reply(&fixtures::ZOHO_DC_01),
        json(
            200,
            r#"{"result":"success","locations":{"us":"https://accounts.zoho.com"}}"#,
        ),
    ]);
    let run = device_grant_sim::drive_with(
        Flow::device(cfg(Profile::Zoho), t0),
        &mut script,
        t0,
        unchecked,
    );
    assert!(matches!(run.err(), FlowError::OAuth(e) if e.error() == "other_dc"));
    assert_eq!(run.sent[2].request.method(), "GET");
    assert_eq!(
        run.sent[2].request.uri(),
        "https://as.example/oauth/serverinfo"
    );
}
