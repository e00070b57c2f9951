//! The simulated server in memory: the same request handling as [`Server`](crate::Server)
//! (dialects, scripts, faults, referee), answering at a virtual time, with no socket and no
//! thread.

use std::time::Instant;

use http::StatusCode;

use crate::app::{App, Plan};
use crate::dialect::Reply;
use crate::drive::{Answer, Responder};
use crate::referee::Referee;
use crate::render::{gateway_page, mangle_utf8, oversized_body, retry_after_headers};
use crate::script::{Fault, FaultTarget, Script};
use crate::{Dialect, ServerConfig};

/// The base URL of every peer. Port 1 on loopback: the core accepts plain `http` there, and
/// a request that leaks onto a real socket by mistake is refused instead of reaching
/// anything.
pub const PEER_BASE_URL: &str = "http://127.0.0.1:1";

/// The simulated authorization server in memory. Hand it to
/// [`drive`](crate::drive::drive), or call [`Responder::respond`] with each request and
/// the virtual time it is sent at.
///
/// Faults that only exist on a socket become what an HTTP client reports:
/// [`Fault::Reset`] and [`Fault::TruncatedBody`] a
/// [`TransportErrorKind::Io`](device_grant::TransportErrorKind::Io) failure,
/// [`Fault::Stall`] a [`TransportErrorKind::Timeout`](device_grant::TransportErrorKind::Timeout)
/// (the client's timeout is taken to be shorter than the stall), [`Fault::OversizedBody`]
/// the whole body in one piece.
#[derive(Debug)]
pub struct Peer {
    app: App,
}

impl Peer {
    /// A peer serving `config` under [`PEER_BASE_URL`].
    pub fn new(config: ServerConfig) -> Peer {
        Peer {
            app: App::new(config, PEER_BASE_URL.to_owned()),
        }
    }

    /// [`PEER_BASE_URL`].
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// The dialect's device authorization endpoint.
    pub fn device_endpoint(&self) -> String {
        self.app.device_endpoint()
    }

    /// The dialect's token endpoint (polls and refreshes).
    pub fn token_endpoint(&self) -> String {
        self.app.token_endpoint()
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
        self.app.client_id()
    }

    /// The first registered client's secret, if it has one.
    pub fn client_secret(&self) -> Option<&str> {
        self.app.client_secret()
    }

    /// The user approves the flow with this user code at virtual time `now`; see
    /// [`Server::approve`](crate::Server::approve).
    pub fn approve(&self, user_code: &str, now: Instant) -> bool {
        self.app.decide(user_code, true, now)
    }

    /// The user denies the flow with this user code at virtual time `now`.
    pub fn deny(&self, user_code: &str, now: Instant) -> bool {
        self.app.decide(user_code, false, now)
    }

    /// Queues a script for the next new flow (after those already queued).
    pub fn queue_script(&self, script: Script) {
        self.app.queue_script(script);
    }

    /// Answers the next request of that kind with `fault`.
    pub fn inject_fault(&self, target: FaultTarget, fault: Fault) {
        self.app.inject_fault(target, fault);
    }

    /// The referee: recorded requests (at their virtual times), flows and violations.
    pub fn referee(&self) -> Referee {
        self.app.referee()
    }

    /// Answers `request` sent at `now`.
    pub fn handle(&self, request: &http::Request<Vec<u8>>, now: Instant) -> Answer {
        let mut builder = http::Request::builder()
            .method(request.method().clone())
            .uri(request.uri().clone())
            .version(request.version());
        if let Some(headers) = builder.headers_mut() {
            headers.clone_from(request.headers());
        }
        let Ok(bare) = builder.body(()) else {
            return reply(text_reply(StatusCode::BAD_REQUEST, "bad request\n"));
        };
        let (parts, ()) = bare.into_parts();
        if request.body().len() > crate::app::MAX_REQUEST_BODY {
            return reply(text_reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large\n",
            ));
        }
        match self.app.plan(&parts, request.body(), now) {
            Plan::Reply(r) => reply(r),
            Plan::Fault {
                fault,
                base,
                location,
            } => faulted(fault, base, location),
        }
    }
}

impl Responder for Peer {
    fn respond(&mut self, request: &http::Request<Vec<u8>>, now: Instant) -> Answer {
        self.handle(request, now)
    }
}

fn text_reply(status: StatusCode, body: &str) -> Reply {
    Reply::new(status, "text/plain; charset=utf-8", body)
}

fn build(
    status: StatusCode,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
) -> Answer {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    for (name, value) in headers {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            h.append(*name, v);
        }
    }
    Answer::Response(response)
}

fn reply(r: Reply) -> Answer {
    build(r.status, r.content_type, &r.headers, r.body)
}

/// What a client sees of a fault.
fn faulted(fault: Fault, base: Reply, location: String) -> Answer {
    use device_grant::TransportErrorKind;
    match fault {
        Fault::Stall(_) => Answer::Transport(TransportErrorKind::Timeout),
        Fault::Reset | Fault::TruncatedBody => Answer::Transport(TransportErrorKind::Io),
        Fault::BadGateway => build(
            StatusCode::BAD_GATEWAY,
            "text/html",
            &[],
            gateway_page(StatusCode::BAD_GATEWAY).into_bytes(),
        ),
        Fault::ServiceUnavailable(retry) => build(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/html",
            &retry_after_headers(retry),
            gateway_page(StatusCode::SERVICE_UNAVAILABLE).into_bytes(),
        ),
        Fault::TooManyRequests(retry) => build(
            StatusCode::TOO_MANY_REQUESTS,
            "text/plain; charset=utf-8",
            &retry_after_headers(retry),
            b"Too Many Requests\n".to_vec(),
        ),
        Fault::OversizedBody(total) => build(
            base.status,
            "application/json; charset=utf-8",
            &[],
            oversized_body(total),
        ),
        Fault::InvalidUtf8 => {
            let body = mangle_utf8(&base);
            build(base.status, base.content_type, &base.headers, body)
        }
        Fault::WrongContentType => {
            let wrong = if base.is_json() {
                "text/html; charset=utf-8"
            } else {
                "application/json"
            };
            build(base.status, wrong, &base.headers, base.body)
        }
        Fault::Redirect => build(
            StatusCode::FOUND,
            "text/plain; charset=utf-8",
            &[("location", location)],
            b"Found\n".to_vec(),
        ),
    }
}
