//! Transport failures, redirects and oversized bodies, over real sockets.

mod common;

use std::error::Error as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::{FAST, config, run_device, run_with, server};
use device_grant_reqwest::device_grant::{
    BackOffCause, Config, DEFAULT_BODY_LIMIT, Endpoint, Event, FlowError, Problem,
    TransportErrorKind,
};
use device_grant_reqwest::{ClientBuilder, Error, client_builder};
use device_grant_sim::{
    Dialect, Fault, FaultTarget, RequestKind, Script, Server, ServerConfig, closed_port,
};

fn back_off_causes(events: &[Event]) -> Vec<BackOffCause> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::BackOff { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_reset_poll_backs_off_and_the_flow_recovers() {
    let server = server(Script::approve_after_polls(1).fault_at(1, Fault::Reset));
    let (result, events) = run_device(config(&server).build().unwrap()).await;

    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        back_off_causes(&events),
        [BackOffCause::Transport(TransportErrorKind::Io)]
    );
    let flow = server.referee().last_flow().unwrap();
    assert_eq!(server.referee().polls(flow.id).len(), 2);
    server.referee().assert_clean();
}

#[tokio::test]
async fn a_timed_out_poll_backs_off_and_the_flow_recovers() {
    let server =
        server(Script::approve_after_polls(1).fault_at(1, Fault::Stall(Duration::from_secs(30))));
    let client = client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let (result, events) = run_with(config(&server).build().unwrap(), &client).await;

    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        back_off_causes(&events),
        [BackOffCause::Transport(TransportErrorKind::Timeout)]
    );
    server.referee().assert_clean();
}

#[tokio::test]
async fn an_unreachable_device_endpoint_ends_the_flow_with_the_cause() {
    let port = closed_port().unwrap();
    // One attempt: the retries themselves are the core's scenarios; this is about the cause.
    let config = Config::builder("client")
        .device_endpoint(format!("http://{port}/device"))
        .token_endpoint(format!("http://{port}/token"))
        .device_retries(1, Duration::ZERO)
        .build()
        .unwrap();
    let (result, events) = run_device(config).await;

    let error = result.unwrap_err();
    match &error {
        Error::Transport {
            error:
                FlowError::Transport {
                    endpoint: Endpoint::DeviceAuthorization,
                    kind: TransportErrorKind::Connect,
                },
            source,
        } => assert!(source.is_connect()),
        other => panic!("expected a connect failure, got {other:?}"),
    }
    assert!(events.is_empty());
    assert!(
        error
            .to_string()
            .contains("could not reach the device authorization endpoint"),
        "{error}"
    );
    let source = error.source().expect("the reqwest error is the source");
    assert!(source.downcast_ref::<reqwest::Error>().is_some());
}

#[tokio::test]
async fn polls_that_fail_until_the_deadline_end_in_expiry_with_the_cause() {
    let mut script = Script::never();
    for poll in 1..=100 {
        script = script.fault_at(poll, Fault::Reset);
    }
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(FAST)
            .expires_in(Duration::from_millis(700))
            .script(script),
    )
    .unwrap();
    let (result, events) = run_device(config(&server).build().unwrap()).await;

    let error = result.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Transport {
                error: FlowError::Expired(None),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("could not be reached"),
        "{error}"
    );
    assert!(error.source().is_some());
    // A broken connection may have lost a slow_down: the wait after it is longer than the
    // interval by the slow_down step (DESIGN rule 11), which here runs past the 700 ms
    // deadline, so the flow ends at the deadline instead of polling again.
    let delays: Vec<Duration> = events
        .iter()
        .filter_map(|e| match e {
            Event::BackOff { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [FAST + Duration::from_secs(5)]);
    assert_eq!(
        server
            .referee()
            .requests()
            .iter()
            .filter(|r| r.kind == RequestKind::DevicePoll)
            .count(),
        1
    );
    server.referee().assert_clean();
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let server = server(Script::approve_after_polls(0).fault_at(1, Fault::Redirect));
    let (result, _) = run_device(config(&server).build().unwrap()).await;

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => {
            assert_eq!(e.status(), 302);
            assert_eq!(e.endpoint(), Endpoint::Token);
        }
        other => panic!("expected the 302 to end the flow, got {other:?}"),
    }
    assert_eq!(server.referee().redirect_hits(), 0);
    server.referee().assert_clean();
}

/// The redirect policy of the builder a client starts from, or one set through
/// `configure`, does not survive `build`.
#[tokio::test]
async fn a_client_configured_to_follow_redirects_does_not() {
    let following = || reqwest::redirect::Policy::limited(10);
    for client in [
        ClientBuilder::from_reqwest(reqwest::Client::builder().redirect(following())),
        client_builder().configure(|b| b.redirect(following())),
    ] {
        let server = server(Script::approve_after_polls(0).fault_at(1, Fault::Redirect));
        let client = client.build().unwrap();
        let (result, _) = run_with(config(&server).build().unwrap(), &client).await;
        match result {
            Err(Error::Flow(FlowError::InvalidResponse(e))) => assert_eq!(e.status(), 302),
            other => panic!("expected the 302 to end the flow, got {other:?}"),
        }
        assert_eq!(server.referee().redirect_hits(), 0);
    }
}

#[tokio::test]
async fn a_redirect_from_the_device_endpoint_is_not_followed() {
    let server = server(Script::approve_after_polls(0));
    server.inject_fault(FaultTarget::DeviceAuthorization, Fault::Redirect);
    let (result, events) = run_device(config(&server).build().unwrap()).await;

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => {
            assert_eq!(e.status(), 302);
            assert_eq!(e.endpoint(), Endpoint::DeviceAuthorization);
        }
        other => panic!("expected the 302 to end the flow, got {other:?}"),
    }
    assert!(events.is_empty());
    assert_eq!(server.referee().redirect_hits(), 0);
    assert_eq!(server.referee().requests().len(), 1);
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = server(Script::approve_after_polls(0).fault_at(1, Fault::oversized()));
    let (result, _) = run_device(config(&server).build().unwrap()).await;

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => assert_eq!(
            e.problem(),
            &Problem::BodyTooLarge {
                limit: DEFAULT_BODY_LIMIT
            }
        ),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    let flow = server.referee().last_flow().unwrap();
    assert_eq!(server.referee().polls(flow.id).len(), 1);
}

/// The simulated server's bodies are finite; this one offers a gigabyte and counts what it
/// manages to hand to the kernel before the client hangs up.
#[tokio::test]
async fn an_endless_body_is_not_read_to_the_end() {
    const OFFERED: usize = 1 << 30;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = std::thread::spawn(move || -> usize {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // The request: headers, then a short form body.
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed before sending its request");
            request.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                  transfer-encoding: chunked\r\n\r\n",
            )
            .unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        let mut sent = 0;
        while sent < OFFERED {
            if stream.write_all(chunk.as_bytes()).is_err() {
                break;
            }
            sent += 64 * 1024;
        }
        sent
    });
    let config = Config::builder("client")
        .device_endpoint(format!("http://{addr}/device"))
        .token_endpoint(format!("http://{addr}/token"))
        .build()
        .unwrap();
    let (result, _) = run_device(config).await;

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => {
            assert_eq!(e.endpoint(), Endpoint::DeviceAuthorization);
            assert!(matches!(e.problem(), Problem::BodyTooLarge { .. }));
        }
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    // Joined off the runtime: the connection is closed by reqwest's connection task, which
    // needs this runtime to run.
    let sent = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    // What the client read (just over 1 MiB) plus what the socket buffers held when it hung
    // up: far from the gigabyte on offer.
    assert!(sent < OFFERED / 8, "the server wrote {sent} bytes");
    assert!(sent > DEFAULT_BODY_LIMIT, "the server wrote {sent} bytes");
}
