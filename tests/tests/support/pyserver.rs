//! Starts the second real authorization server of the end-to-end suites: Authlib's RFC 8628
//! components from PyPI in a small Python app (`tests/pyserver/server.py`, pins in
//! `tests/pyserver/requirements.txt`), and plays its user through its verification page.
//!
//! Python 3 and the pinned packages are needed, in the virtual environment
//! `tests/pyserver/.venv` that `.ci/run` makes. When it is missing the suite makes it itself;
//! in CI (`CI=true`) a missing `python3` or a failed install fails the run, elsewhere the
//! scenarios are skipped with the reason printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use device_grant_ureq::ureq;

pub const PUBLIC: &str = "device-public";
pub const BASIC: (&str, &str) = ("device-basic", "basic-secret");
pub const POST: (&str, &str) = ("device-post", "post-secret");
/// Every scope the server knows; it grants what is asked of these.
pub const SCOPE: &str = "profile email";

fn server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pyserver")
}

fn python() -> PathBuf {
    server_dir().join(".venv/bin/python")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether the virtual environment's Python can import the server's library.
fn importable() -> bool {
    Command::new(python())
        .args(["-c", "import authlib.oauth2.rfc8628"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes sure the virtual environment with the pinned packages is there. `Err` says why not.
fn ensure_installed() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            if importable() {
                return Ok(());
            }
            let venv = Command::new("python3")
                .args(["-m", "venv", ".venv"])
                .current_dir(server_dir())
                .status()
                .map_err(|e| format!("`python3` is not installed ({e})"))?;
            if !venv.success() {
                return Err(format!("`python3 -m venv` failed ({venv})"));
            }
            let pip = Command::new(python())
                .args(["-m", "pip", "install", "--quiet", "--no-deps"])
                .args(["--require-hashes", "-r", "requirements.txt"])
                .current_dir(server_dir())
                .status()
                .map_err(|e| format!("could not run pip: {e}"))?;
            if pip.success() && importable() {
                Ok(())
            } else {
                Err(format!(
                    "installing tests/pyserver/requirements.txt failed ({pip})"
                ))
            }
        })
        .clone()
}

/// Whether the suite can run here; in CI a missing piece is a failure, not a skip.
pub fn available() -> bool {
    match ensure_installed() {
        Ok(()) => true,
        Err(why) if in_ci() => panic!("the Authlib suite cannot run in CI: {why}"),
        Err(why) => {
            eprintln!("skipping the Authlib scenarios: {why}");
            false
        }
    }
}

/// How a server is started.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How long device codes live on the server, in seconds.
    pub ttl: u64,
    /// The `expires_in` answered; larger than `ttl` to have the server say `expired_token`
    /// before the client's own deadline passes.
    pub expires_in: u64,
    /// The `interval` answered, in seconds.
    pub interval: u64,
    /// How many polls of each code are answered `slow_down` whatever their timing.
    pub slow_down_polls: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ttl: 600,
            expires_in: 600,
            interval: 1,
            slow_down_polls: 0,
        }
    }
}

/// A running server on 127.0.0.1. It stops when this is dropped, and on its own when the
/// test process ends (it exits when its stdin closes).
pub struct PyServer {
    child: Child,
    pub device_endpoint: String,
    pub token_endpoint: String,
    pub verification_uri: String,
}

impl PyServer {
    pub fn start(settings: Settings) -> PyServer {
        let mut command = Command::new(python());
        command
            .arg("server.py")
            .current_dir(server_dir())
            .env("PORT", "0")
            .env("DEVICE_CODE_TTL", settings.ttl.to_string())
            .env("EXPIRES_IN", settings.expires_in.to_string())
            .env("POLL_INTERVAL", settings.interval.to_string())
            .env("SLOW_DOWN_POLLS", settings.slow_down_polls.to_string());
        let (child, field) = super::spawn_announced(command, "server.py");
        PyServer {
            device_endpoint: field("device_authorization_endpoint"),
            token_endpoint: field("token_endpoint"),
            verification_uri: field("verification_uri"),
            child,
        }
    }

    /// Plays the user: submits `user_code` on the verification page with the Approve or the
    /// Deny button.
    pub fn act(&self, user_code: &str, approve: bool) -> Result<(), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let action = if approve { "approve" } else { "deny" };
        let mut answer = agent
            .post(&self.verification_uri)
            .send_form([("user_code", user_code), ("action", action)])
            .map_err(|e| format!("the verification page failed: {e}"))?;
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string().unwrap_or_default();
        if status == 200 {
            Ok(())
        } else {
            Err(format!(
                "the verification page answered {status}: {}",
                text.trim()
            ))
        }
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a scenario may take before something is surely wrong.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);
