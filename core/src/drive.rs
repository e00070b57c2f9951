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

/// The least time a request is given, however close the deadline: a poll sent in the last
/// moments still gets the answer a prompt server gives, and a client never sees a zero
/// timeout (which some read as "no timeout").
pub const MIN_REQUEST_TIME: Duration = Duration::from_secs(1);

/// The timeouts of the phases of one exchange (connecting, sending, waiting, reading, as a
/// driver's HTTP client counts them), shortened so that together they end by the deadline:
/// a request sent with `time_left` to go must not hold the flow past it, since a stalled
/// poll would otherwise overshoot the device code's expiry by a whole request timeout.
///
/// Phases run one after the other, so their sum is what one request can take. When it fits
/// in `time_left` (or there is no deadline, `None`) they are returned as they are; otherwise
/// each is scaled down in proportion, so that the sum is `time_left` (at least
/// [`MIN_REQUEST_TIME`]). A phase that was zero stays zero.
///
/// ```
/// # use std::time::Duration;
/// let s = Duration::from_secs;
/// // Plenty of time: unchanged.
/// assert_eq!(device_grant::fit_timeouts([s(10), s(30)], Some(s(900))), [s(10), s(30)]);
/// // 8 s left: 2 s to connect, 6 s for the rest.
/// assert_eq!(device_grant::fit_timeouts([s(10), s(30)], Some(s(8))), [s(2), s(6)]);
/// ```
#[must_use]
pub fn fit_timeouts<const N: usize>(
    phases: [Duration; N],
    time_left: Option<Duration>,
) -> [Duration; N] {
    let Some(left) = time_left else {
        return phases;
    };
    let left = left.max(MIN_REQUEST_TIME);
    let total: u128 = phases.iter().map(Duration::as_nanos).sum();
    if total <= left.as_nanos() {
        return phases;
    }
    phases.map(|phase| {
        // total > left >= 1 s, so no division by zero, and the quotient is at most `phase`.
        // Timeouts near `Duration::MAX` overflow the product: divide first then.
        let scaled = phase.as_nanos().checked_mul(left.as_nanos()).map_or_else(
            || phase.as_nanos() / (total / left.as_nanos()),
            |product| product / total,
        );
        Duration::from_nanos(u64::try_from(scaled).unwrap_or(u64::MAX))
    })
}

/// Whether `host`, as a URI names it (an IPv6 address in brackets), is this machine:
/// 127.0.0.0/8, `::1` (also as `::ffff:127.x.y.z`) or `localhost`, the addresses the
/// configuration lets plain http reach.
///
/// A driver never sends a request for such a host through a proxy: the proxy's loopback is
/// another machine's, and the request (device code and client secret included) would be
/// handed to it, in clear text for plain http.
#[must_use]
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
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
/// #     -> Result<device_grant::http::Response<Vec<u8>>, std::io::Error> {
/// #     Err(std::io::Error::other("this example sends nothing"))
/// # }
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

    /// How long is left at `now` before the device code expires, once the flow knows it
    /// (`None` before the device authorization answer, and for a refresh). A driver shortens
    /// the timeouts of the request it sends to fit ([`fit_timeouts`]), so that a stalled poll
    /// ends by the deadline instead of a request timeout after it.
    pub fn time_left(&self, now: Instant) -> Option<Duration> {
        self.flow
            .deadline()
            .map(|deadline| deadline.saturating_duration_since(now))
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
                Output::AwaitResponse(id) | Output::Lent(id) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn timeouts_that_fit_are_kept() {
        let phases = [s(10), s(5), s(5), s(15), s(5)];
        assert_eq!(fit_timeouts(phases, None), phases);
        assert_eq!(fit_timeouts(phases, Some(s(40))), phases);
        assert_eq!(fit_timeouts(phases, Some(s(900))), phases);
    }

    #[test]
    fn timeouts_shrink_in_proportion_to_end_by_the_deadline() {
        let fitted = fit_timeouts([s(10), s(5), s(5), s(15), s(5)], Some(s(8)));
        assert_eq!(fitted, [s(2), s(1), s(1), s(3), s(1)]);
        let uneven = fit_timeouts([s(10), s(30)], Some(Duration::from_millis(8_500)));
        assert!(uneven.iter().sum::<Duration>() <= Duration::from_millis(8_500));
        assert!(uneven[0] < uneven[1], "{uneven:?}");
    }

    #[test]
    fn a_request_at_or_past_the_deadline_still_gets_the_minimum() {
        for left in [Duration::ZERO, Duration::from_millis(1)] {
            let fitted = fit_timeouts([s(10), s(30)], Some(left));
            assert_eq!(fitted.iter().sum::<Duration>(), MIN_REQUEST_TIME);
            assert!(fitted.iter().all(|t| !t.is_zero()), "{fitted:?}");
        }
        assert_eq!(
            fit_timeouts([Duration::ZERO, s(30)], Some(s(3))),
            [Duration::ZERO, s(3)]
        );
        assert_eq!(
            fit_timeouts([Duration::MAX, Duration::MAX], Some(s(2))),
            [s(1), s(1)]
        );
        let huge = fit_timeouts([Duration::MAX, Duration::MAX], Some(Duration::MAX / 4));
        assert!(huge.iter().all(|t| *t <= Duration::MAX / 4), "{huge:?}");
    }

    #[test]
    fn the_time_left_counts_down_to_the_device_codes_expiry() {
        let config = crate::Config::builder("client")
            .device_endpoint("https://as.example/device")
            .token_endpoint("https://as.example/token")
            .build()
            .unwrap();
        let start = Instant::now();
        let mut driver: Driver<()> = Driver::new(Flow::device(config, start));
        assert_eq!(
            driver.time_left(start),
            None,
            "no deadline before the answer"
        );
        let Step::Send(_) = driver.next(|_| {}) else {
            panic!("the device request first")
        };
        let body = r#"{"device_code":"d","user_code":"U","verification_uri":"https://as.example/v","expires_in":8}"#;
        driver.answered(Response::new(body.as_bytes()), start);
        assert_eq!(driver.time_left(start), Some(s(8)));
        assert_eq!(driver.time_left(start + s(3)), Some(s(5)));
        assert_eq!(driver.time_left(start + s(60)), Some(Duration::ZERO));
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.9.8.7",
            "[::1]",
            "::1",
            "localhost",
            "LOCALHOST",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "128.0.0.1",
            "[::2]",
            "localhost.example",
            "127.0.0.1.nip.io",
            "",
            "[]",
            "10.0.0.1",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
