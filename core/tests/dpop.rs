//! DPoP (RFC 9449) through the device grant and refresh: the proof on every request, the
//! nonce retry, the binding of the tokens, against the in-memory simulator in DPoP mode
//! (which verifies every proof) and canned answers, with a virtual clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use device_grant::serde_json::{self, Map, Value};
use device_grant::{
    Config, ConfigBuilder, ConfigError, DpopBinding, DpopError, DpopSigner, Flow, FlowError,
};
use device_grant_sim::{
    Answer, Dialect, DpopMode, Peer, Script, Scripted, ServerConfig, TestSigner, drive,
};

fn builder(peer: &Peer) -> ConfigBuilder {
    Config::builder(peer.client_id())
        .device_endpoint(peer.device_endpoint())
        .token_endpoint(peer.token_endpoint())
        .scope("openid offline_access")
}

fn decode(part: &str) -> Map<String, Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The header and claims of the proof a request carries.
fn proof_of(request: &http::Request<Vec<u8>>) -> (Map<String, Value>, Map<String, Value>) {
    let jws = request.headers()["dpop"].to_str().unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "{jws}");
    (decode(parts[0]), decode(parts[1]))
}

#[test]
fn every_request_carries_a_fresh_proof_and_the_token_is_bound() {
    let mut peer = Peer::new(
        ServerConfig::new(Dialect::Rfc8628)
            .dpop(DpopMode::Required)
            .script(Script::approve_after_polls(2)),
    );
    let signer = Arc::new(TestSigner::new());
    let config = builder(&peer).dpop(signer.clone()).build().unwrap();
    let jkt = config.dpop_thumbprint().unwrap().to_owned();
    let start = Instant::now();
    let run = drive(Flow::device(config, start), &mut peer, start);
    run.assert_clean();
    peer.referee().assert_clean();
    let token = run.outcome.unwrap();
    assert_eq!(token.token_type(), "DPoP");
    assert_eq!(token.dpop_binding(), DpopBinding::Bound);
    assert_eq!(
        peer.referee().dpop_jkt(token.access_token().secret()),
        Some(jkt)
    );
    // The device request and three polls, each with its own proof.
    assert_eq!(run.sent.len(), 4);
    let mut jtis = Vec::new();
    for (i, sent) in run.sent.iter().enumerate() {
        let (header, claims) = proof_of(&sent.request);
        println!("proof {i}: header {header:?} claims {claims:?}");
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"], Value::Object(signer.public_jwk()));
        assert_eq!(claims["htm"], "POST");
        let htu = if i == 0 {
            peer.device_endpoint()
        } else {
            peer.token_endpoint()
        };
        assert_eq!(claims["htu"], htu.as_str());
        assert!(claims["iat"].as_u64().unwrap() > 1_700_000_000);
        assert!(!claims.contains_key("nonce"));
        assert!(!claims.contains_key("ath"));
        jtis.push(claims["jti"].as_str().unwrap().to_owned());
    }
    jtis.sort();
    jtis.dedup();
    assert_eq!(jtis.len(), 4, "a jti was reused");
    assert_eq!(peer.referee().dpop_proofs().len(), 4);
}

#[test]
fn a_nonce_is_fetched_once_and_kept_from_every_answer() {
    // The server wants its nonce in every proof and changes it every two proofs.
    let mut peer = Peer::new(
        ServerConfig::new(Dialect::Rfc8628)
            .dpop(DpopMode::RequiredWithNonce)
            .script(Script::approve_after_polls(5)),
    );
    let config = builder(&peer)
        .dpop(Arc::new(TestSigner::new()))
        .build()
        .unwrap();
    let start = Instant::now();
    let run = drive(Flow::device(config, start), &mut peer, start);
    run.assert_clean();
    peer.referee().assert_clean();
    assert_eq!(run.outcome.unwrap().dpop_binding(), DpopBinding::Bound);
    // Only the first request went without a nonce; its retry left at once.
    assert_eq!(peer.referee().dpop_nonce_answers(), 1);
    assert_eq!(run.sent[0].at, run.sent[1].at);
    assert!(!proof_of(&run.sent[0].request).1.contains_key("nonce"));
    let nonces: Vec<String> = run.sent[1..]
        .iter()
        .map(|s| proof_of(&s.request).1["nonce"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        nonces.iter().any(|n| n != &nonces[0]),
        "the nonce never changed: {nonces:?}"
    );
    // Six polls, an interval apart: the retry of the device request was not a poll.
    assert_eq!(run.sent.len(), 8);
    for pair in run.sent[2..].windows(2) {
        assert_eq!(pair[1].at - pair[0].at, Duration::from_secs(5));
    }
}

const DEVICE: &str = r#"{"device_code":"dc","user_code":"U","verification_uri":"https://as.example/device","expires_in":600,"interval":5}"#;
const PENDING: &str = r#"{"error":"authorization_pending"}"#;
const NONCE: &str = r#"{"error":"use_dpop_nonce","error_description":"nonce required"}"#;
const DPOP_TOKEN: &str = r#"{"access_token":"at","token_type":"DPoP","expires_in":60}"#;

fn scripted_config(signer: Arc<TestSigner>) -> ConfigBuilder {
    Config::builder("c")
        .device_endpoint("https://as.example/device?tenant=x")
        .token_endpoint("https://as.example/token")
        .dpop(signer)
}

#[test]
fn use_dpop_nonce_while_polling_is_retried_at_once_without_counting_as_a_poll() {
    let signer = Arc::new(TestSigner::new());
    let config = scripted_config(signer.clone()).build().unwrap();
    let mut server = Scripted::new([
        Answer::json(200, DEVICE),
        Answer::json(400, PENDING).with_header("DPoP-Nonce", "n1"),
        Answer::json(400, NONCE).with_header("DPoP-Nonce", "n2"),
        Answer::json(400, PENDING),
        Answer::json(200, DPOP_TOKEN),
    ]);
    let start = Instant::now();
    let run = drive(Flow::device(config, start), &mut server, start);
    run.assert_clean();
    assert_eq!(run.outcome.unwrap().dpop_binding(), DpopBinding::Bound);
    let at: Vec<Duration> = run.sent.iter().map(|s| s.at - start).collect();
    let secs = Duration::from_secs;
    assert_eq!(at, [secs(0), secs(5), secs(10), secs(10), secs(15)]);
    let nonce = |i: usize| proof_of(&run.sent[i].request).1.get("nonce").cloned();
    assert_eq!(nonce(0), None);
    assert_eq!(nonce(1), None);
    // A pending answer's nonce is kept; the retry carries the new one, and so on.
    assert_eq!(nonce(2), Some("n1".into()));
    assert_eq!(nonce(3), Some("n2".into()));
    assert_eq!(nonce(4), Some("n2".into()));
    // The query of the device endpoint is not part of htu.
    assert_eq!(
        proof_of(&run.sent[0].request).1["htu"],
        "https://as.example/device"
    );
    assert_eq!(signer.proofs(), 5);
}

#[test]
fn a_second_use_dpop_nonce_in_a_row_or_one_without_a_nonce_ends_the_flow() {
    let config = scripted_config(Arc::new(TestSigner::new()))
        .build()
        .unwrap();
    let mut server = Scripted::new([
        Answer::json(400, NONCE).with_header("DPoP-Nonce", "n1"),
        Answer::json(400, NONCE).with_header("DPoP-Nonce", "n2"),
    ]);
    let start = Instant::now();
    let run = drive(Flow::device(config.clone(), start), &mut server, start);
    run.assert_clean();
    assert_eq!(run.sent.len(), 2);
    match run.outcome {
        Err(FlowError::OAuth(e)) => assert_eq!(e.error(), "use_dpop_nonce"),
        other => panic!("{other:?}"),
    }
    let mut server = Scripted::new([Answer::json(200, DEVICE), Answer::json(400, NONCE)]);
    let run = drive(Flow::device(config, start), &mut server, start);
    run.assert_clean();
    assert!(matches!(run.outcome, Err(FlowError::OAuth(_))));
    assert_eq!(run.sent.len(), 2);
}

#[test]
fn a_refresh_retries_with_the_nonce_too() {
    let config = scripted_config(Arc::new(TestSigner::new()))
        .build()
        .unwrap();
    let mut server = Scripted::new([
        Answer::json(400, NONCE).with_header("DPoP-Nonce", "n1"),
        Answer::json(200, DPOP_TOKEN),
    ]);
    let start = Instant::now();
    let run = drive(
        Flow::refresh(config, "rt".into(), start),
        &mut server,
        start,
    );
    run.assert_clean();
    assert_eq!(run.outcome.unwrap().dpop_binding(), DpopBinding::Bound);
    assert_eq!(proof_of(&run.sent[1].request).1["nonce"], "n1");
}

#[test]
fn a_bearer_token_is_reported_and_refused_in_strict_mode() {
    // A server without DPoP ignores the proofs and issues a bearer token.
    let bearer = r#"{"access_token":"at","token_type":"Bearer"}"#;
    let start = Instant::now();
    let answers = || Scripted::new([Answer::json(200, DEVICE), Answer::json(200, bearer)]);
    let config = scripted_config(Arc::new(TestSigner::new()))
        .build()
        .unwrap();
    let run = drive(Flow::device(config, start), &mut answers(), start);
    assert_eq!(run.outcome.unwrap().dpop_binding(), DpopBinding::Unbound);
    let strict = scripted_config(Arc::new(TestSigner::new()))
        .dpop_strict()
        .build()
        .unwrap();
    let run = drive(Flow::device(strict, start), &mut answers(), start);
    assert_eq!(
        run.outcome.unwrap_err(),
        FlowError::Dpop(DpopError::NotBound {
            token_type: "Bearer".into()
        })
    );
    // Without DPoP configured, nothing to report.
    let plain = Config::builder("c")
        .device_endpoint("https://as.example/device")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    let run = drive(Flow::device(plain, start), &mut answers(), start);
    assert!(
        run.sent
            .iter()
            .all(|s| !s.request.headers().contains_key("dpop"))
    );
    assert_eq!(
        run.outcome.unwrap().dpop_binding(),
        DpopBinding::NotRequested
    );
}

#[test]
fn the_refresh_token_is_bound_to_the_key() {
    let mut peer = Peer::new(ServerConfig::new(Dialect::Rfc8628).dpop(DpopMode::Required));
    let key = Arc::new(TestSigner::new());
    let config = Arc::new(builder(&peer).dpop(key.clone()).build().unwrap());
    let start = Instant::now();
    let token = drive(Flow::device(config.clone(), start), &mut peer, start)
        .outcome
        .unwrap();
    let rt = token.refresh_token().unwrap().clone();
    // Another key: refused.
    let other = builder(&peer)
        .dpop(Arc::new(TestSigner::new()))
        .build()
        .unwrap();
    let run = drive(Flow::refresh(other, rt.clone(), start), &mut peer, start);
    match run.outcome {
        Err(FlowError::OAuth(e)) => assert_eq!(e.error(), "invalid_grant"),
        other => panic!("{other:?}"),
    }
    // The same key: a new bound token.
    let run = drive(Flow::refresh(config, rt, start), &mut peer, start);
    run.assert_clean();
    let refreshed = run.outcome.unwrap();
    assert_eq!(refreshed.dpop_binding(), DpopBinding::Bound);
    assert_eq!(
        peer.referee()
            .dpop_jkt(refreshed.access_token().secret())
            .as_deref(),
        Some(key.thumbprint().unwrap().as_str())
    );
    peer.referee().assert_clean();
}

#[test]
fn a_flow_without_proofs_is_refused_by_a_dpop_server() {
    let mut peer = Peer::new(ServerConfig::new(Dialect::Rfc8628).dpop(DpopMode::Required));
    let config = builder(&peer).build().unwrap();
    let start = Instant::now();
    let run = drive(Flow::device(config, start), &mut peer, start);
    match run.outcome {
        Err(FlowError::OAuth(e)) => assert_eq!(e.error(), "invalid_dpop_proof"),
        other => panic!("{other:?}"),
    }
    assert_eq!(peer.referee().violations().len(), 1);
}

#[test]
fn dpop_jkt_goes_with_the_device_request_when_asked() {
    let signer = Arc::new(TestSigner::new());
    let config = scripted_config(signer.clone()).dpop_jkt().build().unwrap();
    let mut server = Scripted::new([Answer::json(400, r#"{"error":"invalid_client"}"#)]);
    let start = Instant::now();
    let run = drive(Flow::device(config, start), &mut server, start);
    assert_eq!(
        run.sent[0].form().get("dpop_jkt"),
        Some(&signer.thumbprint().unwrap())
    );
    let config = scripted_config(signer).build().unwrap();
    let mut server = Scripted::new([Answer::json(400, r#"{"error":"invalid_client"}"#)]);
    let run = drive(Flow::device(config, start), &mut server, start);
    assert!(!run.sent[0].form().contains_key("dpop_jkt"));
}

/// A signer around another one, with a JWK of the test's choosing.
struct WithJwk(TestSigner, Map<String, Value>);

impl DpopSigner for WithJwk {
    fn algorithm(&self) -> &str {
        "RS256"
    }
    fn public_jwk(&self) -> Map<String, Value> {
        self.1.clone()
    }
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, DpopError> {
        self.0.sign(input)
    }
    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        self.0.sha256(data)
    }
    fn jti(&self) -> String {
        self.0.jti()
    }
    fn unix_time(&self) -> u64 {
        self.0.unix_time()
    }
}

#[test]
fn thumbprint_of_the_rfc_7638_example_and_private_keys_refused() {
    let rfc: Map<String, Value> = serde_json::from_str(
        r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
    )
    .unwrap();
    let signer = Arc::new(WithJwk(TestSigner::new(), rfc.clone()));
    assert_eq!(
        signer.thumbprint().unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    let config = Config::builder("c")
        .token_endpoint("https://as.example/token")
        .dpop(signer)
        .build()
        .unwrap();
    assert_eq!(
        config.dpop_thumbprint(),
        Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
    let mut private = rfc;
    private.insert("d".into(), "secret".into());
    let refused = Config::builder("c")
        .token_endpoint("https://as.example/token")
        .dpop(Arc::new(WithJwk(TestSigner::new(), private)))
        .build()
        .unwrap_err();
    assert!(
        matches!(refused, ConfigError::Dpop(DpopError::InvalidKey(_))),
        "{refused:?}"
    );
}
