//! `device-grant`: sign in from a terminal with the OAuth 2.0 Device Authorization Grant
//! (RFC 8628), print or cache the token, refresh it, or try the flow against a simulated
//! server with `device-grant demo`.
//!
//! The prompt goes to stderr and the token to stdout, so `$(device-grant login ...)` and
//! `$(device-grant token ...)` capture exactly the token. Exit statuses are listed in
//! `device-grant --help`.

#![forbid(unsafe_code)]

/// `eprintln!` that cannot panic: with stderr closed (`2>&-`, a dead pipe) there is nobody to
/// tell, and the command must still store and print the token.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod aws;
mod commands;
mod discovery;
mod exit;
mod interrupt;
mod output;
mod profiles;
mod prompt;
mod provider;
mod qr;
mod settings;
mod tokens;
mod transport;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    // clap exits by itself on usage errors (status 2) and after --help or --version (0).
    let cli = Cli::parse();
    if let Err(e) = transport::trust(&cli.tls) {
        note!("error: {e}");
        return e.exit_code();
    }
    interrupt::install();
    let result = match &cli.command {
        Command::Login(args) => commands::login::run(args),
        Command::Refresh(args) => commands::refresh::run(args),
        Command::Token(args) => commands::token::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Logout(args) => commands::logout::run(args),
        #[cfg(feature = "demo")]
        Command::Demo(args) => commands::demo::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("error: {e}");
            e.exit_code()
        }
    }
}
