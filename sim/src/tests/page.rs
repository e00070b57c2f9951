//! The `/device` page a person uses.

use super::{get, poll, post_form, relaxed, start_flow};
use crate::{Decision, Dialect, RequestKind, Script, Server};

fn page_post(server: &Server, user_code: &str, action: &str) -> super::Resp {
    post_form(
        server,
        &server.verification_uri(),
        &[],
        &[("user_code", user_code), ("action", action)],
    )
}

#[test]
fn form_is_prefilled_from_the_complete_uri() {
    let server = Server::start(relaxed(Dialect::Rfc8628).script(Script::manual())).unwrap();
    let resp = start_flow(&server, &[]);
    let complete = resp.field("verification_uri_complete").unwrap();
    let user_code = resp.field("user_code").unwrap();
    let target = &complete[server.base_url().len()..];
    let page = get(&server, target);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(
        html.contains(&format!("name=\"user_code\" value=\"{user_code}\"")),
        "{html}"
    );
    assert!(html.contains("value=\"approve\">Approve</button>"));
    assert!(html.contains("value=\"deny\">Deny</button>"));
    assert!(html.contains("<form method=\"post\" action=\"/device\">"));
    assert!(!html.contains("<script"));
    // Without a code the field is empty; markup in it is escaped.
    let page = get(&server, "/device?user_code=%3Cb%3E");
    assert!(page.text().contains("value=\"&lt;b&gt;\""));
    assert!(get(&server, "/device").text().contains("value=\"\""));
}

#[test]
fn approve_on_the_page() {
    let server = Server::start(relaxed(Dialect::GitHub).script(Script::manual())).unwrap();
    let resp = start_flow(&server, &[("Accept", "application/json")]);
    let code = resp.field("device_code").unwrap();
    let user_code = resp.field("user_code").unwrap();
    assert_eq!(
        poll(&server, &code, &[]).field("error").unwrap(),
        "authorization_pending"
    );
    // Lower case and without the dash still matches.
    let typed = user_code.replace('-', "").to_lowercase();
    let done = page_post(&server, &typed, "approve");
    assert_eq!(done.status, 200);
    assert!(done.text().contains("<h1>Device approved</h1>"));
    assert_eq!(
        server.referee().last_flow().unwrap().decision,
        Decision::Approved
    );
    let token = poll(&server, &code, &[]);
    assert!(token.field("access_token").unwrap().starts_with("gho_"));
    // Deciding twice does not work.
    assert_eq!(page_post(&server, &user_code, "deny").status, 400);
    let requests = server.referee().requests();
    let page_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.kind == RequestKind::VerificationPage)
        .collect();
    assert_eq!(page_requests.len(), 2);
    assert_eq!(page_requests[0].flow, Some(crate::FlowId(1)));
}

#[test]
fn deny_on_the_page() {
    let server = Server::start(relaxed(Dialect::Google).script(Script::manual())).unwrap();
    let resp = start_flow(&server, &[]);
    let code = resp.field("device_code").unwrap();
    let user_code = resp.field("user_code").unwrap();
    let done = page_post(&server, &user_code, "deny");
    assert_eq!(done.status, 200);
    assert!(done.text().contains("<h1>Request denied</h1>"));
    let denied = poll(&server, &code, &[]);
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json()["error"], "access_denied");
}

#[test]
fn unknown_code_and_bad_action() {
    let server = Server::start(relaxed(Dialect::Rfc8628).script(Script::manual())).unwrap();
    let user_code = start_flow(&server, &[]).field("user_code").unwrap();
    let resp = page_post(&server, "ZZZZ-ZZZZ", "approve");
    assert_eq!(resp.status, 400);
    assert!(resp.text().contains("unknown, expired or already used"));
    assert_eq!(page_post(&server, &user_code, "maybe").status, 400);
    assert!(!server.approve("nope"));
    assert!(server.approve(&user_code));
    assert!(!server.deny(&user_code), "already decided");
}
