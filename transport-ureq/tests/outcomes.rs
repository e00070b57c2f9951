//! How flows end, over real sockets against the simulated server.

mod common;

use std::time::Duration;

use common::{FAST, config, run_device, server, user_codes};
use device_grant_sim::{Dialect, RequestKind, Script, Server, ServerConfig};
use device_grant_ureq::device_grant::{Config, DEVICE_CODE_GRANT, Event, FlowError, Profile};
use device_grant_ureq::{Error, USER_AGENT, refresh};

#[test]
fn approved_after_pending_polls() {
    let server = server(Script::approve_after_polls(2));
    let (result, events) = run_device(config(&server).build().unwrap());

    let token = result.expect("the flow ends with a token");
    assert_eq!(token.token_type(), "Bearer");
    assert!(!token.access_token().secret().is_empty());
    assert!(token.refresh_token().is_some());

    // The code shown first and once, and it is the one the server issued.
    let flow = server.referee().last_flow().unwrap();
    assert_eq!(user_codes(&events), [flow.user_code.as_str()]);
    assert!(matches!(events[0], Event::UserCode(_)));

    let requests = server.referee().requests();
    let kinds: Vec<RequestKind> = requests.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::DeviceAuthorization,
            RequestKind::DevicePoll,
            RequestKind::DevicePoll,
            RequestKind::DevicePoll
        ],
        "two pending answers (HTTP 400), then the token"
    );
    assert_eq!(
        requests[0].form_value("client_id"),
        Some(server.client_id())
    );
    assert_eq!(
        requests[0].form_value("scope"),
        Some("openid offline_access")
    );
    for poll in &requests[1..] {
        assert_eq!(poll.method, "POST");
        assert_eq!(poll.form_value("grant_type"), Some(DEVICE_CODE_GRANT));
        assert!(poll.form_value("device_code").is_some());
    }
    for request in &requests {
        assert_eq!(request.header("user-agent"), Some(USER_AGENT));
        assert_eq!(request.header("accept"), Some("application/json"));
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
    }
    assert!(requests[1..3].iter().all(|r| r.status == Some(400)));
    server.referee().assert_clean();
}

#[test]
fn denied_by_the_user() {
    let server = server(Script::deny_after_polls(1));
    let (result, _) = run_device(config(&server).build().unwrap());

    match result {
        Err(Error::Flow(FlowError::Denied(e))) => assert_eq!(e.error(), "access_denied"),
        other => panic!("expected a denial, got {other:?}"),
    }
    let flow = server.referee().last_flow().unwrap();
    assert_eq!(server.referee().polls(flow.id).len(), 2);
    server.referee().assert_clean();
}

#[test]
fn expired_on_the_server() {
    let server = server(Script::expire_after_polls(2));
    let (result, _) = run_device(config(&server).build().unwrap());

    match &result {
        Err(Error::Flow(FlowError::Expired(Some(e)))) => assert_eq!(e.error(), "expired_token"),
        other => panic!("expected expiry, got {other:?}"),
    }
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("start the sign-in again"),
        "the message says what to do"
    );
    server.referee().assert_clean();
}

#[test]
fn polling_stops_at_the_deadline() {
    // Polls at about 200 and 400 ms, the deadline at 500 ms: no poll lands near it, so the
    // server never gets to say "expired" and only the client's own deadline can end the flow.
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(Duration::from_millis(200))
            .expires_in(Duration::from_millis(500))
            .script(Script::never()),
    )
    .unwrap();
    let (result, _) = run_device(config(&server).build().unwrap());

    assert!(
        matches!(result, Err(Error::Flow(FlowError::Expired(None)))),
        "{result:?}"
    );
    let flow = server.referee().last_flow().unwrap();
    let polls = server.referee().polls(flow.id);
    assert!(polls.len() >= 2, "{polls:?}");
    assert!(polls.iter().all(|p| p.status == Some(400)), "{polls:?}");
    server.referee().assert_clean();
}

#[test]
fn azure_ad_v1_with_a_resource() {
    let server = Server::start(
        ServerConfig::new(Dialect::AzureAdV1)
            .interval(FAST)
            .script(Script::approve_after_polls(1)),
    )
    .unwrap();
    let resource = "https://management.core.windows.net/";
    let config = Config::builder(server.client_id())
        .profile(Profile::AzureAdV1 {
            resource: resource.to_owned(),
        })
        .device_endpoint(server.device_endpoint())
        .token_endpoint(server.token_endpoint())
        .build()
        .unwrap();
    let (result, events) = run_device(config);

    let token = result.expect("a token");
    assert_eq!(token.token_type(), "Bearer");
    assert_eq!(user_codes(&events).len(), 1);
    let requests = server.referee().requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.form_value("resource") == Some(resource))
    );
    // The v1 poll: its own grant type, the code as `code`.
    assert_eq!(requests[1].form_value("grant_type"), Some("device_code"));
    assert!(requests[1].form_value("code").is_some());
    server.referee().assert_clean();
}

#[test]
fn refresh_with_rotation() {
    let server = server(Script::approve_after_polls(0));
    let config = config(&server).build().unwrap();
    let first = run_device(config.clone()).0.unwrap();
    let old = first.refresh_token().expect("a refresh token").clone();

    let second = refresh(config.clone(), old.clone()).expect("refreshed");
    assert_ne!(
        second.access_token().secret(),
        first.access_token().secret()
    );
    // The server rotates refresh tokens, and the old one no longer works.
    let new = second.refresh_token().expect("a new refresh token");
    assert_ne!(new.secret(), old.secret());
    match refresh(config.clone(), old) {
        Err(Error::Flow(FlowError::OAuth(e))) => assert_eq!(e.error(), "invalid_grant"),
        other => panic!("expected invalid_grant, got {other:?}"),
    }
    refresh(config, new.clone()).expect("the new refresh token works");

    let requests = server.referee().requests();
    let kinds: Vec<RequestKind> = requests.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::DeviceAuthorization,
            RequestKind::DevicePoll,
            RequestKind::Refresh,
            RequestKind::Refresh,
            RequestKind::Refresh
        ]
    );
    assert_eq!(requests[2].form_value("grant_type"), Some("refresh_token"));
    assert_eq!(
        requests[2].form_value("refresh_token"),
        Some(first.refresh_token().unwrap().secret())
    );
    server.referee().assert_clean();
}

#[test]
fn refresh_without_rotation_keeps_the_refresh_token() {
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(FAST)
            .rotate_refresh_tokens(false)
            .script(Script::approve_after_polls(0)),
    )
    .unwrap();
    let config = config(&server).build().unwrap();
    let first = run_device(config.clone()).0.unwrap();
    let old = first.refresh_token().expect("a refresh token").clone();

    let second = refresh(config.clone(), old.clone()).expect("refreshed");
    assert_ne!(
        second.access_token().secret(),
        first.access_token().secret()
    );
    assert_eq!(
        second.refresh_token().map(|t| t.secret()),
        Some(old.secret()),
        "the server sent none, so the one given is kept"
    );
    // And it still works.
    let third = refresh(config, old).expect("refreshed again");
    assert_ne!(
        third.access_token().secret(),
        second.access_token().secret()
    );
    server.referee().assert_clean();
}
