//! The preset HTTP client: what a device flow needs from reqwest, and nothing it must not do.

use std::time::Duration;

/// The `User-Agent` of the preset client: `device-grant/<version>`.
pub const USER_AGENT: &str = concat!("device-grant/", env!("CARGO_PKG_VERSION"));

/// How long the preset client waits for a connection (TCP and TLS) to be made.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the preset client waits for a whole exchange, from connecting to the end of the
/// body. A poll that times out is retried later (RFC 8628 §3.5), so this bounds how long one
/// stuck request can hold up the flow.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A [`reqwest::ClientBuilder`] with this crate's settings, to add your own (a proxy, extra
/// root certificates) before building it:
///
/// - redirects off ([`reqwest::redirect::Policy::none`]): a `3xx` answer is handed to the flow
///   as it is, so a token endpoint that redirects never gets the device code, a refresh token
///   or a client secret sent on to another address;
/// - a connect timeout of [`CONNECT_TIMEOUT`] and a timeout of [`REQUEST_TIMEOUT`] per
///   request;
/// - the user agent [`USER_AGENT`].
///
/// With the `rustls` feature this also calls `install_crypto_provider()`.
pub fn client_builder() -> reqwest::ClientBuilder {
    #[cfg(feature = "rustls")]
    install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(USER_AGENT)
}

/// The preset client: [`client_builder`] built as it is.
///
/// Build it once and share it: it keeps connections open between polls.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    client_builder().build()
}

/// Installs rustls' `ring` crypto provider as the process default, unless one is installed
/// already (install yours before to use another). Only with the `rustls` feature.
///
/// [`client_builder`] calls it. Call it yourself before building a `reqwest::Client` from
/// scratch: with this crate's TLS setup, reqwest panics when no provider is installed.
// reqwest's `rustls-no-provider` leaves the choice to the application; `ring` is the light
// one (aws-lc-rs, reqwest's default, is a large C build).
#[cfg(feature = "rustls")]
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread that installs one is fine: there is one then.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
