//! Sign in with the OAuth 2.0 Device Authorization Grant
//! ([RFC 8628](https://www.rfc-editor.org/rfc/rfc8628)), or refresh a token, in one `async`
//! call over [reqwest] and the tokio timer.
//!
//! This crate is the async driver of [`device_grant`], a sans-IO state machine: the flow
//! decides what to send, how long to wait and what every answer means; this crate sends,
//! reads and sleeps.
//!
//! # Example
//!
//! ```no_run
//! use device_grant_reqwest::device_grant::{Config, Event};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::microsoft("organizations", "your-client-id")
//!     .scope("openid offline_access User.Read")
//!     .build()?;
//!
//! let token = device_grant_reqwest::authorize(config, |event| {
//!     if let Event::UserCode(prompt) = event {
//!         println!("Open {} and enter the code {}", prompt.verification_uri(), prompt.user_code());
//!     }
//! })
//! .await?;
//!
//! println!("Signed in: {} token, expires in {:?}", token.token_type(), token.expires_in());
//! # Ok(())
//! # }
//! ```
//!
//! [`authorize`] and [`refresh`] share one preset client, built on first use and kept for
//! the life of the process. To use a client of your own, or to add settings, build a
//! [`Client`] with [`client_builder`] and call [`run`] with a [`Flow`](device_grant::Flow):
//!
//! ```no_run
//! # use device_grant_reqwest::device_grant::{Config, Flow};
//! # async fn f(config: Config) -> Result<(), Box<dyn std::error::Error>> {
//! let client = device_grant_reqwest::client_builder()
//!     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
//!     .build()?;
//! let now = tokio::time::Instant::now().into_std();
//! let token = device_grant_reqwest::run(Flow::device(config, now), &client, |_| {}).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # What every request gets
//!
//! - **No redirects, by construction.** [`run`] and [`send`] take a [`Client`], which only
//!   [`ClientBuilder::build`] makes, with reqwest's redirect policy `none` set last. A `3xx`
//!   answer is handed to the flow like any other answer (it ends the flow with an "unusable
//!   answer" error) and its `Location` is never requested, so a token endpoint that
//!   redirects cannot have the device code, a refresh token or a client secret sent
//!   elsewhere.
//! - **Timeouts** (the preset's). [`CONNECT_TIMEOUT`] to connect and [`REQUEST_TIMEOUT`] for
//!   each whole exchange. A poll that times out (or fails to connect, or breaks) does not
//!   end the flow: the flow backs off and polls again until the code expires (RFC 8628 §3.5).
//! - **A capped body.** Answers are read chunk by chunk, and reading stops one byte past the
//!   flow's [body limit](device_grant::Flow::body_limit) (1 MiB unless configured): the flow
//!   then ends with [`Problem::BodyTooLarge`](device_grant::Problem::BodyTooLarge). A large
//!   or endless body is never buffered.
//! - **A clear user agent** (the preset's), [`USER_AGENT`].
//!
//! # Cancellation
//!
//! Drop the future to cancel: wrap it in [`tokio::time::timeout`], race it in
//! `tokio::select!` against Ctrl-C, or abort the task that runs it. This crate spawns no task,
//! so nothing keeps polling afterwards. (The client's pool may keep an idle connection open
//! until the client is dropped.)
//!
//! # Time
//!
//! The driver reads the clock with [`tokio::time::Instant::now`] and sleeps with
//! [`tokio::time::sleep_until`], so a test with a paused clock (`tokio::time::pause()`) runs a
//! fifteen-minute flow in moments. Give such a test a client without timeouts and without a
//! pool idle timeout: a paused runtime jumps its clock to the next timer whenever it is idle,
//! waiting for a socket included, and those timers would fire early.
//!
//! ```no_run
//! let client = device_grant_reqwest::ClientBuilder::from_reqwest(reqwest::Client::builder())
//!     .pool_idle_timeout(None)
//!     .build()?;
//! # Ok::<(), reqwest::Error>(())
//! ```
//!
//! # Errors
//!
//! [`Error::Flow`] carries the flow's reason ([`FlowError`](device_grant::FlowError)): denied,
//! expired, an OAuth error with every field the server sent, an unusable answer, cancelled.
//! [`Error::Transport`] adds the HTTP client's error ([`Error::client_error`]) when the flow
//! ended because requests could not be delivered. No error holds a device code, a token or a
//! secret. [`Error`] is the core's [`RunError`](device_grant::RunError), shared with the
//! blocking driver.
//!
//! # Feature flags
//!
//! - `rustls` (default): TLS through rustls with the `ring` crypto provider and the
//!   platform's certificate verifier. [`ClientBuilder::build`] installs `ring` as rustls'
//!   process default provider unless one is installed already. To build a `reqwest::Client`
//!   of your own for other requests, call `install_crypto_provider()` first (or install a
//!   provider of your own): reqwest panics otherwise.
//! - `native-tls`: TLS through the platform's library (OpenSSL, Secure Transport,
//!   SChannel). With both features on, reqwest uses native-tls.
//!
//! With neither, only `http` endpoints work, which the configuration allows on loopback
//! addresses only (or after `allow_insecure_http()`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod driver;
mod exchange;

#[cfg(feature = "rustls")]
pub use client::install_crypto_provider;
pub use client::{Client, ClientBuilder, client, client_builder};
pub use device_grant::{CONNECT_TIMEOUT, REQUEST_TIMEOUT, USER_AGENT};
pub use driver::{authorize, refresh, run};

/// Why [`run`], [`authorize`] or [`refresh`] returned no token: the flow's reason
/// ([`Error::Flow`]), that reason with reqwest's last error when requests could not be
/// delivered ([`Error::Transport`]), or the preset client that could not be built
/// ([`Error::Client`]).
///
/// Nothing in it holds a device code, a token or a client secret: the core keeps the bodies
/// it reads to itself, and the URLs of HTTP errors are endpoint addresses without their query.
pub type Error = device_grant::RunError<reqwest::Error>;
pub use exchange::{error_kind, send};

// Both appear in this crate's API; re-exported so that versions always match.
pub use device_grant;
pub use reqwest;

// The README's examples, compiled (and run unless marked otherwise) by `cargo test --doc`.
// Only under cfg(doctest), so it is not part of the API nor of its documentation.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
