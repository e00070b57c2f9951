//! The pieces of the loop on their own: the preset agent, `send` and `error_kind`.

mod common;

use std::io;

use common::server;
use device_grant_sim::{Fault, FaultTarget, RequestKind, Script};
use device_grant_ureq::device_grant::{TransportErrorKind, http, serde_json};
use device_grant_ureq::{CONNECT_TIMEOUT, REQUEST_TIMEOUT, agent, error_kind, send};

fn post(url: &str, form: &str) -> http::Request<Vec<u8>> {
    http::Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form.as_bytes().to_vec())
        .unwrap()
}

#[test]
fn the_preset_agent_neither_redirects_nor_fails_on_statuses_and_has_timeouts() {
    let agent = agent();
    let config = agent.config();
    assert_eq!(config.max_redirects(), 0);
    assert!(!config.http_status_as_error());
    let timeouts = config.timeouts();
    assert_eq!(timeouts.connect, Some(CONNECT_TIMEOUT));
    // Every phase after connecting is bounded, and together they make the request timeout.
    let phases = [
        timeouts.send_request,
        timeouts.send_body,
        timeouts.recv_response,
        timeouts.recv_body,
    ];
    assert_eq!(
        phases
            .iter()
            .map(|t| t.expect("a bounded phase"))
            .sum::<std::time::Duration>(),
        REQUEST_TIMEOUT
    );
    // With any of these, ureq resolves each request's host on a thread of its own.
    assert_eq!(
        (timeouts.global, timeouts.per_call, timeouts.resolve),
        (None, None, None)
    );
}

#[test]
fn send_returns_error_statuses_and_caps_the_body() {
    let server = server(Script::approve_after_polls(0));
    let form = format!("grant_type=nonsense&client_id={}", server.client_id());

    let whole = send(&agent(), post(&server.token_endpoint(), &form), 64 * 1024).unwrap();
    assert_eq!(whole.status(), 400);
    let body = whole.body();
    assert!(body.len() > 11, "{}", String::from_utf8_lossy(body));

    let cut = send(&agent(), post(&server.token_endpoint(), &form), 10).unwrap();
    assert_eq!(cut.status(), 400);
    // One byte over the limit tells the flow the body was too long.
    assert_eq!(cut.body().as_slice(), &body[..11]);
}

#[test]
fn send_gets_a_document_without_following_a_redirect_on_any_agent() {
    let server = server(Script::approve_after_polls(0));
    let redirecting: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(10)
        .http_status_as_error(true)
        .build()
        .into();
    let get = |path: &str| {
        http::Request::get(format!("{}{path}", server.base_url()))
            .body(Vec::new())
            .unwrap()
    };

    let document = send(
        &redirecting,
        get("/.well-known/oauth-authorization-server"),
        1 << 20,
    )
    .expect("the discovery document");
    assert_eq!(document.status(), 200);
    let document: serde_json::Value = serde_json::from_slice(document.body()).unwrap();
    assert_eq!(document["token_endpoint"], server.token_endpoint().as_str());

    let refused = send(
        &redirecting,
        post(
            &server.token_endpoint(),
            &format!("grant_type=nonsense&client_id={}", server.client_id()),
        ),
        1 << 20,
    )
    .expect("an error status is an answer");
    assert_eq!(refused.status(), 400);

    server.inject_fault(FaultTarget::DeviceAuthorization, Fault::Redirect);
    let redirect = send(
        &redirecting,
        post(
            &server.device_endpoint(),
            &format!("client_id={}", server.client_id()),
        ),
        1 << 20,
    )
    .expect("the redirect itself is the answer");
    assert_eq!(redirect.status(), 302);
    assert!(redirect.headers().contains_key("location"));

    assert_eq!(server.referee().redirect_hits(), 0);
    let kinds: Vec<RequestKind> = server.referee().requests().iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Discovery,
            RequestKind::OtherToken,
            RequestKind::DeviceAuthorization
        ]
    );
}

#[test]
fn ureq_errors_map_to_transport_kinds() {
    use io::{Error, ErrorKind};
    let cases = [
        (ureq::Error::HostNotFound, TransportErrorKind::Connect),
        (ureq::Error::ConnectionFailed, TransportErrorKind::Connect),
        (
            ureq::Error::Io(Error::from(ErrorKind::ConnectionRefused)),
            TransportErrorKind::Connect,
        ),
        (
            ureq::Error::Io(Error::from(ErrorKind::TimedOut)),
            TransportErrorKind::Timeout,
        ),
        (
            ureq::Error::Io(Error::from(ErrorKind::ConnectionReset)),
            TransportErrorKind::Io,
        ),
        (
            ureq::Error::Io(Error::from(ErrorKind::UnexpectedEof)),
            TransportErrorKind::Io,
        ),
        (
            ureq::Error::Timeout(ureq::Timeout::Global),
            TransportErrorKind::Timeout,
        ),
        (
            ureq::Error::LargeResponseHeader(70_000, 65_536),
            TransportErrorKind::Other,
        ),
        (ureq::Error::RedirectFailed, TransportErrorKind::Other),
    ];
    for (error, kind) in cases {
        assert_eq!(error_kind(&error), kind, "{error}");
    }
}
