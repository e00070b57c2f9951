//! A sans-IO client for the OAuth 2.0 Device Authorization Grant
//! ([RFC 8628](https://www.rfc-editor.org/rfc/rfc8628)) and the refresh-token grant
//! (RFC 6749 §6).
//!
//! [`Flow`] is a pure state machine: it says which HTTP request to send, what to show the
//! user and how long to wait, and it is told the answers and the time. It never does I/O,
//! never reads the clock and never sleeps, so it runs on any HTTP stack (the
//! `device-grant-reqwest` and `device-grant-ureq` crates are ready-made drivers) and is
//! tested against a virtual clock.
//!
//! # Example
//!
//! A complete flow, driven here by scripted answers and a virtual clock. A real driver sends
//! each request with its HTTP client and sleeps until each `WaitUntil`.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use device_grant::{Config, Event, Flow, Output};
//!
//! let config = Config::builder("my-client-id")
//!     .device_endpoint("https://login.example.com/device")
//!     .token_endpoint("https://login.example.com/token")
//!     .scope("openid offline_access")
//!     .build()?;
//!
//! // What the server will say, in order.
//! let mut answers = vec![
//!     (200, r#"{"device_code":"dc-1","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device","expires_in":1800,"interval":5}"#),
//!     (400, r#"{"error":"authorization_pending"}"#),
//!     (400, r#"{"error":"slow_down"}"#),
//!     (200, r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1"}"#),
//! ]
//! .into_iter();
//!
//! let mut now = Instant::now();
//! let mut flow = Flow::device(config, now);
//! let token = loop {
//!     match flow.poll_output() {
//!         Output::Send { id, request } => {
//!             assert_eq!(request.method(), "POST");
//!             let (status, body) = answers.next().expect("no more answers");
//!             let response = http::Response::builder()
//!                 .status(status)
//!                 .header("content-type", "application/json")
//!                 .body(body)?;
//!             flow.handle_response(id, response, now)?;
//!         }
//!         Output::Event(Event::UserCode(prompt)) => {
//!             println!("Open {} and enter {}", prompt.verification_uri(), prompt.user_code());
//!         }
//!         Output::Event(Event::SlowDown { interval }) => assert_eq!(interval, Duration::from_secs(10)),
//!         Output::Event(_) => {}
//!         Output::WaitUntil(at) => {
//!             now = at; // a real driver sleeps until `at`
//!             flow.handle_timeout(now)?;
//!         }
//!         Output::AwaitResponse(_) => unreachable!("this driver answers every request at once"),
//!         Output::Done(result) => break result?,
//!         _ => {}
//!     }
//! };
//! assert_eq!(token.access_token().secret(), "at-1");
//! assert_eq!(token.refresh_token().unwrap().secret(), "rt-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the core takes care of
//!
//! - The interval: 5 s when the server sends none (or 0, or nonsense); +5 s for good on every
//!   `slow_down`, or GitHub's larger `interval`; no poll before the interval has passed.
//! - Transport failures, 429/502/503/504 without an OAuth body, HTML gateway pages and
//!   `temporarily_unavailable` back off (doubling, capped, `Retry-After` honoured) until the
//!   code expires, instead of failing (RFC 8628 §3.5).
//! - The deadline: nothing is sent once the device code has expired; the flow ends with
//!   [`FlowError::Expired`].
//! - Answers are classified by body at any status: Google's 428 pending, GitHub's 200 errors,
//!   Auth0's 403 and 429. JSON or form-encoded, numbers or numeric strings,
//!   `verification_url` for `verification_uri`.
//! - Validation of success bodies, a body-size limit, and typed errors that keep every field
//!   the server sent.
//! - Secrets ([`DeviceCode`], [`AccessToken`], [`RefreshToken`], [`IdToken`],
//!   [`ClientSecret`]) print as `[redacted]` and are read only through `.secret()`.
//! - `Retry-After` (seconds, or an HTTP-date in any of the three RFC 9110 formats) is a floor
//!   for the next wait whatever the body says; 429 and 503 with an OAuth error the flow has
//!   no rule for back off instead of ending; after a time-out the next wait is longer than
//!   the interval, even above the back-off cap.
//! - Only the required members are validated: an optional member of an unexpected type
//!   (`"scope": 42`, `"expires_in": "3600s"`, a numeric `message`) stays in `extra` and the
//!   answer is kept.
//! - Server text is untrusted: every `Display` that shows it ([`Prompt`], [`Event`],
//!   [`ErrorResponse`], [`FlowError`]) goes through [`display_safe`], which removes terminal
//!   escape sequences and shows controls, bidi and invisible characters as `\u{..}`;
//!   accessors return the raw value. Use [`display_safe`] for any other server string you
//!   print.
//! - Verification URIs must be absolute `https`, or `http` on a loopback host (or anywhere
//!   after [`ConfigBuilder::allow_insecure_http`]), with no credentials in them; relative ones
//!   are resolved against the device authorization endpoint. Anything else ends the flow
//!   with [`Problem::UnsafeUri`].
//! - [`Flow::cancel`] drops every queued output: the next `poll_output` is the `Done`.
//! - A token stored with [`TokenResponse::to_json_with_secrets`] comes back with
//!   [`TokenResponse::from_json`].
//!
//! # Providers
//!
//! [`Config::microsoft`], [`Config::azure_ad_v1`], [`Config::google`] and [`Config::github`]
//! preset the endpoints and the request dialect ([`Profile`]); any RFC 8628 server works with
//! [`Config::builder`]. The presets are built from a catalogue, [`Preset`]: per provider its
//! endpoints (per tenant where there are tenants), default client authentication, what it
//! requires (a scope, a resource, a secret) and its dialect, for programs that let their
//! users pick a provider.
//!
//! # Driving it
//!
//! Call [`Flow::poll_output`] until it returns something to wait on:
//!
//! - [`Output::Send`]: send the request (do not follow redirects; read at most
//!   [`Flow::body_limit`] + 1 bytes of the body), then call [`Flow::handle_response`] with the
//!   answer at any status, or [`Flow::handle_transport_error`] when there was none.
//! - [`Output::Event`]: show [`Event::UserCode`] to the user; the others are informational.
//! - [`Output::WaitUntil`]: sleep until then and call [`Flow::handle_timeout`].
//! - [`Output::AwaitResponse`]: a request is out; wait for it.
//! - [`Output::Done`]: the token, or why there is none.
//!
//! Misuse (an answer for an unknown request, input after the end) returns a [`UsageError`]
//! and changes nothing.
//!
//! ## Without `http` values
//!
//! For an HTTP client that takes a method, a URL, headers and a body, and gives a status,
//! headers and a body (or an in-memory transport), [`Flow::poll_output_lent`] returns
//! [`Output::Lent`] instead of [`Output::Send`]: [`Flow::outgoing`] then lends the request's
//! parts ([`Outgoing`]) in place, and [`Flow::handle_answer`] takes the answer in parts. No
//! request or response value is built and a poll's body is not copied, which makes a poll
//! about a quarter cheaper; everything else is the same loop.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod answer;
mod catalogue;
mod config;
mod data_centre;
mod device;
mod dpop;
mod drive;
mod error;
#[cfg(feature = "es256")]
mod es256;
mod flow;
mod json;
mod outgoing;
mod profile;
mod registration;
mod request;
mod request_id;
mod safe_text;
mod secret;
mod snapshot;
mod token;
mod wire;

pub use answer::ErrorCode;
pub use catalogue::{DefaultAuth, Endpoints, Preset, Requirements};
pub use config::{
    ClientAuth, Config, ConfigBuilder, DEFAULT_BODY_LIMIT, DEFAULT_DEVICE_ATTEMPTS,
    DEFAULT_DEVICE_RETRY_DELAY, DEFAULT_INTERVAL, DEFAULT_MAX_BACKOFF,
};
pub use device::Prompt;
pub use dpop::{DpopBinding, DpopError, DpopSigner, proof as dpop_proof, thumbprint_input};
pub use drive::{
    CONNECT_TIMEOUT, Driver, MIN_REQUEST_TIME, REQUEST_TIMEOUT, RunError, Step, USER_AGENT,
    body_capacity, fit_timeouts, is_loopback_host,
};
pub use error::{
    ConfigError, Endpoint, ErrorResponse, FlowError, InvalidResponse, Problem, TransportErrorKind,
    UriProblem, UsageError,
};
#[cfg(feature = "es256")]
pub use es256::Es256Signer;
pub use flow::{BackOffCause, Event, Flow, Output};
pub use outgoing::Outgoing;
pub use profile::{BodyEncoding, DEVICE_CODE_GRANT, NameCase, Profile, ScopeJoin, Shape};
pub use registration::{ClientRegistration, REGISTRATION_BODY_LIMIT, RegistrationError};
pub use request_id::RequestId;
pub use safe_text::display_safe;
pub use secret::{AccessToken, ClientSecret, DeviceCode, IdToken, RefreshToken};
pub use snapshot::{SNAPSHOT_VERSION, Snapshot, SnapshotError};
pub use token::TokenResponse;

// The re-exported crates appear in this crate's API.
pub use http;
pub use serde_json;
pub use url;

// The README's examples, compiled (and run unless marked otherwise) by `cargo test --doc`.
// Only under cfg(doctest), so it is not part of the API nor of its documentation.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
