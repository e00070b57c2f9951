//! A simulated OAuth 2.0 Device Authorization Grant (RFC 8628) server for
//! tests: real HTTP/1.1 on `127.0.0.1`, provider dialects, scripted users,
//! injected faults, and a referee that records every request and reports
//! the rules a client broke.
//!
//! The server runs on its own thread with its own single-threaded tokio
//! runtime, so it works the same from a plain `fn`, a `#[test]`, or a
//! `#[tokio::test]`. Dropping the [`Server`] stops it.
//!
//! ```
//! use device_grant_tests::{Dialect, Script, Server, ServerConfig};
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

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use axum::Router;

mod app;
mod config;
mod dialect;
mod encoding;
mod referee;
mod rng;
mod script;
mod state;
mod wire;

#[cfg(test)]
mod tests;

pub use config::{
    Client, ClientAuthMethod, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Dialect, ServerConfig,
};
pub use referee::{
    AuthProblem, Decision, Ending, Exposure, FlowId, FlowInfo, RecordedRequest, Referee,
    RequestKind, Violation,
};
pub use script::{Fault, FaultTarget, RetryAfter, Script};

use app::App;
use state::Shared;

/// A running simulated authorization server. Dropping it (or calling
/// [`Server::shutdown`]) stops the server and joins its thread.
#[derive(Debug)]
pub struct Server {
    app: Arc<App>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("base_url", &self.base_url)
            .field("dialect", &self.config.dialect)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `127.0.0.1` on an ephemeral port and starts serving on a new
    /// thread.
    pub fn start(config: ServerConfig) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Shared {
            scripts: config.queued.iter().cloned().collect(),
            ..Shared::default()
        };
        let app = Arc::new(App {
            config,
            base_url: format!("http://{addr}"),
            shared: Arc::new(Mutex::new(shared)),
            rng: rng::Rng::new(),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let router = Router::new()
            .fallback(app::handle)
            .with_state(Arc::clone(&app));
        let thread = std::thread::Builder::new()
            .name(format!("device-grant-sim-{}", addr.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let service = router.into_make_service_with_connect_info::<wire::ConnInfo>();
                    let serve = axum::serve(wire::SimListener(listener), service);
                    tokio::select! {
                        _ = serve => {}
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime here cancels open connections and
                // stalled answers.
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Server {
                app,
                addr,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(io::Error::other("the server thread ended during start-up"))
            }
        }
    }

    /// The socket address, `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// The issuer named in the discovery documents (the base URL).
    pub fn issuer(&self) -> &str {
        &self.app.base_url
    }

    /// The dialect's device authorization endpoint.
    pub fn device_endpoint(&self) -> String {
        let c = &self.app.config;
        format!("{}{}", self.app.base_url, c.dialect.device_path(&c.tenant))
    }

    /// The dialect's token endpoint (polls and refreshes).
    pub fn token_endpoint(&self) -> String {
        let c = &self.app.config;
        format!("{}{}", self.app.base_url, c.dialect.token_path(&c.tenant))
    }

    /// The `/device` page a person uses to approve or deny.
    pub fn verification_uri(&self) -> String {
        self.app.verification_uri()
    }

    /// The dialect served.
    pub fn dialect(&self) -> Dialect {
        self.app.config.dialect
    }

    /// The first registered client's id.
    pub fn client_id(&self) -> &str {
        self.app.config.clients.first().map_or("", |c| c.id())
    }

    /// The first registered client's secret, if it has one.
    pub fn client_secret(&self) -> Option<&str> {
        self.app.config.clients.first().and_then(|c| c.secret())
    }

    /// The user approves the flow with this user code (case, spaces and
    /// dashes ignored), as the `/device` page does. `false` if no pending,
    /// undecided, unexpired flow has it.
    pub fn approve(&self, user_code: &str) -> bool {
        self.app
            .lock()
            .decide_by_user_code(user_code, true, Instant::now())
            .is_some()
    }

    /// The user denies the flow with this user code; see [`Server::approve`].
    pub fn deny(&self, user_code: &str) -> bool {
        self.app
            .lock()
            .decide_by_user_code(user_code, false, Instant::now())
            .is_some()
    }

    /// Queues a script for the next new flow (after those already queued).
    pub fn queue_script(&self, script: Script) {
        self.app.lock().scripts.push_back(script);
    }

    /// Answers the next request of that kind with `fault` (faults queue up,
    /// one per request). Token polls get faults from their [`Script`].
    pub fn inject_fault(&self, target: FaultTarget, fault: Fault) {
        let mut sh = self.app.lock();
        match target {
            FaultTarget::DeviceAuthorization => sh.device_faults.push_back(fault),
            FaultTarget::Refresh => sh.refresh_faults.push_back(fault),
        }
    }

    /// The referee: recorded requests, flows and violations.
    pub fn referee(&self) -> Referee {
        Referee {
            shared: Arc::clone(&self.app.shared),
        }
    }

    /// Stops the server and waits for its thread. Dropping does the same.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// An address on `127.0.0.1` where nothing listens, for "connection
/// refused" tests: an ephemeral port is bound and released at once. Another
/// process could take the port in between, which is unlikely.
pub fn closed_port() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    listener.local_addr()
}
