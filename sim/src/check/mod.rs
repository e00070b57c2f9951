//! The conformance kit: a catalogue of scenarios run against any device-flow
//! client program over real HTTP on 127.0.0.1, each judged by the referee and
//! by what the program printed and how it exited.
//!
//! The program is told where the server is with environment variables and
//! answers on its standard output; see the crate's README for the contract.
//! [`run`] runs the catalogue and returns a [`Report`]: one [`Verdict`] per
//! check, each naming the RFC section and the requirement level it checks.
//!
//! ```no_run
//! use device_grant_sim::check::{self, Options};
//!
//! let options = Options::new(vec!["./my-client.sh".to_owned()]);
//! let report = check::run(&options)?;
//! print!("{}", report.table());
//! assert!(report.musts_passed());
//! # Ok::<(), String>(())
//! ```

mod catalogue;
mod client;
mod judge;
mod report;

use std::time::Duration;

use crate::Dialect;

pub use report::{Level, Report, Verdict};

/// What to run and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The client program and its arguments.
    pub command: Vec<String>,
    /// The dialect of the generic scenarios; the dialect-specific ones run
    /// only with the default, [`Dialect::Rfc8628`].
    pub dialect: Dialect,
    /// Run only the scenarios with these names (all when empty).
    pub scenarios: Vec<String>,
    /// Advertise whole seconds (1 s) instead of 100 ms intervals, for
    /// clients that cannot read a fractional `interval`. Slower.
    pub whole_seconds: bool,
}

impl Options {
    /// The whole catalogue in the RFC 8628 dialect with 100 ms intervals.
    pub fn new(command: Vec<String>) -> Self {
        Options {
            command,
            dialect: Dialect::Rfc8628,
            scenarios: Vec::new(),
            whole_seconds: false,
        }
    }

    /// The unit of time the scenarios are built on: the advertised interval.
    fn tick(&self) -> Duration {
        if self.whole_seconds {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(100)
        }
    }
}

/// One scenario of the catalogue: its name, what it sets up, and its checks
/// with their RFC sections and levels, for documentation and `--list`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ScenarioInfo {
    /// The name used with `--scenario`.
    pub name: &'static str,
    /// What the server does.
    pub setup: &'static str,
    /// The checks: name, RFC section, level.
    pub checks: Vec<(&'static str, &'static str, Level)>,
}

/// The catalogue, in run order.
pub fn catalogue() -> Vec<ScenarioInfo> {
    catalogue::all(Duration::from_millis(100), Dialect::Rfc8628)
        .into_iter()
        .map(|s| ScenarioInfo {
            name: s.name,
            setup: s.setup,
            checks: s
                .checks
                .iter()
                .map(|c| (c.name, c.section, c.level))
                .collect(),
        })
        .collect()
}

/// Runs the chosen scenarios one after the other, each against a fresh
/// server and a fresh client process. `Err` only when nothing could be run
/// (no command, an unknown scenario name, a server that cannot start).
pub fn run(options: &Options) -> Result<Report, String> {
    run_with_progress(options, |_| {})
}

/// [`run`], calling `progress` with each verdict as soon as it is known.
pub fn run_with_progress(
    options: &Options,
    mut progress: impl FnMut(&Verdict),
) -> Result<Report, String> {
    if options.command.is_empty() {
        return Err("no client command given".to_owned());
    }
    let all = catalogue::all(options.tick(), options.dialect);
    for wanted in &options.scenarios {
        if !all.iter().any(|s| s.name == wanted) {
            return Err(format!("unknown scenario {wanted:?}"));
        }
    }
    let mut verdicts = Vec::new();
    for scenario in all {
        if !options.scenarios.is_empty() && !options.scenarios.iter().any(|s| s == scenario.name) {
            continue;
        }
        for verdict in client::run_scenario(&scenario, options)? {
            progress(&verdict);
            verdicts.push(verdict);
        }
    }
    Ok(Report {
        command: options.command.clone(),
        dialect: options.dialect,
        whole_seconds: options.whole_seconds,
        verdicts,
    })
}
