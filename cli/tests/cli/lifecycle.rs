//! Sign-ins that outlive the process: many `token` processes at once, a refresh whose write
//! fails, `login --no-wait` then `--resume`, and profiles with `status` and `logout`.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use device_grant_sim::{Dialect, RequestKind, Script, Server};
use serde_json::Value;

use crate::harness::{bin, fast, login, run, secrets};

fn read(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("the token file exists")).expect("JSON")
}

fn requests_of(server: &Server, kind: RequestKind) -> Vec<device_grant_sim::RecordedRequest> {
    server
        .referee()
        .requests()
        .into_iter()
        .filter(|r| r.kind == kind)
        .collect()
}

/// A server that rotates refresh tokens; its user approves after the first poll.
fn rotating() -> Server {
    Server::start(
        fast(Dialect::Rfc8628)
            .script(Script::approve_after_polls(1))
            .rotate_refresh_tokens(true),
    )
    .expect("server starts")
}

/// Signs in to a cache file, then makes its access token look expired (the file keeps its
/// mode: it is rewritten in place).
fn signed_in_and_expired(server: &Server, dir: &Path) -> std::path::PathBuf {
    let path = dir.join("token.json");
    run(login(server).arg("--cache").arg(&path)).expect(0);
    let mut set = read(&path);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    set["expires_at"] = (now - 10).into();
    fs::write(&path, set.to_string()).expect("rewrite");
    path
}

#[test]
fn eight_token_processes_at_once_refresh_once_and_print_the_same_token() {
    let server = rotating();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = signed_in_and_expired(&server, dir.path());
    let old_access = read(&path)["access_token"].as_str().unwrap().to_owned();

    let children: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_device-grant"))
                .args(["token", "--cache"])
                .arg(&path)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawns")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("finishes"))
        .collect();

    let current = read(&path)["access_token"].as_str().unwrap().to_owned();
    assert_ne!(current, old_access, "the token was refreshed");
    for out in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), current);
    }
    assert_eq!(requests_of(&server, RequestKind::Refresh).len(), 1);
    server.referee().assert_clean();
}

#[test]
#[cfg(unix)]
fn a_refresh_that_cannot_be_stored_is_printed_and_works() {
    let server = rotating();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = signed_in_and_expired(&server, dir.path());
    let before = fs::read(&path).expect("stored");

    // No file may grow past 0 bytes (a limit root obeys too), and the signal that would
    // report it is ignored, so every write of the store fails with EFBIG: the token file
    // and the recovery file next to it. Pipes are not files: stdout still works.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 0; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_device-grant"))
        .args(["token", "--cache"])
        .arg(&path)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "stderr: {stderr}");
    assert!(stderr.contains("printed on stdout"), "{stderr}");
    assert_eq!(requests_of(&server, RequestKind::Refresh).len(), 1);
    // The server rotated; the old file still holds the old set.
    assert_eq!(fs::read(&path).expect("still there"), before);

    // What was printed is a complete token set: saved as a cache, it works.
    let printed: Value = serde_json::from_slice(&out.stdout).expect("the set as JSON");
    let rotated = printed["refresh_token"]
        .as_str()
        .expect("the new refresh token");
    assert_ne!(Some(rotated), read(&path)["refresh_token"].as_str());
    let saved = dir.path().join("recovered.json");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&saved)
            .expect("creates");
        f.write_all(&out.stdout).expect("writes");
    }
    let token = run(bin().args(["token", "--cache"]).arg(&saved)).expect(0);
    assert_eq!(
        token.stdout.trim(),
        printed["access_token"].as_str().unwrap()
    );
    // The rotated refresh token is the one the server now accepts.
    let refreshed = run(bin().args(["refresh", "--cache"]).arg(&saved)).expect(0);
    assert!(refreshed.json()["access_token"].is_string());
    let sent: Vec<String> = requests_of(&server, RequestKind::Refresh)
        .iter()
        .filter_map(|r| r.form_value("refresh_token").map(str::to_owned))
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1], rotated);
    server.referee().assert_clean();
}

#[test]
fn no_wait_then_resume_polls_no_earlier_than_the_interval_and_never_shows_the_device_code() {
    let interval = Duration::from_secs(2);
    let server = Server::start(
        device_grant_sim::ServerConfig::new(Dialect::Rfc8628)
            .interval(interval)
            .script(Script::manual()),
    )
    .expect("server starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("token.json");

    let started = run(login(&server)
        .args(["--no-wait", "--no-qr", "--cache"])
        .arg(&path))
    .expect(0);
    assert!(started.stdout.is_empty(), "{}", started.stdout);
    let flow = server.referee().last_flow().expect("a flow");
    assert!(
        started.stderr.contains(&flow.user_code),
        "{}",
        started.stderr
    );
    assert!(started.stderr.contains("--resume"), "{}", started.stderr);
    assert!(requests_of(&server, RequestKind::DevicePoll).is_empty());
    assert!(read(&path)["pending_flow"].is_object());

    let status = run(bin()
        .args(["status", "--output", "json", "--cache"])
        .arg(&path))
    .expect(0);
    assert_eq!(status.json()["signed_in"], false);
    assert_eq!(
        status.json()["pending_sign_in"]["user_code"],
        flow.user_code.as_str()
    );

    assert!(server.approve(&flow.user_code));
    let resumed = run(login(&server)
        .args(["--resume", "--output", "token", "--cache"])
        .arg(&path))
    .expect(0);
    let stored = read(&path);
    assert_eq!(
        resumed.stdout.trim(),
        stored["access_token"].as_str().unwrap()
    );
    assert!(
        stored.get("pending_flow").is_none(),
        "the pending slot is cleared"
    );

    let device = &requests_of(&server, RequestKind::DeviceAuthorization)[0];
    let polls = requests_of(&server, RequestKind::DevicePoll);
    assert_eq!(polls.len(), 1, "approved before the first poll");
    assert!(
        polls[0].at.duration_since(device.at) >= interval,
        "the first poll came {:?} after the device code",
        polls[0].at.duration_since(device.at)
    );
    server.referee().assert_clean();
    let secrets = secrets(&server, &[]);
    assert!(!secrets.is_empty());
    for s in &secrets {
        for (name, text) in [
            ("stdout", &started.stdout),
            ("stderr", &started.stderr),
            ("stderr", &resumed.stderr),
            ("status", &status.stdout),
        ] {
            assert!(!text.contains(s.as_str()), "a secret on {name}: {text}");
        }
    }
}

#[test]
fn profiles_status_and_logout_with_revocation() {
    let server = rotating();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.toml");
    fs::write(
        &config,
        format!(
            "[profiles.work]\nissuer = \"{}\"\nclient_id = \"{}\"\nscopes = [\"openid\", \"offline_access\"]\nstore = \"file\"\n",
            server.issuer(),
            server.client_id()
        ),
    )
    .expect("config");
    let home = dir.path().join("home");
    let with_env = |mut cmd: assert_cmd::Command| {
        cmd.env("DEVICE_GRANT_CONFIG", &config)
            .env("DEVICE_GRANT_HOME", &home);
        cmd
    };

    let login =
        run(with_env(bin()).args(["login", "--profile", "work", "--no-qr", "--output", "token"]))
            .expect(0);
    let access = login.stdout.trim().to_owned();
    let stored = read(&home.join("tokens").join("work.json"));
    assert_eq!(stored["access_token"], access.as_str());
    let refresh_token = stored["refresh_token"].as_str().unwrap().to_owned();

    let status =
        run(with_env(bin()).args(["status", "--profile", "work", "--output", "json"])).expect(0);
    let json = status.json();
    assert_eq!(json["signed_in"], true);
    assert_eq!(json["profile"], "work");
    assert_eq!(
        json["scopes"],
        serde_json::json!(["openid", "offline_access"])
    );
    assert_eq!(json["client_id"], server.client_id());
    assert_eq!(json["token_endpoint"], server.token_endpoint());
    let revocation = format!("{}/revoke", server.base_url());
    assert_eq!(json["revocation_endpoint"], revocation.as_str());
    assert!(json["expires_in"].as_u64().is_some_and(|s| s > 3000));
    let text = run(with_env(bin()).args(["status", "--profile", "work"])).expect(0);
    assert!(text.stdout.starts_with("Signed in"), "{}", text.stdout);
    for out in [&status.stdout, &text.stdout] {
        assert!(
            !out.contains(&access) && !out.contains(&refresh_token),
            "{out}"
        );
    }

    // The command line wins over the profile: another client id is refused by this server.
    let other = run(with_env(bin()).args([
        "login",
        "--profile",
        "work",
        "--client-id",
        "someone-else",
        "--no-qr",
    ]));
    assert_ne!(other.code, 0);

    let logout = run(with_env(bin()).args(["logout", "--profile", "work"])).expect(0);
    assert!(
        logout.stderr.contains("Revoked the refresh token"),
        "{}",
        logout.stderr
    );
    let revoked = requests_of(&server, RequestKind::Revocation);
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].form_value("token"), Some(refresh_token.as_str()));
    assert_eq!(
        revoked[0].form_value("token_type_hint"),
        Some("refresh_token")
    );
    assert_eq!(revoked[0].form_value("client_id"), Some(server.client_id()));

    let after =
        run(with_env(bin()).args(["status", "--profile", "work", "--output", "json"])).expect(0);
    assert_eq!(after.json()["signed_in"], false);
    let again = run(with_env(bin()).args(["logout", "--profile", "work"])).expect(0);
    assert!(again.stderr.contains("Not signed in"), "{}", again.stderr);

    // A secret in the file is refused, naming where it should go.
    fs::write(
        &config,
        "[profiles.work]\nclient_id = \"c\"\nclient_secret = \"s3cret\"\n",
    )
    .expect("config");
    let refused = run(with_env(bin()).args(["status", "--profile", "work"])).expect(2);
    assert!(
        refused.stderr.contains("DEVICE_GRANT_CLIENT_SECRET"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("s3cret"));
}
