//! One request and its answer: sending the core's request through ureq and reading at most the
//! body limit plus one byte of the answer.

use std::io::Read;

use device_grant::http::{Request, Response};

use crate::agent::{CONNECT_TIMEOUT, REQUEST_TIMEOUT};

/// Sends `request` through `agent` and reads its answer at any status, keeping at most
/// `body_limit + 1` bytes of the body: the core rejects anything longer, so there is no point
/// in (and real harm from) buffering more. A body cut short is not read further; its
/// connection is closed instead of going back to the pool.
///
/// Whatever `agent` is configured to do, this request is sent with redirects off, with error
/// statuses returned as responses, and with a connect timeout of
/// [`CONNECT_TIMEOUT`](crate::CONNECT_TIMEOUT) and an overall timeout of
/// [`REQUEST_TIMEOUT`](crate::REQUEST_TIMEOUT) unless the agent sets its own.
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
    let timeouts = agent.config().timeouts();
    let request = agent
        .configure_request(request)
        .max_redirects(0)
        .http_status_as_error(false)
        // An agent without timeouts would let one silent server hold the flow forever.
        .timeout_connect(timeouts.connect.or(Some(CONNECT_TIMEOUT)))
        .timeout_global(timeouts.global.or(Some(REQUEST_TIMEOUT)))
        .build();
    let (parts, body) = agent.run(request)?.into_parts();
    let cap = u64::try_from(body_limit)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    // Sized from Content-Length when there is one, which is only a hint: never beyond the cap,
    // nor beyond what a real answer needs at first.
    let hint = body.content_length().unwrap_or(0).min(cap).min(64 * 1024);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    body.into_reader()
        .take(cap)
        .read_to_end(&mut bytes)
        // ureq wraps its own errors (a timeout while reading) in `io::Error`; this unwraps them.
        .map_err(ureq::Error::from)?;
    Ok(Response::from_parts(parts, bytes))
}
