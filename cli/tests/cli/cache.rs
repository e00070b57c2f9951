//! `--cache`, `token` and `refresh`: the token set on disk, refreshed and rotated, and left
//! alone when anything fails.

use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use device_grant_sim::{Dialect, Fault, FaultTarget, RequestKind, Server, closed_port};
use serde_json::Value;

use crate::harness::{
    assert_no_secret_on_stderr, bin, endpoint_args, fast, login, run, secrets, start,
};

fn read(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("cache exists")).expect("cache is JSON")
}

fn refreshes(server: &Server) -> usize {
    server
        .referee()
        .requests()
        .iter()
        .filter(|r| r.kind == RequestKind::Refresh)
        .count()
}

/// Signs in and stores the token set in a new temporary directory.
fn logged_in(server: &Server) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("token.json");
    run(login(server).arg("--cache").arg(&path)).expect(0);
    (dir, path)
}

#[test]
fn login_writes_a_private_cache_with_everything_needed_to_refresh() {
    let server = start(Dialect::Rfc8628);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("token.json");
    let out = run(login(&server)
        .args(["--output", "token", "--cache"])
        .arg(&path))
    .expect(0);

    let cache = read(&path);
    assert_eq!(cache["version"], 1);
    assert_eq!(cache["access_token"].as_str(), Some(out.stdout.trim()));
    assert!(
        cache["refresh_token"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(cache["token_type"], "Bearer");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let expires_at = cache["expires_at"].as_u64().expect("a Unix time");
    // The simulated server issues one-hour tokens.
    assert!(
        (now + 3500..=now + 3600).contains(&expires_at),
        "{expires_at} vs {now}"
    );
    assert_eq!(
        cache["scopes"],
        serde_json::json!(["openid", "offline_access"])
    );
    assert_eq!(cache["client"]["client_id"], server.client_id());
    assert_eq!(cache["client"]["token_endpoint"], server.token_endpoint());
    assert_eq!(cache["client"]["device_endpoint"], server.device_endpoint());
    assert_eq!(cache["client"]["auth_method"], "none");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The temporary file was renamed, not left behind; the store's lock file stays.
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["token.json", "token.json.lock"]);
}

#[test]
fn token_reads_the_cache_without_asking_the_server() {
    let server = start(Dialect::Rfc8628);
    let (_dir, path) = logged_in(&server);
    let before = server.referee().requests().len();
    let out = run(bin().args(["token", "--cache"]).arg(&path)).expect(0);
    assert_eq!(
        out.stdout.trim(),
        read(&path)["access_token"].as_str().unwrap()
    );
    assert_eq!(server.referee().requests().len(), before);
    assert!(out.stderr.is_empty(), "{}", out.stderr);

    let out = run(bin()
        .args(["token", "--output", "json", "--cache"])
        .arg(&path))
    .expect(0);
    let json = out.json();
    assert_eq!(json["access_token"], read(&path)["access_token"]);
    assert!(json["expires_in"].as_u64().is_some_and(|s| s > 3000));
}

#[test]
fn token_refreshes_when_the_token_expires_within_min_valid() {
    let server = start(Dialect::Rfc8628);
    let (_dir, path) = logged_in(&server);
    let old = read(&path);
    // The token is valid for an hour: asking for two forces a refresh.
    let out = run(bin()
        .args(["token", "--min-valid", "2h", "--cache"])
        .arg(&path))
    .expect(0);
    let new = read(&path);
    assert_eq!(refreshes(&server), 1);
    assert_eq!(out.stdout.trim(), new["access_token"].as_str().unwrap());
    assert_ne!(new["access_token"], old["access_token"]);
    // The server rotates refresh tokens by default: the new one is stored.
    assert_ne!(new["refresh_token"], old["refresh_token"]);
    // The refresh used the stored one.
    let sent = server
        .referee()
        .requests()
        .into_iter()
        .find(|r| r.kind == RequestKind::Refresh)
        .and_then(|r| r.form_value("refresh_token").map(str::to_owned));
    assert_eq!(sent.as_deref(), old["refresh_token"].as_str());
    // The tokens are shorter-lived than --min-valid, which is said (without the token).
    assert!(out.stderr.contains("--min-valid"), "{}", out.stderr);
    let new_at = new["access_token"].as_str().unwrap();
    let new_rt = new["refresh_token"].as_str().unwrap();
    assert_no_secret_on_stderr(&out, &secrets(&server, &[new_at, new_rt]));
}

#[test]
fn refresh_keeps_the_refresh_token_when_the_server_does_not_rotate_it() {
    let server =
        Server::start(fast(Dialect::Rfc8628).rotate_refresh_tokens(false)).expect("server");
    let (_dir, path) = logged_in(&server);
    let old = read(&path);
    let out = run(bin().args(["refresh", "--cache"]).arg(&path)).expect(0);
    let new = read(&path);
    assert_ne!(new["access_token"], old["access_token"]);
    assert_eq!(new["refresh_token"], old["refresh_token"]);
    // stdout carries the new token response, with the refresh token still usable.
    assert_eq!(out.json()["access_token"], new["access_token"]);
    assert_eq!(out.json()["refresh_token"], old["refresh_token"]);
    // And it works again.
    run(bin().args(["refresh", "--cache"]).arg(&path)).expect(0);
    assert_eq!(refreshes(&server), 2);
}

#[test]
fn refresh_with_a_confidential_client_takes_the_secret_from_the_environment() {
    let server = start(Dialect::Google);
    let (_dir, path) = logged_in(&server);
    assert_eq!(read(&path)["client"]["auth_method"], "post");
    let text = fs::read_to_string(&path).expect("cache");
    assert!(!text.contains(server.client_secret().expect("Google client has a secret")));
    // Without the secret, a usage error says where to put it.
    let out = run(bin().args(["refresh", "--cache"]).arg(&path)).expect(2);
    assert!(
        out.stderr.contains("DEVICE_GRANT_CLIENT_SECRET"),
        "{}",
        out.stderr
    );
    let out = run(bin().args(["refresh", "--cache"]).arg(&path).env(
        "DEVICE_GRANT_CLIENT_SECRET",
        server.client_secret().unwrap(),
    ))
    .expect(0);
    assert_no_secret_on_stderr(&out, &secrets(&server, &[]));
}

#[test]
fn a_rejected_refresh_token_leaves_the_cache_intact() {
    let server = start(Dialect::Rfc8628);
    let (_dir, path) = logged_in(&server);
    let mut cache = read(&path);
    cache["refresh_token"] = "revoked-or-unknown".into();
    fs::write(&path, cache.to_string()).expect("write");
    let before = fs::read(&path).expect("read");

    let out = run(bin().args(["refresh", "--cache"]).arg(&path)).expect(5);
    assert!(out.stderr.contains("invalid_grant"), "{}", out.stderr);
    assert!(out.stderr.contains("run login again"), "{}", out.stderr);
    assert!(!out.stderr.contains("revoked-or-unknown"));
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read(&path).expect("read"), before);
}

#[test]
fn a_failing_server_leaves_the_cache_intact() {
    let server = start(Dialect::Rfc8628);
    let (_dir, path) = logged_in(&server);
    let before = fs::read(&path).expect("read");
    server.inject_fault(FaultTarget::Refresh, Fault::BadGateway);
    run(bin()
        .args(["token", "--min-valid", "2h", "--cache"])
        .arg(&path))
    .expect(5);
    assert_eq!(fs::read(&path).expect("read"), before);

    // Then the server goes away: a network failure, and still the same cache.
    drop(server);
    let out = run(bin().args(["refresh", "--cache"]).arg(&path)).expect(6);
    assert!(out.stderr.contains("token endpoint"), "{}", out.stderr);
    assert_eq!(fs::read(&path).expect("read"), before);
}

#[test]
fn a_failed_login_leaves_the_cache_intact() {
    let good = start(Dialect::Rfc8628);
    let (_dir, path) = logged_in(&good);
    let before = fs::read(&path).expect("read");
    let denying =
        Server::start(fast(Dialect::Rfc8628).script(device_grant_sim::Script::deny_after_polls(0)))
            .expect("server");
    run(login(&denying).arg("--cache").arg(&path)).expect(3);
    assert_eq!(fs::read(&path).expect("read"), before);
}

#[test]
fn a_cache_that_cannot_be_written_is_refused_before_the_sign_in() {
    let server = start(Dialect::Rfc8628);
    let dir = tempfile::tempdir().expect("temp dir");
    // Its directory would have to be a regular file: it can never be created.
    fs::write(dir.path().join("file"), b"").expect("a file");
    let path = dir.path().join("file").join("token.json");
    let out = run(login(&server).arg("--cache").arg(&path)).expect(7);
    assert!(out.stderr.contains("not a directory"), "{}", out.stderr);
    // Nobody was asked to approve anything.
    assert!(server.referee().requests().is_empty());
}

#[test]
fn token_without_a_cache_says_to_log_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(bin()
        .args(["token", "--cache"])
        .arg(dir.path().join("none.json")))
    .expect(7);
    assert!(out.stderr.contains("login --cache"), "{}", out.stderr);
}

#[test]
fn refresh_without_a_cache_reads_the_token_from_the_environment_or_stdin() {
    let server = start(Dialect::Rfc8628);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("token.json");
    run(login(&server).arg("--cache").arg(&path)).expect(0);
    let rt = read(&path)["refresh_token"].as_str().unwrap().to_owned();

    let mut cmd = bin();
    cmd.arg("refresh");
    endpoint_args(&mut cmd, &server);
    let out = run(cmd.env("DEVICE_GRANT_REFRESH_TOKEN", &rt)).expect(0);
    let rotated = out.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, rt);
    assert_no_secret_on_stderr(&out, &secrets(&server, &[&rotated]));

    let mut cmd = bin();
    cmd.args(["refresh", "--refresh-token-stdin", "--output", "token"]);
    endpoint_args(&mut cmd, &server);
    let out = run(cmd.write_stdin(format!("{rotated}\n"))).expect(0);
    assert_eq!(out.stdout.lines().count(), 1);
    assert_eq!(refreshes(&server), 2);

    // Neither: a usage error naming both ways.
    let mut cmd = bin();
    cmd.arg("refresh");
    endpoint_args(&mut cmd, &server);
    let out = run(&mut cmd).expect(2);
    assert!(
        out.stderr.contains("DEVICE_GRANT_REFRESH_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--refresh-token-stdin"));
}

#[test]
fn an_unreachable_token_endpoint_is_a_network_error() {
    let port = closed_port().expect("a free port");
    let out = run(bin()
        .args(["refresh", "--token-endpoint"])
        .arg(format!("http://{port}/token"))
        .args(["--client-id", "c"])
        .env("DEVICE_GRANT_REFRESH_TOKEN", "rt-value"))
    .expect(6);
    assert!(!out.stderr.contains("rt-value"));
}
