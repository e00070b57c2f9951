//! The HTTP client: what a device flow needs from reqwest, and nothing it must not do.

use std::sync::OnceLock;
use std::time::Duration;

/// An HTTP client that never follows a redirect, to give to [`run`](crate::run) and
/// [`send`](crate::send): a `3xx` answer is handed to the flow as it is, so a token endpoint
/// that redirects never gets the device code, a refresh token or a client secret sent on to
/// another address.
///
/// Only [`ClientBuilder::build`] makes one, and it turns redirects off whatever else was
/// configured, so no client that follows them can be passed to this crate. It is a
/// [`reqwest::Client`] otherwise (it derefs to one, for requests of your own), and cheap to
/// clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    inner: reqwest::Client,
}

impl Client {
    /// The reqwest client inside, redirects off.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }
}

impl std::ops::Deref for Client {
    type Target = reqwest::Client;

    fn deref(&self) -> &reqwest::Client {
        &self.inner
    }
}

/// Builds a [`Client`]: [`client_builder`] starts from this crate's settings,
/// [`ClientBuilder::from_reqwest`] from any `reqwest::ClientBuilder`. Whichever it starts
/// from, [`ClientBuilder::build`] turns redirects off last.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    inner: reqwest::ClientBuilder,
}

impl ClientBuilder {
    /// Starts from `builder` as it is, without this crate's timeouts or user agent (for
    /// example a client without timers, for a test on a paused clock). Its redirect policy
    /// is replaced when the client is built.
    pub fn from_reqwest(builder: reqwest::ClientBuilder) -> Self {
        ClientBuilder { inner: builder }
    }

    /// Applies settings of reqwest's own: `configure(|b| b.add_root_certificate(cert))`. A
    /// redirect policy set here is replaced when the client is built.
    pub fn configure(
        self,
        f: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Self {
        ClientBuilder {
            inner: f(self.inner),
        }
    }

    /// The time-out of each whole exchange ([`reqwest::ClientBuilder::timeout`]).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.configure(|b| b.timeout(timeout))
    }

    /// The time-out to connect ([`reqwest::ClientBuilder::connect_timeout`]).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.configure(|b| b.connect_timeout(timeout))
    }

    /// Adds a proxy ([`reqwest::ClientBuilder::proxy`]).
    pub fn proxy(self, proxy: reqwest::Proxy) -> Self {
        self.configure(|b| b.proxy(proxy))
    }

    /// How long idle connections stay in the pool
    /// ([`reqwest::ClientBuilder::pool_idle_timeout`]).
    pub fn pool_idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure(|b| b.pool_idle_timeout(timeout))
    }

    /// Builds the client, with redirects off. With the `rustls` feature this calls
    /// [`install_crypto_provider`] first.
    pub fn build(self) -> Result<Client, reqwest::Error> {
        #[cfg(feature = "rustls")]
        install_crypto_provider();
        let inner = self
            .inner
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client { inner })
    }
}

/// A [`ClientBuilder`] with this crate's settings, to add your own (a proxy, extra root
/// certificates) before building it:
///
/// - redirects off, always (see [`Client`]);
/// - a connect timeout of [`CONNECT_TIMEOUT`](crate::CONNECT_TIMEOUT) and a timeout of
///   [`REQUEST_TIMEOUT`](crate::REQUEST_TIMEOUT) per request;
/// - the user agent [`USER_AGENT`](crate::USER_AGENT).
pub fn client_builder() -> ClientBuilder {
    ClientBuilder::from_reqwest(
        reqwest::Client::builder()
            .connect_timeout(device_grant::CONNECT_TIMEOUT)
            .timeout(device_grant::REQUEST_TIMEOUT)
            .user_agent(device_grant::USER_AGENT),
    )
}

/// The preset client: [`client_builder`] built as it is.
///
/// Build it once and share it: it keeps connections open between polls.
pub fn client() -> Result<Client, reqwest::Error> {
    client_builder().build()
}

/// The preset client of [`authorize`](crate::authorize) and [`refresh`](crate::refresh):
/// built on first use, then shared by every call in the process.
pub(crate) fn shared() -> Result<&'static Client, reqwest::Error> {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    // Two threads may both build one the first time; one of them is kept.
    let built = client()?;
    Ok(CLIENT.get_or_init(|| built))
}

/// Installs rustls' `ring` crypto provider as the process default, unless one is installed
/// already (install yours before to use another). Only with the `rustls` feature.
///
/// [`ClientBuilder::build`] calls it. Call it yourself before building a `reqwest::Client`
/// from scratch for other requests: with this crate's TLS setup, reqwest panics when no
/// provider is installed.
// reqwest's `rustls-no-provider` leaves the choice to the application; `ring` is the light
// one (aws-lc-rs, reqwest's default, is a large C build).
#[cfg(feature = "rustls")]
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread that installs one is fine: there is one then.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
