//! One request and its answer: sending the core's request through ureq and reading at most the
//! body limit plus one byte of the answer.

use std::io::Read;
use std::time::Duration;

use device_grant::http::{Request, Response};

use crate::agent::{
    RECV_BODY_TIMEOUT, RECV_RESPONSE_TIMEOUT, SEND_BODY_TIMEOUT, SEND_REQUEST_TIMEOUT, bounded,
};

/// Sends `request` through `agent` and reads its answer at any status, keeping at most
/// `body_limit + 1` bytes of the body: the core rejects anything longer, so there is no point
/// in (and real harm from) buffering more. A body cut short is not read further; its
/// connection is closed instead of going back to the pool.
///
/// Whatever `agent` is configured to do, this request is sent with redirects off, with error
/// statuses returned as responses, with timeouts (the agent's own, and where it sets none
/// for a phase, the preset's: [`CONNECT_TIMEOUT`](crate::CONNECT_TIMEOUT) to connect,
/// [`REQUEST_TIMEOUT`](crate::REQUEST_TIMEOUT) for the rest, split over the phases), and
/// never through a proxy when its host is loopback
/// ([`is_loopback_host`](device_grant::is_loopback_host)).
///
/// This is what [`run`](crate::run) does for each request, where it also shortens the
/// timeouts to end by the device code's deadline ([`Driver::time_left`](device_grant::Driver::time_left)).
/// Use it in a loop of your own: pass
/// the answer to [`Flow::handle_response`](device_grant::Flow::handle_response), or the
/// [`error_kind`](crate::error_kind) of the error to
/// [`Flow::handle_transport_error`](device_grant::Flow::handle_transport_error), with
/// [`Flow::body_limit`](device_grant::Flow::body_limit) as `body_limit`. It also serves for
/// other requests that must not follow redirects, such as fetching a discovery document.
pub fn send(
    agent: &ureq::Agent,
    request: Request<Vec<u8>>,
    body_limit: usize,
) -> Result<Response<Vec<u8>>, ureq::Error> {
    send_within(agent, request, body_limit, None)
}

/// [`send`], its phases shortened to end within `time_left` when there is less than they
/// would take ([`device_grant::fit_timeouts`]).
///
/// A loop of your own passes [`Driver::time_left`](device_grant::Driver::time_left) here, as
/// [`run`](crate::run) does, so that no request outlives the device code.
pub fn send_within(
    agent: &ureq::Agent,
    request: Request<Vec<u8>>,
    body_limit: usize,
    time_left: Option<Duration>,
) -> Result<Response<Vec<u8>>, ureq::Error> {
    let config = agent.config();
    let timeouts = config.timeouts();
    // Per phase only: with a global or per-call timeout, ureq resolves every request's host on
    // a thread of its own.
    let phases = [
        timeouts.connect.unwrap_or(device_grant::CONNECT_TIMEOUT),
        timeouts.send_request.unwrap_or(SEND_REQUEST_TIMEOUT),
        timeouts.send_body.unwrap_or(SEND_BODY_TIMEOUT),
        timeouts.recv_response.unwrap_or(RECV_RESPONSE_TIMEOUT),
        timeouts.recv_body.unwrap_or(RECV_BODY_TIMEOUT),
    ];
    let fitted = device_grant::fit_timeouts(phases, time_left);
    let unproxied = config.proxy().is_some()
        && request
            .uri()
            .host()
            .is_some_and(device_grant::is_loopback_host);
    // The preset agent already sends most requests this way; a request-level configuration
    // costs a copy of the agent's, paid only near the deadline or with a proxy on loopback.
    let as_configured = config.max_redirects() == 0
        && !config.http_status_as_error()
        && bounded(&timeouts)
        && fitted == phases
        && !unproxied;
    let response = if as_configured {
        agent.run(request)?
    } else {
        let [connect, send_request, send_body, recv_response, recv_body] = fitted;
        let mut request = agent
            .configure_request(request)
            .max_redirects(0)
            .http_status_as_error(false)
            // An agent without timeouts would let one silent server hold the flow forever.
            .timeout_connect(Some(connect))
            .timeout_send_request(Some(send_request))
            .timeout_send_body(Some(send_body))
            .timeout_recv_response(Some(recv_response))
            .timeout_recv_body(Some(recv_body));
        if unproxied {
            request = request.proxy(None);
        }
        agent.run(request.build())?
    };
    let (parts, body) = response.into_parts();
    let read_limit = body_limit.saturating_add(1);
    let mut bytes = Vec::with_capacity(device_grant::body_capacity(
        body.content_length(),
        read_limit,
    ));
    body.into_reader()
        .take(u64::try_from(read_limit).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)
        // ureq wraps its own errors (a timeout while reading) in `io::Error`; this unwraps them.
        .map_err(ureq::Error::from)?;
    Ok(Response::from_parts(parts, bytes))
}
