//! `--provider aws-sso` and `aws-builder-id`: the client registration kept with its expiry,
//! renewed and dropped, the region error, and the copy of the token for the AWS tools
//! (PROVIDERS §11.5); relative verification URIs of another new dialect.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use device_grant_sim::{Dialect, Script, Server, ServerConfig};
use serde_json::Value;

use crate::harness::{bin, fast, run};

const START_URL: &str = "https://my-sso-portal.awsapps.com/start";
const REGISTRATION: &str = "device_grant_aws_registration";

fn aws(config: ServerConfig) -> Server {
    Server::start(config.script(Script::approve_after_polls(1))).expect("server starts")
}

/// `login --provider aws-sso` against `server`, with HOME in `home`.
fn aws_login(server: &Server, home: &Path) -> Command {
    let mut cmd = bin();
    cmd.env("HOME", home)
        .args(["login", "--no-qr", "--provider", "aws-sso"])
        .args(["--start-url", START_URL, "--region", "eu-west-1"])
        .arg("--registration-endpoint")
        .arg(format!("{}/client/register", server.base_url()))
        .args(["--device-endpoint", &server.device_endpoint()])
        .args(["--token-endpoint", &server.token_endpoint()]);
    cmd
}

fn registrations(server: &Server) -> usize {
    server
        .referee()
        .requests()
        .iter()
        .filter(|r| r.target == "/client/register")
        .count()
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("file exists")).expect("JSON")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// `2026-08-24T18:00:00Z` to Unix seconds, by counting days (the test's own arithmetic, not
/// the CLI's).
fn parse_utc(text: &str) -> u64 {
    let b = text.as_bytes();
    assert_eq!(b.len(), 20, "{text}");
    assert_eq!(
        (b[4], b[7], b[10], b[13], b[16], b[19]),
        (b'-', b'-', b'T', b':', b':', b'Z'),
        "{text}"
    );
    let n = |r: std::ops::Range<usize>| text[r].parse::<u64>().expect("digits");
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let mut days = (1970..y)
        .map(|y| if leap(y) { 366 } else { 365 })
        .sum::<u64>();
    let months = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += months[..(m - 1) as usize].iter().sum::<u64>() + d - 1;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("exists").permissions().mode() & 0o777
}

fn cache_file(home: &Path, name: &str) -> PathBuf {
    home.join(".aws/sso/cache").join(name)
}

#[test]
fn registers_once_then_reuses_the_kept_registration() {
    let server = aws(fast(Dialect::AwsSso));
    let home = tempfile::tempdir().expect("temp dir");
    let cache = home.path().join("token.json");
    let first = run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    assert!(
        first.stderr.contains("Registered a client"),
        "{}",
        first.stderr
    );
    let kept = read(&cache)["extra"][REGISTRATION].clone();
    let secret = kept["clientSecret"].as_str().expect("kept").to_owned();
    assert!(kept["expiresAt"].as_u64().expect("with its expiry") > now() + 80 * 86_400);
    assert_eq!(read(&cache)["client"]["client_id"], kept["clientId"]);
    assert!(!first.stderr.contains(&secret), "{}", first.stderr);
    #[cfg(unix)]
    assert_eq!(mode(&cache), 0o600);

    let second = run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    assert!(!second.stderr.contains("Registered"), "{}", second.stderr);
    assert_eq!(registrations(&server), 1, "the second login reused it");
    // The device request carries the kept client and the start URL; no scope.
    let device = server
        .referee()
        .requests()
        .iter()
        .rfind(|r| r.target == "/device_authorization")
        .cloned()
        .expect("a device request");
    assert_eq!(device.form_value("client_id"), kept["clientId"].as_str());
    assert_eq!(device.form_value("start_url"), Some(START_URL));
    assert_eq!(device.form_value("scope"), None);

    // `refresh` uses the registered client and keeps the registration.
    run(bin()
        .env("HOME", home.path())
        .args(["refresh", "--cache"])
        .arg(&cache))
    .expect(0);
    assert_eq!(read(&cache)["extra"][REGISTRATION], kept);
    server.referee().assert_clean();
}

#[test]
fn an_expired_or_expiring_registration_is_replaced_before_the_login() {
    // Lives 30 minutes: less than the hour a login wants left.
    let server = aws(fast(Dialect::AwsSso).registration_lifetime(Duration::from_secs(1800)));
    let home = tempfile::tempdir().expect("temp dir");
    let cache = home.path().join("token.json");
    run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    assert_eq!(registrations(&server), 2);

    // One that has expired: the stored expiry moved into the past.
    let server = aws(fast(Dialect::AwsSso));
    run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    let mut set = read(&cache);
    let old_id = set["extra"][REGISTRATION]["clientId"].clone();
    set["extra"][REGISTRATION]["expiresAt"] = Value::from(now() - 10);
    fs::write(&cache, set.to_string()).expect("written");
    let again = run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    assert!(
        again.stderr.contains("Registered a client"),
        "{}",
        again.stderr
    );
    assert_eq!(registrations(&server), 2);
    assert_ne!(read(&cache)["extra"][REGISTRATION]["clientId"], old_id);
}

#[test]
fn invalid_client_drops_the_kept_registration_and_says_to_run_again() {
    let server = aws(fast(Dialect::AwsSso));
    let home = tempfile::tempdir().expect("temp dir");
    let cache = home.path().join("token.json");
    run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    // The server no longer knows the kept client (revoked), though it has not expired.
    let mut set = read(&cache);
    set["extra"][REGISTRATION]["clientId"] = Value::from("_yzkRevokedClient");
    fs::write(&cache, set.to_string()).expect("written");

    let refused = run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(5);
    assert!(
        refused.stderr.contains("invalid_client")
            && refused.stderr.contains("dropped")
            && refused.stderr.contains("run login again"),
        "{}",
        refused.stderr
    );
    assert!(read(&cache)["extra"].get(REGISTRATION).is_none());

    run(aws_login(&server, home.path()).arg("--cache").arg(&cache)).expect(0);
    assert_eq!(registrations(&server), 2, "registered anew");
}

#[test]
fn the_wrong_region_is_named() {
    let server = aws(fast(Dialect::AwsSso).home_region("ap-southeast-2"));
    let home = tempfile::tempdir().expect("temp dir");
    let out = run(&mut aws_login(&server, home.path())).expect(5);
    assert!(
        out.stderr
            .contains("belongs to AWS region ap-southeast-2, not eu-west-1")
            && out.stderr.contains("--region ap-southeast-2"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_aws_tools_cache_file_has_their_format() {
    let server = aws(fast(Dialect::AwsSso));
    let home = tempfile::tempdir().expect("temp dir");
    let cache = home.path().join("token.json");
    let before = now();
    let out = run(aws_login(&server, home.path())
        .args(["--aws-sso-cache", "--output", "token", "--cache"])
        .arg(&cache))
    .expect(0);
    let kept = read(&cache);
    // sha1 of the start URL exactly as given (§11.5).
    let path = cache_file(home.path(), "c7aaaf71fcc8777ae2475525ed049d39fe16c484.json");
    assert!(
        out.stderr.contains(&path.display().to_string()),
        "{}",
        out.stderr
    );
    let text = fs::read_to_string(&path).expect("written");
    let file: serde_json::Map<String, Value> = serde_json::from_str(&text).expect("JSON");
    let names: Vec<&str> = file.keys().map(String::as_str).collect();
    let mut expected = [
        "accessToken",
        "clientId",
        "clientSecret",
        "expiresAt",
        "refreshToken",
        "region",
        "registrationExpiresAt",
        "startUrl",
    ];
    expected.sort_unstable();
    assert_eq!(names, expected, "exactly these members");
    assert!(file.values().all(Value::is_string), "all strings: {text}");
    // The AWS CLI's order and separators (AWS-CACHE-01).
    assert!(
        text.starts_with(&format!(
            "{{\"startUrl\": \"{START_URL}\", \"region\": \"eu-west-1\", \"accessToken\": "
        )),
        "{text}"
    );
    assert_eq!(file["startUrl"], START_URL);
    assert_eq!(file["region"], "eu-west-1");
    assert_eq!(file["accessToken"].as_str(), Some(out.stdout.trim()));
    assert_eq!(file["refreshToken"], kept["refresh_token"]);
    let registration = &kept["extra"][REGISTRATION];
    assert_eq!(file["clientId"], registration["clientId"]);
    assert_eq!(file["clientSecret"], registration["clientSecret"]);
    let expires = parse_utc(file["expiresAt"].as_str().expect("string"));
    // One-hour tokens, whole seconds.
    assert!(
        (before + 3590..=now() + 3600).contains(&expires),
        "{expires}"
    );
    assert_eq!(
        parse_utc(file["registrationExpiresAt"].as_str().expect("string")),
        registration["expiresAt"].as_u64().expect("kept")
    );
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    assert!(!out.stderr.contains(file["clientSecret"].as_str().unwrap()));

    // With an sso-session the file is named after the session (§11.5: sha1("my-sso")).
    run(aws_login(&server, home.path()).args(["--aws-sso-cache", "--sso-session", "my-sso"]))
        .expect(0);
    let session = read(&cache_file(
        home.path(),
        "0ad374308c5a4e22f723adf10145eafad7c4031c.json",
    ));
    assert_eq!(session["startUrl"], START_URL);
}

#[test]
fn builder_id_uses_aws_start_url_and_registers() {
    let server = aws(fast(Dialect::AwsSso));
    let home = tempfile::tempdir().expect("temp dir");
    let out = run(bin()
        .env("HOME", home.path())
        .args(["login", "--no-qr", "--provider", "aws-builder-id"])
        .arg("--registration-endpoint")
        .arg(format!("{}/client/register", server.base_url()))
        .args(["--device-endpoint", &server.device_endpoint()])
        .args(["--token-endpoint", &server.token_endpoint()]))
    .expect(0);
    assert!(out.json()["access_token"].is_string());
    assert_eq!(registrations(&server), 1);
    let device = server
        .referee()
        .requests()
        .iter()
        .find(|r| r.target == "/device_authorization")
        .cloned()
        .expect("a device request");
    assert_eq!(
        device.form_value("start_url"),
        Some("https://view.awsapps.com/start")
    );
}

#[test]
fn aws_usage_errors() {
    let home = tempfile::tempdir().expect("temp dir");
    for (args, says) in [
        (&["--provider", "aws-sso"][..], "--start-url"),
        (
            &[
                "--provider",
                "aws-sso",
                "--start-url",
                START_URL,
                "--client-id",
                "x",
            ],
            "registers its own client",
        ),
        (
            &["--provider", "aws-builder-id", "--start-url", START_URL],
            "drop --start-url",
        ),
        (
            &[
                "--provider",
                "github",
                "--client-id",
                "x",
                "--aws-sso-cache",
            ],
            "--aws-sso-cache applies",
        ),
        (
            &[
                "--provider",
                "aws-sso",
                "--start-url",
                START_URL,
                "--region",
                "eu/../x",
            ],
            "not a region name",
        ),
    ] {
        let out = run(bin().env("HOME", home.path()).arg("login").args(args)).expect(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn relative_verification_uris_are_resolved_against_the_device_endpoint() {
    let server = Server::start(
        fast(Dialect::Twitch)
            .relative_verification_uri(true)
            .script(Script::approve_after_polls(1)),
    )
    .expect("server starts");
    let out = run(bin()
        .args(["login", "--no-qr", "--provider", "twitch"])
        .args(["--device-endpoint", &server.device_endpoint()])
        .args(["--token-endpoint", &server.token_endpoint()])
        .args(["--client-id", server.client_id()])
        .args(["--scope", "user:read:email"]))
    .expect(0);
    // Twitch's page carries the code in its query.
    let absolute = format!("{}/device?", server.base_url());
    assert!(
        out.stderr.contains(&format!("    {absolute}")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("    /device"), "{}", out.stderr);
}
