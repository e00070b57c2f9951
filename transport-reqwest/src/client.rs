//! The HTTP client: what a device flow needs from reqwest, and nothing it must not do.

use std::sync::OnceLock;
use std::time::Duration;

/// The loopback destinations in `NO_PROXY` syntax: what
/// [`is_loopback_host`](device_grant::is_loopback_host) accepts.
const LOOPBACK: &str = "localhost,127.0.0.0/8,::1";

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
    request_timeout: Option<Duration>,
}

impl Client {
    /// The reqwest client inside, redirects off.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// The time-out of one whole exchange this client was given through
    /// [`ClientBuilder::timeout`] (or the preset's), which [`run`](crate::run) shortens to end
    /// by the device code's deadline.
    pub fn request_timeout(&self) -> Option<Duration> {
        self.request_timeout
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
///
/// # Proxies
///
/// Loopback destinations (127.0.0.0/8, `::1`, `localhost`) never go through a proxy: the
/// proxy's loopback is another machine, and the request (device code, client secret) would
/// be handed to it. Unless [`ClientBuilder::proxy`] or [`ClientBuilder::no_proxy`] was called,
/// [`ClientBuilder::build`] reads the environment's proxies as curl does (`HTTPS_PROXY`,
/// `HTTP_PROXY`, `ALL_PROXY`, in upper or lower case, with `NO_PROXY`), SOCKS ones
/// (`socks5://`, `socks5h://`, `socks4://`, `socks4a://`) included, and fails when one of them
/// is not a usable proxy address rather than silently going direct. Proxies set through
/// [`ClientBuilder::configure`] are reqwest's own: they come before the environment's and
/// are not kept off loopback.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    inner: reqwest::ClientBuilder,
    request_timeout: Option<Duration>,
    env_proxies: bool,
}

impl ClientBuilder {
    /// Starts from `builder` as it is, without this crate's timeouts or user agent (for
    /// example a client without timers, for a test on a paused clock). Its redirect policy
    /// is replaced when the client is built. A time-out set on `builder` is reqwest's alone:
    /// set it with [`ClientBuilder::timeout`] for requests to be shortened to end by the
    /// device code's deadline.
    pub fn from_reqwest(builder: reqwest::ClientBuilder) -> Self {
        ClientBuilder {
            inner: builder,
            request_timeout: None,
            env_proxies: true,
        }
    }

    /// Applies settings of reqwest's own: `configure(|b| b.http1_only())`. A redirect policy
    /// set here is replaced when the client is built.
    pub fn configure(
        self,
        f: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Self {
        ClientBuilder {
            inner: f(self.inner),
            ..self
        }
    }

    /// The time-out of each whole exchange ([`reqwest::ClientBuilder::timeout`]). Once a
    /// device code's deadline is known, [`run`](crate::run) gives each request at most the
    /// time left ([`device_grant::fit_timeouts`]).
    pub fn timeout(self, timeout: Duration) -> Self {
        ClientBuilder {
            request_timeout: Some(timeout),
            ..self.configure(|b| b.timeout(timeout))
        }
    }

    /// The time-out to connect ([`reqwest::ClientBuilder::connect_timeout`]).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.configure(|b| b.connect_timeout(timeout))
    }

    /// Adds a proxy ([`reqwest::ClientBuilder::proxy`]) in place of the environment's. Its
    /// no-proxy list is replaced by the loopback addresses and the entries of `NO_PROXY`, so
    /// that loopback destinations never go through it.
    pub fn proxy(self, proxy: reqwest::Proxy) -> Self {
        ClientBuilder {
            env_proxies: false,
            ..self.configure(|b| b.proxy(proxy.no_proxy(no_proxy())))
        }
    }

    /// No proxy at all, whatever the environment says ([`reqwest::ClientBuilder::no_proxy`]).
    pub fn no_proxy(self) -> Self {
        ClientBuilder {
            env_proxies: false,
            ..self.configure(reqwest::ClientBuilder::no_proxy)
        }
    }

    /// Also trusts every certificate in `pem` (one or more `BEGIN CERTIFICATE` blocks): a
    /// private authority, or the one of a proxy that inspects TLS, next to the platform's
    /// ([`reqwest::ClientBuilder::add_root_certificate`]).
    ///
    /// Fails, with [`std::io::ErrorKind::InvalidData`], when a block cannot be read or there
    /// is no certificate at all. Only with the `rustls` or `native-tls` feature.
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    pub fn add_ca_pem(self, pem: &[u8]) -> std::io::Result<Self> {
        let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let certs =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| invalid(e.to_string()))?;
        if certs.is_empty() {
            return Err(invalid("no certificate in the PEM text".to_owned()));
        }
        Ok(self.configure(|b| {
            certs
                .into_iter()
                .fold(b, reqwest::ClientBuilder::add_root_certificate)
        }))
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
        let mut inner = self.inner;
        if self.env_proxies {
            // In place of reqwest's own reading of the environment, which would proxy loopback.
            for proxy in env_proxies()? {
                inner = inner.proxy(proxy);
            }
        }
        let inner = inner.redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Client {
            inner,
            request_timeout: self.request_timeout,
        })
    }
}

/// The loopback addresses and the environment's `NO_PROXY` entries.
fn no_proxy() -> Option<reqwest::NoProxy> {
    match env(["NO_PROXY", "no_proxy"]) {
        Some(list) => reqwest::NoProxy::from_string(&format!("{LOOPBACK},{list}")),
        None => reqwest::NoProxy::from_string(LOOPBACK),
    }
}

/// The proxies the environment names, the most specific first (reqwest takes the first that
/// matches), none of them for loopback destinations.
fn env_proxies() -> Result<Vec<reqwest::Proxy>, reqwest::Error> {
    let mut proxies = Vec::new();
    if let Some(url) = env(["HTTPS_PROXY", "https_proxy"]) {
        proxies.push(reqwest::Proxy::https(url)?);
    }
    // As curl does: under CGI, `HTTP_PROXY` may come from a request's `Proxy:` header.
    let cgi = std::env::var_os("REQUEST_METHOD").is_some();
    if let Some(url) = env(["HTTP_PROXY", "http_proxy"]).filter(|_| !cgi) {
        proxies.push(reqwest::Proxy::http(url)?);
    }
    if let Some(url) = env(["ALL_PROXY", "all_proxy"]) {
        proxies.push(reqwest::Proxy::all(url)?);
    }
    Ok(proxies
        .into_iter()
        .map(|proxy| proxy.no_proxy(no_proxy()))
        .collect())
}

/// The first of `names` that is set and not blank.
fn env(names: [&str; 2]) -> Option<String> {
    names
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
}

/// A [`ClientBuilder`] with this crate's settings, to add your own (a proxy, extra root
/// certificates) before building it:
///
/// - redirects off, always (see [`Client`]);
/// - a connect timeout of [`CONNECT_TIMEOUT`](crate::CONNECT_TIMEOUT) and a timeout of
///   [`REQUEST_TIMEOUT`](crate::REQUEST_TIMEOUT) per request, shortened to end by the device
///   code's deadline;
/// - the environment's proxies, never for loopback destinations (see [`ClientBuilder`]);
/// - the user agent [`USER_AGENT`](crate::USER_AGENT).
pub fn client_builder() -> ClientBuilder {
    ClientBuilder::from_reqwest(
        reqwest::Client::builder()
            .connect_timeout(device_grant::CONNECT_TIMEOUT)
            .user_agent(device_grant::USER_AGENT),
    )
    .timeout(device_grant::REQUEST_TIMEOUT)
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
