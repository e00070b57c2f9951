//! Every fault, checked at the socket level.

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{dechunk, poll, poll_form, raw_exchange, relaxed, split_head, start_flow};
use crate::{Dialect, Fault, FaultTarget, RetryAfter, Script, Server, Violation};

/// A server whose first poll of the first flow gets `fault`; returns it and
/// the device code.
fn faulty(dialect: Dialect, fault: Fault) -> (Server, String) {
    let server =
        Server::start(relaxed(dialect).script(Script::approve_after_polls(1).fault_at(1, fault)))
            .unwrap();
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    (server, code)
}

fn poll_request(server: &Server, code: &str) -> Vec<u8> {
    let form = poll_form(server.dialect(), code);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body = super::encode(&pairs);
    let url = server.token_endpoint();
    let target = &url[server.base_url().len()..];
    format!(
        "POST {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        server.addr(),
        body.len()
    )
    .into_bytes()
}

fn exchange(server: &Server, code: &str) -> (Vec<u8>, io::Result<()>) {
    raw_exchange(
        server.addr(),
        &poll_request(server, code),
        Duration::from_secs(5),
    )
}

/// The fault never reveals the decision: the next poll is the real one.
fn assert_next_poll_gets_token(server: &Server, code: &str) {
    let resp = poll(server, code, &[]);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let polls = server.referee().polls(crate::FlowId(1));
    assert_eq!(polls.len(), 2);
    assert!(polls[0].fault.is_some());
    assert_eq!(polls[1].poll, Some(2));
}

#[test]
fn reset_mid_response() {
    let (server, code) = faulty(Dialect::Rfc8628, Fault::Reset);
    let (raw, end) = exchange(&server, &code);
    let err = end.expect_err("the connection must be reset");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    let (status, headers, body) = split_head(&raw);
    assert_eq!(status, 400);
    assert!(headers.contains(&("transfer-encoding".into(), "chunked".into())));
    assert!(!body.is_empty(), "part of the body is sent first");
    assert!(dechunk(&body).is_none(), "the body is incomplete");
    assert_eq!(
        server.referee().polls(crate::FlowId(1))[0].status,
        Some(400)
    );
    assert_next_poll_gets_token(&server, &code);
}

#[test]
fn stall_beyond_client_timeout() {
    let (server, code) = faulty(Dialect::Rfc8628, Fault::Stall(Duration::from_millis(400)));
    let (raw, end) = raw_exchange(
        server.addr(),
        &poll_request(&server, &code),
        Duration::from_millis(150),
    );
    let err = end.expect_err("nothing arrives within the timeout");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    assert!(raw.is_empty());
    // A patient client gets the pending answer after the stall.
    server.queue_script(Script::manual().fault_at(1, Fault::Stall(Duration::from_millis(100))));
    let code2 = start_flow(&server, &[]).field("device_code").unwrap();
    let (raw, end) = exchange(&server, &code2);
    end.unwrap();
    assert_eq!(split_head(&raw).0, 400);
    std::thread::sleep(Duration::from_millis(300));
    assert_next_poll_gets_token(&server, &code);
}

#[test]
fn bad_gateway_page() {
    let (server, code) = faulty(Dialect::Google, Fault::BadGateway);
    let (raw, end) = exchange(&server, &code);
    end.unwrap();
    let (status, headers, body) = split_head(&raw);
    assert_eq!(status, 502);
    assert!(headers.contains(&("content-type".into(), "text/html".into())));
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("<h1>502 Bad Gateway</h1>"), "{body}");
    assert_next_poll_gets_token(&server, &code);
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parses an IMF-fixdate into seconds since the epoch.
fn parse_http_date(s: &str) -> u64 {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = s.split([' ', ':']).collect();
    assert_eq!(parts.len(), 8, "{s}");
    assert_eq!(parts[7], "GMT");
    let day: i64 = parts[1].parse().unwrap();
    let month = MONTHS.iter().position(|m| *m == parts[2]).unwrap() as i64 + 1;
    let year: i64 = parts[3].parse().unwrap();
    // Days from civil (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let h: i64 = parts[4].parse().unwrap();
    let m: i64 = parts[5].parse().unwrap();
    let sec: i64 = parts[6].parse().unwrap();
    (days * 86_400 + h * 3600 + m * 60 + sec) as u64
}

#[test]
fn service_unavailable_and_too_many_requests() {
    let (server, code) = faulty(
        Dialect::Rfc8628,
        Fault::ServiceUnavailable(Some(RetryAfter::Seconds(7))),
    );
    let (raw, end) = exchange(&server, &code);
    end.unwrap();
    let (status, headers, _) = split_head(&raw);
    assert_eq!(status, 503);
    assert_eq!(header(&headers, "retry-after"), Some("7"));
    assert_eq!(header(&headers, "content-type"), Some("text/html"));

    server.queue_script(Script::manual().fault_at(
        1,
        Fault::TooManyRequests(Some(RetryAfter::Date(Duration::from_secs(120)))),
    ));
    let code2 = start_flow(&server, &[]).field("device_code").unwrap();
    let (raw, end) = exchange(&server, &code2);
    end.unwrap();
    let (status, headers, body) = split_head(&raw);
    assert_eq!(status, 429);
    assert_eq!(body, b"Too Many Requests\n");
    let dates: Vec<_> = headers.iter().filter(|(k, _)| k == "date").collect();
    assert_eq!(dates.len(), 1, "exactly one Date header");
    let date = parse_http_date(&dates[0].1);
    let retry = parse_http_date(header(&headers, "retry-after").unwrap());
    assert_eq!(retry - date, 120);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(date.abs_diff(now) <= 2);

    let server2 = Server::start(
        relaxed(Dialect::Rfc8628)
            .script(Script::manual().fault_at(1, Fault::TooManyRequests(None))),
    )
    .unwrap();
    let code3 = start_flow(&server2, &[]).field("device_code").unwrap();
    let (raw, _) = exchange(&server2, &code3);
    let (status, headers, _) = split_head(&raw);
    assert_eq!(status, 429);
    assert_eq!(header(&headers, "retry-after"), None);
}

#[test]
fn truncated_body() {
    let (server, code) = faulty(Dialect::Rfc8628, Fault::TruncatedBody);
    let (raw, end) = exchange(&server, &code);
    end.expect("closed, not reset");
    let (status, headers, body) = split_head(&raw);
    assert_eq!(status, 400);
    let declared: usize = header(&headers, "content-length").unwrap().parse().unwrap();
    assert_eq!(declared, r#"{"error":"authorization_pending"}"#.len());
    assert!(body.len() < declared, "{} of {declared}", body.len());
    assert!(!body.is_empty());
    assert!(header(&headers, "transfer-encoding").is_none());
    assert_next_poll_gets_token(&server, &code);
}

#[test]
fn oversized_body() {
    let (server, code) = faulty(Dialect::Rfc8628, Fault::oversized());
    let (raw, end) = exchange(&server, &code);
    end.unwrap();
    let (status, headers, body) = split_head(&raw);
    assert_eq!(status, 400);
    assert_eq!(header(&headers, "transfer-encoding"), Some("chunked"));
    assert!(header(&headers, "content-length").is_none());
    let body = dechunk(&body).unwrap();
    assert_eq!(body.len(), 4 * 1024 * 1024);
    let j: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(j["error"], "authorization_pending");
    assert_next_poll_gets_token(&server, &code);
}

#[test]
fn invalid_utf8_body() {
    for dialect in [Dialect::Google, Dialect::GitHub] {
        let (server, code) = faulty(dialect, Fault::InvalidUtf8);
        let (raw, end) = exchange(&server, &code);
        end.unwrap();
        let (status, headers, body) = split_head(&raw);
        let expected = if dialect == Dialect::Google { 428 } else { 200 };
        assert_eq!(status, expected);
        let declared: usize = header(&headers, "content-length").unwrap().parse().unwrap();
        assert_eq!(declared, body.len());
        assert!(std::str::from_utf8(&body).is_err());
        let ct = header(&headers, "content-type").unwrap();
        if dialect == Dialect::GitHub {
            assert!(ct.starts_with("application/x-www-form-urlencoded"));
            assert!(body.starts_with(b"error=authorization_pending&error_description="));
        } else {
            assert!(ct.starts_with("application/json"));
            assert!(body.starts_with(
                b"{\"error\":\"authorization_pending\",\"error_description\":\"\xC3\x28"
            ));
        }
        assert_next_poll_gets_token(&server, &code);
    }
}

#[test]
fn wrong_content_type() {
    let (server, code) = faulty(Dialect::Rfc8628, Fault::WrongContentType);
    let (raw, _) = exchange(&server, &code);
    let (_, headers, body) = split_head(&raw);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(body, br#"{"error":"authorization_pending"}"#);
    assert_next_poll_gets_token(&server, &code);

    let (server, code) = faulty(Dialect::GitHub, Fault::WrongContentType);
    let (raw, _) = exchange(&server, &code);
    let (_, headers, body) = split_head(&raw);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert!(body.starts_with(b"error=authorization_pending&"));
}

#[test]
fn redirect_and_its_target() {
    let (server, code) = faulty(Dialect::Rfc8628, Fault::Redirect);
    let (raw, end) = exchange(&server, &code);
    end.unwrap();
    let (status, headers, _) = split_head(&raw);
    assert_eq!(status, 302);
    let location = header(&headers, "location").unwrap().to_owned();
    assert_eq!(location, format!("{}/redirected/token", server.base_url()));
    assert_eq!(server.referee().redirect_hits(), 0);
    server.referee().assert_clean();

    // A client that follows it re-sends the poll there; the target accepts it.
    let resp = super::post_form(
        &server,
        &location,
        &[],
        &poll_form(Dialect::Rfc8628, &code)
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(resp.status, 200, "the target would also hand out the token");
    let referee = server.referee();
    assert_eq!(referee.redirect_hits(), 1);
    let violations = referee.check().unwrap_err();
    assert!(
        violations
            .iter()
            .any(|v| matches!(v, Violation::RedirectFollowed { .. }))
    );
    assert!(violations.iter().any(|v| matches!(
        v,
        Violation::DeviceCodeExposed {
            place: crate::Exposure::Body,
            ..
        }
    )));
}

#[test]
fn device_endpoint_faults() {
    let server = Server::start(relaxed(Dialect::Rfc8628)).unwrap();
    server.inject_fault(FaultTarget::DeviceAuthorization, Fault::BadGateway);
    server.inject_fault(FaultTarget::DeviceAuthorization, Fault::Reset);
    server.inject_fault(FaultTarget::DeviceAuthorization, Fault::WrongContentType);
    assert_eq!(start_flow(&server, &[]).status, 502);

    let form = super::encode(&super::device_form(Dialect::Rfc8628));
    let request = format!(
        "POST /device_authorization HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let (raw, end) = raw_exchange(server.addr(), request.as_bytes(), Duration::from_secs(5));
    assert_eq!(end.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(split_head(&raw).0, 200);

    let mangled = start_flow(&server, &[]);
    assert_eq!(
        mangled.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    // None of these created a flow; the next request does.
    assert!(server.referee().flows().is_empty());
    assert_eq!(start_flow(&server, &[]).status, 200);
    assert_eq!(server.referee().flows().len(), 1);
}

#[test]
fn refresh_faults_keep_the_token() {
    let server =
        Server::start(relaxed(Dialect::Rfc8628).script(Script::approve_after_polls(0))).unwrap();
    let code = start_flow(&server, &[]).field("device_code").unwrap();
    let rt = poll(&server, &code, &[]).field("refresh_token").unwrap();
    server.inject_fault(FaultTarget::Refresh, Fault::TruncatedBody);
    let body = super::encode(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_id", crate::DEFAULT_CLIENT_ID),
    ]);
    let request = format!(
        "POST /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (raw, _) = raw_exchange(server.addr(), request.as_bytes(), Duration::from_secs(5));
    let (status, headers, got) = split_head(&raw);
    assert_eq!(status, 200);
    let declared: usize = header(&headers, "content-length").unwrap().parse().unwrap();
    assert!(got.len() < declared);
    let (raw, _) = raw_exchange(server.addr(), request.as_bytes(), Duration::from_secs(5));
    assert_eq!(split_head(&raw).0, 200, "the refresh token still works");
}
