//! The preset agent: what a device flow needs from ureq, and nothing it must not do.

use std::time::Duration;

use ureq::config::ConfigBuilder;
use ureq::typestate::AgentScope;

/// The `User-Agent` of the preset agent: `device-grant/<version>`.
pub const USER_AGENT: &str = concat!("device-grant/", env!("CARGO_PKG_VERSION"));

/// How long the preset agent waits for a connection (DNS, TCP and TLS) to be made.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one whole exchange may take, from connecting to the end of the body. A poll that
/// times out is retried later (RFC 8628 §3.5), so this bounds how long one stuck request can
/// hold up the flow. [`send`](crate::send) applies it to agents that set no global timeout
/// of their own.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A ureq configuration with this crate's settings, to add your own (a proxy, TLS settings)
/// before building the agent with `.build().new_agent()`:
///
/// - redirects off (`max_redirects(0)`): a `3xx` answer is handed to the flow as it is, so a
///   token endpoint that redirects never gets the device code, a refresh token or a client
///   secret sent on to another address;
/// - error statuses are answers, not errors (`http_status_as_error(false)`): a pending poll
///   arrives as HTTP 400 and the flow reads its body;
/// - a connect timeout of [`CONNECT_TIMEOUT`] and a timeout of [`REQUEST_TIMEOUT`] for each
///   whole exchange;
/// - the user agent [`USER_AGENT`].
///
/// With the `native-tls` feature alone, TLS goes through the platform's library.
///
/// The proxy is taken from the environment (`HTTPS_PROXY`, `ALL_PROXY`, ...), as ureq does by
/// default.
pub fn agent_config() -> ConfigBuilder<AgentScope> {
    let builder = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(REQUEST_TIMEOUT))
        .user_agent(USER_AGENT);
    // ureq picks rustls unless told otherwise, even when it is not compiled in.
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let builder = builder.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .build(),
    );
    builder
}

/// The preset agent: [`agent_config`] built as it is.
///
/// Build it once and share it (clones share one connection pool): it keeps connections open
/// between polls.
pub fn agent() -> ureq::Agent {
    agent_config().build().new_agent()
}
