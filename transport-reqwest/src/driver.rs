//! The loop that drives a [`Flow`] to its end over reqwest and the tokio timer.

use std::sync::Arc;
use std::time::Instant;

use device_grant::{Config, Event, Flow, Output, RefreshToken, TokenResponse};

use crate::client::client;
use crate::error::Error;
use crate::exchange;

/// Drives `flow` to its end: sends its requests through `client`, sleeps on the tokio timer
/// between polls, and calls `on_event` for everything worth telling the user, first of all
/// [`Event::UserCode`] with the code to show.
///
/// Transport failures while polling are handed to the flow, which backs off and keeps polling
/// until the code expires (RFC 8628 §3.5); they end the run only when the flow cannot go on.
///
/// Dropping the returned future cancels the flow: nothing is left running and no further
/// request is sent. The future is `Send` when `on_event` is.
///
/// `client` should come from [`client`](crate::client()) or
/// [`client_builder`](crate::client_builder): a client that follows redirects would send the
/// device code or a secret wherever a token endpoint redirects to.
pub async fn run(
    mut flow: Flow,
    client: &reqwest::Client,
    mut on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    // Kept while requests keep failing, so that a flow that ends for want of an answer can
    // say why.
    let mut last_failure: Option<reqwest::Error> = None;
    loop {
        match flow.poll_output() {
            Output::Send { id, request } => {
                match exchange::send(client, request, flow.body_limit()).await {
                    Ok(response) => {
                        last_failure = None;
                        flow.handle_response(id, response, now())
                    }
                    Err(error) => {
                        let kind = exchange::error_kind(&error);
                        last_failure = Some(error);
                        flow.handle_transport_error(id, kind, now())
                    }
                }
                .map_err(|e| Error::Internal(e.to_string()))?;
            }
            Output::Event(event) => on_event(&event),
            Output::WaitUntil(at) => {
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                flow.handle_timeout(now())
                    .map_err(|e| Error::Internal(e.to_string()))?;
            }
            Output::Done(Ok(token)) => return Ok(token),
            Output::Done(Err(error)) => {
                return Err(match last_failure {
                    Some(source) => Error::Transport { error, source },
                    None => Error::Flow(error),
                });
            }
            Output::AwaitResponse(id) => {
                return Err(Error::Internal(format!(
                    "the flow waits for request {} although every request has been answered",
                    id.get()
                )));
            }
            // Not formatted: an output this driver does not know might carry a secret.
            _ => {
                return Err(Error::Internal(
                    "the flow asked for something this driver does not know".to_owned(),
                ));
            }
        }
    }
}

/// Runs a device authorization grant with `config` over the preset [`client`](crate::client()).
///
/// `on_event` receives [`Event::UserCode`] once: show the user code and the verification URI.
pub async fn authorize(
    config: impl Into<Arc<Config>>,
    on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    let client = client().map_err(Error::Client)?;
    run(Flow::device(config, now()), &client, on_event).await
}

/// Exchanges `refresh_token` for a new token over the preset [`client`](crate::client()).
/// When the server does not rotate the refresh token, the result carries this one.
pub async fn refresh(
    config: impl Into<Arc<Config>>,
    refresh_token: RefreshToken,
) -> Result<TokenResponse, Error> {
    let client = client().map_err(Error::Client)?;
    run(Flow::refresh(config, refresh_token, now()), &client, |_| {}).await
}

/// The tokio clock, so that a paused test clock is the clock the flow sees.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
