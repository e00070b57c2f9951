//! The conformance kit catches wrong clients: each deliberately broken
//! variant of the reference client (sim/kit/clients/reference.py) fails the
//! check aimed at its mistake, and the unbroken client passes the same checks.
#![cfg(feature = "server")]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const KIT: &str = env!("CARGO_BIN_EXE_device-grant-sim");

/// Runs the kit on some scenarios against the reference client with
/// `BREAK=variant`; returns the exit code and the JSON results.
fn kit(variant: &str, scenarios: &[&str]) -> (Option<i32>, Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json = std::env::temp_dir().join(format!(
        "device-grant-kit-{}-{}.json",
        std::process::id(),
        if variant.is_empty() { "none" } else { variant }
    ));
    let mut command = Command::new(KIT);
    command.arg("check").arg("--json").arg(&json);
    for s in scenarios {
        command.args(["--scenario", s]);
    }
    let output = command
        .arg("--")
        .arg("python3")
        .arg(dir.join("kit/clients/reference.py"))
        .env("BREAK", variant)
        .output()
        .expect("the kit runs");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no JSON from the kit ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let _ = std::fs::remove_file(&json);
    (
        output.status.code(),
        serde_json::from_str(&text).expect("JSON"),
    )
}

fn verdict<'a>(results: &'a Value, scenario: &str, check: &str) -> &'a Value {
    results["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["scenario"] == scenario && r["check"] == check)
        .unwrap_or_else(|| panic!("no verdict for {scenario} / {check}: {results:#}"))
}

/// Variant, the scenario aimed at it, the check that must fail, its level.
const CAUGHT: [(&str, &str, &str, &str); 10] = [
    (
        "ignore-slow-down",
        "slow-down",
        "interval + 5 s after slow_down",
        "MUST",
    ),
    (
        "no-default-interval",
        "no-interval",
        "5 s default interval",
        "MUST",
    ),
    (
        "no-backoff",
        "connection-reset",
        "backs off after a connection failure",
        "MUST",
    ),
    (
        "poll-after-denied",
        "denied",
        "no rule broken on the wire",
        "MUST",
    ),
    (
        "follow-redirects",
        "redirect",
        "device code only to the token endpoint",
        "MUST",
    ),
    (
        "prints-device-code",
        "secrets-not-printed",
        "device code and secrets never printed",
        "SHOULD",
    ),
    (
        "reuses-refresh-token",
        "refresh-rotation",
        "uses the newest refresh token",
        "MUST",
    ),
    (
        "no-deadline",
        "client-deadline",
        "no poll after expires_in",
        "SHOULD",
    ),
    (
        "secret-twice",
        "auth-client-secret-basic",
        "authenticates with HTTP Basic",
        "MUST",
    ),
    (
        "status-200-is-success",
        "github-denied",
        "stops on a 200 access_denied, fails",
        "MUST",
    ),
];

fn caught(variant: &str) {
    let (_, scenario, check, level) = CAUGHT
        .iter()
        .find(|c| c.0 == variant)
        .expect("a listed variant");
    let (code, results) = kit(variant, &[scenario]);
    let v = verdict(&results, scenario, check);
    assert_eq!(v["passed"], false, "{variant} not caught: {v:#}");
    assert_eq!(v["level"], *level);
    // A failed MUST fails the run; a failed SHOULD alone does not.
    let must_failed = results["must"]["passed"] != results["must"]["total"];
    assert_eq!(code, Some(if must_failed { 1 } else { 0 }), "{results:#}");
    if *level == "MUST" {
        assert_eq!(code, Some(1));
    }
}

#[test]
fn the_unbroken_reference_client_passes_the_checks_aimed_at_the_variants() {
    let scenarios: Vec<&str> = CAUGHT.iter().map(|c| c.1).collect();
    let (code, results) = kit("", &scenarios);
    for (_, scenario, check, _) in CAUGHT {
        let v = verdict(&results, scenario, check);
        assert_eq!(v["passed"], true, "{v:#}");
    }
    assert_eq!(
        results["must"]["passed"], results["must"]["total"],
        "{results:#}"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn ignoring_slow_down_is_caught() {
    caught("ignore-slow-down");
}

#[test]
fn a_wrong_default_interval_is_caught() {
    caught("no-default-interval");
}

#[test]
fn retrying_without_back_off_is_caught() {
    caught("no-backoff");
}

#[test]
fn polling_after_a_denial_is_caught() {
    caught("poll-after-denied");
}

#[test]
fn following_a_redirect_is_caught() {
    caught("follow-redirects");
}

#[test]
fn printing_the_device_code_is_caught() {
    caught("prints-device-code");
}

#[test]
fn reusing_a_rotated_refresh_token_is_caught() {
    caught("reuses-refresh-token");
}

#[test]
fn ignoring_expires_in_is_caught() {
    caught("no-deadline");
}

#[test]
fn sending_the_secret_twice_is_caught() {
    caught("secret-twice");
}

#[test]
fn taking_any_200_for_a_token_is_caught() {
    caught("status-200-is-success");
}

#[test]
fn an_unknown_scenario_is_a_usage_error() {
    let output = Command::new(KIT)
        .args(["check", "--scenario", "no-such-thing", "--", "true"])
        .output()
        .expect("the kit runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-thing"));
}
