//! Starts the real authorization server of the end-to-end suite, `oidc-provider` from npm
//! (pinned in `tests/oidc/package.json`), and plays its user with the scripted browser.
//!
//! Node and the pinned package are needed. When they are missing the suite installs the
//! package itself (`npm ci`); in CI (`CI=true`) a missing `node` or a failed install fails
//! the run, elsewhere the scenarios are skipped with the reason printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub const PUBLIC: &str = "device-public";
pub const BASIC: (&str, &str) = ("device-basic", "basic-secret");
pub const POST: (&str, &str) = ("device-post", "post-secret");

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Makes sure `node` and the pinned package are there. `Err` says why not.
fn ensure_installed() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let node = Command::new("node").arg("--version").output();
            match node {
                Ok(o) if o.status.success() => {}
                _ => return Err("`node` is not installed".into()),
            }
            if oidc_dir()
                .join("node_modules/oidc-provider/package.json")
                .exists()
            {
                return Ok(());
            }
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(oidc_dir())
                .status()
                .map_err(|e| format!("could not run `npm ci`: {e}"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("`npm ci` in tests/oidc failed ({status})"))
            }
        })
        .clone()
}

/// Whether the suite can run here; in CI a missing piece is a failure, not a skip.
pub fn available() -> bool {
    match ensure_installed() {
        Ok(()) => true,
        Err(why) if in_ci() => panic!("the oidc-provider suite cannot run in CI: {why}"),
        Err(why) => {
            eprintln!("skipping the oidc-provider scenarios: {why}");
            false
        }
    }
}

/// A running oidc-provider on 127.0.0.1. It stops when this is dropped, and on its own when
/// the test process ends (it exits when its stdin closes).
pub struct Provider {
    child: Child,
    pub issuer: String,
    pub device_endpoint: String,
    pub token_endpoint: String,
}

impl Provider {
    /// Starts a provider whose device codes live `ttl` seconds and that asks for polls every
    /// `interval` seconds.
    pub fn start(ttl: u64, interval: u64) -> Provider {
        Provider::start_with(ttl, interval, &[])
    }

    /// As [`Provider::start`], with more settings of server.mjs in `env` (`DPOP_NONCE`).
    pub fn start_with(ttl: u64, interval: u64, env: &[(&str, &str)]) -> Provider {
        let mut command = Command::new("node");
        command
            .arg("server.mjs")
            .current_dir(oidc_dir())
            .env("PORT", "0")
            .env("DEVICE_CODE_TTL", ttl.to_string())
            .env("POLL_INTERVAL", interval.to_string())
            .envs(env.iter().copied());
        let (child, field) = super::spawn_announced(command, "node server.mjs");
        Provider {
            issuer: field("issuer"),
            device_endpoint: field("device_authorization_endpoint"),
            token_endpoint: field("token_endpoint"),
            child,
        }
    }

    /// Plays the user: opens the verification page, enters `user_code`, logs in and approves
    /// (or cancels) consent.
    pub fn act(&self, user_code: &str, approve: bool) -> Result<(), String> {
        // One browser at a time keeps the two-core machine from timing out a consent page.
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let out = Command::new("node")
            .arg("browser.mjs")
            .arg(&self.issuer)
            .arg(user_code)
            .arg(if approve { "approve" } else { "deny" })
            .current_dir(oidc_dir())
            .env("BROWSER_TIMEOUT_MS", "15000")
            .output()
            .map_err(|e| format!("could not run browser.mjs: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "browser.mjs {} failed: {}",
                if approve { "approve" } else { "deny" },
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Acts for the user on another thread, so the client can poll meanwhile. The handle
    /// gives the browser's outcome.
    pub fn act_later(
        self: &std::sync::Arc<Self>,
        user_code: String,
        approve: bool,
    ) -> std::thread::JoinHandle<Result<(), String>> {
        let me = self.clone();
        std::thread::spawn(move || me.act(&user_code, approve))
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a scenario may take before something is surely wrong.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);
