//! `device-grant login`: the device flow, from the options to the token on stdout.

use std::io::{self, IsTerminal};
use std::time::{Instant, SystemTime};

use crate::args::LoginArgs;
use crate::cache::{self, TokenCache};
use crate::exit::CliError;
use crate::output;
use crate::prompt::{self, Reporter};
use crate::settings::{ClientSettings, Needs};
use crate::transport::Http;

/// Runs the sign-in.
pub fn run(args: &LoginArgs) -> Result<(), CliError> {
    // Checked first so nobody approves a request whose token then has nowhere to go.
    if let Some(path) = &args.output.cache {
        cache::check_location(path)?;
    }
    let http = Http::new();
    let settings = ClientSettings::resolve(&args.server, &args.client, Needs::DeviceFlow, &http)?;
    let config = settings.config(
        args.client.secret.client_secret.as_deref(),
        &args.client.params,
    )?;

    let mut reporter = Reporter::new(io::stderr().is_terminal(), !args.output.no_qr);
    let result = http.device(config, |event| reporter.on_event(event));
    reporter.finish();
    let response = result?;

    // Stored first and printed next, before any word on stderr: a closed stderr or a
    // Ctrl-C from here on must not lose the token. It is printed even when the cache cannot
    // be written; the exit status still reports the cache failure.
    let stored = args.output.cache.as_ref().map(|path| {
        let entry =
            TokenCache::from_response(&response, settings, None, SystemTime::now(), Instant::now());
        cache::store(path, &entry).map(|()| path)
    });
    let printed = output::print_response(&response, args.output.output);
    match response.expires_in() {
        Some(lifetime) => note!(
            "Signed in; the access token is valid for {}.",
            prompt::describe(lifetime)
        ),
        None => note!("Signed in."),
    }
    printed?;
    match stored {
        Some(Ok(path)) => {
            note!("Stored the token set in {}.", path.display());
            Ok(())
        }
        Some(Err(e)) => Err(e),
        None => Ok(()),
    }
}
