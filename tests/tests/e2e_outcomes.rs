//! Both drivers x every provider dialect of the simulated server x the main outcomes:
//! approve, slow_down, deny, expire (by the server and by the local deadline) and refresh.
//! Every run is also judged by the server's referee: no early poll, nothing after the end,
//! the configured client authentication, the device code only at the token endpoint.

mod support;

use std::time::Duration;

use device_grant::{Flow, FlowError};
use device_grant_sim::{Dialect, Script, Server, ServerConfig};
use support::drive::{self, config_for, device_flow, for_each_case};

const INTERVAL: Duration = Duration::from_millis(50);

fn server(dialect: Dialect, script: Script) -> Server {
    Server::start(ServerConfig::new(dialect).interval(INTERVAL).script(script)).unwrap()
}

#[test]
fn approve_after_pending_polls() {
    for_each_case(|transport, dialect| {
        let server = server(dialect, Script::approve_after_polls(3));
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let token = outcome.token();
        assert!(!token.access_token().secret().is_empty());
        assert!(token.token_type().eq_ignore_ascii_case("bearer"));
        assert!(!outcome.prompt().user_code().is_empty());
        let flow = server.referee().last_flow().unwrap();
        assert_eq!(
            server.referee().polls(flow.id).len(),
            4,
            "three pending answers, then the token"
        );
        if dialect == Dialect::GitHub {
            assert_eq!(
                token.scopes().unwrap(),
                ["repo", "gist"],
                "comma-separated scopes are split"
            );
        }
        server.referee().assert_clean();
    });
}

#[test]
fn slow_down_lengthens_the_interval_for_good() {
    for_each_case(|transport, dialect| {
        // GitHub's slow_down carries the new interval; the others leave it to the client.
        let sent = (dialect == Dialect::GitHub).then_some(Duration::from_millis(5_300));
        let server = server(
            dialect,
            Script::approve_after_polls(3).slow_down_at(1, sent),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        outcome.token();
        let expected = sent.unwrap_or(INTERVAL + Duration::from_secs(5));
        assert_eq!(outcome.slow_downs(), vec![expected]);
        let polls = server
            .referee()
            .polls(server.referee().last_flow().unwrap().id);
        assert_eq!(polls.len(), 4);
        for pair in polls.windows(2).skip(1) {
            assert!(
                pair[1].at - pair[0].at >= expected,
                "the longer interval lasts"
            );
        }
        server.referee().assert_clean();
    });
}

#[test]
fn denied_ends_the_flow() {
    for_each_case(|transport, dialect| {
        let server = server(dialect, Script::deny_after_polls(2));
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let FlowError::Denied(e) = outcome.err() else {
            panic!("{:?}", outcome.err())
        };
        let code = if dialect == Dialect::MicrosoftV2 {
            "authorization_declined"
        } else {
            "access_denied"
        };
        assert_eq!(e.error(), code);
        assert!(outcome.err().to_string().contains("denied"));
        server.referee().assert_clean();
    });
}

#[test]
fn expired_by_the_server() {
    for_each_case(|transport, dialect| {
        let server = server(dialect, Script::expire_after_polls(2));
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let FlowError::Expired(Some(e)) = outcome.err() else {
            panic!("{:?}", outcome.err())
        };
        let code = if dialect == Dialect::AzureAdV1 {
            "code_expired"
        } else {
            "expired_token"
        };
        assert_eq!(e.error(), code);
        server.referee().assert_clean();
    });
}

#[test]
fn expires_at_the_deadline_when_nobody_approves() {
    for_each_case(|transport, dialect| {
        let server = Server::start(
            ServerConfig::new(dialect)
                .interval(INTERVAL)
                .expires_in(Duration::from_millis(600))
                .script(Script::never()),
        )
        .unwrap();
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        // The server's clock starts a moment before the client's, so a last poll may meet its
        // expiry first; either way the flow ends as expired.
        assert!(
            matches!(outcome.err(), FlowError::Expired(_)),
            "{:?}",
            outcome.err()
        );
        let referee = server.referee();
        let flow = referee.last_flow().unwrap();
        let polls = referee.polls(flow.id);
        assert!(
            polls.len() >= 3,
            "it kept polling until the end: {}",
            polls.len()
        );
        // The client's deadline runs from when it read the device response, a little after the
        // server saw the request; allow for that (and a loaded machine), not for another poll.
        let issued = referee.requests()[0].at;
        let deadline = issued + Duration::from_millis(600);
        let slack = INTERVAL * 4;
        assert!(
            polls.iter().all(|p| p.at < deadline + slack),
            "no poll after the deadline"
        );
        referee.assert_clean();
    });
}

#[test]
fn refresh_with_and_without_rotation() {
    for_each_case(|transport, dialect| {
        for rotate in [true, false] {
            let server = Server::start(
                ServerConfig::new(dialect)
                    .interval(INTERVAL)
                    .rotate_refresh_tokens(rotate)
                    .script(Script::approve_after_polls(0)),
            )
            .unwrap();
            let first = drive::run(transport, device_flow(&server), |_| {});
            let old = first
                .token()
                .refresh_token()
                .expect("a refresh token")
                .clone();
            let config = config_for(&server).build().unwrap();
            let refreshed = drive::run(
                transport,
                Flow::refresh(config, old.clone(), std::time::Instant::now()),
                |_| {},
            );
            let token = refreshed.token();
            assert_ne!(token.access_token(), first.token().access_token());
            assert_eq!(token.refresh_token_issued(), rotate);
            if rotate {
                assert_ne!(token.refresh_token(), Some(&old));
            } else {
                assert_eq!(
                    token.refresh_token(),
                    Some(&old),
                    "the old refresh token is kept"
                );
            }
            server.referee().assert_clean();
        }
    });
}
