//! The simulated server in memory: the same request handling as [`Server`](crate::Server)
//! (dialects, scripts, faults, referee), answering at a virtual time, with no socket and no
//! thread.

use std::time::Instant;

use http::StatusCode;

use crate::ServerConfig;
use crate::app::{App, Plan};
use crate::dialect::Reply;
use crate::drive::{Answer, Responder};
use crate::render::{gateway_page, mangle_utf8, oversized_body, retry_after_headers};
use crate::script::Fault;

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

    crate::app::shared_actions!();

    /// The user approves the flow with this user code at virtual time `now`; see
    /// [`Server::approve`](crate::Server::approve).
    pub fn approve(&self, user_code: &str, now: Instant) -> bool {
        self.app.decide(user_code, true, now)
    }

    /// The user denies the flow with this user code at virtual time `now`.
    pub fn deny(&self, user_code: &str, now: Instant) -> bool {
        self.app.decide(user_code, false, now)
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use device_grant::{Config, Flow, TransportErrorKind};

    use super::*;
    use crate::drive::drive;
    use crate::{Dialect, Script};

    fn config(peer: &Peer) -> Config {
        Config::builder(peer.client_id())
            .device_endpoint(peer.device_endpoint())
            .token_endpoint(peer.token_endpoint())
            .build()
            .expect("the peer's endpoints are loopback")
    }

    #[test]
    fn socket_faults_become_transport_failures_and_the_flow_backs_off() {
        let mut peer = Peer::new(
            ServerConfig::new(Dialect::Rfc8628).script(
                Script::approve_after_polls(2)
                    .fault_at(1, Fault::Reset)
                    .fault_at(2, Fault::Stall(Duration::from_secs(60))),
            ),
        );
        let start = Instant::now();
        let run = drive(Flow::device(config(&peer), start), &mut peer, start);
        run.assert_clean();
        assert!(run.outcome.is_ok());
        let causes: Vec<_> = run
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                device_grant::Event::BackOff { cause, .. } => Some(*cause),
                _ => None,
            })
            .collect();
        assert_eq!(
            causes,
            [
                device_grant::BackOffCause::Transport(TransportErrorKind::Io),
                device_grant::BackOffCause::Transport(TransportErrorKind::Timeout),
            ]
        );
        // The referee saw the polls at their virtual times.
        let polls = peer.referee().polls(crate::FlowId(1));
        assert_eq!(polls.len(), 3);
        assert_eq!(polls[0].at - start, Duration::from_secs(5));
    }

    #[test]
    fn a_person_approves_at_the_virtual_time() {
        let mut peer = Peer::new(ServerConfig::new(Dialect::GitHub).script(Script::manual()));
        let start = Instant::now();
        let mut flow = Flow::device(config(&peer), start);
        let device_grant::Output::Send { id, request } = flow.poll_output() else {
            panic!("the device request comes first");
        };
        let Answer::Response(answer) = peer.respond(&request, start) else {
            panic!("the device request is answered");
        };
        flow.handle_response(id, answer, start).expect("awaited");
        let Some(device_grant::Output::Event(device_grant::Event::UserCode(prompt))) =
            Some(flow.poll_output())
        else {
            panic!("the prompt comes next");
        };
        // Once the code has expired (the default expires_in is far shorter) nobody can approve.
        assert!(!peer.approve(prompt.user_code(), start + Duration::from_secs(100_000)));
        assert!(peer.approve(prompt.user_code(), start + Duration::from_secs(10)));
    }
}
