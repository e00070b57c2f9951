//! `--help` for every command, and the secret kept out of it.

use crate::harness::{bin, run};

#[test]
fn every_command_has_help() {
    for (command, expected) in [
        ("login", ["--provider", "--issuer", "--cache", "--no-qr"]),
        (
            "refresh",
            [
                "--cache",
                "--refresh-token-stdin",
                "--token-endpoint",
                "--output",
            ],
        ),
        (
            "token",
            ["--cache", "--min-valid", "--output", "--client-secret"],
        ),
        (
            "demo",
            ["--manual", "--approve-after", "--provider", "--output"],
        ),
    ] {
        let out = run(bin().args([command, "--help"])).expect(0);
        for option in expected {
            assert!(
                out.stdout.contains(option),
                "{command}: {option}\n{}",
                out.stdout
            );
        }
        assert!(out.stdout.contains("Exit status"), "{command}");
    }
    let out = run(bin().arg("--help")).expect(0);
    for command in ["login", "refresh", "token", "demo", "Exit status"] {
        assert!(out.stdout.contains(command), "{}", out.stdout);
    }
}

#[test]
fn help_does_not_show_the_secret_from_the_environment() {
    let out = run(bin()
        .args(["login", "--help"])
        .env("DEVICE_GRANT_CLIENT_SECRET", "hunter2-from-env"))
    .expect(0);
    assert!(out.stdout.contains("DEVICE_GRANT_CLIENT_SECRET"));
    assert!(!out.stdout.contains("hunter2-from-env"));
}
