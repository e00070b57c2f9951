//! `device-grant-sim`: the simulated authorization server in a process of its own.
//!
//! ```text
//! device-grant-sim serve [--dialect NAME] [--approve-after-polls N] [--manual]
//!                        [--no-interval] [--no-enforce-interval]
//!                        [--relative-verification-uri]
//! ```
//!
//! It prints one line, `<device URL> <token URL> <client id>`, then serves on 127.0.0.1 until
//! its standard input closes (Ctrl-D on a terminal, or the parent process going away). With
//! `--dialect aws-sso` clients register first at `/client/register` beside the device
//! endpoint. With
//! `--manual` nobody approves: open the verification URI the client shows and use the page.
//!
//! ```text
//! device-grant-sim check [--dialect NAME] [--scenario NAME]... [--json FILE]
//!                        [--whole-seconds] -- CLIENT_COMMAND...
//! device-grant-sim check --list
//! ```
//!
//! Runs the conformance catalogue against a client program (see the crate's README for the
//! contract), prints a table, and exits 1 when a MUST failed (2 on a usage error).

use std::io::Read;
use std::process::ExitCode;

use device_grant_sim::{Dialect, Script, Server, ServerConfig, check};

const USAGE: &str = "usage: device-grant-sim serve [--dialect rfc8628|azure-ad-v1|microsoft-v2|google|github|auth0|aws-sso|twitch|amazon|salesforce|yandex|zoho] [--approve-after-polls N] [--manual] [--no-interval] [--no-enforce-interval] [--relative-verification-uri]
         (aws-sso: clients register at /client/register beside the device endpoint)
       device-grant-sim check [--dialect NAME] [--scenario NAME]... [--json FILE] [--whole-seconds] -- CLIENT_COMMAND...
       device-grant-sim check --list";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => match serve(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Some("check") => match check(&args[1..]) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: &[String]) -> Result<(), String> {
    let mut dialect = Dialect::Rfc8628;
    let mut script = Script::approve_after_polls(1);
    let mut no_interval = false;
    let mut enforce = true;
    let mut relative = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dialect" => {
                let name = args.next().ok_or("--dialect needs a name")?;
                dialect = Dialect::from_name(name)
                    .ok_or_else(|| format!("unknown dialect {name:?}\n{USAGE}"))?;
            }
            "--approve-after-polls" => {
                let n = args.next().ok_or("--approve-after-polls needs a number")?;
                let n = n.parse().map_err(|_| format!("not a number: {n:?}"))?;
                script = Script::approve_after_polls(n);
            }
            "--manual" => script = Script::manual(),
            "--no-interval" => no_interval = true,
            "--no-enforce-interval" => enforce = false,
            "--relative-verification-uri" => relative = true,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let mut config = ServerConfig::new(dialect)
        .enforce_interval(enforce)
        .relative_verification_uri(relative)
        .script(script);
    if no_interval {
        config = config.no_interval();
    }
    let server = Server::start(config).map_err(|e| format!("cannot start the server: {e}"))?;
    println!(
        "{} {} {}",
        server.device_endpoint(),
        server.token_endpoint(),
        server.client_id()
    );
    let mut sink = Vec::new();
    // Serve until the parent closes our standard input (or exits).
    let _ = std::io::stdin().read_to_end(&mut sink);
    server.shutdown();
    Ok(())
}

/// `Ok(true)` when every MUST passed.
fn check(args: &[String]) -> Result<bool, String> {
    let (own, command) = match args.iter().position(|a| a == "--") {
        Some(at) => (&args[..at], args[at + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let mut options = check::Options::new(command);
    let mut json = None;
    let mut own = own.iter();
    while let Some(arg) = own.next() {
        match arg.as_str() {
            "--dialect" => {
                let name = own.next().ok_or("--dialect needs a name")?;
                options.dialect = Dialect::from_name(name)
                    .ok_or_else(|| format!("unknown dialect {name:?}\n{USAGE}"))?;
            }
            "--scenario" => {
                let name = own.next().ok_or("--scenario needs a name")?;
                options.scenarios.push(name.clone());
            }
            "--json" => json = Some(own.next().ok_or("--json needs a file")?.clone()),
            "--whole-seconds" => options.whole_seconds = true,
            "--list" => {
                for s in check::catalogue() {
                    println!("{}: {}", s.name, s.setup);
                    for (name, section, level) in s.checks {
                        println!("    {level:<6} RFC {section:<28} {name}");
                    }
                }
                return Ok(true);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if options.command.is_empty() {
        return Err(format!("no client command after `--`\n{USAGE}"));
    }
    let report = check::run_with_progress(&options, |v| {
        eprintln!(
            "{} {} / {}",
            if v.passed { "pass" } else { "FAIL" },
            v.scenario,
            v.check
        );
    })?;
    print!("{}", report.table());
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| format!("cannot encode the results: {e}"))?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    Ok(report.musts_passed())
}
