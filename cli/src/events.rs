//! `--json-events`: the sign-in's events on stderr as JSON lines, for programs that show
//! the prompt their own way (IDEs, agents, TUIs). The schema is in `device-grant --help`
//! and the README; members are only ever added.
//!
//! No event carries a token, the device code or the client secret: only what the user
//! must see (the user code and the pages) and timing.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use device_grant::Prompt;
use serde_json::{Value, json};

use crate::exit::CliError;
use crate::prompt;

static ON: AtomicBool = AtomicBool::new(false);

/// Turns the events on for the rest of the process (and the prose on stderr off).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Whether `--json-events` is on.
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The code to enter and where: `user_code`.
pub fn user_code(prompt: &Prompt, now: SystemTime) -> Value {
    let safe = |s: &str| prompt::clean(&device_grant::display_safe(s));
    let complete = prompt.verification_uri_complete();
    json!({
        "event": "user_code",
        "user_code": safe(prompt.user_code()),
        "verification_uri": safe(prompt.verification_uri()),
        "verification_uri_complete": complete.map(safe),
        // Whether the CLI would open or draw the page: https, or http on loopback.
        "safe_to_open": prompt::page_host(complete.unwrap_or(prompt.verification_uri())).is_some(),
        "expires_in": prompt.expires_in().as_secs(),
        "expires_at": rfc3339(now + prompt.expires_in()),
    })
}

/// The server asked to poll less often: `slow_down`.
pub fn slow_down(interval: Duration) -> Value {
    json!({"event": "slow_down", "interval": interval.as_secs_f64()})
}

/// A poll failed and the next waits longer: `back_off`.
pub fn back_off(delay: Duration, cause: &str) -> Value {
    json!({"event": "back_off", "delay": delay.as_secs_f64(), "cause": cause})
}

/// What `--open` did: `browser`.
pub fn browser(opened: bool, message: &str) -> Value {
    json!({"event": "browser", "opened": opened, "message": message})
}

/// The sign-in succeeded: `done` with `ok: true`, and the access token's expiry in Unix
/// seconds when the server gave a lifetime.
pub fn done_ok(expires_at: Option<u64>) -> Value {
    json!({"event": "done", "ok": true, "expires_at": expires_at})
}

/// The command failed: `done` with `ok: false` and the error.
pub fn done_err(error: &CliError) -> Value {
    json!({"event": "done", "ok": false, "error": error.to_json()})
}

/// Writes one event as one line on stderr.
pub fn emit(event: &Value) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{event}");
    let _ = err.flush();
}

/// `2026-01-01T00:15:00Z`.
fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        assert_eq!(rfc3339(t), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn events_name_themselves() {
        assert_eq!(slow_down(Duration::from_secs(10))["event"], "slow_down");
        assert_eq!(slow_down(Duration::from_secs(10))["interval"], 10.0);
        assert_eq!(back_off(Duration::from_millis(500), "busy")["delay"], 0.5);
        assert_eq!(done_ok(Some(5))["expires_at"], 5);
    }
}
