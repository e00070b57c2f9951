//! Running the client program of one scenario: its environment, its output
//! files, its time limit.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::Options;
use super::catalogue::Scenario;
use super::judge::Run;
use super::report::Verdict;
use crate::{Dialect, Server};

/// The most of each output file that is read back; an oversized body echoed
/// by a client must not take the kit's memory with it.
const OUTPUT_LIMIT: u64 = 1024 * 1024;

/// A client that broke this many rules is stopped: its MUSTs have failed
/// already, and a runaway loop must not load the machine for the full limit.
const ENOUGH_VIOLATIONS: usize = 5;

/// The variables of the contract; inherited ones are removed first so that
/// a value from the caller's shell never leaks into a scenario.
const CONTRACT: [&str; 12] = [
    "DEVICE_AUTHORIZATION_ENDPOINT",
    "TOKEN_ENDPOINT",
    "ISSUER",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CLIENT_AUTH_METHOD",
    "SCOPE",
    "PROVIDER",
    "RESOURCE",
    "HARNESS_REFRESH",
    "HARNESS_REFRESH_COUNT",
    "CLIENT_STDERR_FILE",
];

/// The scope every scenario asks for; Microsoft's dialect needs one.
pub(crate) const SCOPE: &str = "openid offline_access";
/// The resource of the Azure AD v1 dialect.
pub(crate) const RESOURCE: &str = "https://management.core.windows.net/";

/// The contract's name for a dialect.
pub(crate) fn provider_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Rfc8628 => "rfc",
        Dialect::MicrosoftV2 => "microsoft",
        other => other.name(),
    }
}

/// Starts the scenario's server, runs the client to its end or its time
/// limit, and judges every check.
pub(crate) fn run_scenario(scenario: &Scenario, options: &Options) -> Result<Vec<Verdict>, String> {
    let server = Server::start(scenario.config.clone())
        .map_err(|e| format!("cannot start the server: {e}"))?;
    for (target, fault) in &scenario.faults {
        server.inject_fault(*target, fault.clone());
    }
    let dir = scratch_dir().map_err(|e| format!("cannot create a scratch directory: {e}"))?;
    let stdout_path = dir.join("stdout");
    let stderr_path = dir.join("stderr");
    let stderr_copy = dir.join("client-stderr");
    let outcome = spawn_and_wait(
        scenario,
        options,
        &server,
        &stdout_path,
        &stderr_path,
        &stderr_copy,
    );
    let referee = server.referee();
    server.shutdown();
    let (exit, cut_short, elapsed) = match outcome {
        Ok(o) => o,
        Err(e) => {
            let _ = fs::remove_dir_all(&dir);
            return Err(format!("cannot run {:?}: {e}", options.command[0]));
        }
    };
    let mut stderr = read_capped(&stderr_path);
    stderr.push_str(&read_capped(&stderr_copy));
    let run = Run {
        exit,
        cut_short,
        stdout: read_capped(&stdout_path),
        stderr,
        referee,
        tick: options.tick(),
        secret: scenario.client.secret().map(str::to_owned),
        refreshes: scenario.refreshes,
    };
    let _ = fs::remove_dir_all(&dir);
    Ok(scenario
        .checks
        .iter()
        .map(|check| {
            let (passed, why) = match (check.judge)(&run) {
                Ok(note) => (true, note),
                Err(why) => (false, why),
            };
            Verdict {
                scenario: scenario.name,
                check: check.name,
                section: check.section,
                level: check.level,
                passed,
                why,
                seconds: elapsed.as_secs_f64(),
            }
        })
        .collect())
}

/// Exit code, how the run was cut short (if it was), time taken.
type Outcome = (Option<i32>, Option<String>, Duration);

fn spawn_and_wait(
    scenario: &Scenario,
    options: &Options,
    server: &Server,
    stdout: &Path,
    stderr: &Path,
    stderr_copy: &Path,
) -> std::io::Result<Outcome> {
    let mut command = Command::new(&options.command[0]);
    command.args(&options.command[1..]);
    for name in CONTRACT {
        command.env_remove(name);
    }
    let client = &scenario.client;
    command
        .env("DEVICE_AUTHORIZATION_ENDPOINT", server.device_endpoint())
        .env("TOKEN_ENDPOINT", server.token_endpoint())
        .env("ISSUER", server.issuer())
        .env("CLIENT_ID", client.id())
        .env("CLIENT_AUTH_METHOD", client.method().as_str())
        .env("SCOPE", SCOPE)
        .env("PROVIDER", provider_name(server.dialect()))
        .env("CLIENT_STDERR_FILE", stderr_copy)
        .stdin(Stdio::null())
        .stdout(fs::File::create(stdout)?)
        .stderr(fs::File::create(stderr)?);
    if let Some(secret) = client.secret() {
        command.env("CLIENT_SECRET", secret);
    }
    if server.dialect() == Dialect::AzureAdV1 {
        command.env("RESOURCE", RESOURCE);
    }
    if scenario.refreshes > 0 {
        command
            .env("HARNESS_REFRESH", "1")
            .env("HARNESS_REFRESH_COUNT", scenario.refreshes.to_string());
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // A group of its own, so that a wrapper's children are stopped with it.
        command.process_group(0);
    }
    let started = Instant::now();
    let mut child = command.spawn()?;
    let limit = if options.whole_seconds {
        scenario.limit * 3
    } else {
        scenario.limit
    };
    // Bounded: at most `limit / 10 ms` rounds.
    loop {
        if let Some(status) = child.try_wait()? {
            stop_group(&mut child);
            return Ok((status.code(), None, started.elapsed()));
        }
        let cut = if started.elapsed() >= limit {
            Some(format!("was still running after {} s", limit.as_secs()))
        } else if server.referee().violations().len() >= ENOUGH_VIOLATIONS {
            Some(format!(
                "was stopped after {ENOUGH_VIOLATIONS} rule breaches"
            ))
        } else {
            None
        };
        if cut.is_some() {
            stop_group(&mut child);
            let _ = child.wait();
            return Ok((None, cut, started.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Stops what is left of the client's process group (a wrapper's children).
fn stop_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

fn scratch_dir() -> std::io::Result<PathBuf> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "device-grant-sim-check-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn read_capped(path: &Path) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Ok(file) = fs::File::open(path) {
        let _ = file.take(OUTPUT_LIMIT).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
