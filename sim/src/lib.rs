//! A simulated OAuth 2.0 Device Authorization Grant (RFC 8628) server for
//! tests: provider dialects, scripted users, injected faults, and a referee
//! that records every request and reports the rules a client broke. It runs
//! in memory as a [`Peer`] with a virtual clock, or over real HTTP/1.1 on
//! `127.0.0.1` as a [`Server`] (feature `server`, on by default).
//!
//! # In memory
//!
//! [`drive()`] runs a `device_grant::Flow` to its end against a [`Responder`]:
//! the [`Peer`], or [`Scripted`] canned answers. Every request is answered at
//! once, the virtual clock jumps to each `WaitUntil`, and the [`rules`]
//! checker (DESIGN rules 1-8 as seen from outside) watches every step. A
//! 15-minute flow takes microseconds.
//!
//! ```
//! use device_grant::Config;
//! use device_grant_sim::{Dialect, Peer, Script, ServerConfig, drive};
//! use std::time::{Duration, Instant};
//!
//! // Google: the user approves after three polls; the second one is told to slow down.
//! let mut peer = Peer::new(
//!     ServerConfig::new(Dialect::Google)
//!         .script(Script::approve_after_polls(3).slow_down_at(2, None)),
//! );
//! let config = Config::builder(peer.client_id())
//!     .device_endpoint(peer.device_endpoint())
//!     .token_endpoint(peer.token_endpoint())
//!     .profile(device_grant::Profile::Google)
//!     .client_secret_post(peer.client_secret().unwrap_or_default())
//!     .scope("openid")
//!     .build()?;
//!
//! let start = Instant::now();
//! let run = drive(device_grant::Flow::device(config, start), &mut peer, start);
//!
//! assert!(run.outcome.is_ok());
//! assert_eq!(run.sent.len(), 5); // the device request and four polls
//! // 5 s, 5 s, then 10 s after slow_down, 10 s: all virtual.
//! assert_eq!(run.end - start, Duration::from_secs(30));
//! run.assert_clean(); // no rule of the core broken
//! peer.referee().assert_clean(); // nor any of the server's
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Over HTTP
//!
//! The server runs on its own thread with its own single-threaded tokio
//! runtime, so it works the same from a plain `fn`, a `#[test]`, or a
//! `#[tokio::test]`. Dropping the [`Server`] stops it.
//!
//! ```
//! use device_grant_sim::{Dialect, Script, Server, ServerConfig};
//! use std::io::{Read, Write};
//! use std::time::Duration;
//!
//! // A tiny blocking HTTP/1.1 client: one form POST, then read to EOF.
//! fn post(url: &str, form: &str) -> (u16, String) {
//!     let rest = url.strip_prefix("http://").unwrap();
//!     let (host, path) = rest.split_at(rest.find('/').unwrap());
//!     let mut stream = std::net::TcpStream::connect(host).unwrap();
//!     write!(
//!         stream,
//!         "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
//!          Content-Type: application/x-www-form-urlencoded\r\n\
//!          Content-Length: {}\r\n\r\n{form}",
//!         form.len()
//!     )
//!     .unwrap();
//!     let mut raw = String::new();
//!     stream.read_to_string(&mut raw).unwrap();
//!     let status = raw[9..12].parse().unwrap();
//!     (status, raw.split_once("\r\n\r\n").unwrap().1.to_owned())
//! }
//!
//! let config = ServerConfig::new(Dialect::Rfc8628)
//!     .interval(Duration::from_millis(50))
//!     .script(Script::manual());
//! let server = Server::start(config)?;
//! let client_id = server.client_id().to_owned();
//!
//! // Device authorization request.
//! let (status, body) = post(&server.device_endpoint(), &format!("client_id={client_id}"));
//! assert_eq!(status, 200);
//! let grant: serde_json::Value = serde_json::from_str(&body)?;
//! let poll = format!(
//!     "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code\
//!      &device_code={}&client_id={client_id}",
//!     grant["device_code"].as_str().unwrap()
//! );
//!
//! // Nobody has approved yet.
//! let (status, body) = post(&server.token_endpoint(), &poll);
//! assert_eq!((status, body.as_str()), (400, r#"{"error":"authorization_pending"}"#));
//!
//! // The user approves (the /device page does the same), the client waits
//! // one interval and polls again.
//! assert!(server.approve(grant["user_code"].as_str().unwrap()));
//! std::thread::sleep(Duration::from_millis(60));
//! let (status, body) = post(&server.token_endpoint(), &poll);
//! assert_eq!(status, 200);
//! assert!(body.contains(r#""token_type":"Bearer""#));
//!
//! // The client followed every rule.
//! server.referee().assert_clean();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Pieces
//!
//! - [`ServerConfig`]: the [`Dialect`], the registered [`Client`]s and
//!   their authentication method, `interval` (fractions allowed, or none),
//!   `expires_in`, refresh-token issuing and rotation, and the default
//!   [`Script`].
//! - [`Script`]: what the simulated user does in one flow (approve or deny
//!   after some polls or some time, never, or leave it to the `/device`
//!   page), plus `slow_down` answers and [`Fault`]s at chosen poll numbers.
//!   Queue scripts with [`Server::queue_script`] to give successive flows
//!   different behaviours.
//! - [`Fault`]: resets, stalls, gateway pages, `Retry-After`, truncated,
//!   oversized or non-UTF-8 bodies, wrong `Content-Type`, redirects. For
//!   "connection refused", use [`closed_port`].
//! - [`Referee`]: every [`RecordedRequest`] and every [`Violation`]: early
//!   polls, polls after the end, wrong client authentication, a device code
//!   outside the token request body, followed redirects.
//!
//! # Endpoints
//!
//! Besides the dialect's device and token endpoints, every server serves
//! `GET /device` (an HTML form to type the user code with Approve and Deny
//! buttons; `?user_code=` prefills it) and its `POST`, plus discovery
//! documents at `/.well-known/openid-configuration` and
//! `/.well-known/oauth-authorization-server`.
//!
//! When a client polls sooner than the current interval (10 % tolerance,
//! at least 20 ms), the server answers the dialect's `slow_down` and adds
//! 5 s to the interval it expects, as real servers do; see
//! [`ServerConfig::enforce_interval`].

mod app;
#[cfg(feature = "server")]
pub mod check;
mod config;
mod dialect;
mod dpop;
pub mod drive;
mod encoding;
pub mod fixtures;
mod peer;
mod referee;
mod render;
mod rng;
pub mod rules;
mod script;
#[cfg(feature = "server")]
mod server;
mod state;
#[cfg(feature = "server")]
mod wire;

#[cfg(all(test, feature = "server"))]
mod tests;

pub use config::{
    Client, ClientAuthMethod, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Dialect, ServerConfig,
};
pub use dpop::DpopMode;
#[cfg(feature = "dpop")]
pub use dpop::TestSigner;
pub use drive::{
    Answer, Options, Responder, Run, Scripted, Sent, drive, drive_inspect, drive_with,
};
pub use peer::{PEER_BASE_URL, Peer};
pub use referee::{
    AuthProblem, Decision, Ending, Exposure, FlowId, FlowInfo, RecordedRequest, Referee,
    RequestKind, Violation,
};
pub use script::{Fault, FaultTarget, RetryAfter, Script};

#[cfg(feature = "server")]
pub use server::{Server, closed_port};

// The README's examples, compiled (and run unless marked otherwise) by `cargo test --doc`.
// Only under cfg(doctest), so it is not part of the API nor of its documentation.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
