//! How flows end, over real sockets against the simulated server.

mod common;

use common::{FAST, config, run_device, server, user_codes};
use device_grant_reqwest::device_grant::{Config, Event, FlowError, Profile};
use device_grant_reqwest::{Error, USER_AGENT, refresh};
use device_grant_sim::{Dialect, RequestKind, Script, Server, ServerConfig};

#[tokio::test]
async fn approved_after_pending_polls() {
    let server = server(Script::approve_after_polls(2));
    let (result, events) = run_device(config(&server).build().unwrap()).await;

    let token = result.expect("the flow ends with a token");
    assert_eq!(token.token_type(), "Bearer");
    assert!(!token.access_token().secret().is_empty());
    assert!(token.refresh_token().is_some());

    // The code shown first and once, and it is the one the server issued.
    let flow = server.referee().last_flow().unwrap();
    assert_eq!(user_codes(&events), [flow.user_code.as_str()]);
    assert!(matches!(events[0], Event::UserCode(_)));
    // Two pending answers, then the token.
    assert_eq!(server.referee().polls(flow.id).len(), 3);
    for request in server.referee().requests() {
        assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    }
    server.referee().assert_clean();
}

#[tokio::test]
async fn denied_by_the_user() {
    let server = server(Script::deny_after_polls(1));
    let (result, _) = run_device(config(&server).build().unwrap()).await;

    match result {
        Err(Error::Flow(FlowError::Denied(e))) => assert_eq!(e.error(), "access_denied"),
        other => panic!("expected a denial, got {other:?}"),
    }
    let flow = server.referee().last_flow().unwrap();
    assert_eq!(server.referee().polls(flow.id).len(), 2);
    server.referee().assert_clean();
}

#[tokio::test]
async fn expired_on_the_server() {
    let server = server(Script::expire_after_polls(2));
    let (result, _) = run_device(config(&server).build().unwrap()).await;

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

#[tokio::test]
async fn azure_ad_v1_with_a_resource() {
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
    let (result, events) = run_device(config).await;

    let token = result.expect("a token");
    assert_eq!(token.token_type(), "Bearer");
    assert_eq!(user_codes(&events).len(), 1);
    let requests = server.referee().requests();
    assert!(
        requests
            .iter()
            .all(|r| r.form_value("resource") == Some(resource))
    );
    server.referee().assert_clean();
}

#[tokio::test]
async fn refresh_with_the_preset_client() {
    let server = server(Script::approve_after_polls(0));
    let config = config(&server).build().unwrap();
    let (first, _) = run_device(config.clone()).await;
    let first = first.unwrap();
    let old = first.refresh_token().expect("a refresh token").clone();

    let second = refresh(config.clone(), old.clone())
        .await
        .expect("refreshed");
    assert_ne!(
        second.access_token().secret(),
        first.access_token().secret()
    );
    // The server rotates refresh tokens, and the old one no longer works.
    let new = second.refresh_token().expect("a new refresh token");
    assert_ne!(new.secret(), old.secret());
    match refresh(config, old).await {
        Err(Error::Flow(FlowError::OAuth(e))) => assert_eq!(e.error(), "invalid_grant"),
        other => panic!("expected invalid_grant, got {other:?}"),
    }
    let kinds: Vec<RequestKind> = server.referee().requests().iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::DeviceAuthorization,
            RequestKind::DevicePoll,
            RequestKind::Refresh,
            RequestKind::Refresh
        ]
    );
    server.referee().assert_clean();
}
