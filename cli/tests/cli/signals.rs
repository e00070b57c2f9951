//! A closed stderr and Ctrl-C: the token is never lost to the first and never half-stored by
//! the second.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use device_grant_sim::{Dialect, Script, Server};

use crate::harness::{self, fast};

/// The binary as a plain `std` command, for control over its pipes and its process id.
fn plain(server: &Server, cache: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_device-grant"));
    cmd.arg("login")
        .args(["--device-endpoint", &server.device_endpoint()])
        .args(["--token-endpoint", &server.token_endpoint()])
        .args(["--client-id", server.client_id()])
        .args(["--scope", "openid offline_access"])
        .args(["--output", "token"])
        .arg("--cache")
        .arg(cache)
        .env_remove("DEVICE_GRANT_CLIENT_SECRET");
    cmd
}

/// Waits for the child, killing it after `limit` so a regression cannot hang the suite.
fn wait(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the command did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_closed_stderr_still_stores_and_prints_the_token() {
    let server = harness::start(Dialect::Rfc8628);
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("token.json");
    let mut child = plain(&server, &cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    // Reading end gone: every write to stderr fails with a broken pipe.
    drop(child.stderr.take());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("reads stdout");
    let status = wait(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "stdout: {stdout:?}");
    let token = stdout.trim();
    assert!(!token.is_empty(), "no token printed");
    let stored = std::fs::read_to_string(&cache).expect("the cache was written");
    assert!(stored.contains(token), "the cache holds another token");
    server.referee().assert_clean();
}

#[test]
fn ctrl_c_cancels_exits_130_and_stores_nothing() {
    let server = Server::start(fast(Dialect::Rfc8628).script(Script::never())).expect("starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("token.json");
    let mut child = plain(&server, &cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    // The prompt is out once the server has seen a poll; then interrupt.
    let start = Instant::now();
    while server.referee().requests().len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the command never polled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = wait(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("reads stderr");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("reads stdout");
    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
    assert!(stdout.is_empty(), "printed {stdout:?}");
    assert!(stderr.contains("cancelled"), "stderr: {stderr}");
    assert!(!cache.exists(), "a cache was written");
    // The store's lock file, taken before the sign-in to check the location, stays by
    // design; nothing else may.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".lock"))
        .collect();
    assert!(
        left.is_empty(),
        "a temporary file was left behind: {left:?}"
    );
}
