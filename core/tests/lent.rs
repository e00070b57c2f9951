//! Lent requests and answers in parts (`Flow::poll_output_lent`, `Flow::outgoing`,
//! `Flow::handle_answer`): the same flow as through `http` values, against the in-memory
//! simulator (which checks every request, and every DPoP proof in DPoP mode), with a virtual
//! clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::http::{HeaderMap, Method, StatusCode};
use device_grant::{
    Config, Flow, FlowError, Output, RefreshToken, TokenResponse, TransportErrorKind, UsageError,
};
use device_grant_sim::{
    Answer, Dialect, DpopMode, Peer, Responder, Script, ServerConfig, TestSigner, drive,
};

/// Drives `flow` through lent requests only, each checked against its own `to_request`, and
/// returns the result with the number of requests sent.
fn drive_lent(
    mut flow: Flow,
    server: &mut dyn Responder,
    start: Instant,
) -> (Result<TokenResponse, FlowError>, usize) {
    let mut now = start;
    let mut sent = 0;
    for _ in 0..1_000 {
        match flow.poll_output_lent() {
            Output::Lent(id) => {
                let lent = flow.outgoing().expect("lent until answered");
                assert_eq!(lent.id(), id);
                let request = lent.to_request();
                // The parts and the request built from them say the same.
                assert_eq!(request.method(), lent.method());
                assert_eq!(request.uri(), lent.uri());
                assert_eq!(request.body(), lent.body());
                let headers: HeaderMap = lent
                    .headers()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                assert_eq!(request.headers(), &headers);
                sent += 1;
                match server.respond(&request, now) {
                    Answer::Response(response) => {
                        let (parts, body) = response.into_parts();
                        flow.handle_answer(id, parts.status, &parts.headers, &body, now)
                            .expect("the answer to the request out");
                    }
                    Answer::Transport(kind) => flow
                        .handle_transport_error(id, kind, now)
                        .expect("the failure of the request out"),
                    other => panic!("an answer this driver does not know: {other:?}"),
                }
                assert!(flow.outgoing().is_none(), "answered: nothing is lent");
            }
            Output::WaitUntil(at) => {
                now = at;
                flow.handle_timeout(at).expect("running");
            }
            Output::Event(_) => {}
            Output::Done(result) => return (result, sent),
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the flow did not finish")
}

fn config(peer: &Peer) -> device_grant::ConfigBuilder {
    Config::builder(peer.client_id())
        .device_endpoint(peer.device_endpoint())
        .token_endpoint(peer.token_endpoint())
        .scope("openid offline_access")
}

#[test]
fn a_lent_flow_gets_the_same_token_as_one_through_http_values() {
    let server =
        || Peer::new(ServerConfig::new(Dialect::Rfc8628).script(Script::approve_after_polls(3)));
    let start = Instant::now();
    let mut lent_peer = server();
    let (lent, lent_sent) = drive_lent(
        Flow::device(config(&lent_peer).build().unwrap(), start),
        &mut lent_peer,
        start,
    );
    lent_peer.referee().assert_clean();
    let mut http_peer = server();
    let run = drive(
        Flow::device(config(&http_peer).build().unwrap(), start),
        &mut http_peer,
        start,
    );
    run.assert_clean();
    let (lent, http) = (lent.expect("a token"), run.outcome.expect("a token"));
    // The device request and four polls, on the same virtual schedule.
    assert_eq!((lent_sent, run.sent.len()), (5, 5));
    assert_eq!(lent.received_at(), http.received_at());
    assert_eq!(lent.token_type(), http.token_type());

    // The refresh grant, lent too.
    let refresh = lent.refresh_token().expect("a refresh token").clone();
    let later = start + Duration::from_secs(60);
    let flow = Flow::refresh(config(&lent_peer).build().unwrap(), refresh, later);
    let (refreshed, sent) = drive_lent(flow, &mut lent_peer, later);
    assert_eq!(sent, 1);
    assert_ne!(
        refreshed.expect("a new token").access_token().secret(),
        lent.access_token().secret()
    );
    lent_peer.referee().assert_clean();
}

#[test]
fn lent_requests_carry_dpop_proofs_the_server_accepts() {
    let mut peer = Peer::new(
        ServerConfig::new(Dialect::Rfc8628)
            .dpop(DpopMode::Required)
            .script(Script::approve_after_polls(2)),
    );
    let config = config(&peer)
        .dpop(Arc::new(TestSigner::new()))
        .build()
        .unwrap();
    let start = Instant::now();
    let (token, sent) = drive_lent(Flow::device(config, start), &mut peer, start);
    peer.referee().assert_clean();
    assert_eq!(token.expect("a token").token_type(), "DPoP");
    assert_eq!(sent, 4);
}

#[test]
fn a_request_is_lent_only_while_it_is_out_and_shows_no_secret() {
    let config = Config::builder("client")
        .device_endpoint("https://as.example/device")
        .token_endpoint("https://as.example/token")
        .client_secret_post("CLIENT-SECRET-0a9e")
        .build()
        .unwrap();
    let t0 = Instant::now();
    let mut flow = Flow::device(config.clone(), t0);
    assert!(flow.outgoing().is_none(), "nothing asked yet");
    let Output::Lent(id) = flow.poll_output_lent() else {
        panic!("the device request first")
    };
    let lent = flow.outgoing().expect("out");
    assert_eq!(lent.method(), Method::POST);
    assert_eq!(
        lent.body(),
        b"client_id=client&client_secret=CLIENT-SECRET-0a9e"
    );
    let debug = format!("{lent:?} {:?}", Output::Lent(id));
    assert!(debug.contains("https://as.example/device"), "{debug}");
    assert!(!debug.contains("CLIENT-SECRET"), "{debug}");
    flow.handle_transport_error(id, TransportErrorKind::Timeout, t0)
        .unwrap();
    assert!(flow.outgoing().is_none(), "failed: nothing is lent");
    // An answer to a request no longer out is refused.
    assert!(matches!(
        flow.handle_answer(id, StatusCode::OK, &HeaderMap::new(), b"{}", t0),
        Err(UsageError::UnknownRequest(_))
    ));

    // A request given out as an `http::Request` is not lent.
    let mut given = Flow::device(config.clone(), t0);
    assert!(matches!(given.poll_output(), Output::Send { .. }));
    assert!(given.outgoing().is_none());

    // Cancelling drops what was lent.
    let mut cancelled = Flow::refresh(config, RefreshToken::new("OLD-REFRESH"), t0);
    assert!(matches!(cancelled.poll_output_lent(), Output::Lent(_)));
    assert!(cancelled.outgoing().is_some());
    cancelled.cancel();
    assert!(cancelled.outgoing().is_none());
    assert!(matches!(
        cancelled.poll_output_lent(),
        Output::Done(Err(FlowError::Cancelled))
    ));
}
