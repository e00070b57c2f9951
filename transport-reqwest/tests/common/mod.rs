//! What the suites share: a fast simulated server, a configuration pointing at it, and a run
//! that records the events.

#![allow(dead_code)] // each suite uses its own part

use std::time::Duration;

use device_grant_reqwest::device_grant::{Config, ConfigBuilder, Event, Flow, TokenResponse};
use device_grant_reqwest::{Error, client, run};
use device_grant_sim::{Dialect, Script, Server, ServerConfig};

/// Fast enough that a flow of a few polls takes a fraction of a second.
pub const FAST: Duration = Duration::from_millis(50);

/// An RFC 8628 server that advertises a 50 ms interval and runs `script`.
pub fn server(script: Script) -> Server {
    Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(FAST)
            .script(script),
    )
    .expect("the simulated server starts")
}

/// A configuration for `server`'s endpoints and first client.
pub fn config(server: &Server) -> ConfigBuilder {
    Config::builder(server.client_id())
        .device_endpoint(server.device_endpoint())
        .token_endpoint(server.token_endpoint())
        .scope("openid offline_access")
}

pub fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Runs a device flow with the preset client and returns its result and every event.
pub async fn run_device(config: Config) -> (Result<TokenResponse, Error>, Vec<Event>) {
    let client = client().expect("the preset client builds");
    run_with(config, &client).await
}

/// Runs a device flow with `client` and returns its result and every event.
pub async fn run_with(
    config: Config,
    client: &device_grant_reqwest::Client,
) -> (Result<TokenResponse, Error>, Vec<Event>) {
    let mut events = Vec::new();
    let result = run(Flow::device(config, now()), client, |e| {
        events.push(e.clone())
    })
    .await;
    (result, events)
}

/// The user codes shown, in order.
pub fn user_codes(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::UserCode(p) => Some(p.user_code().to_owned()),
            _ => None,
        })
        .collect()
}
