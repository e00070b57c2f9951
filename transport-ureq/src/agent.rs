//! The preset agent: what a device flow needs from ureq, and nothing it must not do.

use std::sync::OnceLock;
use std::time::Duration;

use device_grant::REQUEST_TIMEOUT;
use ureq::config::{ConfigBuilder, Timeouts};
use ureq::typestate::AgentScope;

/// [`REQUEST_TIMEOUT`](crate::REQUEST_TIMEOUT) split over the phases of an exchange after
/// connecting, so that together they bound it as a whole. Per phase rather than one global
/// timeout: with a global (or resolve, or per-call) timeout, ureq resolves every request's
/// host on a new thread, even an IP address on a pooled connection.
pub(crate) const SEND_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const SEND_BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// The server's time to think: the longest phase.
pub(crate) const RECV_RESPONSE_TIMEOUT: Duration = Duration::from_secs(15);
pub(crate) const RECV_BODY_TIMEOUT: Duration = Duration::from_secs(5);

const _: () = assert!(
    SEND_REQUEST_TIMEOUT.as_millis()
        + SEND_BODY_TIMEOUT.as_millis()
        + RECV_RESPONSE_TIMEOUT.as_millis()
        + RECV_BODY_TIMEOUT.as_millis()
        == REQUEST_TIMEOUT.as_millis()
);

/// Whether `timeouts` bound every phase of an exchange, one way or another.
pub(crate) fn bounded(timeouts: &Timeouts) -> bool {
    timeouts.global.is_some()
        || timeouts.per_call.is_some()
        || (timeouts.connect.is_some()
            && timeouts.send_request.is_some()
            && timeouts.send_body.is_some()
            && timeouts.recv_response.is_some()
            && timeouts.recv_body.is_some())
}

/// A ureq configuration with this crate's settings, to add your own (a proxy, TLS settings)
/// before building the agent with `.build().new_agent()`:
///
/// - redirects off (`max_redirects(0)`): a `3xx` answer is handed to the flow as it is, so a
///   token endpoint that redirects never gets the device code, a refresh token or a client
///   secret sent on to another address;
/// - error statuses are answers, not errors (`http_status_as_error(false)`): a pending poll
///   arrives as HTTP 400 and the flow reads its body;
/// - a connect timeout of [`CONNECT_TIMEOUT`](crate::CONNECT_TIMEOUT), then
///   [`REQUEST_TIMEOUT`](crate::REQUEST_TIMEOUT) for the rest of each exchange, split over
///   its phases (sending the request, sending the body, waiting for the answer, reading its
///   body). No global timeout: with one, ureq resolves the host of every request on a thread
///   of its own;
/// - the user agent [`USER_AGENT`](crate::USER_AGENT).
///
/// With the `native-tls` feature alone, TLS goes through the platform's library.
///
/// The proxy is taken from the environment (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, with
/// `NO_PROXY`), as ureq does by default, SOCKS proxies (`socks5://`, `socks4://`, ...)
/// included. Requests for loopback hosts never go through a proxy, whatever the settings (see
/// [`send`](crate::send)).
///
/// The trusted certificate authorities are the Mozilla roots bundled with ureq; for the
/// operating system's or a private one, set [`Trust::tls_config`](crate::Trust::tls_config).
pub fn agent_config() -> ConfigBuilder<AgentScope> {
    let builder = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_connect(Some(device_grant::CONNECT_TIMEOUT))
        .timeout_send_request(Some(SEND_REQUEST_TIMEOUT))
        .timeout_send_body(Some(SEND_BODY_TIMEOUT))
        .timeout_recv_response(Some(RECV_RESPONSE_TIMEOUT))
        .timeout_recv_body(Some(RECV_BODY_TIMEOUT))
        .user_agent(device_grant::USER_AGENT);
    // ureq picks rustls unless told otherwise, even when it is not compiled in.
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let builder = builder.tls_config(tls_builder().build());
    builder
}

/// ureq's TLS settings with the backend this crate's features choose.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) fn tls_builder() -> ureq::tls::TlsConfigBuilder {
    let builder = ureq::tls::TlsConfig::builder();
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let builder = builder.provider(ureq::tls::TlsProvider::NativeTls);
    builder
}

/// The preset agent: [`agent_config`] built as it is.
///
/// Build it once and share it (clones share one connection pool): it keeps connections open
/// between polls.
pub fn agent() -> ureq::Agent {
    agent_config().build().new_agent()
}

/// The preset agent of [`authorize`](crate::authorize) and [`refresh`](crate::refresh):
/// built on first use, then shared by every call in the process, so that they reuse its
/// connections and do not set up TLS again each time.
pub(crate) fn shared() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(agent)
}
