//! The referee's checks.

use std::time::Duration;

use super::{poll, poll_form, post_form, start_flow};
use crate::{
    Decision, Dialect, Ending, Exposure, FlowId, RequestKind, Script, Server, ServerConfig,
    Violation,
};

fn with_interval(dialect: Dialect, script: Script, interval: Duration) -> Server {
    Server::start(ServerConfig::new(dialect).interval(interval).script(script)).unwrap()
}

#[test]
fn early_poll_is_answered_with_slow_down_and_recorded() {
    let server = with_interval(
        Dialect::Rfc8628,
        Script::approve_after_polls(5),
        Duration::from_secs(1),
    );
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    assert_eq!(
        poll(&server, &code, &[]).text(),
        r#"{"error":"authorization_pending"}"#
    );
    let early = poll(&server, &code, &[]);
    assert_eq!(
        (early.status, early.text()),
        (400, r#"{"error":"slow_down"}"#)
    );
    let referee = server.referee();
    let flow = referee.flow(FlowId(1)).unwrap();
    assert_eq!(flow.interval, Duration::from_secs(6));
    assert_eq!(flow.polls, 2);
    let violations = referee.check().unwrap_err();
    assert_eq!(violations.len(), 1);
    match &violations[0] {
        Violation::EarlyPoll {
            request,
            flow,
            poll,
            gap,
            interval,
        } => {
            assert_eq!((*request, *flow, *poll), (2, FlowId(1), 2));
            assert!(*gap < Duration::from_secs(1));
            assert_eq!(*interval, Duration::from_secs(1));
        }
        other => panic!("{other}"),
    }
    assert!(
        violations[0]
            .to_string()
            .starts_with("request 2: flow #1 poll 2 came ")
    );
    let polls = referee.polls(FlowId(1));
    assert_eq!(
        polls.iter().map(|p| p.poll).collect::<Vec<_>>(),
        vec![Some(1), Some(2)]
    );
    assert_eq!(polls[1].status, Some(400));
}

#[test]
fn patient_client_is_clean_and_github_slow_down_sets_interval() {
    // Interval 100 ms; slow_down at poll 2 carrying 300 ms (GitHub style).
    let server = Server::start(
        ServerConfig::new(Dialect::GitHub)
            .interval(Duration::from_millis(100))
            .script(
                Script::approve_after_polls(3).slow_down_at(2, Some(Duration::from_millis(300))),
            ),
    )
    .unwrap();
    let json = [("Accept", "application/json")];
    let code = start_flow(&server, &json).field("device_code").unwrap();
    assert_eq!(
        poll(&server, &code, &json).field("error").unwrap(),
        "authorization_pending"
    );
    std::thread::sleep(Duration::from_millis(110));
    let slow = poll(&server, &code, &json);
    assert_eq!(slow.json()["interval"].to_string(), "0.3");
    // 120 ms is enough for the old interval, not for the new one.
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(
        poll(&server, &code, &json).field("error").unwrap(),
        "slow_down"
    );
    let v = server.referee().violations();
    assert!(matches!(
        v.as_slice(),
        [Violation::EarlyPoll { poll: 3, interval, .. }] if *interval == Duration::from_millis(300)
    ));

    // A client that keeps the interval breaks no rule.
    let server = with_interval(
        Dialect::Rfc8628,
        Script::approve_after_polls(1),
        Duration::from_millis(100),
    );
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    poll(&server, &code, &[]);
    std::thread::sleep(Duration::from_millis(110));
    assert_eq!(poll(&server, &code, &[]).status, 200);
    server.referee().assert_clean();
    assert_eq!(
        server.referee().last_flow().unwrap().ending,
        Some(Ending::Succeeded)
    );
}

#[test]
fn early_poll_recorded_without_enforcement() {
    let server = Server::start(
        ServerConfig::new(Dialect::Auth0)
            .enforce_interval(false)
            .script(Script::approve_after_polls(1)),
    )
    .unwrap();
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    assert_eq!(poll(&server, &code, &[]).status, 403);
    assert_eq!(poll(&server, &code, &[]).status, 200);
    let v = server.referee().violations();
    assert!(matches!(v.as_slice(), [Violation::EarlyPoll { .. }]));
}

#[test]
fn poll_after_the_end() {
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .enforce_interval(false)
            .script(Script::approve_after_polls(0))
            .queue_script(Script::approve_after_polls(0))
            .queue_script(Script::deny_after_polls(0)),
    )
    .unwrap();
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    assert_eq!(poll(&server, &code, &[]).status, 200);
    let again = poll(&server, &code, &[]);
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "invalid_grant");

    let denied = start_flow(&server, &[]).field("device_code").unwrap();
    assert_eq!(poll(&server, &denied, &[]).json()["error"], "access_denied");
    assert_eq!(poll(&server, &denied, &[]).json()["error"], "access_denied");

    let v = server.referee().violations();
    assert_eq!(
        v,
        vec![
            Violation::AfterEnd {
                request: 2,
                flow: FlowId(1),
                ending: Ending::Succeeded
            },
            Violation::AfterEnd {
                request: 5,
                flow: FlowId(2),
                ending: Ending::Denied
            },
        ]
    );
    assert_eq!(
        v[0].to_string(),
        "request 2: flow #1 polled after it succeeded"
    );
    let flows = server.referee().flows();
    assert_eq!(flows[1].decision, Decision::Denied);
    assert_eq!(flows[1].ending, Some(Ending::Denied));
}

#[test]
fn device_code_in_query_header_or_other_endpoint() {
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .enforce_interval(false)
            .script(Script::manual()),
    )
    .unwrap();
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    let form = poll_form(Dialect::Rfc8628, &code);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    // In the query string.
    let url = format!("{}?device_code={code}", server.token_endpoint());
    post_form(&server, &url, &[], &pairs);
    // In a header.
    post_form(
        &server,
        &server.token_endpoint(),
        &[("X-Debug", &code)],
        &pairs,
    );
    // In the body of another endpoint.
    post_form(
        &server,
        &server.device_endpoint(),
        &[],
        &[
            ("client_id", crate::DEFAULT_CLIENT_ID),
            ("device_code", &code),
        ],
    );
    // In the verification page's URL.
    super::get(&server, &format!("/device?user_code={code}"));

    let exposures: Vec<(usize, Exposure)> = server
        .referee()
        .violations()
        .into_iter()
        .filter_map(|v| match v {
            Violation::DeviceCodeExposed {
                request,
                flow: FlowId(1),
                place,
            } => Some((request, place)),
            _ => None,
        })
        .collect();
    assert_eq!(
        exposures,
        vec![
            (1, Exposure::Url),
            (2, Exposure::Header("x-debug".into())),
            (3, Exposure::Body),
            (4, Exposure::Url),
        ]
    );
    // Polls in the token form body are fine.
    let requests = server.referee().requests();
    assert_eq!(requests[1].kind, RequestKind::DevicePoll);
    assert_eq!(requests[1].form_value("device_code"), Some(code.as_str()));
    assert_eq!(requests[2].header("X-Debug"), Some(code.as_str()));
    assert_eq!(requests[4].kind, RequestKind::VerificationPage);
    assert_eq!(requests[4].path(), "/device");
}

#[test]
fn approve_after_a_delay() {
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(Duration::from_millis(50))
            .script(Script::approve_after(Duration::from_millis(300))),
    )
    .unwrap();
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    let mut statuses = Vec::new();
    loop {
        let resp = poll(&server, &code, &[]);
        statuses.push(resp.status);
        if resp.status == 200 {
            break;
        }
        assert!(statuses.len() < 40, "never approved");
        std::thread::sleep(Duration::from_millis(60));
    }
    assert!(statuses.len() >= 3, "{statuses:?}");
    let referee = server.referee();
    referee.assert_clean();
    let flow = referee.last_flow().unwrap();
    let polls = referee.polls(flow.id);
    let last = polls.last().unwrap();
    assert!(last.at.duration_since(flow.created_at) >= Duration::from_millis(300));
}
