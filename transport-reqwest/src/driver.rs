//! The loop that drives a [`Flow`] to its end over reqwest and the tokio timer.

use std::sync::Arc;
use std::time::Instant;

use device_grant::{Config, Driver, Event, Flow, RefreshToken, RunError, Step, TokenResponse};

use crate::Error;
use crate::client::{Client, shared};
use crate::exchange::{Urls, error_kind, execute};

/// Drives `flow` to its end: sends its requests through `client`, sleeps on the tokio timer
/// between polls, and calls `on_event` for everything worth telling the user, first of all
/// [`Event::UserCode`] with the code to show.
///
/// Transport failures while polling are handed to the flow, which backs off and keeps polling
/// until the code expires (RFC 8628 §3.5); they end the run only when the flow cannot go on.
///
/// Dropping the returned future cancels the flow: nothing is left running and no further
/// request is sent. The future is `Send` when `on_event` is.
pub async fn run(
    flow: Flow,
    client: &Client,
    mut on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    let mut driver = Driver::new(flow);
    let mut urls = Urls::default();
    loop {
        match driver.next(&mut on_event) {
            Step::Send(request) => {
                let sent = match urls.request(request) {
                    Ok(request) => execute(client, request, driver.read_limit()).await,
                    Err(error) => Err(error),
                };
                match sent {
                    Ok(response) => driver.answered(response, now()),
                    Err(error) => {
                        let kind = error_kind(&error);
                        driver.failed(error, kind, now());
                    }
                }
            }
            Step::SleepUntil(at) => {
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                driver.woke(now());
            }
            Step::Done(result) => return result,
        }
    }
}

/// Runs a device authorization grant with `config` over the preset client.
///
/// `on_event` receives [`Event::UserCode`] once: show the user code and the verification URI.
///
/// The client is built by the first call of [`authorize`] or [`refresh`] and shared by every
/// later one in the process (with its pool of open connections, which belong to the tokio
/// runtime that opened them: a program that runs several runtimes one after the other is
/// better served by a [`Client`] per runtime and [`run`]).
pub async fn authorize(
    config: impl Into<Arc<Config>>,
    on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    let client = shared().map_err(|e| RunError::Client(Box::new(e)))?;
    run(Flow::device(config, now()), client, on_event).await
}

/// Exchanges `refresh_token` for a new token over the preset client, the one [`authorize`]
/// shares. When the server does not rotate the refresh token, the result carries this one.
pub async fn refresh(
    config: impl Into<Arc<Config>>,
    refresh_token: RefreshToken,
) -> Result<TokenResponse, Error> {
    let client = shared().map_err(|e| RunError::Client(Box::new(e)))?;
    run(Flow::refresh(config, refresh_token, now()), client, |_| {}).await
}

/// The tokio clock, so that a paused test clock is the clock the flow sees.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
