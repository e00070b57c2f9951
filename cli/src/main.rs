//! `device-grant`: sign in from a terminal with the OAuth 2.0 Device Authorization Grant
//! (RFC 8628), print or cache the token, refresh it, or try the flow against a simulated
//! server with `device-grant demo`.
//!
//! The prompt goes to stderr and the token to stdout, so `$(device-grant login ...)` and
//! `$(device-grant token ...)` capture exactly the token. Exit statuses are listed in
//! `device-grant --help`.

#![forbid(unsafe_code)]

/// `eprintln!` that cannot panic: with stderr closed (`2>&-`, a dead pipe) there is nobody to
/// tell, and the command must still store and print the token. Silent with `--json-events`,
/// where stderr carries JSON lines only.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if !crate::events::on() {
            let _ = writeln!(std::io::stderr(), $($arg)*);
        }
    }};
}

mod args;
mod aws;
mod browser;
mod commands;
mod discovery;
mod dpop;
mod events;
mod exit;
mod interrupt;
mod output;
mod profiles;
mod prompt;
mod provider;
mod qr;
mod settings;
mod terminal;
mod tokens;
mod transport;
mod verbose;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use args::{Cli, Command};
use exit::CliError;

fn main() -> ExitCode {
    // clap exits by itself on usage errors (status 2) and after --help or --version (0).
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if cli.diagnostics.json_events {
        events::enable();
    }
    if cli.diagnostics.verbose {
        verbose::enable(terminal::Style::of_stderr());
    }
    let result = transport::trust(&cli.tls).and_then(|()| {
        interrupt::install();
        run(&cli.command)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("error: {e}");
            if events::on() {
                events::emit(&events::done_err(&e));
            }
            if json_output(&matches) {
                output::print_error(&e);
            }
            e.exit_code()
        }
    }
}

/// Whether `--output json` was given on the command line: stdout then carries one JSON
/// object whatever happens, the token or the error. Without it, a failure leaves stdout
/// empty, as it always has for `$(device-grant login)`.
fn json_output(matches: &ArgMatches) -> bool {
    matches.subcommand().is_some_and(|(_, sub)| {
        sub.ids().any(|id| id.as_str() == "output")
            && sub.value_source("output") == Some(ValueSource::CommandLine)
            && sub
                .get_raw("output")
                .into_iter()
                .flatten()
                .any(|v| v == "json")
    })
}

fn run(command: &Command) -> Result<(), CliError> {
    match command {
        Command::Login(args) => commands::login::run(args),
        Command::Refresh(args) => commands::refresh::run(args),
        Command::Token(args) => commands::token::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Logout(args) => commands::logout::run(args),
        Command::DpopProof(args) => commands::dpop_proof::run(args),
        #[cfg(feature = "demo")]
        Command::Demo(args) => commands::demo::run(args),
        Command::Completions(args) => commands::completions::run(args),
    }
}
