//! Client authentication enforcement (RFC 6749 §2.3.1).

use base64::Engine as _;

use super::{Resp, post_form};
use crate::{
    AuthProblem, Client, ClientAuthMethod, Dialect, Script, Server, ServerConfig, Violation,
};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// An id and secret with characters that form-urlencoding changes.
const ID: &str = "svc:client/1";
const SECRET: &str = "s3cr:t/+=&% é";

fn basic(id: &str, secret: &str) -> String {
    let pair = format!(
        "{}:{}",
        super::encode(&[("x", id)]).trim_start_matches("x="),
        super::encode(&[("x", secret)]).trim_start_matches("x=")
    );
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn basic_unencoded(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A Rfc8628 server with one client; returns it and a live device code.
fn setup(client: Client) -> (Server, String) {
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .enforce_interval(false)
            .client(client.clone())
            .script(Script::manual()),
    )
    .unwrap();
    let mut form = vec![("client_id", client.id())];
    let auth;
    let mut headers = Vec::new();
    match client.method() {
        ClientAuthMethod::None => {}
        ClientAuthMethod::ClientSecretPost => {
            form.push(("client_secret", client.secret().unwrap()))
        }
        ClientAuthMethod::ClientSecretBasic => {
            auth = basic(client.id(), client.secret().unwrap());
            headers.push(("Authorization", auth.as_str()));
        }
    }
    let resp = post_form(&server, &server.device_endpoint(), &headers, &form);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let code = resp.field("device_code").unwrap();
    (server, code)
}

fn poll_with(
    server: &Server,
    headers: &[(&str, &str)],
    extra: &[(&str, &str)],
    code: &str,
) -> Resp {
    let mut form = vec![("grant_type", GRANT), ("device_code", code)];
    form.extend_from_slice(extra);
    post_form(server, &server.token_endpoint(), headers, &form)
}

fn last_auth_problem(server: &Server) -> Option<AuthProblem> {
    server
        .referee()
        .violations()
        .into_iter()
        .rev()
        .find_map(|v| match v {
            Violation::ClientAuth { problem, .. } => Some(problem),
            _ => None,
        })
}

fn assert_rejected(resp: &Resp, server: &Server, problem: AuthProblem) {
    assert_eq!(resp.status, 401, "{}", resp.text());
    assert_eq!(resp.json()["error"], "invalid_client");
    assert_eq!(last_auth_problem(server), Some(problem));
}

#[test]
fn client_secret_basic() {
    let (server, code) = setup(Client::basic(ID, SECRET));
    let good = basic(ID, SECRET);
    let resp = poll_with(&server, &[("Authorization", &good)], &[], &code);
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert_eq!(resp.json()["error"], "authorization_pending");
    // client_id in the form as well is fine when it names the same client.
    let resp = poll_with(
        &server,
        &[("Authorization", &good)],
        &[("client_id", ID)],
        &code,
    );
    assert_eq!(resp.json()["error"], "authorization_pending");
    assert_eq!(last_auth_problem(&server), None);

    // Not form-urlencoded before base64: the secret does not match.
    let raw = basic_unencoded(ID, SECRET);
    let resp = poll_with(&server, &[("Authorization", &raw)], &[], &code);
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.header("www-authenticate"),
        Some("Basic realm=\"device-grant-sim\"")
    );
    assert!(last_auth_problem(&server).is_some());

    // Wrong secret.
    let wrong = basic(ID, "nope");
    let resp = poll_with(&server, &[("Authorization", &wrong)], &[], &code);
    assert_rejected(&resp, &server, AuthProblem::WrongSecret);

    // Secret in both the header and the form.
    let resp = poll_with(
        &server,
        &[("Authorization", &good)],
        &[("client_secret", SECRET)],
        &code,
    );
    assert_rejected(&resp, &server, AuthProblem::MultipleMethods);

    // client_secret_post instead of basic.
    let resp = poll_with(
        &server,
        &[],
        &[("client_id", ID), ("client_secret", SECRET)],
        &code,
    );
    assert_rejected(
        &resp,
        &server,
        AuthProblem::WrongMethod(ClientAuthMethod::ClientSecretPost),
    );

    // No secret at all.
    let resp = poll_with(&server, &[], &[("client_id", ID)], &code);
    assert_rejected(&resp, &server, AuthProblem::MissingSecret);

    let violations: Vec<Violation> = server
        .referee()
        .violations()
        .into_iter()
        .filter(|v| !matches!(v, Violation::EarlyPoll { .. }))
        .collect();
    assert_eq!(violations.len(), 5);
    assert!(violations.iter().all(|v| matches!(
        v,
        Violation::ClientAuth {
            expected: Some(ClientAuthMethod::ClientSecretBasic),
            ..
        }
    )));
}

#[test]
fn client_secret_post() {
    let (server, code) = setup(Client::post(ID, SECRET));
    let resp = poll_with(
        &server,
        &[],
        &[("client_id", ID), ("client_secret", SECRET)],
        &code,
    );
    assert_eq!(resp.json()["error"], "authorization_pending");
    assert_eq!(last_auth_problem(&server), None);

    let good = basic(ID, SECRET);
    let resp = poll_with(&server, &[("Authorization", &good)], &[], &code);
    assert_rejected(
        &resp,
        &server,
        AuthProblem::WrongMethod(ClientAuthMethod::ClientSecretBasic),
    );
    let resp = poll_with(
        &server,
        &[],
        &[("client_id", ID), ("client_secret", "x")],
        &code,
    );
    assert_rejected(&resp, &server, AuthProblem::WrongSecret);
    let resp = poll_with(&server, &[], &[("client_id", "someone-else")], &code);
    assert_rejected(
        &resp,
        &server,
        AuthProblem::UnknownClient("someone-else".into()),
    );
    let resp = poll_with(&server, &[], &[], &code);
    assert_rejected(&resp, &server, AuthProblem::MissingClientId);
}

#[test]
fn public_client() {
    let (server, code) = setup(Client::public("tv-app"));
    let resp = poll_with(&server, &[], &[("client_id", "tv-app")], &code);
    assert_eq!(resp.json()["error"], "authorization_pending");
    let resp = poll_with(
        &server,
        &[],
        &[("client_id", "tv-app"), ("client_secret", "shh")],
        &code,
    );
    assert_rejected(&resp, &server, AuthProblem::SecretFromPublicClient);
    let with_basic = basic("tv-app", "shh");
    let resp = poll_with(&server, &[("Authorization", &with_basic)], &[], &code);
    assert_rejected(&resp, &server, AuthProblem::SecretFromPublicClient);
    let v = server.referee().violations();
    let first = v
        .iter()
        .find(|v| matches!(v, Violation::ClientAuth { .. }))
        .unwrap();
    assert_eq!(
        first.to_string(),
        "request 2: client authentication: a public client sent a secret (configured: none)"
    );
}

#[test]
fn device_endpoint_authentication_rfc8628() {
    let server =
        Server::start(ServerConfig::new(Dialect::Rfc8628).client(Client::post(ID, SECRET)))
            .unwrap();
    let resp = post_form(
        &server,
        &server.device_endpoint(),
        &[],
        &[("client_id", ID)],
    );
    assert_rejected(&resp, &server, AuthProblem::MissingSecret);
    assert!(server.referee().flows().is_empty());
}

#[test]
fn google_requires_client_secret_in_poll() {
    let server = Server::start(ServerConfig::new(Dialect::Google).enforce_interval(false)).unwrap();
    let resp = super::start_flow(&server, &[]);
    let code = resp.field("device_code").unwrap();
    let id = server.client_id().to_owned();
    let resp = poll_with(&server, &[], &[("client_id", &id)], &code);
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.text(),
        r#"{"error":"invalid_client","error_description":"Unauthorized"}"#
    );
    // A public Google client still has to send its (non-secret) secret.
    let server = Server::start(
        ServerConfig::new(Dialect::Google)
            .enforce_interval(false)
            .script(Script::manual())
            .client(Client::public("installed")),
    )
    .unwrap();
    let resp = post_form(
        &server,
        &server.device_endpoint(),
        &[],
        &[("client_id", "installed")],
    );
    let code = resp.field("device_code").unwrap();
    let resp = poll_with(&server, &[], &[("client_id", "installed")], &code);
    assert_eq!(resp.status, 401);
    let resp = poll_with(
        &server,
        &[],
        &[
            ("client_id", "installed"),
            ("client_secret", "GOCSPX-not-secret"),
        ],
        &code,
    );
    assert_eq!(resp.status, 428, "{}", resp.text());
}

#[test]
fn github_and_microsoft_invalid_client() {
    let server = Server::start(ServerConfig::new(Dialect::GitHub)).unwrap();
    let resp = post_form(
        &server,
        &server.device_endpoint(),
        &[],
        &[("client_id", "unknown")],
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.field("error").as_deref(),
        Some("incorrect_client_credentials")
    );

    let server = Server::start(ServerConfig::new(Dialect::MicrosoftV2)).unwrap();
    let resp = post_form(
        &server,
        &server.token_endpoint(),
        &[],
        &[
            ("grant_type", GRANT),
            ("device_code", "x"),
            ("client_id", crate::DEFAULT_CLIENT_ID),
            ("client_secret", "oops"),
        ],
    );
    assert_eq!(resp.status, 401);
    let j = resp.json();
    assert_eq!(j["error"], "invalid_client");
    assert_eq!(j["error_codes"], serde_json::json!([700025]));
}
