//! Sign in with the OAuth 2.0 Device Authorization Grant
//! ([RFC 8628](https://www.rfc-editor.org/rfc/rfc8628)), or refresh a token, in one blocking
//! call over [ureq].
//!
//! This crate is the blocking driver of [`device_grant`], a sans-IO state machine: the flow
//! decides what to send, how long to wait and what every answer means; this crate sends,
//! reads and sleeps the calling thread.
//!
//! # Example
//!
//! ```no_run
//! use device_grant_ureq::device_grant::{Config, Event};
//!
//! let config = Config::microsoft("organizations", "your-client-id")
//!     .scope("openid offline_access User.Read")
//!     .build()?;
//!
//! let token = device_grant_ureq::authorize(config, |event| {
//!     if let Event::UserCode(prompt) = event {
//!         println!("Open {} and enter the code {}", prompt.verification_uri(), prompt.user_code());
//!     }
//! })?;
//!
//! println!("Signed in: {} token, expires in {:?}", token.token_type(), token.expires_in());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`authorize`] and [`refresh`] share one preset agent, built on first use and kept for the
//! life of the process. To use an agent of your own, or to add settings, build it from
//! [`agent_config`] and call [`run`] with a [`Flow`](device_grant::Flow):
//!
//! ```no_run
//! # use std::time::Instant;
//! # use device_grant_ureq::device_grant::{Config, Flow};
//! # fn f(config: Config) -> Result<(), Box<dyn std::error::Error>> {
//! let agent = device_grant_ureq::agent_config()
//!     .proxy(Some(ureq::Proxy::new("http://proxy.internal:3128")?))
//!     .build()
//!     .new_agent();
//! let token = device_grant_ureq::run(Flow::device(config, Instant::now()), &agent, |_| {})?;
//! # Ok(())
//! # }
//! ```
//!
//! # What every request gets
//!
//! [`run`] sends each request with [`send`], which applies these on top of whatever the
//! agent is configured to do, so an agent shared with the rest of a program works too:
//!
//! - **No redirects.** A `3xx` answer is handed to the flow like any other answer (it ends
//!   the flow with an "unusable answer" error) and its `Location` is never requested, so a
//!   token endpoint that redirects cannot have the device code, a refresh token or a client
//!   secret sent elsewhere.
//! - **Error statuses are answers.** A pending poll arrives as HTTP 400 (428 at Google, 403
//!   at Auth0); the flow reads the body, whatever the status.
//! - **Timeouts.** The agent's own, or else [`CONNECT_TIMEOUT`] to connect and
//!   [`REQUEST_TIMEOUT`] for the rest of each exchange, split over its phases. A poll that times out (or fails to connect,
//!   or breaks) does not end the flow: the flow backs off and polls again until the code
//!   expires (RFC 8628 §3.5).
//! - **A capped body.** Reading stops one byte past the flow's
//!   [body limit](device_grant::Flow::body_limit) (1 MiB unless configured): the flow then
//!   ends with [`Problem::BodyTooLarge`](device_grant::Problem::BodyTooLarge). A large or
//!   endless body is never buffered; its connection is closed.
//!
//! The preset agent also sends the user agent [`USER_AGENT`].
//!
//! # Cancellation
//!
//! [`run_with_cancel`] takes a [`Cancel`] handle. Cancel it from another thread (a Ctrl-C
//! handler, a "Cancel" button) or from `on_event`: a wait between polls ends at once, and the
//! run returns [`Error::Flow`]`(`[`FlowError::Cancelled`](device_grant::FlowError::Cancelled)`)`.
//! A request already on the wire is let finish; the timeout bounds it.
//!
//! # Errors
//!
//! [`Error::Flow`] carries the flow's reason ([`FlowError`](device_grant::FlowError)): denied,
//! expired, an OAuth error with every field the server sent, an unusable answer, cancelled.
//! [`Error::Transport`] adds ureq's error ([`Error::client_error`]) when the flow ended
//! because requests could not be delivered. No error holds a device code, a token or a
//! secret. [`Error`] is the core's [`RunError`](device_grant::RunError), shared with the
//! async driver.
//!
//! # Writing your own loop
//!
//! [`send`] and [`error_kind`] are the two pieces [`run`] adds to the core's
//! [`Driver`](device_grant::Driver): send a request the safe way, and tell the flow what kind
//! of failure a ureq error is.
//!
//! # Feature flags
//!
//! - `rustls` (default): TLS through rustls with the `ring` crypto provider and the Mozilla
//!   root certificates bundled (ureq's own `rustls` feature).
//! - `native-tls`: TLS through the platform's library (OpenSSL, Secure Transport, SChannel),
//!   still with the Mozilla root certificates bundled. To use it, turn off the default
//!   features: [`agent_config`] then selects it. With both features on, the preset uses
//!   rustls.
//!
//! With neither, only `http` endpoints work, which the configuration allows on loopback
//! addresses only (or after `allow_insecure_http()`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod agent;
mod cancel;
mod driver;
mod exchange;
mod transport_error;
#[cfg(any(feature = "rustls", feature = "native-tls"))]
mod trust;

pub use agent::{agent, agent_config};
pub use cancel::Cancel;
pub use device_grant::{CONNECT_TIMEOUT, REQUEST_TIMEOUT, USER_AGENT};
pub use driver::{authorize, refresh, run, run_with_cancel};

/// Why [`run`], [`run_with_cancel`], [`authorize`] or [`refresh`] returned no token: the
/// flow's reason ([`Error::Flow`]), or that reason with ureq's last error when requests could
/// not be delivered ([`Error::Transport`]). [`Error::Client`] never comes from this crate:
/// building an agent cannot fail.
///
/// Nothing in it holds a device code, a token or a client secret: the core keeps the bodies
/// it reads to itself, and ureq's errors name at most an endpoint address, which the
/// configuration refuses to carry credentials.
pub type Error = device_grant::RunError<ureq::Error>;
pub use exchange::{send, send_within};
pub use transport_error::error_kind;
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub use trust::Trust;

// Both appear in this crate's API; re-exported so that versions always match.
pub use device_grant;
pub use ureq;

// The README's examples, compiled (and run unless marked otherwise) by `cargo test --doc`.
// Only under cfg(doctest), so it is not part of the API nor of its documentation.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
