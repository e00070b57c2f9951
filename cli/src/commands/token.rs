//! `device-grant token`: a valid access token from the cache, refreshed when it is about to
//! expire.

use std::time::SystemTime;

use crate::args::TokenArgs;
use crate::cache;
use crate::commands::refresh;
use crate::exit::CliError;
use crate::output;
use crate::prompt;
use crate::transport::Http;

/// Prints the token.
pub fn run(args: &TokenArgs) -> Result<(), CliError> {
    let current = cache::load(&args.cache)?;
    if !current.needs_refresh(SystemTime::now(), args.min_valid) {
        return output::print_cached(&current, args.output, SystemTime::now());
    }
    if current.token.refresh_token().is_none() {
        return Err(CliError::cache(format!(
            "the token in {} expires within {} and there is no refresh token to renew it; run login again",
            args.cache.display(),
            prompt::describe(args.min_valid)
        )));
    }
    let http = Http::new();
    let secret = args.secret.client_secret.as_deref();
    let (_, fresh) = refresh::refresh_cache(&http, &args.cache, &current, secret)?;
    if fresh.needs_refresh(SystemTime::now(), args.min_valid) {
        note!(
            "warning: the new token is valid for less than --min-valid ({}): the server issues shorter-lived tokens",
            prompt::describe(args.min_valid)
        );
    }
    output::print_cached(&fresh, args.output, SystemTime::now())
}
