//! DPoP (RFC 9449): `login --dpop` against the simulator in DPoP mode, refreshes with the
//! stored key, `status` showing the binding, and `dpop-proof` for calling an API.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use device_grant::{DpopSigner, Es256Signer};
use device_grant_sim::{Dialect, DpopMode, RequestKind, Script, Server};
use serde_json::{Map, Value};

use crate::harness::{Run, bin, fast, login, run, secrets};

fn read(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("the token file exists")).expect("JSON")
}

fn server(mode: DpopMode) -> Server {
    Server::start(
        fast(Dialect::Rfc8628)
            .script(Script::approve_after_polls(1))
            .rotate_refresh_tokens(true)
            .dpop(mode),
    )
    .expect("server starts")
}

/// The stored key, loaded as the CLI loads it.
fn stored_key(path: &Path) -> (String, Es256Signer) {
    let encoded = read(path)["dpop_key"]
        .as_str()
        .expect("the set keeps the DPoP key")
        .to_owned();
    let der = STANDARD.decode(&encoded).expect("base64");
    let key = Es256Signer::from_pkcs8_der(&der).expect("an ES256 PKCS#8 key");
    (encoded, key)
}

/// Signs in with `--dpop` to a cache file in `dir`.
fn dpop_login(server: &Server, dir: &Path) -> (PathBuf, Run) {
    let path = dir.join("token.json");
    let out = run(login(server).arg("--dpop").arg("--cache").arg(&path)).expect(0);
    (path, out)
}

/// Makes the stored access token look expired.
fn expire(path: &Path) {
    let mut set = read(path);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    set["expires_at"] = (now - 10).into();
    fs::write(path, set.to_string()).expect("rewrite");
}

/// The key must not reach the terminal, in any of its encodings.
fn assert_key_not_shown(encoded: &str, key: &Es256Signer, runs: &[&Run]) {
    let url = URL_SAFE_NO_PAD.encode(key.pkcs8_der());
    for r in runs {
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains(encoded), "the DPoP key was printed: {text}");
            assert!(!text.contains(&url), "the DPoP key was printed: {text}");
        }
    }
}

fn decode_part(part: &str) -> Map<String, Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn sha256_b64(key: &Es256Signer, data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(key.sha256(data))
}

#[test]
fn login_with_dpop_signs_every_request_and_binds_the_token_to_the_stored_key() {
    for mode in [DpopMode::Required, DpopMode::RequiredWithNonce] {
        let server = server(mode);
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, out) = dpop_login(&server, dir.path());
        let response = out.json();
        assert_eq!(response["token_type"], "DPoP", "{mode:?}");
        let access = response["access_token"].as_str().expect("a token");

        let referee = server.referee();
        assert!(
            referee.violations().is_empty(),
            "{:?}",
            referee.violations()
        );
        let signed: Vec<usize> = referee.dpop_proofs().iter().map(|(i, _)| *i).collect();
        let flow_requests: Vec<_> = referee
            .requests()
            .into_iter()
            .filter(|r| {
                matches!(
                    r.kind,
                    RequestKind::DeviceAuthorization | RequestKind::DevicePoll
                )
            })
            .collect();
        assert!(flow_requests.len() >= 2, "device request and a poll");
        for r in &flow_requests {
            assert!(r.header("dpop").is_some(), "{mode:?}: request {}", r.index);
        }
        // Every proof was accepted, but for the `use_dpop_nonce` answers (the protocol, not
        // a fault), and the token request that succeeded is among them.
        let nonce_answers = referee.dpop_nonce_answers();
        assert_eq!(
            signed.len(),
            flow_requests.len() - nonce_answers,
            "{mode:?}"
        );
        let last = flow_requests.last().unwrap();
        assert_eq!(last.status, Some(200));
        assert!(signed.contains(&last.index));
        if mode == DpopMode::RequiredWithNonce {
            assert!(nonce_answers >= 1);
        }

        let (encoded, key) = stored_key(&path);
        let jkt = key.thumbprint().unwrap();
        assert_eq!(referee.dpop_jkt(access).as_deref(), Some(jkt.as_str()));
        assert_eq!(read(&path)["token_type"], "DPoP");

        let status = run(bin()
            .args(["status", "--output", "json", "--cache"])
            .arg(&path))
        .expect(0);
        let report = status.json();
        assert_eq!(report["token_type"], "DPoP");
        assert_eq!(report["dpop"]["bound"], true);
        assert_eq!(report["dpop"]["jkt"], jkt.as_str());
        let text = run(bin().arg("status").arg("--cache").arg(&path)).expect(0);
        assert!(text.stdout.contains(&jkt), "{}", text.stdout);

        assert_key_not_shown(&encoded, &key, &[&out, &status, &text]);
        let tokens = [access];
        let all = secrets(&server, &tokens);
        crate::harness::assert_no_secret_on_stderr(&out, &all);
    }
}

#[test]
fn token_after_expiry_refreshes_with_the_same_key_and_refresh_keeps_it() {
    let server = server(DpopMode::RequiredWithNonce);
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, first) = dpop_login(&server, dir.path());
    let old_access = first.json()["access_token"].as_str().unwrap().to_owned();
    let (encoded, key) = stored_key(&path);
    let jkt = key.thumbprint().unwrap();
    expire(&path);

    let token = run(bin().arg("token").arg("--cache").arg(&path)).expect(0);
    let new_access = token.stdout.trim().to_owned();
    assert_ne!(new_access, old_access, "the token was refreshed");
    let referee = server.referee();
    let refreshes: Vec<_> = referee
        .requests()
        .into_iter()
        .filter(|r| r.kind == RequestKind::Refresh && r.status == Some(200))
        .collect();
    assert_eq!(refreshes.len(), 1);
    assert!(refreshes[0].header("dpop").is_some());
    assert_eq!(referee.dpop_jkt(&new_access).as_deref(), Some(jkt.as_str()));
    assert_eq!(stored_key(&path).0, encoded, "the key stays with the set");

    let refresh = run(bin().arg("refresh").arg("--cache").arg(&path)).expect(0);
    let again = refresh.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(referee.dpop_jkt(&again).as_deref(), Some(jkt.as_str()));
    assert!(
        referee.violations().is_empty(),
        "{:?}",
        referee.violations()
    );
    assert_key_not_shown(&encoded, &key, &[&first, &token, &refresh]);
}

#[test]
fn a_refresh_with_another_key_is_refused() {
    // What the stored key is for: the sim binds the refresh token to it.
    let server = server(DpopMode::Required);
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = dpop_login(&server, dir.path());
    let other = Es256Signer::generate().unwrap();
    let mut set = read(&path);
    set["dpop_key"] = STANDARD.encode(other.pkcs8_der()).into();
    fs::write(&path, set.to_string()).expect("rewrite");
    expire(&path);

    let out = run(bin().arg("token").arg("--cache").arg(&path));
    assert_eq!(out.code, 5, "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    // The sim files a refresh it refuses for the key under another kind: find it by grant.
    let refreshes: Vec<_> = server
        .referee()
        .requests()
        .into_iter()
        .filter(|r| r.form_value("grant_type") == Some("refresh_token"))
        .collect();
    assert!(!refreshes.is_empty());
    assert!(refreshes.iter().all(|r| r.status == Some(400)));
    assert!(out.stderr.contains("another DPoP key"), "{}", out.stderr);
}

#[test]
fn dpop_proof_is_signed_by_the_stored_key_for_the_given_request() {
    let server = server(DpopMode::Required);
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, login_out) = dpop_login(&server, dir.path());
    let access = login_out.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (encoded, key) = stored_key(&path);

    let out = run(bin()
        .args(["dpop-proof", "--method", "post"])
        .args(["--url", "https://api.example.com/v1/items?page=2#top"])
        .arg("--cache")
        .arg(&path))
    .expect(0);
    let jws = out.stdout.trim();
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "{jws}");
    let header = decode_part(parts[0]);
    let claims = decode_part(parts[1]);
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    let jwk = header["jwk"].as_object().expect("a jwk");
    assert!(!jwk.contains_key("d"), "no private member");
    let input = device_grant::thumbprint_input(jwk).unwrap();
    assert_eq!(
        sha256_b64(&key, input.as_bytes()),
        key.thumbprint().unwrap()
    );
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://api.example.com/v1/items");
    assert_eq!(claims["ath"], sha256_b64(&key, access.as_bytes()).as_str());
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    assert!(claims["iat"].as_u64().is_some());
    assert!(!claims.contains_key("nonce"));
    assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 64);
    println!(
        "header: {}\nclaims: {}",
        Value::Object(header),
        Value::Object(claims)
    );

    let with_nonce = run(bin()
        .args(["dpop-proof", "--url", "https://api.example.com/"])
        .args(["--nonce", "n-1"])
        .arg("--cache")
        .arg(&path))
    .expect(0);
    let claims = decode_part(with_nonce.stdout.trim().split('.').nth(1).unwrap());
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["nonce"], "n-1");
    assert_ne!(with_nonce.stdout, out.stdout, "a new jti per proof");
    assert_key_not_shown(&encoded, &key, &[&out, &with_nonce, &login_out]);
}

#[test]
fn a_proof_made_by_dpop_proof_is_accepted_by_the_server() {
    // The sim verifies the signature: a refresh sent by hand with a proof the command made
    // for the token endpoint is answered with a bound token.
    let server = server(DpopMode::Required);
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = dpop_login(&server, dir.path());
    let (_, key) = stored_key(&path);
    let refresh_token = read(&path)["refresh_token"].as_str().unwrap().to_owned();
    let proof = run(bin()
        .args(["dpop-proof", "--method", "POST", "--url"])
        .arg(server.token_endpoint())
        .arg("--cache")
        .arg(&path))
    .expect(0);

    let agent = device_grant_ureq::agent();
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh_token}&client_id={}",
        server.client_id()
    );
    let request = device_grant::http::Request::post(server.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("dpop", proof.stdout.trim())
        .body(body.into_bytes())
        .unwrap();
    let answer = device_grant_ureq::send(&agent, request, 64 * 1024).expect("an answer");
    let text = String::from_utf8_lossy(answer.body()).into_owned();
    assert_eq!(answer.status(), 200, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["token_type"], "DPoP");
    let access = json["access_token"].as_str().unwrap();
    assert_eq!(
        server.referee().dpop_jkt(access),
        Some(key.thumbprint().unwrap())
    );
}

#[test]
fn dpop_needs_a_store_and_dpop_proof_needs_a_dpop_sign_in() {
    let server = server(DpopMode::Required);
    let out = run(login(&server).arg("--dpop"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--cache"), "{}", out.stderr);
    assert!(server.referee().requests().is_empty(), "nothing was sent");

    let plain = device_grant_sim::Server::start(
        fast(Dialect::Rfc8628).script(Script::approve_after_polls(1)),
    )
    .expect("server starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plain.json");
    run(login(&plain).arg("--cache").arg(&path)).expect(0);
    let out = run(bin()
        .args(["dpop-proof", "--url", "https://api.example.com/"])
        .arg("--cache")
        .arg(&path));
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("login --dpop"), "{}", out.stderr);
    let status = run(bin()
        .args(["status", "--output", "json", "--cache"])
        .arg(&path))
    .expect(0);
    assert!(status.json().get("dpop").is_none());

    let bad = run(bin()
        .args(["dpop-proof", "--url", "ftp://api.example.com/"])
        .arg("--cache")
        .arg(&path));
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}
