//! Both drivers against injected faults: while the device code is valid the flow backs off
//! and recovers; otherwise it ends with a clear, typed error.

mod support;

use std::time::{Duration, Instant};

use device_grant::{Config, Endpoint, Flow, FlowError, Problem, TransportErrorKind};
use device_grant_sim::{
    Dialect, Fault, FaultTarget, RetryAfter, Script, Server, ServerConfig, closed_port,
};
use support::drive::{self, REQUEST_TIMEOUT, TRANSPORTS, Transport, device_flow};

const INTERVAL: Duration = Duration::from_millis(50);

fn with_fault(dialect: Dialect, fault: Fault) -> Server {
    Server::start(
        ServerConfig::new(dialect)
            .interval(INTERVAL)
            .script(Script::approve_after_polls(3).fault_at(1, fault)),
    )
    .unwrap()
}

/// Runs the cases of one test on threads, one per transport and fault.
fn each(faults: Vec<Fault>, check: fn(Transport, Fault)) {
    let handles: Vec<_> = TRANSPORTS
        .into_iter()
        .flat_map(|t| faults.clone().into_iter().map(move |f| (t, f)))
        .map(|(t, f)| {
            (
                format!("{t:?} x {f:?}"),
                std::thread::spawn(move || check(t, f)),
            )
        })
        .collect();
    let failed: Vec<_> = handles
        .into_iter()
        .filter_map(|(n, h)| h.join().err().map(|_| n))
        .collect();
    assert!(failed.is_empty(), "failed: {failed:?}");
}

#[test]
fn the_flow_recovers_from_faults_while_the_code_is_valid() {
    let faults = vec![
        Fault::Reset,
        Fault::Stall(REQUEST_TIMEOUT + Duration::from_secs(1)),
        Fault::BadGateway,
        Fault::ServiceUnavailable(None),
        Fault::ServiceUnavailable(Some(RetryAfter::Seconds(1))),
        Fault::TooManyRequests(None),
        Fault::TooManyRequests(Some(RetryAfter::Date(Duration::from_secs(1)))),
        Fault::TruncatedBody,
        Fault::WrongContentType,
    ];
    each(faults, |transport, fault| {
        for dialect in [Dialect::Rfc8628, Dialect::GitHub] {
            let server = with_fault(dialect, fault.clone());
            let started = Instant::now();
            let outcome = drive::run(transport, device_flow(&server), |_| {});
            outcome.token();
            if !matches!(fault, Fault::WrongContentType) {
                assert_eq!(
                    outcome.back_offs(),
                    1,
                    "{dialect:?}: one back-off for the fault"
                );
            }
            if matches!(
                fault,
                Fault::ServiceUnavailable(Some(_)) | Fault::TooManyRequests(Some(_))
            ) {
                assert!(
                    started.elapsed() >= Duration::from_secs(1),
                    "Retry-After was honoured"
                );
            }
            server.referee().assert_clean();
        }
    });
}

#[test]
fn faults_that_cannot_be_recovered_from_end_with_a_clear_error() {
    each(
        vec![Fault::oversized(), Fault::Redirect, Fault::InvalidUtf8],
        |transport, fault| {
            let server = with_fault(Dialect::Rfc8628, fault.clone());
            let started = Instant::now();
            let outcome = drive::run(transport, device_flow(&server), |_| {});
            let FlowError::InvalidResponse(invalid) = outcome.err() else {
                panic!("{:?}", outcome.err())
            };
            assert_eq!(invalid.endpoint(), Endpoint::Token);
            match fault {
                Fault::OversizedBody(_) => {
                    assert_eq!(
                        invalid.problem(),
                        &Problem::BodyTooLarge {
                            limit: device_grant::DEFAULT_BODY_LIMIT
                        }
                    );
                    assert!(started.elapsed() < Duration::from_secs(10));
                }
                Fault::Redirect => {
                    assert_eq!(invalid.status(), 302);
                    assert_eq!(
                        server.referee().redirect_hits(),
                        0,
                        "the redirect was not followed"
                    );
                }
                _ => assert!(matches!(invalid.problem(), Problem::Unreadable { .. })),
            }
            assert!(!outcome.err().to_string().is_empty());
            server.referee().assert_clean();
        },
    );
}

#[test]
fn a_token_endpoint_that_never_answers_runs_into_the_deadline() {
    for transport in TRANSPORTS {
        let server = Server::start(
            ServerConfig::new(Dialect::Rfc8628)
                .interval(INTERVAL)
                .expires_in(Duration::from_millis(1500)),
        )
        .unwrap();
        let dead = closed_port().unwrap();
        let config = drive::config_for(&server)
            .token_endpoint(format!("http://{dead}/token"))
            .build()
            .unwrap();
        let outcome = drive::run(transport, Flow::device(config, Instant::now()), |_| {});
        assert_eq!(outcome.err(), &FlowError::Expired(None), "{transport:?}");
        assert!(outcome.back_offs() >= 2, "{transport:?}: it kept trying");
        assert!(
            outcome.client_error,
            "{transport:?}: the last connection error is kept"
        );
    }
}

#[test]
fn an_unreachable_device_endpoint_fails_at_once() {
    for transport in TRANSPORTS {
        let dead = closed_port().unwrap();
        let config = Config::builder("c")
            .device_endpoint(format!("http://{dead}/device"))
            .token_endpoint(format!("http://{dead}/token"))
            // Retrying switched off: the core's scenarios cover the retries.
            .device_retries(1, Duration::ZERO)
            .build()
            .unwrap();
        let outcome = drive::run(transport, Flow::device(config, Instant::now()), |_| {});
        assert_eq!(
            outcome.err(),
            &FlowError::Transport {
                endpoint: Endpoint::DeviceAuthorization,
                kind: TransportErrorKind::Connect
            },
            "{transport:?}"
        );
        assert!(outcome.client_error);
    }
}

#[test]
fn faults_at_the_device_endpoint_and_on_refresh() {
    for transport in TRANSPORTS {
        let server = Server::start(ServerConfig::new(Dialect::Rfc8628).interval(INTERVAL)).unwrap();
        server.inject_fault(FaultTarget::DeviceAuthorization, Fault::BadGateway);
        // With retrying switched off the gateway page is the answer.
        let config = drive::config_for(&server)
            .device_retries(1, Duration::ZERO)
            .build()
            .unwrap();
        let outcome = drive::run(transport, Flow::device(config, Instant::now()), |_| {});
        let FlowError::InvalidResponse(i) = outcome.err() else {
            panic!("{:?}", outcome.err())
        };
        assert_eq!(
            (i.endpoint(), i.status()),
            (Endpoint::DeviceAuthorization, 502)
        );
        // The next attempt works; a refresh that breaks reports it, and its token still works.
        let first = drive::run(transport, device_flow(&server), |_| {});
        let rt = first.token().refresh_token().unwrap().clone();
        server.inject_fault(FaultTarget::Refresh, Fault::Reset);
        let config = drive::config_for(&server).build().unwrap();
        let broken = drive::run(
            transport,
            Flow::refresh(config.clone(), rt.clone(), Instant::now()),
            |_| {},
        );
        assert!(
            matches!(
                broken.err(),
                FlowError::Transport {
                    endpoint: Endpoint::Token,
                    ..
                }
            ),
            "{:?}",
            broken.err()
        );
        let again = drive::run(transport, Flow::refresh(config, rt, Instant::now()), |_| {});
        again.token();
        server.referee().assert_clean();
    }
}
