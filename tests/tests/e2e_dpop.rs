//! DPoP (RFC 9449) end to end through both drivers: against the simulator in DPoP mode,
//! which verifies every proof, and against a real oidc-provider with `features.dPoP`,
//! checking the binding on the server's side through token introspection.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{Config, DpopBinding, DpopSigner, Es256Signer, Flow, FlowError};
use device_grant_sim::{Dialect, DpopMode, Script, Server, ServerConfig, TestSigner};
use support::drive::{self, TRANSPORTS, Transport};
use support::oidc::{self, Provider};

#[test]
fn both_drivers_against_the_simulator_in_dpop_mode() {
    for transport in TRANSPORTS {
        for mode in [DpopMode::Required, DpopMode::RequiredWithNonce] {
            let server = Server::start(
                ServerConfig::new(Dialect::Rfc8628)
                    .dpop(mode)
                    .interval(Duration::from_millis(50))
                    .script(Script::approve_after_polls(2)),
            )
            .unwrap();
            let signer = Arc::new(TestSigner::new());
            let config = Arc::new(
                drive::config_for(&server)
                    .dpop(signer.clone())
                    .dpop_strict()
                    .build()
                    .unwrap(),
            );
            let outcome = drive::run(
                transport,
                Flow::device(config.clone(), Instant::now()),
                |_| {},
            );
            let token = outcome.token();
            assert_eq!(
                token.dpop_binding(),
                DpopBinding::Bound,
                "{transport:?} {mode:?}"
            );
            let jkt = signer.thumbprint().unwrap();
            assert_eq!(
                server.referee().dpop_jkt(token.access_token().secret()),
                Some(jkt.clone())
            );
            let rt = token.refresh_token().unwrap().clone();
            let other = Arc::new(
                drive::config_for(&server)
                    .dpop(Arc::new(TestSigner::new()))
                    .build()
                    .unwrap(),
            );
            let refused = drive::run(
                transport,
                Flow::refresh(other, rt.clone(), Instant::now()),
                |_| {},
            );
            let FlowError::OAuth(e) = refused.err() else {
                panic!("{:?}", refused.err())
            };
            assert_eq!(e.error(), "invalid_grant");
            let refreshed =
                drive::run(transport, Flow::refresh(config, rt, Instant::now()), |_| {});
            let new = refreshed.token();
            assert_eq!(
                server.referee().dpop_jkt(new.access_token().secret()),
                Some(jkt)
            );
            // Device request, three polls, two refreshes, plus one nonce retry each for
            // the device request and each refresh flow when nonces are required.
            let retries = if mode == DpopMode::RequiredWithNonce {
                3
            } else {
                0
            };
            assert_eq!(server.referee().dpop_nonce_answers(), retries);
            assert_eq!(server.referee().dpop_proofs().len(), 6);
            server.referee().assert_clean();
            eprintln!("simulator {transport:?} {mode:?}: DPoP device flow and refresh passed");
        }
    }
}

/// A form POST with Basic credentials over a plain connection; the answer's JSON body.
fn introspect(endpoint: &str, client: (&str, &str), token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let rest = endpoint.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let form = format!("token={token}&token_type_hint=access_token");
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", client.0, client.1));
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Basic {basic}\r\n\
         Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{raw}: {e}"))
}

fn oidc_config(
    p: &Provider,
    client: &str,
    secret: Option<&str>,
    signer: Arc<Es256Signer>,
) -> Config {
    let b = Config::builder(client)
        .device_endpoint(&p.device_endpoint)
        .token_endpoint(&p.token_endpoint)
        .scope("openid offline_access")
        .dpop(signer)
        .dpop_strict();
    match secret {
        Some(s) => b.client_secret_basic(s),
        None => b,
    }
    .build()
    .unwrap()
}

fn sign_in(provider: &Arc<Provider>, transport: Transport, config: Config) -> drive::Outcome {
    let mut browser = None;
    let p = provider.clone();
    let outcome = drive::run(transport, Flow::device(config, Instant::now()), |prompt| {
        browser = Some(p.act_later(prompt.user_code().to_owned(), true));
    });
    browser
        .expect("a user code was shown")
        .join()
        .unwrap()
        .unwrap();
    outcome
}

fn against_oidc_provider(transport: Transport, nonce: bool) {
    let env: &[(&str, &str)] = if nonce { &[("DPOP_NONCE", "1")] } else { &[] };
    let provider = Arc::new(Provider::start_with(600, 1, env));
    let introspection = format!("{}/token/introspection", provider.issuer);

    // A confidential client: the server says the access token is bound to our key.
    let key = Arc::new(Es256Signer::generate().unwrap());
    let jkt = key.thumbprint().unwrap();
    let cfg = oidc_config(&provider, oidc::BASIC.0, Some(oidc::BASIC.1), key.clone());
    let outcome = sign_in(&provider, transport, cfg.clone());
    let token = outcome.token();
    assert_eq!(token.token_type(), "DPoP");
    let seen = introspect(&introspection, oidc::BASIC, token.access_token().secret());
    eprintln!(
        "oidc-provider introspection (nonce {nonce}): active {}, token_type {}, cnf {}",
        seen["active"], seen["token_type"], seen["cnf"]
    );
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["token_type"], "DPoP", "{seen}");
    assert_eq!(seen["cnf"]["jkt"], jkt.as_str(), "{seen}");
    let rt = token.refresh_token().unwrap().clone();
    let refreshed = drive::run(transport, Flow::refresh(cfg, rt, Instant::now()), |_| {});
    let seen = introspect(
        &introspection,
        oidc::BASIC,
        refreshed.token().access_token().secret(),
    );
    assert_eq!(seen["cnf"]["jkt"], jkt.as_str(), "{seen}");

    // A public client: its refresh token is bound to the key; another key is refused.
    // The key is stored and loaded back as PKCS#8, as a program would between runs.
    let key = Arc::new(Es256Signer::generate().unwrap());
    let cfg = oidc_config(&provider, oidc::PUBLIC, None, key.clone());
    let outcome = sign_in(&provider, transport, cfg);
    let token = outcome.token();
    assert_eq!(token.dpop_binding(), DpopBinding::Bound);
    let rt = token.refresh_token().unwrap().clone();
    let thief = oidc_config(
        &provider,
        oidc::PUBLIC,
        None,
        Arc::new(Es256Signer::generate().unwrap()),
    );
    let refused = drive::run(
        transport,
        Flow::refresh(thief, rt.clone(), Instant::now()),
        |_| {},
    );
    let FlowError::OAuth(e) = refused.err() else {
        panic!("{:?}", refused.err())
    };
    eprintln!("oidc-provider refresh with another key: {e}");
    assert_eq!(e.error(), "invalid_grant");
    let reloaded = Arc::new(Es256Signer::from_pkcs8_der(key.pkcs8_der()).unwrap());
    let cfg = oidc_config(&provider, oidc::PUBLIC, None, reloaded);
    let refreshed = drive::run(transport, Flow::refresh(cfg, rt, Instant::now()), |_| {});
    assert_eq!(refreshed.token().token_type(), "DPoP");
    eprintln!(
        "oidc-provider {transport:?} (nonce {nonce}): DPoP device flow, binding and refresh passed"
    );
}

#[test]
fn ureq_with_dpop_against_oidc_provider() {
    if !oidc::available() {
        return;
    }
    against_oidc_provider(Transport::Ureq, false);
    against_oidc_provider(Transport::Ureq, true);
}

#[test]
fn reqwest_with_dpop_against_oidc_provider() {
    if !oidc::available() {
        return;
    }
    against_oidc_provider(Transport::Reqwest, false);
    against_oidc_provider(Transport::Reqwest, true);
}
