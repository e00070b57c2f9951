//! Transport failures, gateway answers, redirects and oversized bodies, over real sockets.

mod common;

use std::error::Error as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::{FAST, back_off_causes, config, run_device, run_with, server};
use device_grant_sim::{
    Dialect, Fault, FaultTarget, RequestKind, Script, Server, ServerConfig, closed_port,
};
use device_grant_ureq::device_grant::{
    BackOffCause, Config, DEFAULT_BODY_LIMIT, Endpoint, Event, FlowError, Problem,
    TransportErrorKind,
};
use device_grant_ureq::{Error, agent_config, error_kind};

#[test]
fn a_reset_and_a_timed_out_poll_back_off_and_the_flow_recovers() {
    let server = server(
        Script::approve_after_polls(2)
            .fault_at(1, Fault::Reset)
            .fault_at(2, Fault::Stall(Duration::from_secs(30))),
    );
    // Far shorter than the stall, so only the timeout can end the second poll: the preset's
    // kind, a phase timeout, not a global one.
    let agent = agent_config()
        .timeout_recv_response(Some(Duration::from_millis(300)))
        .build()
        .new_agent();
    let (result, events) = run_with(config(&server).build().unwrap(), &agent);

    let token = result.expect("a token after the failures");
    assert!(!token.access_token().secret().is_empty());
    assert_eq!(
        back_off_causes(&events),
        [
            BackOffCause::Transport(TransportErrorKind::Io),
            BackOffCause::Transport(TransportErrorKind::Timeout)
        ]
    );
    let flow = server.referee().last_flow().unwrap();
    let polls = server.referee().polls(flow.id);
    assert_eq!(polls.len(), 3);
    assert_eq!(polls[0].fault, Some(Fault::Reset));
    assert_eq!(polls[2].status, Some(200));
    server.referee().assert_clean();
}

#[test]
fn a_failure_followed_by_an_answer_ends_as_the_answer_says() {
    let server = server(Script::deny_after_polls(1).fault_at(1, Fault::Reset));
    let (result, events) = run_device(config(&server).build().unwrap());

    // Not `Error::Transport`: the server did answer in the end.
    match result {
        Err(Error::Flow(FlowError::Denied(e))) => assert_eq!(e.error(), "access_denied"),
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(back_off_causes(&events).len(), 1);
    server.referee().assert_clean();
}

#[test]
fn gateway_answers_and_cut_bodies_back_off() {
    let cases = [
        (Fault::BadGateway, BackOffCause::Status(502)),
        (Fault::ServiceUnavailable(None), BackOffCause::Status(503)),
        (Fault::TooManyRequests(None), BackOffCause::Status(429)),
        (
            Fault::TruncatedBody,
            BackOffCause::Transport(TransportErrorKind::Io),
        ),
    ];
    for (fault, cause) in cases {
        let server = server(Script::approve_after_polls(1).fault_at(1, fault.clone()));
        let (result, events) = run_device(config(&server).build().unwrap());

        assert!(result.is_ok(), "{fault}: {result:?}");
        assert_eq!(back_off_causes(&events), [cause], "{fault}");
        if let Err(violations) = server.referee().check() {
            panic!("{fault}: {violations:?}");
        }
    }
}

#[test]
fn an_unreachable_device_endpoint_ends_the_flow_with_the_cause() {
    let port = closed_port().unwrap();
    // One attempt: the retries themselves are the core's scenarios; this is about the cause.
    let config = Config::builder("client")
        .device_endpoint(format!("http://{port}/device"))
        .token_endpoint(format!("http://{port}/token"))
        .device_retries(1, Duration::ZERO)
        .build()
        .unwrap();
    let (result, events) = run_device(config);

    let error = result.unwrap_err();
    match &error {
        Error::Transport {
            error:
                FlowError::Transport {
                    endpoint: Endpoint::DeviceAuthorization,
                    kind: TransportErrorKind::Connect,
                },
            source,
        } => assert_eq!(
            error_kind(source),
            TransportErrorKind::Connect,
            "{source:?}"
        ),
        other => panic!("expected a connect failure, got {other:?}"),
    }
    assert!(events.is_empty());
    let message = error.to_string();
    assert!(
        message.contains("could not reach the device authorization endpoint"),
        "{message}"
    );
    assert!(message.contains("check the network"), "{message}");
    let source = error.source().expect("the ureq error is the source");
    assert!(source.downcast_ref::<ureq::Error>().is_some());
    assert!(error.client_error().is_some());
    assert!(matches!(
        error.flow_error(),
        Some(FlowError::Transport { .. })
    ));
}

#[test]
fn polls_that_fail_until_the_deadline_end_in_expiry_with_the_cause() {
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
    let (result, events) = run_device(config(&server).build().unwrap());

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

#[test]
fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let server = server(Script::approve_after_polls(0).fault_at(1, Fault::Redirect));
    let (result, _) = run_device(config(&server).build().unwrap());

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => {
            assert_eq!(e.status(), 302);
            assert_eq!(e.endpoint(), Endpoint::Token);
        }
        other => panic!("expected the 302 to end the flow, got {other:?}"),
    }
    assert_eq!(server.referee().redirect_hits(), 0);
    assert_eq!(server.referee().requests().len(), 2);
    server.referee().assert_clean();
}

/// The settings hold per request, so an agent shared with code that wants redirects and
/// status errors is safe to pass in.
#[test]
fn an_agent_configured_the_other_way_neither_follows_redirects_nor_fails_on_400() {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(10)
        .http_status_as_error(true)
        .build()
        .into();
    // Poll 1 is pending (HTTP 400), poll 2 is redirected.
    let server = server(Script::approve_after_polls(2).fault_at(2, Fault::Redirect));
    let (result, events) = run_with(config(&server).build().unwrap(), &agent);

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => assert_eq!(e.status(), 302),
        other => panic!("expected the 302 to end the flow, got {other:?}"),
    }
    let flow = server.referee().last_flow().unwrap();
    let polls = server.referee().polls(flow.id);
    assert_eq!(polls.len(), 2);
    assert_eq!(polls[0].status, Some(400));
    // Read as "pending", not taken for a failure to back off from.
    assert_eq!(back_off_causes(&events), []);
    assert_eq!(server.referee().redirect_hits(), 0);
    server.referee().assert_clean();
}

#[test]
fn a_redirect_from_the_device_endpoint_is_not_followed() {
    let server = server(Script::approve_after_polls(0));
    server.inject_fault(FaultTarget::DeviceAuthorization, Fault::Redirect);
    let (result, events) = run_device(config(&server).build().unwrap());

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
    server.referee().assert_clean();
}

#[test]
fn an_oversized_body_is_refused() {
    let server = server(Script::approve_after_polls(0).fault_at(1, Fault::oversized()));
    let (result, _) = run_device(config(&server).build().unwrap());

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => {
            assert_eq!(e.endpoint(), Endpoint::Token);
            assert_eq!(
                e.problem(),
                &Problem::BodyTooLarge {
                    limit: DEFAULT_BODY_LIMIT
                }
            );
        }
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    // The 4 MiB answer went to the one poll, and the flow ended there: no retry, no other
    // request.
    let requests = server.referee().requests();
    let kinds: Vec<RequestKind> = requests.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [RequestKind::DeviceAuthorization, RequestKind::DevicePoll]
    );
    assert_eq!(requests[1].fault, Some(Fault::oversized()));
    server.referee().assert_clean();
}

#[test]
fn a_configured_body_limit_is_the_one_applied() {
    let server =
        server(Script::approve_after_polls(0).fault_at(1, Fault::OversizedBody(64 * 1024)));
    let config = config(&server).body_limit(4096).build().unwrap();
    let (result, _) = run_device(config);

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => {
            assert_eq!(e.problem(), &Problem::BodyTooLarge { limit: 4096 });
        }
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
}

/// The simulated server's bodies are finite and it does not count what it wrote, so this one
/// is a raw socket: it offers a gigabyte and counts what it manages to hand to the kernel
/// before the client hangs up.
#[test]
fn an_endless_body_is_not_read_to_the_end() {
    const OFFERED: usize = 1 << 30;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = std::thread::spawn(move || -> usize {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Bounded, so a client that never hangs up fails the test instead of hanging it.
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
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
    let (result, _) = run_device(config);

    match result {
        Err(Error::Flow(FlowError::InvalidResponse(e))) => {
            assert_eq!(e.endpoint(), Endpoint::DeviceAuthorization);
            assert!(matches!(e.problem(), Problem::BodyTooLarge { .. }));
        }
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    let sent = writer.join().unwrap();
    // What the client read (just over 1 MiB) plus what the socket buffers held when it hung
    // up: far from the gigabyte on offer.
    assert!(sent < OFFERED / 8, "the server wrote {sent} bytes");
    assert!(sent > DEFAULT_BODY_LIMIT, "the server wrote {sent} bytes");
}
