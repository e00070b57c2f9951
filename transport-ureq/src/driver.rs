//! The loop that drives a [`Flow`] to its end over ureq, sleeping the thread between polls.

use std::sync::Arc;
use std::time::Instant;

use device_grant::{Config, Event, Flow, FlowError, Output, RefreshToken, TokenResponse};

use crate::agent::agent;
use crate::cancel::Cancel;
use crate::error::Error;
use crate::exchange::send;
use crate::transport_error::error_kind;

/// Drives `flow` to its end: sends its requests through `agent`, sleeps the thread between
/// polls, and calls `on_event` for everything worth telling the user, first of all
/// [`Event::UserCode`] with the code to show.
///
/// Transport failures while polling are handed to the flow, which backs off and keeps polling
/// until the code expires (RFC 8628 §3.5); they end the run only when the flow cannot go on.
///
/// Each request goes out the way [`send`](crate::send) sends it: no redirects, error statuses
/// as answers, a timeout, the body read up to the flow's limit only, whatever `agent` is
/// configured to do. [`agent`](crate::agent()) is the preset.
///
/// To stop the run from another thread, use [`run_with_cancel`].
pub fn run(
    flow: Flow,
    agent: &ureq::Agent,
    on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    drive(flow, agent, None, on_event)
}

/// Like [`run`], but `cancel` stops it: a wait between polls ends at once, a request on the
/// wire is let finish (it is bounded by the agent's timeout), and the run returns
/// [`Error::Flow`]`(`[`FlowError::Cancelled`]`)`. A handle cancelled before the call stops the
/// flow before it sends anything.
///
/// `on_event` can stop the run too, by cancelling a clone of `cancel`.
pub fn run_with_cancel(
    flow: Flow,
    agent: &ureq::Agent,
    cancel: &Cancel,
    on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    drive(flow, agent, Some(cancel), on_event)
}

/// Runs a device authorization grant with `config` over the preset [`agent`](crate::agent()).
///
/// `on_event` receives [`Event::UserCode`] once: show the user code and the verification URI.
pub fn authorize(
    config: impl Into<Arc<Config>>,
    on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    run(Flow::device(config, Instant::now()), &agent(), on_event)
}

/// Exchanges `refresh_token` for a new token over the preset [`agent`](crate::agent()). When
/// the server does not rotate the refresh token, the result carries this one.
pub fn refresh(
    config: impl Into<Arc<Config>>,
    refresh_token: RefreshToken,
) -> Result<TokenResponse, Error> {
    run(
        Flow::refresh(config, refresh_token, Instant::now()),
        &agent(),
        |_| {},
    )
}

fn drive(
    mut flow: Flow,
    agent: &ureq::Agent,
    cancel: Option<&Cancel>,
    mut on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    let cancelled = || cancel.is_some_and(Cancel::is_cancelled);
    // Kept while requests keep failing, so that a flow that ends for want of an answer can
    // say why.
    let mut last_failure: Option<ureq::Error> = None;
    loop {
        if cancelled() {
            flow.cancel();
        }
        match flow.poll_output() {
            Output::Send { id, request } => {
                match send(agent, request, flow.body_limit()) {
                    Ok(response) => {
                        last_failure = None;
                        flow.handle_response(id, response, Instant::now())
                    }
                    Err(error) => {
                        let kind = error_kind(&error);
                        last_failure = Some(error);
                        flow.handle_transport_error(id, kind, Instant::now())
                    }
                }
                .map_err(|e| Error::Internal(e.to_string()))?;
            }
            Output::Event(event) => on_event(&event),
            Output::WaitUntil(at) => {
                match cancel {
                    Some(cancel) => {
                        // Woken early by a cancel: the top of the loop ends the flow.
                        if cancel.sleep_until(at) {
                            continue;
                        }
                    }
                    None => std::thread::sleep(at.saturating_duration_since(Instant::now())),
                }
                flow.handle_timeout(Instant::now())
                    .map_err(|e| Error::Internal(e.to_string()))?;
            }
            Output::Done(Ok(token)) => return Ok(token),
            Output::Done(Err(error)) => {
                return Err(match (error, last_failure) {
                    // Cancelling is the caller's doing, whatever failed before.
                    (error @ FlowError::Cancelled, _) | (error, None) => Error::Flow(error),
                    (error, Some(source)) => Error::Transport {
                        error,
                        source: Box::new(source),
                    },
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
