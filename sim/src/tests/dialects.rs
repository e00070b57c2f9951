//! Each dialect's bodies, statuses and headers, against the providers' documented and captured responses.

use std::time::Duration;

use super::{Resp, poll, post_form, relaxed, start_flow};
use crate::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Dialect, Script, Server};

const GH_URI: &str = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";

fn server(dialect: Dialect, script: Script) -> Server {
    Server::start(relaxed(dialect).script(script)).unwrap()
}

/// Starts a flow and returns (device response, device code, user code).
fn flow(server: &Server, headers: &[(&str, &str)]) -> (Resp, String, String) {
    let resp = start_flow(server, headers);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let device_code = resp.field("device_code").unwrap();
    let user_code = resp.field("user_code").unwrap();
    (resp, device_code, user_code)
}

/// Checks the Microsoft error envelope, including the `\r\n` escapes and
/// the ids repeated inside `error_description`.
fn assert_ms_error(resp: &Resp, status: u16, error: &str, code: u64, text: &str, v2: bool) {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(resp.header("cache-control"), Some("no-store, no-cache"));
    assert_eq!(resp.header("pragma"), Some("no-cache"));
    let raw = resp.text();
    assert!(
        raw.starts_with(&format!(
            r#"{{"error":"{error}","error_description":"AADSTS{code:05}: {text}\r\nTrace ID: "#
        )),
        "{raw}"
    );
    let j = resp.json();
    assert_eq!(j["error"], error);
    assert_eq!(j["error_codes"], serde_json::json!([code]));
    let ts = j["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 20, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b' ');
    let trace = j["trace_id"].as_str().unwrap();
    let correlation = j["correlation_id"].as_str().unwrap();
    assert_eq!(trace.len(), 36);
    assert_ne!(trace, correlation);
    let description = j["error_description"].as_str().unwrap();
    assert_eq!(
        description,
        format!(
            "AADSTS{code:05}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}"
        )
    );
    if v2 {
        assert_eq!(
            j["error_uri"],
            format!("https://login.microsoftonline.com/error?code={code}")
        );
    } else {
        assert!(j.get("error_uri").is_none());
    }
}

fn is_base20_code(code: &str) -> bool {
    let (a, b) = code.split_once('-').unwrap_or(("", ""));
    a.len() == 4
        && b.len() == 4
        && a.chars()
            .chain(b.chars())
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c))
}

#[test]
fn rfc8628_wire() {
    let server = server(Dialect::Rfc8628, Script::approve_after_polls(1));
    let (resp, device_code, user_code) = flow(&server, &[]);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert!(is_base20_code(&user_code), "{user_code}");
    let vu = server.verification_uri();
    assert_eq!(
        resp.text(),
        format!(
            r#"{{"device_code":"{device_code}","user_code":"{user_code}","verification_uri":"{vu}","verification_uri_complete":"{vu}?user_code={user_code}","expires_in":900,"interval":5}}"#
        )
    );
    let pending = poll(&server, &device_code, &[]);
    assert_eq!(pending.status, 400);
    assert_eq!(pending.header("content-type"), Some("application/json"));
    assert_eq!(pending.text(), r#"{"error":"authorization_pending"}"#);
    let token = poll(&server, &device_code, &[]);
    assert_eq!(token.status, 200);
    let j = token.json();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 3600);
    assert_eq!(j["scope"], "openid profile");
    assert!(j["access_token"].as_str().unwrap().len() >= 32);
    assert!(j["refresh_token"].as_str().is_some());
}

#[test]
fn azure_ad_v1_wire() {
    let server = server(Dialect::AzureAdV1, Script::approve_after_polls(1));
    assert!(
        server
            .device_endpoint()
            .ends_with("/common/oauth2/devicecode")
    );
    assert!(server.token_endpoint().ends_with("/common/oauth2/token"));
    // `?api-version=1.0` is accepted, as ADAL sends it.
    let url = format!("{}?api-version=1.0", server.device_endpoint());
    let form = super::device_form(Dialect::AzureAdV1);
    let resp = post_form(&server, &url, &[("Accept", "application/json")], &form);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let device_code = resp.field("device_code").unwrap();
    let user_code = resp.field("user_code").unwrap();
    assert_eq!(user_code.len(), 9);
    let vu = server.verification_uri();
    assert_eq!(
        resp.text(),
        format!(
            r#"{{"user_code":"{user_code}","device_code":"{device_code}","verification_url":"{vu}","expires_in":"900","interval":"5","message":"To sign in, use a web browser to open the page {vu} and enter the code {user_code} to authenticate."}}"#
        )
    );
    let pending = poll(&server, &device_code, &[]);
    assert_ms_error(
        &pending,
        400,
        "authorization_pending",
        70016,
        "Pending end-user authorization.",
        false,
    );
    let token = poll(&server, &device_code, &[]);
    assert_eq!(token.status, 200);
    let j = token.json();
    for key in ["expires_in", "ext_expires_in", "expires_on", "not_before"] {
        assert!(j[key].is_string(), "{key} must be a string: {j}");
    }
    assert_eq!(j["expires_in"], "3599");
    assert_eq!(j["resource"], "https://management.core.windows.net/");
    assert_eq!(j["token_type"], "Bearer");
    let on: u64 = j["expires_on"].as_str().unwrap().parse().unwrap();
    let before: u64 = j["not_before"].as_str().unwrap().parse().unwrap();
    assert_eq!(on - before, 3599);
}

#[test]
fn azure_ad_v1_request_rules() {
    let server = server(Dialect::AzureAdV1, Script::manual());
    // `resource` is required at the device endpoint.
    let resp = post_form(
        &server,
        &server.device_endpoint(),
        &[],
        &[("client_id", DEFAULT_CLIENT_ID)],
    );
    assert_ms_error(
        &resp,
        400,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'resource'.",
        false,
    );
    let (_, device_code, _) = flow(&server, &[]);
    // The RFC grant type is not the v1 one.
    let rfc = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("code", device_code.as_str()),
        ("client_id", DEFAULT_CLIENT_ID),
        ("resource", "r"),
    ];
    let resp = post_form(&server, &server.token_endpoint(), &[], &rfc);
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["error"], "unsupported_grant_type");
    // `resource` is required in the poll.
    let no_resource = [
        ("grant_type", "device_code"),
        ("code", device_code.as_str()),
        ("client_id", DEFAULT_CLIENT_ID),
    ];
    let resp = post_form(&server, &server.token_endpoint(), &[], &no_resource);
    assert_ms_error(
        &resp,
        400,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'resource'.",
        false,
    );
    // `device_code=` instead of `code=`.
    let wrong_field = [
        ("grant_type", "device_code"),
        ("device_code", device_code.as_str()),
        ("client_id", DEFAULT_CLIENT_ID),
        ("resource", "r"),
    ];
    let resp = post_form(&server, &server.token_endpoint(), &[], &wrong_field);
    assert_eq!(resp.json()["error"], "invalid_request");
    assert!(resp.text().contains("parameter: 'code'"));
}

#[test]
fn microsoft_v2_wire() {
    let server = server(Dialect::MicrosoftV2, Script::approve_after_polls(1));
    assert!(
        server
            .device_endpoint()
            .ends_with("/common/oauth2/v2.0/devicecode")
    );
    // A missing scope is an error body with HTTP 200.
    let resp = post_form(
        &server,
        &server.device_endpoint(),
        &[],
        &[("client_id", DEFAULT_CLIENT_ID)],
    );
    assert_ms_error(
        &resp,
        200,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'scope'.",
        true,
    );
    let (resp, device_code, user_code) = flow(&server, &[]);
    assert_eq!(user_code.len(), 8);
    let vu = server.verification_uri();
    assert_eq!(
        resp.text(),
        format!(
            r#"{{"user_code":"{user_code}","device_code":"{device_code}","verification_uri":"{vu}","expires_in":900,"interval":5,"message":"To sign in, use a web browser to open the page {vu} and enter the code {user_code} to authenticate."}}"#
        )
    );
    let pending = poll(&server, &device_code, &[]);
    assert_ms_error(
        &pending,
        400,
        "authorization_pending",
        70016,
        "The provided request has not yet been authorized by the user. The user must input their code.",
        true,
    );
    let token = poll(&server, &device_code, &[]);
    assert_eq!(token.status, 200);
    let j = token.json();
    assert_eq!(j["expires_in"], 3599);
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["scope"], "openid profile");
}

#[test]
fn microsoft_errors() {
    for (dialect, v2) in [(Dialect::AzureAdV1, false), (Dialect::MicrosoftV2, true)] {
        let server = server(dialect, Script::manual());
        let (_, code, user) = flow(&server, &[]);
        assert!(server.deny(&user));
        let denied = poll(&server, &code, &[]);
        let (error, text) = if v2 {
            (
                "authorization_declined",
                "synthesized fixture - user declined.",
            )
        } else {
            ("access_denied", "synthesized fixture - user declined.")
        };
        assert_ms_error(&denied, 400, error, 0, text, v2);

        server.queue_script(Script::expire_after_polls(0));
        let (_, code, _) = flow(&server, &[]);
        let expired = poll(&server, &code, &[]);
        if v2 {
            assert_ms_error(
                &expired,
                400,
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
                true,
            );
        } else {
            assert_ms_error(
                &expired,
                400,
                "code_expired",
                70019,
                "Verification code expired.",
                false,
            );
        }

        let unknown = poll(&server, "no-such-code", &[]);
        assert_eq!(unknown.status, 400);
        assert_eq!(unknown.json()["error"], "bad_verification_code");
    }
}

#[test]
fn google_wire() {
    let server = server(Dialect::Google, Script::approve_after_polls(1));
    let (resp, device_code, user_code) = flow(&server, &[]);
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let vu = server.verification_uri();
    assert_eq!(
        resp.text(),
        format!(
            r#"{{"device_code":"{device_code}","user_code":"{user_code}","verification_url":"{vu}","expires_in":900,"interval":5}}"#
        )
    );
    let pending = poll(&server, &device_code, &[]);
    assert_eq!(pending.status, 428);
    assert_eq!(
        pending.text(),
        r#"{"error":"authorization_pending","error_description":"Precondition Required"}"#
    );
    let token = poll(&server, &device_code, &[]);
    assert_eq!(token.status, 200);
    let j = token.json();
    assert!(j["access_token"].as_str().unwrap().starts_with("ya29."));
    assert_eq!(j["expires_in"], 3599);
    assert_eq!(j["token_type"], "Bearer");
    assert!(j["refresh_token"].is_string());
}

#[test]
fn github_form_wire() {
    let server = Server::start(
        relaxed(Dialect::GitHub)
            .refresh_tokens(false)
            .script(Script::approve_after_polls(2).slow_down_at(2, Some(Duration::from_secs(22)))),
    )
    .unwrap();
    let resp = post_form(
        &server,
        &server.device_endpoint(),
        &[],
        &[("client_id", DEFAULT_CLIENT_ID), ("scope", "repo gist")],
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    let device_code = resp.field("device_code").unwrap();
    let user_code = resp.field("user_code").unwrap();
    assert_eq!(device_code.len(), 40);
    assert!(is_base20_code(&user_code));
    let vu = super::encode(&[("x", &server.verification_uri())]);
    assert_eq!(
        resp.text(),
        format!(
            "device_code={device_code}&expires_in=900&interval=5&user_code={user_code}&verification_uri={}",
            &vu[2..]
        )
    );
    let pending = poll(&server, &device_code, &[]);
    assert_eq!(pending.status, 200);
    assert_eq!(
        pending.text(),
        format!(
            "error=authorization_pending&error_description=The+authorization+request+is+still+pending.&error_uri={}",
            &super::encode(&[("x", GH_URI)])[2..]
        )
    );
    let slow = poll(&server, &device_code, &[]);
    assert_eq!(slow.status, 200);
    assert_eq!(
        slow.text(),
        "error=slow_down&error_description=Too+many+requests+have+been+made+in+the+same+timeframe.&error_uri=https%3A%2F%2Fdocs.github.com&interval=22"
    );
    let token = poll(&server, &device_code, &[]);
    assert_eq!(token.status, 200);
    let form = token.form();
    assert_eq!(form.len(), 3);
    assert_eq!(form[0].0, "access_token");
    assert!(form[0].1.starts_with("gho_"));
    assert_eq!(form[0].1.len(), 40);
    assert_eq!(
        &token.text()[53..],
        "&token_type=bearer&scope=repo%2Cgist",
        "{}",
        token.text()
    );
}

#[test]
fn github_json_wire() {
    let json = [("Accept", "application/json")];
    let server = server(
        Dialect::GitHub,
        Script::approve_after_polls(2).slow_down_at(2, None),
    );
    let (resp, device_code, user_code) = flow(&server, &json);
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let vu = server.verification_uri();
    assert_eq!(
        resp.text(),
        format!(
            r#"{{"device_code":"{device_code}","user_code":"{user_code}","verification_uri":"{vu}","expires_in":900,"interval":5}}"#
        )
    );
    let pending = poll(&server, &device_code, &json);
    assert_eq!(pending.status, 200);
    assert_eq!(
        pending.text(),
        format!(
            r#"{{"error":"authorization_pending","error_description":"The authorization request is still pending.","error_uri":"{GH_URI}"}}"#
        )
    );
    let slow = poll(&server, &device_code, &json);
    assert_eq!(slow.status, 200);
    assert_eq!(
        slow.text(),
        r#"{"error":"slow_down","error_description":"Too many requests have been made in the same timeframe.","error_uri":"https://docs.github.com","interval":10}"#
    );
    assert_eq!(
        server.referee().last_flow().unwrap().interval,
        Duration::from_secs(10)
    );
    let token = poll(&server, &device_code, &json);
    let j = token.json();
    assert_eq!(j["token_type"], "bearer");
    assert_eq!(j["scope"], "openid,profile");
    assert!(j["refresh_token"].as_str().unwrap().starts_with("ghr_"));

    // Denied and expired, JSON.
    server.queue_script(Script::deny_after_polls(0));
    server.queue_script(Script::expire_after_polls(0));
    let (_, code, _) = flow(&server, &json);
    assert_eq!(
        poll(&server, &code, &json).text(),
        format!(
            r#"{{"error":"access_denied","error_description":"The authorization request was denied.","error_uri":"{GH_URI}"}}"#
        )
    );
    let (_, code, _) = flow(&server, &json);
    let expired = poll(&server, &code, &json);
    assert_eq!(expired.status, 200);
    assert_eq!(
        expired.text(),
        format!(
            r#"{{"error":"expired_token","error_description":"This 'device_code' has expired.","error_uri":"{GH_URI}"}}"#
        )
    );
}

#[test]
fn auth0_wire() {
    let server = server(Dialect::Auth0, Script::approve_after_polls(1));
    let (resp, device_code, user_code) = flow(&server, &[]);
    let vu = server.verification_uri();
    assert_eq!(
        resp.text(),
        format!(
            r#"{{"device_code":"{device_code}","user_code":"{user_code}","verification_uri":"{vu}","verification_uri_complete":"{vu}?user_code={user_code}","expires_in":900,"interval":5}}"#
        )
    );
    let pending = poll(&server, &device_code, &[]);
    assert_eq!(pending.status, 403);
    assert_eq!(
        pending.text(),
        r#"{"error":"authorization_pending","error_description":"User has yet to authorize device code."}"#
    );
    let token = poll(&server, &device_code, &[]);
    assert_eq!(token.status, 200);
    assert_eq!(token.json()["expires_in"], 86400);

    // expired_token exactly once, then invalid_grant.
    server.queue_script(Script::expire_after_polls(0));
    let (_, code, _) = flow(&server, &[]);
    let first = poll(&server, &code, &[]);
    assert_eq!(
        (first.status, first.json()["error"].as_str()),
        (403, Some("expired_token"))
    );
    let second = poll(&server, &code, &[]);
    assert_eq!(
        (second.status, second.json()["error"].as_str()),
        (403, Some("invalid_grant"))
    );
}

/// `slow_down`, denied and expired across the dialects without an envelope.
#[test]
fn terminal_and_slow_down_statuses() {
    struct Case {
        dialect: Dialect,
        slow: (u16, &'static str),
        denied: (u16, &'static str),
        expired: (u16, &'static str),
    }
    let cases = [
        Case {
            dialect: Dialect::Rfc8628,
            slow: (400, r#"{"error":"slow_down"}"#),
            denied: (400, r#"{"error":"access_denied"}"#),
            expired: (400, r#"{"error":"expired_token"}"#),
        },
        Case {
            dialect: Dialect::Google,
            slow: (
                403,
                r#"{"error":"slow_down","error_description":"Forbidden"}"#,
            ),
            denied: (
                403,
                r#"{"error":"access_denied","error_description":"Forbidden"}"#,
            ),
            expired: (
                400,
                r#"{"error":"expired_token","error_description":"Bad Request"}"#,
            ),
        },
        Case {
            dialect: Dialect::Auth0,
            slow: (
                429,
                r#"{"error":"slow_down","error_description":"You are polling faster than the specified interval of 5 seconds."}"#,
            ),
            denied: (
                403,
                r#"{"error":"access_denied","error_description":"Failure: User cancelled the confirmation prompt or consent page."}"#,
            ),
            expired: (
                403,
                r#"{"error":"expired_token","error_description":"The device code has expired."}"#,
            ),
        },
    ];
    for case in cases {
        let server = Server::start(
            relaxed(case.dialect)
                .queue_script(Script::manual().slow_down_at(1, None))
                .queue_script(Script::deny_after_polls(0))
                .queue_script(Script::expire_after_polls(0)),
        )
        .unwrap();
        for expected in [case.slow, case.denied, case.expired] {
            let (_, code, _) = flow(&server, &[]);
            let resp = poll(&server, &code, &[]);
            assert_eq!((resp.status, resp.text()), expected, "{:?}", case.dialect);
        }
    }
}

/// A fractional interval is sent as a fractional JSON number (or string
/// for Azure AD v1); `no_interval` omits it.
#[test]
fn interval_encodings() {
    let server = Server::start(
        crate::ServerConfig::new(Dialect::Rfc8628)
            .interval(Duration::from_millis(50))
            .expires_in(Duration::from_millis(1500)),
    )
    .unwrap();
    let j = start_flow(&server, &[]).json();
    assert_eq!(j["interval"].to_string(), "0.05");
    assert_eq!(j["expires_in"].to_string(), "1.5");

    let server = Server::start(
        crate::ServerConfig::new(Dialect::AzureAdV1).interval(Duration::from_millis(50)),
    )
    .unwrap();
    assert_eq!(start_flow(&server, &[]).json()["interval"], "0.05");

    let server = Server::start(crate::ServerConfig::new(Dialect::Google).no_interval()).unwrap();
    let resp = start_flow(&server, &[]);
    assert!(resp.json().get("interval").is_none());
    assert_eq!(
        server.referee().last_flow().unwrap().interval,
        Duration::from_secs(5)
    );
}

/// The code expires on the server when `expires_in` has passed.
#[test]
fn wall_clock_expiry() {
    let server = Server::start(
        relaxed(Dialect::Rfc8628)
            .expires_in(Duration::from_millis(400))
            .script(Script::never()),
    )
    .unwrap();
    let (_, code, user) = flow(&server, &[]);
    assert_eq!(
        poll(&server, &code, &[]).text(),
        r#"{"error":"authorization_pending"}"#
    );
    std::thread::sleep(Duration::from_millis(450));
    assert!(!server.approve(&user), "an expired flow cannot be approved");
    assert_eq!(
        poll(&server, &code, &[]).text(),
        r#"{"error":"expired_token"}"#
    );
}

fn refresh_form(dialect: Dialect, token: &str) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", token.to_owned()),
        ("client_id", DEFAULT_CLIENT_ID.to_owned()),
    ];
    match dialect {
        Dialect::AzureAdV1 => {
            form.push(("resource", "https://management.core.windows.net/".into()))
        }
        Dialect::Google => form.push(("client_secret", DEFAULT_CLIENT_SECRET.into())),
        _ => {}
    }
    form
}

fn refresh(server: &Server, token: &str) -> Resp {
    let form = refresh_form(server.dialect(), token);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(
        server,
        &server.token_endpoint(),
        &[("Accept", "application/json")],
        &pairs,
    )
}

#[test]
fn refresh_grant_rotation() {
    for dialect in Dialect::ALL {
        for rotate in [true, false] {
            let server = Server::start(
                relaxed(dialect)
                    .rotate_refresh_tokens(rotate)
                    .script(Script::approve_after_polls(0)),
            )
            .unwrap();
            let accept = [("Accept", "application/json")];
            let (_, code, _) = flow(&server, &accept);
            let token = poll(&server, &code, &accept);
            assert_eq!(token.status, 200, "{dialect:?}: {}", token.text());
            let access = token.field("access_token").unwrap();
            let rt = token.field("refresh_token").unwrap();

            let first = refresh(&server, &rt);
            assert_eq!(first.status, 200, "{dialect:?}: {}", first.text());
            let new_access = first.field("access_token").unwrap();
            assert_ne!(new_access, access);
            let again = refresh(&server, &rt);
            if rotate {
                let new_rt = first.field("refresh_token").unwrap();
                assert_ne!(new_rt, rt);
                // The old refresh token is used up.
                let (status, error) = match dialect {
                    Dialect::GitHub => (200, "bad_refresh_token"),
                    Dialect::Auth0 => (403, "invalid_grant"),
                    _ => (400, "invalid_grant"),
                };
                assert_eq!(again.status, status, "{dialect:?}");
                assert_eq!(again.field("error").as_deref(), Some(error), "{dialect:?}");
                assert_eq!(refresh(&server, &new_rt).status, 200);
            } else {
                assert_eq!(first.field("refresh_token"), None);
                assert_eq!(again.status, 200);
            }
            let r = server.referee();
            let refreshes: Vec<_> = r
                .requests()
                .into_iter()
                .filter(|q| q.kind == crate::RequestKind::Refresh)
                .filter_map(|q| q.flow)
                .collect();
            assert!(refreshes.len() >= 2);
            assert!(refreshes.iter().all(|f| *f == crate::FlowId(1)));
            r.assert_clean();
        }
    }
}

#[test]
fn azure_ad_v1_refresh_requires_resource() {
    let server = server(Dialect::AzureAdV1, Script::approve_after_polls(0));
    let (_, code, _) = flow(&server, &[]);
    let rt = poll(&server, &code, &[]).field("refresh_token").unwrap();
    let resp = post_form(
        &server,
        &server.token_endpoint(),
        &[],
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", DEFAULT_CLIENT_ID),
        ],
    );
    assert_ms_error(
        &resp,
        400,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'resource'.",
        false,
    );
}
