//! The loop that drives a [`Flow`] to its end over reqwest and the tokio timer.

use std::sync::Arc;
use std::time::Instant;

use device_grant::{
    Config, Driver, Event, Flow, RefreshToken, RunError, Step, TokenResponse, fit_timeouts,
};

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
/// Once the device code's deadline is known, each request's time-out (the one set with
/// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout), or the preset's) is shortened
/// to end by it: a stalled poll cannot outlast the code.
///
/// Dropping the returned future cancels the flow: nothing is left running and no further
/// request is sent. The future is `Send` when `on_event` is.
pub fn run(
    flow: Flow,
    client: &Client,
    on_event: impl FnMut(&Event),
) -> impl Future<Output = Result<TokenResponse, Error>> {
    // Not an `async fn`: its future would keep the flow it was given next to the driver that
    // took it over, for as long as it runs.
    drive(Driver::new(flow), client, on_event)
}

/// The loop. An `async` block rather than an `async fn`, whose future would hold the driver
/// twice: once as it was passed, once as the body's own variable.
#[allow(clippy::manual_async_fn)]
fn drive(
    mut driver: Driver<reqwest::Error>,
    client: &Client,
    mut on_event: impl FnMut(&Event),
) -> impl Future<Output = Result<TokenResponse, Error>> {
    async move {
        let mut urls = Urls::of(driver.flow().config());
        loop {
            // The step is taken apart before anything is awaited, so that the future does not
            // keep room for it (a request, or a finished flow's result) across the awaits.
            let (exchange, wake) = match driver.next(&mut on_event) {
                Step::Send(request) => {
                    let (urls, read_limit) = (&mut urls, driver.read_limit());
                    // Set only when shorter than the client's own, which applies otherwise.
                    let timeout = client.request_timeout().and_then(|whole| {
                        let [fitted] = fit_timeouts([whole], driver.time_left(now()));
                        (fitted < whole).then_some(fitted)
                    });
                    // Boxed: the exchange's state (reqwest's response, the body so far) would
                    // be most of the run's, and it lives only while a request is out. One
                    // allocation a request is nothing next to the request.
                    let exchange = Box::pin(async move {
                        let mut request = urls.request(request)?;
                        if timeout.is_some() {
                            *request.timeout_mut() = timeout;
                        }
                        execute(client, request, read_limit).await
                    });
                    (Some(exchange), None)
                }
                Step::SleepUntil(at) => (None, Some(at)),
                Step::Done(result) => return result,
            };
            if let Some(exchange) = exchange {
                match exchange.await {
                    Ok(response) => driver.answered(response, now()),
                    Err(error) => {
                        let kind = error_kind(&error);
                        driver.failed(error, kind, now());
                    }
                }
            }
            if let Some(at) = wake {
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                driver.woke(now());
            }
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
pub fn authorize(
    config: impl Into<Arc<Config>>,
    on_event: impl FnMut(&Event),
) -> impl Future<Output = Result<TokenResponse, Error>> {
    // Not an `async fn`, which would keep `config` as given (perhaps a whole `Config`) for as
    // long as the flow runs; the flow still starts when the future is first polled.
    let config: Arc<Config> = config.into();
    async move {
        let client = shared().map_err(|e| RunError::Client(Box::new(e)))?;
        drive(Driver::new(Flow::device(config, now())), client, on_event).await
    }
}

/// Exchanges `refresh_token` for a new token over the preset client, the one [`authorize`]
/// shares. When the server does not rotate the refresh token, the result carries this one.
pub fn refresh(
    config: impl Into<Arc<Config>>,
    refresh_token: RefreshToken,
) -> impl Future<Output = Result<TokenResponse, Error>> {
    let config: Arc<Config> = config.into();
    async move {
        let client = shared().map_err(|e| RunError::Client(Box::new(e)))?;
        let flow = Flow::refresh(config, refresh_token, now());
        drive(Driver::new(flow), client, |_| {}).await
    }
}

/// The tokio clock, so that a paused test clock is the clock the flow sees.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
