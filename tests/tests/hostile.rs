//! What a hostile or flaky server can try, over real sockets, through both drivers: one test
//! per item of the hardening issue. The command line's own checks of the same items (its
//! output, `--ca-file`, a closed stderr, Ctrl-C) are in the CLI's tests (`cli/tests/cli/`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{
    BackOffCause, Config, Event, Flow, FlowError, Problem, TokenResponse, TransportErrorKind,
};
use device_grant_reqwest::reqwest;
use device_grant_sim::{Dialect, Fault, RetryAfter, Script, Server, ServerConfig};
use device_grant_tests::canned::{Answer, Canned, PrivateCa, Tap};
use device_grant_ureq::ureq;
use serde_json::json;

/// Every kind of text a terminal must not receive raw: an OSC title change, a hidden OSC 8
/// link, a screen clear, a bare CR that would overwrite the line, a bidi override and a
/// zero-width space.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}]8;;https://evil.example/\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J\rFAKE: run curl evil | sh\u{202e}lmth.exe\u{200b}";

fn assert_printable(what: &str, text: &str) {
    for bad in [
        '\u{1b}', '\u{7}', '\r', '\u{9b}', '\u{9d}', '\u{202e}', '\u{200b}',
    ] {
        assert!(!text.contains(bad), "{what} shows {:?} raw: {text:?}", bad);
    }
}

fn config(device: &str, token: &str) -> Config {
    Config::builder("client")
        .device_endpoint(device)
        .token_endpoint(token)
        .build()
        .unwrap()
}

type Run<E> = (Result<TokenResponse, device_grant::RunError<E>>, Vec<Event>);

fn with_ureq(config: Config, agent: &ureq::Agent) -> Run<ureq::Error> {
    let mut events = Vec::new();
    let flow = Flow::device(Arc::new(config), Instant::now());
    let result = device_grant_ureq::run(flow, agent, |e| events.push(e.clone()));
    (result, events)
}

fn with_reqwest(config: Config, client: &device_grant_reqwest::Client) -> Run<reqwest::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut events = Vec::new();
    let result = runtime.block_on(async {
        let flow = Flow::device(Arc::new(config), Instant::now());
        device_grant_reqwest::run(flow, client, |e| events.push(e.clone())).await
    });
    (result, events)
}

/// Both drivers' results, as the flow errors and events they carry.
fn both(config: Config) -> Vec<(&'static str, Result<TokenResponse, FlowError>, Vec<Event>)> {
    let (u, ue) = with_ureq(config.clone(), &device_grant_ureq::agent());
    let (r, re) = with_reqwest(config, &device_grant_reqwest::client().unwrap());
    let flow = |e: &dyn std::fmt::Display, f: Option<&FlowError>| {
        f.cloned().unwrap_or_else(|| panic!("no flow error in {e}"))
    };
    vec![
        ("ureq", u.map_err(|e| flow(&e, e.flow_error())), ue),
        ("reqwest", r.map_err(|e| flow(&e, e.flow_error())), re),
    ]
}

fn prompt(events: &[Event]) -> Option<&device_grant::Prompt> {
    events.iter().find_map(|e| match e {
        Event::UserCode(p) => Some(p),
        _ => None,
    })
}

// Item 1: server text reaches no terminal raw.
#[test]
fn server_text_is_safe_to_print_in_every_display() {
    let hold = Canned::start(vec![]);
    let verify = hold.url("/verify");
    let server = Canned::start(vec![
        (
            "/device",
            Answer::json(
                200,
                json!({
                    "device_code": "dc", "user_code": format!("WDJB{HOSTILE}"),
                    "verification_uri": verify,
                    "message": format!("Go to {verify}{HOSTILE}"),
                    "expires_in": 60, "interval": 1,
                }),
            ),
        ),
        (
            "/token",
            Answer::json(
                400,
                json!({
                    "error": format!("server_error{HOSTILE}"),
                    "error_description": HOSTILE,
                }),
            ),
        ),
    ]);
    for (driver, result, events) in both(config(&server.url("/device"), &server.url("/token"))) {
        let prompt = prompt(&events).unwrap_or_else(|| panic!("{driver}: no prompt"));
        assert_printable(driver, &prompt.to_string());
        // The raw values stay available to those who want them.
        assert!(prompt.user_code().contains('\u{1b}'), "{driver}");
        for event in &events {
            assert_printable(driver, &event.to_string());
        }
        let error = result.expect_err("the token endpoint refused");
        let FlowError::OAuth(response) = &error else {
            panic!("{driver}: {error:?}")
        };
        assert_eq!(response.description(), Some(HOSTILE), "{driver}: raw kept");
        let shown = error.to_string();
        assert_printable(driver, &shown);
        assert!(
            shown.contains("FAKE: run curl"),
            "{driver}: the words stay: {shown}"
        );
    }
    assert_eq!(
        server.requests(),
        ["POST /device", "POST /token", "POST /device", "POST /token"]
    );
}

// Item 2: a verification URI the user must not be sent to is refused.
#[test]
fn unsafe_verification_uris_are_refused_before_any_prompt() {
    for uri in [
        "javascript:alert(document.cookie)",
        "file:///etc/passwd",
        "https://login.example.com@evil.example/device",
        "https://user:pass@as.example/device",
        "http://evil.example/device",
        "data:text/html,<script>alert(1)</script>",
    ] {
        let server = Canned::start(vec![(
            "/device",
            Answer::json(
                200,
                json!({
                    "device_code": "dc", "user_code": "WDJB-MJHT",
                    "verification_uri": uri, "expires_in": 60,
                }),
            ),
        )]);
        for (driver, result, events) in both(config(&server.url("/device"), &server.url("/token")))
        {
            assert!(prompt(&events).is_none(), "{driver}: {uri} was shown");
            match result {
                Err(FlowError::InvalidResponse(e)) => assert!(
                    matches!(
                        e.problem(),
                        Problem::UnsafeUri {
                            field: "verification_uri",
                            ..
                        }
                    ),
                    "{driver}: {uri}: {e}"
                ),
                other => panic!("{driver}: {uri}: {other:?}"),
            }
        }
        assert!(
            !server.requests().iter().any(|r| r.contains("/token")),
            "{uri}: polled"
        );
    }
}

// Item 3: a proxy never sees loopback traffic, set explicitly or from the environment.
#[test]
fn a_proxy_sees_nothing_for_loopback_endpoints() {
    let tap = Tap::start();
    for scheme in ["http", "socks5", "socks5h"] {
        let server = fast_server(Script::approve_after_polls(1));
        let proxy = tap.url(scheme);
        let agent = device_grant_ureq::agent_config()
            .proxy(Some(ureq::Proxy::new(&proxy).unwrap()))
            .build()
            .new_agent();
        let (result, _) = with_ureq(sim_config(&server), &agent);
        result.unwrap_or_else(|e| panic!("ureq through {proxy}: {e}"));
        let client = device_grant_reqwest::client_builder()
            .proxy(reqwest::Proxy::all(&proxy).unwrap())
            .build()
            .unwrap();
        let (result, _) = with_reqwest(sim_config(&server), &client);
        result.unwrap_or_else(|e| panic!("reqwest through {proxy}: {e}"));
    }
    assert_eq!(tap.seen(), 0, "the proxy saw loopback traffic");
}

/// The environment is the process's: the drivers read it in a child, this test binary run
/// again with `HOSTILE_PROXY_CHILD` set and the proxy variables pointing at a tap.
#[test]
fn proxies_from_the_environment_see_nothing_for_loopback_endpoints() {
    if std::env::var_os("HOSTILE_PROXY_CHILD").is_some() {
        // The child: both drivers' presets, which read the environment.
        let server = fast_server(Script::approve_after_polls(1));
        let (result, _) = with_ureq(sim_config(&server), &device_grant_ureq::agent());
        result.expect("ureq signs in");
        let client = device_grant_reqwest::client().expect("the proxies are usable");
        let (result, _) = with_reqwest(sim_config(&server), &client);
        result.expect("reqwest signs in");
        return;
    }
    let tap = Tap::start();
    for scheme in ["http", "socks5h"] {
        let proxy = tap.url(scheme);
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .args([
                "--exact",
                "proxies_from_the_environment_see_nothing_for_loopback_endpoints",
                "--nocapture",
            ])
            .env("HOSTILE_PROXY_CHILD", "1");
        for var in ["NO_PROXY", "no_proxy"] {
            child.env_remove(var);
        }
        for var in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            child.env(var, &proxy);
        }
        let out = child.output().unwrap();
        assert!(
            out.status.success(),
            "{proxy}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The child ran the flows, not an empty filter.
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
    }
    assert_eq!(tap.seen(), 0, "the proxy saw loopback traffic");
}

fn fast_server(script: Script) -> Server {
    Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(Duration::from_millis(50))
            .script(script),
    )
    .unwrap()
}

fn sim_config(server: &Server) -> Config {
    Config::builder(server.client_id())
        .device_endpoint(server.device_endpoint())
        .token_endpoint(server.token_endpoint())
        .build()
        .unwrap()
}

// Item 4: a poll that stalls near the deadline ends at the deadline, not a request timeout
// after it.
#[test]
fn a_stalled_poll_ends_at_the_deadline() {
    const EXPIRES_IN: Duration = Duration::from_secs(4);
    let start_server = || {
        Server::start(
            ServerConfig::new(Dialect::Rfc8628)
                .interval(Duration::from_secs(1))
                .expires_in(EXPIRES_IN)
                .script(Script::never().fault_at(1, Fault::Stall(Duration::from_secs(12)))),
        )
        .unwrap()
    };
    let check = |driver: &str,
                 started: Instant,
                 result: Result<TokenResponse, FlowError>,
                 events: &[Event]| {
        let took = started.elapsed();
        assert!(
            matches!(result, Err(FlowError::Expired(_))),
            "{driver}: {result:?}"
        );
        // Generous: the code's life plus three seconds, where the preset timeouts alone
        // would have run to 15 s (ureq's wait for an answer) or 30 s (reqwest's).
        assert!(
            took < EXPIRES_IN + Duration::from_secs(3),
            "{driver}: {took:?}"
        );
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::BackOff {
                    cause: BackOffCause::Transport(TransportErrorKind::Timeout),
                    ..
                }
            )),
            "{driver}: the stalled poll timed out: {events:?}"
        );
    };
    let server = start_server();
    let started = Instant::now();
    let (result, events) = with_ureq(sim_config(&server), &device_grant_ureq::agent());
    check(
        "ureq",
        started,
        result.map_err(|e| e.flow_error().cloned().unwrap()),
        &events,
    );
    let server = start_server();
    let started = Instant::now();
    let client = device_grant_reqwest::client().unwrap();
    let (result, events) = with_reqwest(sim_config(&server), &client);
    check(
        "reqwest",
        started,
        result.map_err(|e| e.flow_error().cloned().unwrap()),
        &events,
    );
}

fn private_ca() -> PrivateCa {
    PrivateCa::serving(vec![
        (
            "/device",
            Answer::json(
                200,
                json!({
                    "device_code": "dc", "user_code": "WDJB-MJHT",
                    "verification_uri": "https://127.0.0.1/verify",
                    "expires_in": 60, "interval": 1,
                }),
            ),
        ),
        (
            "/token",
            Answer::json(200, json!({"access_token": "at", "token_type": "Bearer"})),
        ),
    ])
}

// Item 5: a private certificate authority is trusted when given, and only then.
#[test]
fn a_private_ca_is_trusted_only_when_given() {
    let PrivateCa { ca_pem, server } = private_ca();
    let config = || config(&server.url("/device"), &server.url("/token"));

    let (result, _) = with_ureq(config(), &device_grant_ureq::agent());
    let error = result.expect_err("ureq's bundled roots do not know the CA");
    assert!(
        matches!(error.flow_error(), Some(FlowError::Transport { .. })),
        "{error:?}"
    );
    let (result, _) = with_reqwest(config(), &device_grant_reqwest::client().unwrap());
    let error = result.expect_err("the platform does not know the CA");
    assert!(
        matches!(error.flow_error(), Some(FlowError::Transport { .. })),
        "{error:?}"
    );
    assert!(server.requests().is_empty(), "no request got through TLS");

    let trust = device_grant_ureq::Trust::bundled()
        .add_ca_pem(ca_pem.as_bytes())
        .unwrap();
    let agent = device_grant_ureq::agent_config()
        .tls_config(trust.tls_config())
        .build()
        .new_agent();
    let (result, _) = with_ureq(config(), &agent);
    assert_eq!(
        result
            .expect("ureq trusts the added CA")
            .access_token()
            .secret(),
        "at"
    );
    let client = device_grant_reqwest::client_builder()
        .add_ca_pem(ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let (result, _) = with_reqwest(config(), &client);
    assert_eq!(
        result
            .expect("reqwest trusts the added CA")
            .access_token()
            .secret(),
        "at"
    );
    assert_eq!(
        server.requests(),
        ["POST /device", "POST /token", "POST /device", "POST /token"]
    );

    // Text that is no certificate is refused, not ignored.
    assert!(
        device_grant_ureq::Trust::bundled()
            .add_ca_pem(b"not a PEM")
            .is_err()
    );
    assert!(
        device_grant_reqwest::client_builder()
            .add_ca_pem(b"not a PEM")
            .is_err()
    );
}

// Item 6, over sockets (the flow's rules themselves are the core's scenario tests,
// core/tests/hardening.rs): Retry-After is honoured whatever the body, and a 429 or 503
// without an OAuth error backs off instead of ending the sign-in.
#[test]
fn retry_after_and_rate_limits_back_off_over_sockets() {
    let server = || {
        fast_server(
            Script::approve_after_polls(3)
                .fault_at(1, Fault::ServiceUnavailable(Some(RetryAfter::Seconds(1))))
                .fault_at(2, Fault::TooManyRequests(Some(RetryAfter::Seconds(1)))),
        )
    };
    let (u, ue) = with_ureq(sim_config(&server()), &device_grant_ureq::agent());
    let (r, re) = with_reqwest(
        sim_config(&server()),
        &device_grant_reqwest::client().unwrap(),
    );
    u.expect("ureq signs in");
    r.expect("reqwest signs in");
    for (driver, events) in [("ureq", ue), ("reqwest", re)] {
        let backoffs: Vec<(Duration, BackOffCause)> = events
            .iter()
            .filter_map(|e| match e {
                Event::BackOff { delay, cause } => Some((*delay, *cause)),
                _ => None,
            })
            .collect();
        assert_eq!(
            backoffs.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
            [BackOffCause::Status(503), BackOffCause::Status(429)],
            "{driver}"
        );
        assert!(
            backoffs.iter().all(|(d, _)| *d >= Duration::from_secs(1)),
            "{driver}: Retry-After honoured: {backoffs:?}"
        );
    }
}

// Item 7, a closed stderr, and Ctrl-C are the command line's: cli/tests/cli/signals.rs
// (`a_closed_stderr_still_stores_and_prints_the_token`,
// `ctrl_c_cancels_exits_130_and_stores_nothing`).
