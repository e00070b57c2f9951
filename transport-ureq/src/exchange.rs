//! One request and its answer: sending the core's request through ureq and reading at most the
//! body limit plus one byte of the answer.

use std::io::Read;

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
/// statuses returned as responses, and with timeouts: the agent's own, and where it sets none
/// for a phase, the preset's ([`CONNECT_TIMEOUT`](crate::CONNECT_TIMEOUT) to connect,
/// [`REQUEST_TIMEOUT`](crate::REQUEST_TIMEOUT) for the rest, split over the phases).
///
/// This is what [`run`](crate::run) does for each request. Use it in a loop of your own: pass
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
    let config = agent.config();
    let timeouts = config.timeouts();
    // The preset agent already sends requests this way; a request-level configuration would
    // only cost a copy of the agent's.
    let response =
        if config.max_redirects() == 0 && !config.http_status_as_error() && bounded(&timeouts) {
            agent.run(request)?
        } else {
            let request = agent
                .configure_request(request)
                .max_redirects(0)
                .http_status_as_error(false)
                // An agent without timeouts would let one silent server hold the flow forever.
                .timeout_connect(timeouts.connect.or(Some(device_grant::CONNECT_TIMEOUT)))
                .timeout_send_request(timeouts.send_request.or(Some(SEND_REQUEST_TIMEOUT)))
                .timeout_send_body(timeouts.send_body.or(Some(SEND_BODY_TIMEOUT)))
                .timeout_recv_response(timeouts.recv_response.or(Some(RECV_RESPONSE_TIMEOUT)))
                .timeout_recv_body(timeouts.recv_body.or(Some(RECV_BODY_TIMEOUT)))
                .build();
            agent.run(request)?
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
