//! Starting servers, running the binary, and checking what it printed.

use std::time::Duration;

use assert_cmd::Command;
use device_grant_sim::{Dialect, RequestKind, Script, Server, ServerConfig};

/// A server that lets clients poll every 50 ms, so a flow takes a fraction of a second.
pub fn fast(dialect: Dialect) -> ServerConfig {
    ServerConfig::new(dialect).interval(Duration::from_millis(50))
}

/// Starts a fast server whose user approves after the first poll.
pub fn start(dialect: Dialect) -> Server {
    Server::start(fast(dialect).script(Script::approve_after_polls(1))).expect("server starts")
}

/// The binary, with a clean environment for its own variables and a time limit.
pub fn bin() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("device-grant");
    for var in [
        "DEVICE_GRANT_CLIENT_ID",
        "DEVICE_GRANT_CLIENT_SECRET",
        "DEVICE_GRANT_REFRESH_TOKEN",
        "DEVICE_GRANT_CONFIG",
        "DEVICE_GRANT_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// The `--provider` value for a dialect, if it has one.
pub fn provider(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::MicrosoftV2 => Some("microsoft"),
        Dialect::AzureAdV1 => Some("azure-ad-v1"),
        Dialect::Google => Some("google"),
        Dialect::GitHub => Some("github"),
        _ => None,
    }
}

/// `login` against `server` with the options its dialect needs.
pub fn login(server: &Server) -> Command {
    let mut cmd = bin();
    cmd.arg("login");
    endpoint_args(&mut cmd, server);
    cmd
}

/// The server and client options for `server`'s dialect (also what `refresh` takes).
pub fn endpoint_args(cmd: &mut Command, server: &Server) {
    let dialect = server.dialect();
    if let Some(p) = provider(dialect) {
        cmd.args(["--provider", p]);
    }
    cmd.args(["--device-endpoint", &server.device_endpoint()])
        .args(["--token-endpoint", &server.token_endpoint()])
        .args(["--client-id", server.client_id()]);
    match dialect {
        Dialect::AzureAdV1 => {
            cmd.args(["--resource", "https://management.core.windows.net/"]);
        }
        _ => {
            cmd.args(["--scope", "openid offline_access"]);
        }
    }
    if let Some(secret) = server.client_secret() {
        cmd.env("DEVICE_GRANT_CLIENT_SECRET", secret);
    }
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout as the JSON object it should be.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {:?}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit status, showing the output when it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit status\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs the command to completion.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("the binary runs");
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Every secret the server handed out or received: device codes (from the polls), the
/// client secret, plus `tokens` the test collected from stdout.
pub fn secrets(server: &Server, tokens: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = tokens.iter().map(|s| s.to_string()).collect();
    for r in server.referee().requests() {
        if r.kind == RequestKind::DevicePoll {
            for field in ["device_code", "code"] {
                if let Some(code) = r.form_value(field) {
                    all.push(code.to_owned());
                }
            }
        }
        if let Some(rt) = r.form_value("refresh_token") {
            all.push(rt.to_owned());
        }
    }
    if let Some(s) = server.client_secret() {
        all.push(s.to_owned());
    }
    all.retain(|s| !s.is_empty());
    all
}

/// Asserts that none of `secrets` appears on stderr, and that there is something to look
/// for (a test that collected nothing would pass vacuously).
pub fn assert_no_secret_on_stderr(run: &Run, secrets: &[String]) {
    assert!(!secrets.is_empty(), "no secrets collected");
    for s in secrets {
        assert!(
            !run.stderr.contains(s.as_str()),
            "a secret reached stderr:\n{}",
            run.stderr
        );
    }
}
