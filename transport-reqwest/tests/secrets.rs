//! No device code, token or client secret in any error's Display or Debug, nor in those of
//! its sources.

mod common;

use std::error::Error as _;
use std::time::Duration;

use common::{FAST, now, run_device};
use device_grant_reqwest::device_grant::{Config, Flow, FlowError, RefreshToken};
use device_grant_reqwest::{Error, client, refresh, run};
use device_grant_sim::{
    Client, Dialect, Fault, RequestKind, Script, Server, ServerConfig, closed_port,
};

const SECRET: &str = "s3cret-client-Secret";

#[track_caller]
fn assert_hidden(error: &Error, secrets: &[&str]) {
    let mut texts = vec![
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ];
    let mut source = error.source();
    while let Some(e) = source {
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
        source = e.source();
    }
    for secret in secrets {
        assert!(!secret.is_empty());
        for text in &texts {
            assert!(!text.contains(secret), "{secret:?} shows in {text:?}");
        }
    }
}

fn confidential_server(script: Script) -> Server {
    Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .client(Client::basic("confidential", SECRET))
            .interval(FAST)
            .expires_in(Duration::from_millis(700))
            .script(script),
    )
    .unwrap()
}

fn confidential_config(server: &Server) -> Config {
    Config::builder("confidential")
        .device_endpoint(server.device_endpoint())
        .token_endpoint(server.token_endpoint())
        .client_secret_basic(SECRET)
        .build()
        .unwrap()
}

/// The device code the server issued, as the client sent it in its polls.
fn device_code(server: &Server) -> String {
    server
        .referee()
        .requests()
        .iter()
        .find(|r| r.kind == RequestKind::DevicePoll)
        .and_then(|r| r.form_value("device_code").map(str::to_owned))
        .expect("a poll with the device code")
}

/// What the Basic header carried, in case an error printed headers.
fn basic_credentials(server: &Server) -> String {
    let header = server.referee().requests()[0]
        .header("authorization")
        .expect("Basic credentials")
        .to_owned();
    header.trim_start_matches("Basic ").to_owned()
}

#[tokio::test]
async fn denied() {
    let server = confidential_server(Script::deny_after_polls(1));
    let (result, _) = run_device(confidential_config(&server)).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, Error::Flow(FlowError::Denied(_))),
        "{error:?}"
    );
    assert_hidden(
        &error,
        &[SECRET, &device_code(&server), &basic_credentials(&server)],
    );
    server.referee().assert_clean();
}

#[tokio::test]
async fn oversized_and_broken_answers() {
    for fault in [Fault::oversized(), Fault::InvalidUtf8, Fault::Redirect] {
        let server = confidential_server(Script::approve_after_polls(0).fault_at(1, fault));
        let (result, _) = run_device(confidential_config(&server)).await;
        let error = result.unwrap_err();
        assert!(error.flow_error().is_some(), "{error:?}");
        assert_hidden(&error, &[SECRET, &device_code(&server)]);
    }
}

#[tokio::test]
async fn polls_failing_until_expiry() {
    let mut script = Script::never();
    for poll in 1..=100 {
        script = script.fault_at(poll, Fault::Reset);
    }
    let server = confidential_server(script);
    let (result, _) = run_device(confidential_config(&server)).await;
    let error = result.unwrap_err();
    assert!(error.client_error().is_some(), "{error:?}");
    assert_hidden(
        &error,
        &[SECRET, &device_code(&server), &basic_credentials(&server)],
    );
}

#[tokio::test]
async fn unreachable_token_endpoint_with_a_query() {
    // A query is the one place a caller could put something private in an endpoint.
    let port = closed_port().unwrap();
    let config = Config::builder("confidential")
        .token_endpoint(format!("http://{port}/token?key=query-Secret-value"))
        .client_secret_post(SECRET)
        .build()
        .unwrap();
    let refresh_token = "refresh-Token-value";
    let error = refresh(config, RefreshToken::new(refresh_token))
        .await
        .unwrap_err();
    assert!(error.client_error().is_some(), "{error:?}");
    // The address is there to act on, without its query.
    assert!(format!("{:?}", error.client_error()).contains(&port.to_string()));
    assert_hidden(&error, &[SECRET, refresh_token, "query-Secret-value"]);
}

#[tokio::test]
async fn refused_refresh() {
    let server = confidential_server(Script::approve_after_polls(0));
    let client = client().unwrap();
    let config = confidential_config(&server);
    let token = run(Flow::device(config.clone(), now()), &client, |_| {})
        .await
        .unwrap();
    let access = token.access_token().secret().to_owned();
    let wrong = "not-the-Refresh-token";
    let error = refresh(config, RefreshToken::new(wrong)).await.unwrap_err();
    assert!(
        matches!(error, Error::Flow(FlowError::OAuth(_))),
        "{error:?}"
    );
    assert_hidden(
        &error,
        &[
            SECRET,
            wrong,
            &access,
            token.refresh_token().unwrap().secret(),
        ],
    );
}
