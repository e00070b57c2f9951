//! Both drivers against a real, independently written authorization server: `oidc-provider`
//! (pinned in tests/oidc), with a scripted browser playing the user.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{Config, Flow, FlowError};
use support::drive::{self, Transport};
use support::oidc::{self, Provider};

fn config(p: &Provider, client: &str, auth: &str, secret: &str) -> Config {
    let b = Config::builder(client)
        .device_endpoint(&p.device_endpoint)
        .token_endpoint(&p.token_endpoint)
        .scope("openid offline_access");
    match auth {
        "basic" => b.client_secret_basic(secret),
        "post" => b.client_secret_post(secret),
        _ => b,
    }
    .build()
    .unwrap()
}

/// Signs in through `transport`, the browser approving or denying once the code is shown.
fn sign_in(
    provider: &Arc<Provider>,
    transport: Transport,
    config: Config,
    approve: bool,
) -> (drive::Outcome, Result<(), String>) {
    let mut browser = None;
    let p = provider.clone();
    let started = Instant::now();
    let outcome = drive::run(transport, Flow::device(config, Instant::now()), |prompt| {
        browser = Some(p.act_later(prompt.user_code().to_owned(), approve));
    });
    assert!(started.elapsed() < oidc::SCENARIO_LIMIT);
    let browsed = browser.expect("a user code was shown").join().unwrap();
    (outcome, browsed)
}

fn approve_and_refresh(transport: Transport) {
    let provider = Arc::new(Provider::start(600, 1));
    for (client, auth, secret) in [
        (oidc::PUBLIC, "none", ""),
        (oidc::BASIC.0, "basic", oidc::BASIC.1),
        (oidc::POST.0, "post", oidc::POST.1),
    ] {
        let cfg = config(&provider, client, auth, secret);
        let (outcome, browsed) = sign_in(&provider, transport, cfg.clone(), true);
        browsed.unwrap();
        let token = outcome.token();
        assert_eq!(token.token_type(), "Bearer", "{client}");
        assert!(
            token.id_token().is_some(),
            "{client}: openid gives an ID token"
        );
        assert_eq!(
            token.scopes().unwrap(),
            ["openid", "offline_access"],
            "{client}"
        );
        let rt = token
            .refresh_token()
            .expect("offline_access gives a refresh token")
            .clone();
        let refreshed = drive::run(transport, Flow::refresh(cfg, rt, Instant::now()), |_| {});
        let new = refreshed.token();
        assert_ne!(new.access_token(), token.access_token(), "{client}");
        assert!(new.refresh_token().is_some(), "{client}");
        eprintln!("oidc-provider {transport:?} {client} ({auth}): approve + refresh passed");
    }
}

fn deny(transport: Transport) {
    let provider = Arc::new(Provider::start(600, 1));
    let (outcome, browsed) = sign_in(
        &provider,
        transport,
        config(&provider, oidc::PUBLIC, "none", ""),
        false,
    );
    browsed.unwrap();
    let FlowError::Denied(e) = outcome.err() else {
        panic!("{:?}", outcome.err())
    };
    assert_eq!(e.error(), "access_denied");
    assert_eq!(e.status(), 400);
    eprintln!("oidc-provider {transport:?}: deny passed");
}

fn expire(transport: Transport) {
    // Codes that live 2 s; nobody approves.
    let provider = Provider::start(2, 1);
    let cfg = config(&provider, oidc::PUBLIC, "none", "");
    let started = Instant::now();
    let outcome = drive::run(transport, Flow::device(cfg, Instant::now()), |_| {});
    match outcome.err() {
        // The flow's own deadline: the answer's arrival plus `expires_in`, so never sooner
        // than 2 s after the start.
        FlowError::Expired(None) => assert!(started.elapsed() >= Duration::from_secs(2)),
        // The server's word. It counts whole seconds (oidc-provider's `isExpired` is
        // `exp <= epochTime()`, both floored to the second: a code issued at 100.9 s expires
        // at 102 s), so its answer may come a little more than 1 s after the start.
        FlowError::Expired(Some(e)) => {
            assert_eq!(e.error(), "expired_token");
            assert!(started.elapsed() >= Duration::from_secs(1));
        }
        other => panic!("{other:?}"),
    }
    eprintln!("oidc-provider {transport:?}: expire passed");
}

#[test]
fn ureq_against_oidc_provider() {
    if !oidc::available() {
        return;
    }
    approve_and_refresh(Transport::Ureq);
    deny(Transport::Ureq);
    expire(Transport::Ureq);
}

#[test]
fn reqwest_against_oidc_provider() {
    if !oidc::available() {
        return;
    }
    approve_and_refresh(Transport::Reqwest);
    deny(Transport::Reqwest);
    expire(Transport::Reqwest);
}
