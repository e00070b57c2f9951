//! What the errors say, where they lead, and what they never show.

mod common;

use std::error::Error as _;
use std::time::Instant;

use common::{FAST, config, run_device};
use device_grant_sim::{Client, Dialect, Script, Server, ServerConfig, closed_port};
use device_grant_ureq::device_grant::{
    Config, ConfigError, Flow, FlowError, RefreshToken, TransportErrorKind,
};
use device_grant_ureq::{Error, agent, refresh, run};

const SECRET: &str = "client-secret-0f9e8d7c6b5a";

/// Everything a person or a log could see of `error`: Display, Debug, and every source.
fn shown(error: &Error) -> String {
    let mut text = format!("{error}\n{error:?}\n{error:#?}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n{cause}\n{cause:?}"));
        source = cause.source();
    }
    text
}

fn confidential_server(script: Script) -> Server {
    Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .client(Client::post("confidential", SECRET))
            .interval(FAST)
            .script(script),
    )
    .unwrap()
}

#[test]
fn a_denial_shows_neither_the_device_code_nor_the_client_secret() {
    let server = confidential_server(Script::deny_after_polls(1));
    let config = config(&server).client_secret_post(SECRET).build().unwrap();
    let (result, _) = run_device(config);

    let error = result.unwrap_err();
    assert!(
        matches!(error, Error::Flow(FlowError::Denied(_))),
        "{error:?}"
    );
    let flow = server.referee().last_flow().unwrap();
    let polls = server.referee().polls(flow.id);
    let device_code = polls[0].form_value("device_code").unwrap();
    assert_eq!(polls[0].form_value("client_secret"), Some(SECRET));
    let text = shown(&error);
    assert!(!text.contains(device_code), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("denied"), "{text}");
    server.referee().assert_clean();
}

#[test]
fn a_refused_refresh_shows_neither_the_refresh_token_nor_the_client_secret() {
    let server = confidential_server(Script::approve_after_polls(0));
    let config = config(&server).client_secret_post(SECRET).build().unwrap();
    let refresh_token = "refresh-token-a1b2c3d4e5f6";

    let error = refresh(config, RefreshToken::new(refresh_token)).unwrap_err();

    match &error {
        Error::Flow(FlowError::OAuth(e)) => assert_eq!(e.error(), "invalid_grant"),
        other => panic!("expected invalid_grant, got {other:?}"),
    }
    // The token did reach the server, so the test would see it if it leaked.
    let requests = server.referee().requests();
    assert_eq!(requests[0].form_value("refresh_token"), Some(refresh_token));
    let text = shown(&error);
    assert!(!text.contains(refresh_token), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("token endpoint"), "{text}");
}

#[test]
fn a_transport_error_shows_no_secret_and_leads_to_ureq() {
    let port = closed_port().unwrap();
    let config = Config::builder("client")
        .device_endpoint(format!("http://{port}/device"))
        .token_endpoint(format!("http://{port}/token"))
        .client_secret_basic(SECRET)
        .build()
        .unwrap();
    let refresh_token = "refresh-token-f6e5d4c3b2a1";

    let error = refresh(config, RefreshToken::new(refresh_token)).unwrap_err();

    assert!(
        matches!(
            error.flow_error(),
            Some(FlowError::Transport {
                kind: TransportErrorKind::Connect,
                ..
            })
        ),
        "{error:?}"
    );
    assert!(error.source().unwrap().is::<ureq::Error>());
    let text = shown(&error);
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains(refresh_token), "{text}");
}

#[test]
fn a_configuration_error_is_transparent_and_leads_to_its_cause() {
    // No device endpoint: the flow cannot start, and nothing is sent (the token endpoint is
    // closed, so a request would have ended in a transport error instead).
    let port = closed_port().unwrap();
    let config = Config::builder("client")
        .token_endpoint(format!("http://{port}/token"))
        .build()
        .unwrap();

    let error = run(Flow::device(config, Instant::now()), &agent(), |_| {}).unwrap_err();

    assert!(
        matches!(
            error,
            Error::Flow(FlowError::Config(ConfigError::MissingDeviceEndpoint))
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("invalid configuration"),
        "{error}"
    );
    assert!(error.source().unwrap().is::<ConfigError>());
    assert!(error.client_error().is_none());
}

#[test]
fn an_internal_error_asks_to_be_reported() {
    let error = Error::Internal("the flow said no".to_owned());
    assert!(error.to_string().contains("please report it"), "{error}");
    assert!(error.to_string().contains("the flow said no"), "{error}");
    assert!(error.source().is_none());
    assert!(error.flow_error().is_none());
}

#[test]
fn the_error_can_cross_threads_and_be_boxed() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
    let boxed: Box<dyn std::error::Error + Send + Sync> =
        Box::new(Error::from(FlowError::Cancelled));
    assert_eq!(boxed.to_string(), "the flow was cancelled");
}
