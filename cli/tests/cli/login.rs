//! `login` against each provider dialect.

use device_grant_sim::{Dialect, Ending};

use crate::harness::{assert_no_secret_on_stderr, login, run, secrets, start};

fn signs_in(dialect: Dialect) {
    let server = start(dialect);
    let out = run(&mut login(&server)).expect(0);
    let json = out.json();
    let access = json["access_token"].as_str().expect("an access token");
    let refresh = json["refresh_token"].as_str().expect("a refresh token");
    assert!(json["token_type"].is_string());

    // The server issued the token for the code the user was shown, and the client broke
    // none of its rules (early polls, wrong authentication, exposed device code).
    let flow = server.referee().last_flow().expect("a flow");
    assert_eq!(flow.ending, Some(Ending::Succeeded));
    server.referee().assert_clean();
    assert!(out.stderr.contains(&flow.user_code), "{}", out.stderr);
    assert!(out.stderr.contains(&server.verification_uri()));

    // stderr is not a terminal here: plain lines, no escape codes, no QR code.
    assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
    assert!(!out.stderr.contains('█'));
    assert_no_secret_on_stderr(&out, &secrets(&server, &[access, refresh]));
}

#[test]
fn rfc8628() {
    signs_in(Dialect::Rfc8628);
}

#[test]
fn microsoft() {
    signs_in(Dialect::MicrosoftV2);
}

#[test]
fn azure_ad_v1() {
    signs_in(Dialect::AzureAdV1);
}

#[test]
fn google() {
    signs_in(Dialect::Google);
}

#[test]
fn github() {
    signs_in(Dialect::GitHub);
}

#[test]
fn the_complete_uri_is_shown_with_the_code() {
    // The RFC 8628 dialect sends verification_uri_complete.
    let server = start(Dialect::Rfc8628);
    let out = run(&mut login(&server)).expect(0);
    let flow = server.referee().last_flow().expect("a flow");
    let complete_line = out
        .stderr
        .lines()
        .find(|l| l.contains("user_code="))
        .unwrap_or_else(|| panic!("no complete URI in {}", out.stderr));
    assert!(complete_line.contains(&server.verification_uri()));
    assert!(out.stderr.contains(&format!("shows {}", flow.user_code)));
}

#[test]
fn output_token_prints_only_the_access_token() {
    let server = start(Dialect::Rfc8628);
    let out = run(login(&server).args(["--output", "token"])).expect(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", out.stdout);
    let token = lines[0];
    assert!(
        !token.is_empty() && !token.contains(['{', ' ', '"']),
        "{token}"
    );
    // That it is the issued token is checked against the cache in the cache tests.
    assert_eq!(
        server.referee().last_flow().and_then(|f| f.ending),
        Some(Ending::Succeeded)
    );
    assert!(!out.stderr.contains(token));
}

#[test]
fn extra_params_reach_the_device_request() {
    let server = start(Dialect::Rfc8628);
    run(login(&server).args(["--param", "audience=https://api.example"])).expect(0);
    let device = server
        .referee()
        .requests()
        .into_iter()
        .find(|r| r.kind == device_grant_sim::RequestKind::DeviceAuthorization)
        .expect("a device request");
    assert_eq!(device.form_value("audience"), Some("https://api.example"));
}
