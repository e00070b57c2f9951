//! The conventions people expect of a command-line tool: plain output when asked for or
//! when stderr is not a terminal, `--verbose`, `--json-events`, `--open`, shell
//! completions, and one JSON shape for tokens and errors on stdout.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use device_grant_sim::{Dialect, Ending, Fault, Script, Server};
use serde_json::Value;

use crate::harness::{
    assert_no_secret_on_stderr, bin, endpoint_args, fast, login, run, secrets, start,
};

/// Single quotes for `sh -c`.
fn quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// Runs `login` against `server` under a pseudo-terminal (util-linux `script`), with `env`
/// set, and returns everything the terminal received (stdout and stderr alike).
fn login_on_a_terminal(server: &Server, env: &[(&str, &str)]) -> String {
    let mut args = vec![
        env!("CARGO_BIN_EXE_device-grant").to_owned(),
        "login".to_owned(),
        "--device-endpoint".to_owned(),
        server.device_endpoint(),
        "--token-endpoint".to_owned(),
        server.token_endpoint(),
        "--client-id".to_owned(),
        server.client_id().to_owned(),
        "--scope".to_owned(),
        "openid".to_owned(),
    ];
    args.iter_mut().for_each(|a| *a = quote(a));
    let mut script = assert_cmd::Command::new("script");
    script
        .args(["-q", "-e", "-c", &args.join(" "), "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("DEVICE_GRANT_CLIENT_ID")
        .env_remove("DEVICE_GRANT_CONFIG")
        .env("TERM", "xterm-256color")
        .env("COLUMNS", "40")
        .timeout(Duration::from_secs(60));
    for (k, v) in env {
        script.env(k, v);
    }
    let out = script.output().expect("util-linux script runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&server.verification_uri()), "{text}");
    text
}

/// A server whose user approves a little later, so the countdown is drawn at least once.
fn slow_approval() -> Server {
    Server::start(
        fast(Dialect::Rfc8628)
            .interval(Duration::from_millis(400))
            .script(Script::approve_after_polls(2)),
    )
    .expect("server")
}

#[test]
fn a_terminal_gets_the_qr_code_and_a_countdown_that_fits_its_width() {
    // The control for the tests below: the pseudo-terminal really is one.
    let server = slow_approval();
    let text = login_on_a_terminal(&server, &[]);
    assert!(text.contains('\x1b'), "{text:?}");
    assert!(text.contains('▀') || text.contains('▄'), "{text:?}");
    let countdowns: Vec<&str> = text
        .split("\r\x1b[2K")
        .skip(1)
        .map(|s| s.split(['\r', '\n']).next().unwrap_or(""))
        // The segment after the last clear is what follows the countdown (the token).
        .filter(|s| s.starts_with("Waiting") || s.starts_with("The code"))
        .collect();
    assert!(!countdowns.is_empty(), "no countdown in {text:?}");
    for line in countdowns {
        // COLUMNS=40 (the pseudo-terminal has no size of its own): 39 columns at most.
        assert!(line.chars().count() <= 39, "{line:?}");
    }
}

#[test]
fn no_color_and_a_dumb_terminal_get_plain_lines() {
    for env in [[("NO_COLOR", "1")], [("TERM", "dumb")]] {
        let server = slow_approval();
        let text = login_on_a_terminal(&server, &env);
        assert!(!text.contains('\x1b'), "{env:?}: {text:?}");
        // No cursor movement: no carriage return except the terminal's own before each
        // newline.
        assert!(
            !text.replace("\r\n", "\n").contains('\r'),
            "{env:?}: {text:?}"
        );
        assert!(
            !text.contains(['█', '▀', '▄']),
            "{env:?}: a QR code in {text:?}"
        );
        assert!(text.contains("Waiting for approval; the code expires in"));
    }
}

#[test]
fn verbose_shows_each_exchange_without_a_secret() {
    // Google: a confidential client that sends its secret in the form.
    for dialect in [Dialect::Rfc8628, Dialect::Google] {
        let server = start(dialect);
        let out = run(login(&server).arg("--verbose")).expect(0);
        let json = out.json();
        let access = json["access_token"].as_str().expect("a token");
        let refresh = json["refresh_token"].as_str().unwrap_or("");
        let id = json["id_token"].as_str().unwrap_or("");
        let stderr = &out.stderr;
        assert!(
            stderr.contains(&format!("> POST {}", server.device_endpoint())),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("> POST {}", server.token_endpoint())),
            "{stderr}"
        );
        assert!(stderr.contains("< 200 ("), "{stderr}");
        assert!(stderr.contains(" ms)"), "{stderr}");
        assert!(stderr.contains("device_code=[redacted]"), "{stderr}");
        assert!(
            stderr.contains("\"access_token\":\"[redacted]\""),
            "{stderr}"
        );
        if server.client_secret().is_some() {
            assert!(stderr.contains("client_secret=[redacted]"), "{stderr}");
        }
        // The user code is not a secret, and the user needs it.
        let flow = server.referee().last_flow().expect("a flow");
        assert!(stderr.contains(&flow.user_code));
        assert_no_secret_on_stderr(&out, &secrets(&server, &[access, refresh, id]));
    }
}

#[test]
fn verbose_refresh_hides_the_refresh_token() {
    let server = start(Dialect::Rfc8628);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.json");
    let first = run(login(&server).arg("--cache").arg(&path))
        .expect(0)
        .json();
    let out = run(bin().args(["refresh", "-v", "--cache"]).arg(&path)).expect(0);
    let json = out.json();
    assert!(
        out.stderr.contains("refresh_token=[redacted]"),
        "{}",
        out.stderr
    );
    let tokens: Vec<&str> = [&first, &json]
        .iter()
        .flat_map(|j| ["access_token", "refresh_token"].map(|k| j[k].as_str().unwrap_or("")))
        .collect();
    assert_no_secret_on_stderr(&out, &secrets(&server, &tokens));
}

fn events(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\n{stderr}"))
        })
        .collect()
}

#[test]
fn json_events_are_json_lines_without_secrets() {
    // RFC 8628 adds 5 s per slow_down, so this test takes that long.
    let server = Server::start(
        fast(Dialect::Rfc8628).script(
            Script::approve_after_polls(3)
                .slow_down_at(1, None)
                .fault_at(2, Fault::ServiceUnavailable(None)),
        ),
    )
    .expect("server");
    let out = run(login(&server).arg("--json-events")).expect(0);
    let json = out.json();
    let events = events(&out.stderr);
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        names,
        ["user_code", "slow_down", "back_off", "done"],
        "{}",
        out.stderr
    );

    let prompt = &events[0];
    let flow = server.referee().last_flow().expect("a flow");
    assert_eq!(prompt["user_code"], flow.user_code.as_str());
    assert_eq!(
        prompt["verification_uri"],
        server.verification_uri().as_str()
    );
    assert!(
        prompt["verification_uri_complete"]
            .as_str()
            .is_some_and(|u| u.contains("user_code=")),
        "{prompt}"
    );
    assert_eq!(prompt["safe_to_open"], true);
    assert!(prompt["expires_in"].as_u64().is_some_and(|s| s > 0));
    assert!(
        prompt["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "{prompt}"
    );
    assert!(events[1]["interval"].as_f64().is_some_and(|s| s >= 5.0));
    assert!(events[2]["delay"].as_f64().is_some());
    assert_eq!(events[3]["ok"], true);
    assert_eq!(events[3]["expires_at"], json["expires_at"]);

    let access = json["access_token"].as_str().expect("a token");
    let refresh = json["refresh_token"].as_str().expect("a refresh token");
    assert_no_secret_on_stderr(&out, &secrets(&server, &[access, refresh]));
}

#[test]
fn json_events_report_a_failure_in_the_done_event() {
    let server =
        Server::start(fast(Dialect::Rfc8628).script(Script::deny_after_polls(1))).expect("server");
    let out = run(login(&server).arg("--json-events")).expect(3);
    let events = events(&out.stderr);
    let done = events.last().expect("events");
    assert_eq!(done["event"], "done");
    assert_eq!(done["ok"], false);
    assert_eq!(done["error"]["kind"], "denied");
    assert_eq!(done["error"]["exit_code"], 3);
    assert_eq!(
        server.referee().last_flow().and_then(|f| f.ending),
        Some(Ending::Denied)
    );
}

/// A directory with a fake `xdg-open` that writes its argument to `opened`.
fn fake_opener(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let opened = dir.join("opened");
    let opener = dir.join("xdg-open");
    fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > {}\n",
            quote(&opened.to_string_lossy())
        ),
    )
    .expect("write opener");
    fs::set_permissions(&opener, fs::Permissions::from_mode(0o755)).expect("chmod");
    opened
}

#[test]
fn open_starts_the_browser_on_the_complete_link_only_when_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let opened = fake_opener(dir.path());
    let server = start(Dialect::Rfc8628);
    // Not by default.
    run(login(&server).env("PATH", dir.path())).expect(0);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!opened.exists());

    let server = start(Dialect::Rfc8628);
    let out = run(login(&server).arg("--open").env("PATH", dir.path())).expect(0);
    assert!(
        out.stderr.contains("in the browser (xdg-open)"),
        "{}",
        out.stderr
    );
    let flow = server.referee().last_flow().expect("a flow");
    // The opener runs detached; give it a moment to write.
    let mut url = String::new();
    for _ in 0..50 {
        url = fs::read_to_string(&opened).unwrap_or_default();
        if !url.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(url.starts_with(&server.verification_uri()), "{url}");
    assert!(url.contains(&flow.user_code), "{url}");
}

#[test]
fn open_says_so_when_there_is_no_browser() {
    let empty = tempfile::tempdir().expect("temp dir");
    let server = start(Dialect::Rfc8628);
    let out = run(login(&server).arg("--open").env("PATH", empty.path())).expect(0);
    assert!(
        out.stderr
            .contains("Could not open the browser: xdg-open was not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef device-grant"),
        ("fish", "complete -c device-grant"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = run(bin().args(["completions", shell])).expect(0);
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("login"), "{shell}");
        assert!(out.stdout.contains("json-events"), "{shell}");
    }
    run(bin().args(["completions", "tcsh"])).expect(2);
}

fn keys(json: &Value) -> BTreeSet<String> {
    json.as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn login_refresh_and_token_print_one_json_shape() {
    let server = start(Dialect::Rfc8628);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.json");
    let login = run(login(&server).arg("--cache").arg(&path))
        .expect(0)
        .json();
    let refresh = run(bin().args(["refresh", "--cache"]).arg(&path))
        .expect(0)
        .json();
    let token = run(bin()
        .args(["token", "--output", "json", "--cache"])
        .arg(&path))
    .expect(0)
    .json();
    let mut refresh_env = bin();
    refresh_env.arg("refresh");
    endpoint_args(&mut refresh_env, &server);
    let from_env = run(refresh_env.env(
        "DEVICE_GRANT_REFRESH_TOKEN",
        refresh["refresh_token"].as_str().expect("a refresh token"),
    ))
    .expect(0)
    .json();

    let with_refresh = keys(&login);
    assert_eq!(keys(&refresh), with_refresh);
    assert_eq!(keys(&from_env), with_refresh);
    let mut without = with_refresh.clone();
    without.remove("refresh_token");
    // `token` hands out the access token only.
    assert_eq!(keys(&token), without);
    for json in [&login, &refresh, &from_env, &token] {
        assert!(json["expires_in"].as_u64().is_some_and(|s| s > 0), "{json}");
        assert!(
            json["expires_at"]
                .as_u64()
                .is_some_and(|t| t > 1_700_000_000),
            "{json}"
        );
        assert!(json["access_token"].is_string() && json["token_type"].is_string());
    }
    assert_eq!(token["access_token"], refresh["access_token"]);
}

#[test]
fn errors_are_json_on_stdout_with_output_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.json");
    let out = run(bin()
        .args(["token", "--output", "json", "--cache"])
        .arg(&missing))
    .expect(7);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "cache");
    assert_eq!(json["error"]["exit_code"], 7);
    let message = json["error"]["message"].as_str().expect("a message");
    assert!(out.stderr.contains(message), "{}", out.stderr);

    // The bare-token format keeps stdout empty on failure.
    let out = run(bin().args(["token", "--cache"]).arg(&missing)).expect(7);
    assert!(out.stdout.is_empty());
}

#[test]
fn verbose_ends_a_stalled_poll_at_the_deadline() {
    // With --verbose the CLI runs its own logged loop. Like the driver's, it must fit each
    // request's timeouts to the code's 2 s: the stalled poll then ends near the deadline,
    // where the agent alone would wait out its own phase timeouts (over 10 s) and the
    // command's limit would kill it.
    let server = Server::start(
        fast(Dialect::Rfc8628)
            .expires_in(Duration::from_secs(2))
            .script(Script::never().fault_at(1, Fault::Stall(Duration::from_secs(120)))),
    )
    .expect("server");
    let out = run(login(&server)
        .arg("--verbose")
        .timeout(Duration::from_secs(10)))
    .expect(4);
    assert!(
        out.stderr
            .contains(&format!("> POST {}", server.token_endpoint())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("run login again"), "{}", out.stderr);
}
