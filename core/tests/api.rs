//! The public API's guarantees: misuse is an error value that changes nothing, and no secret
//! appears in the `Debug` or `Display` of anything the crate hands out.

mod common;

use std::time::{Duration, Instant};

use common::{drive, form, json};
use device_grant::{
    Config, Event, Flow, FlowError, Output, RefreshToken, TransportErrorKind, UsageError,
};

const DEVICE_CODE: &str = "DEVICE-CODE-SECRET-7f3a";
const ACCESS: &str = "ACCESS-TOKEN-SECRET-91c2";
const REFRESH: &str = "REFRESH-TOKEN-SECRET-55d0";
const ID_TOKEN: &str = "ID-TOKEN-SECRET-e4b1";
const CLIENT_SECRET: &str = "CLIENT-SECRET-0a9e";
const OLD_REFRESH: &str = "OLD-REFRESH-SECRET-3c3c";

fn secrets_in(text: &str) -> Vec<&'static str> {
    [
        DEVICE_CODE,
        ACCESS,
        REFRESH,
        ID_TOKEN,
        CLIENT_SECRET,
        OLD_REFRESH,
    ]
    .into_iter()
    .filter(|s| text.contains(s))
    .collect()
}

fn device_body() -> String {
    format!(
        r#"{{"device_code":"{DEVICE_CODE}","user_code":"WDJB-MJHT","verification_uri":"https://as.example/device","verification_uri_complete":"https://as.example/device?user_code=WDJB-MJHT","expires_in":600,"interval":1}}"#
    )
}

fn token_body() -> String {
    format!(
        r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":60,"refresh_token":"{REFRESH}","id_token":"{ID_TOKEN}","scope":"openid"}}"#
    )
}

#[test]
fn no_secret_in_any_debug_or_display() {
    for auth in ["basic", "post"] {
        let b = Config::builder("client")
            .device_endpoint("https://as.example/device")
            .token_endpoint("https://as.example/token");
        let config = if auth == "basic" {
            b.client_secret_basic(CLIENT_SECRET)
        } else {
            b.client_secret_post(CLIENT_SECRET)
        }
        .build()
        .unwrap();
        let mut seen = vec![format!("{config:?}"), format!("{:?}", config.client_auth())];
        let t0 = Instant::now();
        let mut answers = [
            json(200, &device_body()),
            json(400, r#"{"error":"authorization_pending"}"#),
            json(400, r#"{"error":"slow_down"}"#),
            json(200, &token_body()),
        ]
        .into_iter();
        let mut server = |request: &http::Request<Vec<u8>>, _now: Instant| {
            // The request itself carries the secrets, as it must.
            let body = String::from_utf8(request.body().clone()).unwrap();
            assert!(body.contains(DEVICE_CODE) || request.uri().path() == "/device");
            answers.next().unwrap()
        };
        let run = device_grant_sim::drive_inspect(
            Flow::device(config.clone(), t0),
            &mut server,
            t0,
            device_grant_sim::Options::default(),
            &mut |flow, out| {
                seen.push(format!("{flow:?}"));
                seen.push(format!("{out:?}"));
                if let Output::Event(Event::UserCode(p)) = out {
                    seen.push(format!("{p:?}"));
                }
            },
        );
        run.assert_clean();
        let t = run.token();
        seen.push(format!("{t:?}"));
        seen.push(format!(
            "{:?} {:?} {:?}",
            t.access_token(),
            t.refresh_token(),
            t.id_token()
        ));
        assert_eq!(t.access_token().secret(), ACCESS);
        // Errors of every kind, Debug and Display.
        let t0 = Instant::now();
        for last in [
            json(400, r#"{"error":"access_denied","error_description":"no"}"#),
            json(400, r#"{"error":"expired_token"}"#),
            json(400, r#"{"error":"invalid_grant"}"#),
            json(200, &format!(r#"{{"access_token":"{ACCESS}"}}"#)),
            json(
                200,
                &format!(
                    r#"{{"access_token":"{ACCESS}","token_type":7,"refresh_token":"{REFRESH}"}}"#
                ),
            ),
        ] {
            let run = drive(
                Flow::device(config.clone(), t0),
                t0,
                [json(200, &device_body()), last],
                Duration::ZERO,
            );
            if let Err(e) = &run.outcome {
                seen.push(format!("{e:?} {e}"));
            }
            seen.push(format!("{run:?}"));
        }
        let run = drive(
            Flow::device(config.clone(), t0),
            t0,
            // The device request is retried after a broken connection; every attempt fails.
            (0..device_grant::DEFAULT_DEVICE_ATTEMPTS)
                .map(|_| common::Reply::Transport(TransportErrorKind::Io))
                .collect::<Vec<_>>(),
            Duration::ZERO,
        );
        seen.push(format!("{run:?} {}", run.err()));
        let run = drive(
            Flow::refresh(config.clone(), RefreshToken::new(OLD_REFRESH), t0),
            t0,
            [json(200, r#"{"access_token":"x","token_type":"Bearer"}"#)],
            Duration::ZERO,
        );
        seen.push(format!("{run:?}"));
        let run = drive(
            Flow::device(Config::github("c").build().unwrap(), t0),
            t0,
            [form(
                200,
                &format!(
                    "device_code={DEVICE_CODE}&user_code=U&verification_uri=https%3A%2F%2Fx&expires_in=5"
                ),
            )],
            Duration::ZERO,
        );
        seen.push(format!("{run:?}"));
        for text in &seen {
            assert!(
                secrets_in(text).is_empty(),
                "secret {:?} in: {text}",
                secrets_in(text)
            );
        }
    }
}

fn plain_config() -> Config {
    Config::builder("c")
        .device_endpoint("https://as.example/device")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap()
}

fn started() -> (Flow, Instant, device_grant::RequestId) {
    let t0 = Instant::now();
    let mut flow = Flow::device(plain_config(), t0);
    let Output::Send { id, .. } = flow.poll_output() else {
        panic!()
    };
    (flow, t0, id)
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let (mut flow, t0, id) = started();
    let ok = || {
        http::Response::builder()
            .status(200)
            .body(device_body())
            .unwrap()
    };
    // Nothing else is out, so any other id is unknown; the state stays as it was.
    let foreign = foreign_id();
    assert_ne!(foreign, id);
    assert_eq!(
        flow.handle_response(foreign, ok(), t0),
        Err(UsageError::UnknownRequest(foreign))
    );
    assert_eq!(
        flow.handle_transport_error(foreign, TransportErrorKind::Io, t0),
        Err(UsageError::UnknownRequest(foreign))
    );
    assert!(matches!(flow.poll_output(), Output::AwaitResponse(i) if i == id));
    // The real answer is accepted once; the same id again is stale.
    flow.handle_response(id, ok(), t0).unwrap();
    assert_eq!(
        flow.handle_response(id, ok(), t0),
        Err(UsageError::UnknownRequest(id))
    );
    assert!(matches!(
        flow.poll_output(),
        Output::Event(Event::UserCode(_))
    ));
    let before = (flow.deadline(), flow.interval());
    assert_eq!(
        flow.handle_response(id, ok(), t0),
        Err(UsageError::UnknownRequest(id))
    );
    assert_eq!(before, (flow.deadline(), flow.interval()));
    assert!(matches!(flow.poll_output(), Output::WaitUntil(_)));
    // After the end, every input is refused and Done stays.
    flow.cancel();
    assert_eq!(
        flow.handle_timeout(t0 + Duration::from_secs(5)),
        Err(UsageError::Finished)
    );
    assert_eq!(
        flow.handle_response(id, ok(), t0),
        Err(UsageError::Finished)
    );
    for _ in 0..3 {
        assert!(matches!(
            flow.poll_output(),
            Output::Done(Err(FlowError::Cancelled))
        ));
    }
    flow.cancel();
    assert!(matches!(
        flow.poll_output(),
        Output::Done(Err(FlowError::Cancelled))
    ));
}

/// The id of a flow's second request: ids are opaque, so take one from another flow.
fn foreign_id() -> device_grant::RequestId {
    let (mut g, t0, first) = started();
    g.handle_response(
        first,
        http::Response::builder()
            .status(200)
            .body(device_body())
            .unwrap(),
        t0,
    )
    .unwrap();
    let _ = g.poll_output();
    let Output::WaitUntil(at) = g.poll_output() else {
        panic!()
    };
    g.handle_timeout(at).unwrap();
    let Output::Send { id, .. } = g.poll_output() else {
        panic!()
    };
    id
}

#[test]
fn a_clock_that_steps_back_is_ignored() {
    let (mut flow, t0, id) = started();
    let later = t0 + Duration::from_secs(100);
    flow.handle_response(
        id,
        http::Response::builder()
            .status(200)
            .body(device_body())
            .unwrap(),
        later,
    )
    .unwrap();
    let _ = flow.poll_output();
    flow.handle_timeout(t0).unwrap();
    // The wait is measured from the latest time seen.
    assert!(
        matches!(flow.poll_output(), Output::WaitUntil(at) if at == later + Duration::from_secs(1))
    );
}

#[test]
fn a_response_in_flight_at_the_deadline_is_still_used() {
    // Every answer takes longer than the device code lives (600 s): the deadline passes
    // while the poll is out, the flow is told so and keeps waiting, and the answer counts.
    let t0 = Instant::now();
    let run = drive(
        Flow::device(plain_config(), t0),
        t0,
        [json(200, &device_body()), json(200, &token_body())],
        Duration::from_secs(700),
    );
    assert_eq!(run.polls().len(), 1);
    let deadline = run.prompt().unwrap().expires_at();
    assert!(run.polls()[0].at < deadline);
    assert!(run.token().received_at() > deadline);
}
