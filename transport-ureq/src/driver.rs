//! The loop that drives a [`Flow`] to its end over ureq, sleeping the thread between polls.

use std::sync::Arc;
use std::time::Instant;

use device_grant::{Config, Driver, Event, Flow, RefreshToken, Step, TokenResponse};

use crate::Error;
use crate::agent::shared;
use crate::cancel::Cancel;
use crate::exchange::send_within;
use crate::transport_error::error_kind;

/// Drives `flow` to its end: sends its requests through `agent`, sleeps the thread between
/// polls, and calls `on_event` for everything worth telling the user, first of all
/// [`Event::UserCode`] with the code to show.
///
/// Transport failures while polling are handed to the flow, which backs off and keeps polling
/// until the code expires (RFC 8628 §3.5); they end the run only when the flow cannot go on.
///
/// Each request goes out the way [`send`](crate::send) sends it: no redirects, error statuses
/// as answers, timeouts, no proxy for loopback hosts, the body read up to the flow's limit
/// only, whatever `agent` is configured to do. Once the device code's deadline is known, each
/// request's timeouts are shortened to end by it: a stalled poll cannot outlast the code. [`agent`](crate::agent()) is the preset.
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
/// wire is let finish (its timeouts bound it), and the run returns
/// [`Error::Flow`]`(`[`FlowError::Cancelled`](device_grant::FlowError::Cancelled)`)`. A
/// handle cancelled before the call stops the flow before it sends anything.
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

/// Runs a device authorization grant with `config` over the preset agent.
///
/// `on_event` receives [`Event::UserCode`] once: show the user code and the verification URI.
///
/// The agent is built by the first call of [`authorize`] or [`refresh`] and shared by every
/// later one in the process (with its pool of open connections).
pub fn authorize(
    config: impl Into<Arc<Config>>,
    on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    run(Flow::device(config, Instant::now()), shared(), on_event)
}

/// Exchanges `refresh_token` for a new token over the preset agent, the one [`authorize`]
/// shares. When the server does not rotate the refresh token, the result carries this one.
pub fn refresh(
    config: impl Into<Arc<Config>>,
    refresh_token: RefreshToken,
) -> Result<TokenResponse, Error> {
    run(
        Flow::refresh(config, refresh_token, Instant::now()),
        shared(),
        |_| {},
    )
}

fn drive(
    flow: Flow,
    agent: &ureq::Agent,
    cancel: Option<&Cancel>,
    mut on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    let mut driver = Driver::new(flow);
    loop {
        if cancel.is_some_and(Cancel::is_cancelled) {
            driver.cancel();
        }
        match driver.next(&mut on_event) {
            Step::Send(request) => {
                let time_left = driver.time_left(Instant::now());
                match send_within(agent, request, driver.flow().body_limit(), time_left) {
                    Ok(response) => driver.answered(response, Instant::now()),
                    Err(error) => {
                        let kind = error_kind(&error);
                        driver.failed(error, kind, Instant::now());
                    }
                }
            }
            Step::SleepUntil(at) => {
                match cancel {
                    // Woken early by a cancel: the top of the loop ends the flow.
                    Some(cancel) if cancel.sleep_until(at) => continue,
                    Some(_) => {}
                    None => std::thread::sleep(at.saturating_duration_since(Instant::now())),
                }
                driver.woke(Instant::now());
            }
            Step::Done(result) => return result,
        }
    }
}
