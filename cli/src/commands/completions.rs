//! `device-grant completions SHELL`: a completion script generated from the command-line
//! definition itself, so it never lags behind the options.

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};
use crate::exit::{CliError, Failure};

/// Prints the script on stdout.
pub fn run(args: &CompletionsArgs) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "device-grant", &mut script);
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::new(Failure::Other, format!("could not write to stdout ({e})")))
}
