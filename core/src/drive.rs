//! What every driver does around a [`Flow`], whatever its HTTP client and its way of
//! sleeping: the loop's bookkeeping, the error a run ends with, and the settings the drivers
//! share. Still free of I/O: the driver sends, reads, sleeps and reads the clock.

use std::fmt;
use std::time::{Duration, Instant};

use http::{Request, Response};

use crate::{Event, Flow, FlowError, Output, RequestId, TokenResponse, TransportErrorKind};

/// The `User-Agent` the drivers' preset clients send: `device-grant/<version>`.
pub const USER_AGENT: &str = concat!("device-grant/", env!("CARGO_PKG_VERSION"));

/// How long the drivers' preset clients wait for a connection (DNS, TCP and TLS) to be made.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one exchange may take once connected, up to the end of the body. A poll that
/// times out is retried later (RFC 8628 §3.5), so this bounds how long one stuck request can
/// hold up the flow.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most a driver buffers up front for a body whose `Content-Length` is `content_length`,
/// when it reads at most `read_limit` bytes: the length is only a hint (a hostile server may
/// announce gigabytes), and a real answer is a few kilobytes, so the buffer starts at no more
/// than 64 KiB and grows only as bytes arrive.
pub fn body_capacity(content_length: Option<u64>, read_limit: usize) -> usize {
    const FIRST_BUFFER: usize = 64 * 1024;
    let announced = content_length.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    announced.min(read_limit).min(FIRST_BUFFER)
}

/// Why a driver's run returned no token. `E` is the HTTP client's error type.
///
/// Nothing in it holds a device code, a token or a client secret: the flow keeps the bodies
/// it reads to itself, and a driver scrubs its client's errors of anything private.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError<E> {
    /// The flow ended without a token: the user denied it, the code expired, the server
    /// refused the request (with every field it sent), an answer could not be used, the
    /// configuration cannot run this flow, or the flow was cancelled.
    Flow(FlowError),
    /// A request could not be delivered and the flow could not go on without it: the device
    /// authorization request, the refresh request, or the polls up to the moment the code
    /// expired. `error` says what the flow made of it ([`FlowError::Transport`], or
    /// [`FlowError::Expired`] when polling failed until the end); `source` is the last
    /// failure, and [`std::error::Error::source`] leads to it.
    Transport {
        /// How the flow ended.
        error: FlowError,
        /// The last failure of the HTTP client (boxed: clients' errors can be large, and this
        /// keeps `Result<_, RunError<E>>` small).
        source: Box<E>,
    },
    /// The driver's preset HTTP client could not be built (for example the TLS backend could
    /// not load the platform's certificates).
    Client(Box<E>),
    /// The driver and the flow disagreed about what comes next. That is a bug in the driver
    /// or in `device-grant`; please report it with this message.
    Internal(String),
}

impl<E> RunError<E> {
    /// The flow's own account of how it ended, when it ended (everything but
    /// [`RunError::Client`] and [`RunError::Internal`]).
    pub fn flow_error(&self) -> Option<&FlowError> {
        match self {
            RunError::Flow(e) | RunError::Transport { error: e, .. } => Some(e),
            RunError::Client(_) | RunError::Internal(_) => None,
        }
    }

    /// The HTTP client's error behind this one, if any.
    pub fn client_error(&self) -> Option<&E> {
        match self {
            RunError::Transport { source, .. } | RunError::Client(source) => Some(source),
            RunError::Flow(_) | RunError::Internal(_) => None,
        }
    }
}

impl<E> fmt::Display for RunError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Flow(e) => e.fmt(f),
            RunError::Transport {
                error: error @ FlowError::Expired(_),
                ..
            } => write!(
                f,
                "{error} (the server could not be reached when it was last polled; check the network)"
            ),
            RunError::Transport { error, .. } => {
                write!(f, "{error}; check the network and the endpoint address")
            }
            RunError::Client(_) => f.write_str("the HTTP client could not be set up"),
            RunError::Internal(e) => write!(
                f,
                "internal error in the device-grant driver ({e}); please report it"
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RunError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent: the flow error's Display is ours, so its source comes next.
            RunError::Flow(e) => e.source(),
            RunError::Transport { source, .. } | RunError::Client(source) => Some(&**source),
            // Already in the message.
            RunError::Internal(_) => None,
        }
    }
}

impl<E> From<FlowError> for RunError<E> {
    fn from(e: FlowError) -> Self {
        RunError::Flow(e)
    }
}

/// What a driver does next, as [`Driver::next`] says.
///
/// Complete by design: a driver sends, sleeps or stops.
#[derive(Debug)]
pub enum Step<E> {
    /// Send this request, reading at most [`Driver::read_limit`] bytes of the answer, then
    /// call [`Driver::answered`] or [`Driver::failed`].
    Send(Request<Vec<u8>>),
    /// Sleep until this instant, then call [`Driver::woke`].
    SleepUntil(Instant),
    /// The run is over: the token, or why there is none.
    Done(Result<TokenResponse, RunError<E>>),
}

/// A [`Flow`] with the bookkeeping of a driver's loop: which request is out, the last
/// failure of the HTTP client (so that a flow that ends for want of an answer can say why),
/// and the flow's complaints about misuse, which end the run as [`RunError::Internal`].
///
/// It hands events to a callback and never returns [`Output::AwaitResponse`]: a driver that
/// answers each request before asking for the next step has nothing to wait on.
///
/// A driver's loop:
///
/// ```
/// # use std::time::Instant;
/// # use device_grant::{Config, Driver, Flow, RunError, Step, TokenResponse, TransportErrorKind};
/// # fn send(_: device_grant::http::Request<Vec<u8>>, _limit: usize)
/// #     -> Result<device_grant::http::Response<Vec<u8>>, std::io::Error> { unimplemented!() }
/// # fn sleep_until(_: Instant) {}
/// fn run(flow: Flow) -> Result<TokenResponse, RunError<std::io::Error>> {
///     let mut driver = Driver::new(flow);
///     loop {
///         match driver.next(|event| println!("{event:?}")) {
///             Step::Send(request) => match send(request, driver.read_limit()) {
///                 Ok(response) => driver.answered(response, Instant::now()),
///                 Err(error) => driver.failed(error, TransportErrorKind::Io, Instant::now()),
///             },
///             Step::SleepUntil(at) => {
///                 sleep_until(at);
///                 driver.woke(Instant::now());
///             }
///             Step::Done(result) => return result,
///         }
///     }
/// }
/// # let _ = run;
/// ```
#[derive(Debug)]
pub struct Driver<E> {
    flow: Flow,
    out: Option<RequestId>,
    last_failure: Option<E>,
    fault: Option<String>,
}

impl<E> Driver<E> {
    /// Drives `flow`.
    pub fn new(flow: Flow) -> Self {
        Driver {
            flow,
            out: None,
            last_failure: None,
            fault: None,
        }
    }

    /// The flow being driven.
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// How many bytes of a body to read at most: one past the flow's
    /// [body limit](Flow::body_limit), so that the flow sees a body that is too long, and no
    /// more, so that a large or endless body is never buffered.
    pub fn read_limit(&self) -> usize {
        self.flow.body_limit().saturating_add(1)
    }

    /// Ends the flow with [`FlowError::Cancelled`] (the next step is [`Step::Done`]), which
    /// wins over any failure before it: cancelling is the caller's doing.
    pub fn cancel(&mut self) {
        self.flow.cancel();
    }

    /// What to do next. Events on the way go to `on_event`. Once it has returned
    /// [`Step::Done`], the run is over.
    pub fn next(&mut self, mut on_event: impl FnMut(&Event)) -> Step<E> {
        loop {
            if let Some(fault) = self.fault.take() {
                return Step::Done(Err(RunError::Internal(fault)));
            }
            match self.flow.poll_output() {
                Output::Send { id, request } => {
                    self.out = Some(id);
                    return Step::Send(request);
                }
                Output::Event(event) => on_event(&event),
                Output::WaitUntil(at) => return Step::SleepUntil(at),
                Output::Done(Ok(token)) => return Step::Done(Ok(token)),
                Output::Done(Err(error)) => {
                    return Step::Done(Err(match (error, self.last_failure.take()) {
                        (error @ FlowError::Cancelled, _) | (error, None) => RunError::Flow(error),
                        (error, Some(source)) => RunError::Transport {
                            error,
                            source: Box::new(source),
                        },
                    }));
                }
                Output::AwaitResponse(id) => {
                    return Step::Done(Err(RunError::Internal(format!(
                        "the flow waits for request {} although it was answered",
                        id.get()
                    ))));
                }
            }
        }
    }

    /// Hands in the answer to the request of the last [`Step::Send`], at any status, its body
    /// read up to [`Driver::read_limit`].
    pub fn answered<B: AsRef<[u8]>>(&mut self, response: Response<B>, now: Instant) {
        let Some(id) = self.out.take() else {
            self.fault = Some("an answer came with no request out".to_owned());
            return;
        };
        self.last_failure = None;
        if let Err(e) = self.flow.handle_response(id, response, now) {
            self.fault = Some(e.to_string());
        }
    }

    /// Hands in the failure of the request of the last [`Step::Send`]: the client's `error`,
    /// kept in case the flow ends for want of an answer, and what `kind` of failure it is.
    pub fn failed(&mut self, error: E, kind: TransportErrorKind, now: Instant) {
        let Some(id) = self.out.take() else {
            self.fault = Some("a failure came with no request out".to_owned());
            return;
        };
        self.last_failure = Some(error);
        if let Err(e) = self.flow.handle_transport_error(id, kind, now) {
            self.fault = Some(e.to_string());
        }
    }

    /// Tells the flow the time after a [`Step::SleepUntil`] (sooner is harmless).
    pub fn woke(&mut self, now: Instant) {
        if let Err(e) = self.flow.handle_timeout(now) {
            self.fault = Some(e.to_string());
        }
    }
}
