//! Both drivers against a second real, independently written authorization server: Authlib's
//! RFC 8628 components (pinned in tests/pyserver), the user played through its verification
//! page.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{Config, Event, Flow, FlowError, RefreshToken, TokenResponse};
use support::drive::{self, Transport};
use support::pyserver::{self, PyServer, Settings};

fn config(s: &PyServer, client: &str, auth: &str, secret: &str) -> Config {
    let b = Config::builder(client)
        .device_endpoint(&s.device_endpoint)
        .token_endpoint(&s.token_endpoint)
        .scope(pyserver::SCOPE);
    match auth {
        "basic" => b.client_secret_basic(secret),
        "post" => b.client_secret_post(secret),
        _ => b,
    }
    .build()
    .unwrap()
}

fn flow_error<E: std::error::Error>(e: &device_grant::RunError<E>) -> FlowError {
    e.flow_error()
        .cloned()
        .unwrap_or_else(|| panic!("no flow error in {e}"))
}

/// Signs in through the driver's one-call `authorize`, calling `on_event` with every event.
fn authorize(
    transport: Transport,
    config: Config,
    on_event: impl FnMut(&Event),
) -> Result<TokenResponse, FlowError> {
    match transport {
        Transport::Ureq => {
            device_grant_ureq::authorize(config, on_event).map_err(|e| flow_error(&e))
        }
        Transport::Reqwest => runtime()
            .block_on(device_grant_reqwest::authorize(config, on_event))
            .map_err(|e| flow_error(&e)),
    }
}

/// Refreshes through the driver's one-call `refresh`.
fn refresh(
    transport: Transport,
    config: Config,
    token: RefreshToken,
) -> Result<TokenResponse, FlowError> {
    match transport {
        Transport::Ureq => device_grant_ureq::refresh(config, token).map_err(|e| flow_error(&e)),
        Transport::Reqwest => runtime()
            .block_on(device_grant_reqwest::refresh(config, token))
            .map_err(|e| flow_error(&e)),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Acts for the user a little after the code is shown, so that the client has polled and
/// been told `authorization_pending` at least once before.
fn act_soon(
    server: &Arc<PyServer>,
    user_code: &str,
    approve: bool,
    after: Duration,
) -> std::thread::JoinHandle<Result<(), String>> {
    let server = server.clone();
    let user_code = user_code.to_owned();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        server.act(&user_code, approve)
    })
}

/// Per client authentication method: sign in (approved after a pending poll), refresh, and
/// see the old refresh token refused after rotation.
fn approve_and_refresh(transport: Transport) {
    let server = Arc::new(PyServer::start(Settings::default()));
    for (client, auth, secret) in [
        (pyserver::PUBLIC, "none", ""),
        (pyserver::BASIC.0, "basic", pyserver::BASIC.1),
        (pyserver::POST.0, "post", pyserver::POST.1),
    ] {
        let cfg = config(&server, client, auth, secret);
        let mut user = None;
        let token = authorize(transport, cfg.clone(), |e| {
            if let Event::UserCode(prompt) = e {
                assert_eq!(prompt.verification_uri(), server.verification_uri);
                let complete = format!(
                    "{}?user_code={}",
                    server.verification_uri,
                    prompt.user_code()
                );
                assert_eq!(prompt.verification_uri_complete(), Some(complete.as_str()));
                user = Some(act_soon(
                    &server,
                    prompt.user_code(),
                    true,
                    Duration::from_millis(1500),
                ));
            }
        })
        .unwrap_or_else(|e| panic!("{transport:?} {client}: {e}"));
        user.expect("a user code was shown")
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(token.token_type(), "Bearer", "{client}");
        assert_eq!(token.scopes().unwrap(), ["profile", "email"], "{client}");
        assert_eq!(
            token.expires_in(),
            Some(Duration::from_secs(3600)),
            "{client}"
        );
        assert!(
            token.id_token().is_none(),
            "{client}: no OpenID Connect here"
        );
        let old = token.refresh_token().expect("a refresh token").clone();

        let new = refresh(transport, cfg.clone(), old.clone())
            .unwrap_or_else(|e| panic!("{transport:?} {client} refresh: {e}"));
        assert_ne!(new.access_token(), token.access_token(), "{client}");
        let rotated = new.refresh_token().expect("a rotated refresh token");
        assert_ne!(
            rotated, &old,
            "{client}: Authlib rotates refresh tokens here"
        );

        let FlowError::OAuth(e) = refresh(transport, cfg, old).unwrap_err() else {
            panic!("{client}: a revoked refresh token must be an OAuth error")
        };
        assert_eq!((e.error(), e.status()), ("invalid_grant", 400), "{client}");
        eprintln!("Authlib {transport:?} {client} ({auth}): approve + refresh passed");
    }
}

/// A confidential client with the wrong secret is refused at the device endpoint.
fn wrong_secret(transport: Transport) {
    let server = PyServer::start(Settings::default());
    for (client, auth, status) in [
        (pyserver::BASIC.0, "basic", 401),
        (pyserver::POST.0, "post", 401),
    ] {
        let cfg = config(&server, client, auth, "not-the-secret");
        let outcome = drive::run(transport, Flow::device(cfg, Instant::now()), |_| {});
        let FlowError::OAuth(e) = outcome.err() else {
            panic!("{client}: {:?}", outcome.err())
        };
        assert_eq!(
            (e.error(), e.status()),
            ("invalid_client", status),
            "{client}"
        );
        assert!(
            outcome.events.is_empty(),
            "{client}: no user code was shown"
        );
    }
    eprintln!("Authlib {transport:?}: wrong secret passed");
}

fn deny(transport: Transport) {
    let server = Arc::new(PyServer::start(Settings::default()));
    let cfg = config(&server, pyserver::PUBLIC, "none", "");
    let mut user = None;
    let outcome = drive::run(transport, Flow::device(cfg, Instant::now()), |prompt| {
        user = Some(act_soon(
            &server,
            prompt.user_code(),
            false,
            Duration::from_millis(1500),
        ));
    });
    user.expect("a user code was shown")
        .join()
        .unwrap()
        .unwrap();
    let FlowError::Denied(e) = outcome.err() else {
        panic!("{:?}", outcome.err())
    };
    assert_eq!((e.error(), e.status()), ("access_denied", 400));
    eprintln!("Authlib {transport:?}: deny passed");
}

fn expire(transport: Transport) {
    // Codes that live 2 s on the server, announced as living 30 s: the server's own
    // expired_token answer ends the flow, not the client's deadline. Nobody approves.
    let server = PyServer::start(Settings {
        ttl: 2,
        expires_in: 30,
        ..Settings::default()
    });
    let cfg = config(&server, pyserver::PUBLIC, "none", "");
    let outcome = drive::run(transport, Flow::device(cfg, Instant::now()), |_| {});
    let FlowError::Expired(Some(e)) = outcome.err() else {
        panic!("{:?}", outcome.err())
    };
    assert_eq!((e.error(), e.status()), ("expired_token", 400));
    eprintln!("Authlib {transport:?}: expire passed");
}

fn slow_down(transport: Transport) {
    // The first poll is answered slow_down; from then on the server answers slow_down again
    // to any poll sooner than 1 + 5 s after the previous one. The user approves only after
    // the next poll is due, so that poll is judged on its timing: one slow_down in all means
    // the client really waited the longer interval.
    let server = Arc::new(PyServer::start(Settings {
        slow_down_polls: 1,
        ..Settings::default()
    }));
    let cfg = config(&server, pyserver::PUBLIC, "none", "");
    let mut user_code = String::new();
    let mut user = None;
    let outcome =
        drive::run_with_events(transport, Flow::device(cfg, Instant::now()), |e| match e {
            Event::UserCode(prompt) => user_code = prompt.user_code().to_owned(),
            Event::SlowDown { .. } if user.is_none() => {
                user = Some(act_soon(&server, &user_code, true, Duration::from_secs(7)));
            }
            _ => {}
        });
    user.expect("a slow_down was seen").join().unwrap().unwrap();
    outcome.token();
    assert_eq!(outcome.slow_downs(), [Duration::from_secs(6)]);
    eprintln!("Authlib {transport:?}: slow_down passed");
}

fn all_scenarios(transport: Transport) {
    if !pyserver::available() {
        return;
    }
    // The slow_down scenario mostly waits; it runs beside the others.
    let slow = std::thread::spawn(move || slow_down(transport));
    approve_and_refresh(transport);
    wrong_secret(transport);
    deny(transport);
    expire(transport);
    slow.join().expect("the slow_down scenario passed");
}

#[test]
fn ureq_against_authlib() {
    all_scenarios(Transport::Ureq);
}

#[test]
fn reqwest_against_authlib() {
    all_scenarios(Transport::Reqwest);
}
