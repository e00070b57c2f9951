//! Exit statuses and messages for the ways a sign-in ends, and the demo.

use std::time::Duration;

use device_grant_sim::{Dialect, Script, Server, closed_port};

use crate::harness::{assert_no_secret_on_stderr, bin, fast, login, run, secrets};

#[test]
fn denied_exits_3() {
    let server =
        Server::start(fast(Dialect::Rfc8628).script(Script::deny_after_polls(1))).expect("server");
    let out = run(&mut login(&server)).expect(3);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("denied"), "{}", out.stderr);
    assert!(out.stderr.contains("run login again"), "{}", out.stderr);
    assert_no_secret_on_stderr(&out, &secrets(&server, &[]));
}

#[test]
fn microsoft_declined_exits_3() {
    // Microsoft says `authorization_declined`, not `access_denied`.
    let server = Server::start(fast(Dialect::MicrosoftV2).script(Script::deny_after_polls(0)))
        .expect("server");
    run(&mut login(&server)).expect(3);
}

#[test]
fn expired_by_the_server_exits_4() {
    let server = Server::start(fast(Dialect::Rfc8628).script(Script::expire_after_polls(1)))
        .expect("server");
    let out = run(&mut login(&server)).expect(4);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("the code expired before anyone approved it"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("run login again"));
    assert_no_secret_on_stderr(&out, &secrets(&server, &[]));
}

#[test]
fn azure_ad_v1_code_expired_exits_4() {
    // Azure AD v1 says `code_expired`.
    let server = Server::start(fast(Dialect::AzureAdV1).script(Script::expire_after_polls(1)))
        .expect("server");
    run(&mut login(&server)).expect(4);
}

#[test]
fn nobody_approving_before_the_deadline_exits_4() {
    let server = Server::start(
        fast(Dialect::Rfc8628)
            .expires_in(Duration::from_millis(500))
            .script(Script::never()),
    )
    .expect("server");
    let out = run(&mut login(&server)).expect(4);
    assert!(out.stderr.contains("run login again"), "{}", out.stderr);
    // The client stopped at the deadline instead of polling on.
    server.referee().assert_clean();
}

#[test]
fn an_unknown_client_is_a_server_error() {
    let server = Server::start(fast(Dialect::Rfc8628)).expect("server");
    let out = run(bin().args([
        "login",
        "--device-endpoint",
        &server.device_endpoint(),
        "--token-endpoint",
        &server.token_endpoint(),
        "--client-id",
        "nobody-registered-this",
    ]))
    .expect(5);
    assert!(out.stderr.contains("invalid_client"), "{}", out.stderr);
    assert!(out.stderr.contains("--client-id"), "{}", out.stderr);
}

#[test]
fn an_unreachable_server_exits_6() {
    let port = closed_port().expect("a free port");
    let out = run(bin().args([
        "login",
        "--device-endpoint",
        &format!("http://{port}/device"),
        "--token-endpoint",
        &format!("http://{port}/token"),
        "--client-id",
        "c",
    ]))
    .expect(6);
    assert!(
        out.stderr.contains(
            "the device authorization endpoint is unavailable (the connection could not be made)"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("network"), "{}", out.stderr);
}

#[test]
fn plain_http_off_loopback_is_a_usage_error() {
    let out = run(bin().args([
        "login",
        "--device-endpoint",
        "http://auth.example/device",
        "--token-endpoint",
        "http://auth.example/token",
        "--client-id",
        "c",
    ]))
    .expect(2);
    assert!(out.stderr.contains("plain http"), "{}", out.stderr);
    assert!(out.stderr.contains("--allow-insecure-http"));
}

#[test]
fn usage_errors_exit_2() {
    // No client id.
    let out = run(bin().args(["login", "--provider", "github"])).expect(2);
    assert!(out.stderr.contains("--client-id"), "{}", out.stderr);
    // No endpoints.
    run(bin().args(["login", "--client-id", "c"])).expect(2);
    // Not an option at all (clap's own error).
    run(bin().args(["login", "--no-such-option"])).expect(2);
    // A provider that does not exist.
    run(bin().args(["login", "--provider", "myspace", "--client-id", "c"])).expect(2);
}

#[test]
fn demo_signs_in_unattended() {
    let out = run(bin().args(["demo", "--approve-after", "1"])).expect(0);
    let json = out.json();
    assert!(json["access_token"].is_string(), "{json}");
    assert!(
        out.stderr.contains("no protocol violations"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("device-grant login --device-endpoint http://127.0.0.1:")
    );
}

#[test]
fn demo_speaks_a_provider_dialect() {
    let out = run(bin().args([
        "demo",
        "--approve-after",
        "1",
        "--provider",
        "google",
        "--output",
        "token",
    ]))
    .expect(0);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("device-grant login --provider google"),
        "{}",
        out.stderr
    );
    // The simulated client's secret is named, not printed.
    assert!(out.stderr.contains("DEVICE_GRANT_CLIENT_SECRET=..."));
    assert!(!out.stderr.contains(device_grant_sim::DEFAULT_CLIENT_SECRET));
    assert!(
        out.stderr.contains("no protocol violations"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(out.stdout.trim()));
}

#[test]
fn demo_manual_waits_for_a_person_at_the_page() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("device-grant"))
        .args(["demo", "--manual", "--output", "token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    let link = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("stderr is text") == 0 {
            let _ = child.kill();
            panic!("the demo ended without a link:\n{seen}");
        }
        seen.push_str(&line);
        if line.contains("/device?user_code=") {
            break line.trim().to_owned();
        }
    };

    // The person opens the page and presses Approve.
    let rest = link.strip_prefix("http://").expect("a loopback http link");
    let (host, query) = rest
        .split_once("/device?user_code=")
        .expect("the link's shape");
    let form = format!("user_code={query}&action=approve");
    let mut page = std::net::TcpStream::connect(host).expect("the page answers");
    write!(
        page,
        "POST /device HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .expect("send");
    let mut answer = String::new();
    page.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo did not finish after the approval");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("stderr");
    let mut token = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut token)
        .expect("stdout");
    assert!(status.success(), "{seen}{rest}");
    assert_eq!(token.lines().count(), 1, "{token}");
    assert!(rest.contains("Signed in"), "{rest}");
    assert!(!rest.contains(token.trim()));
}

#[test]
fn slow_down_is_noted_on_stderr() {
    // RFC 8628 adds 5 s per slow_down, so this test takes that long.
    let server = Server::start(
        fast(Dialect::Rfc8628).script(Script::approve_after_polls(1).slow_down_at(1, None)),
    )
    .expect("server");
    let out = run(&mut login(&server)).expect(0);
    // The 50 ms interval plus 5 s, shown in whole seconds.
    assert!(
        out.stderr
            .contains("The server asked to slow down; polling every 5 s."),
        "{}",
        out.stderr
    );
    server.referee().assert_clean();
}

#[test]
fn a_busy_server_is_retried_and_noted() {
    let server = Server::start(
        fast(Dialect::Rfc8628).script(
            Script::approve_after_polls(2)
                .fault_at(1, device_grant_sim::Fault::ServiceUnavailable(None)),
        ),
    )
    .expect("server");
    let out = run(&mut login(&server)).expect(0);
    assert!(
        out.stderr
            .contains("The server is busy (HTTP 503); retrying in"),
        "{}",
        out.stderr
    );
}
