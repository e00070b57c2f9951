//! `device-grant token`: a valid access token from the store, refreshed when it is about to
//! expire. Many processes at once refresh once: the store's lock spans load, refresh and
//! store, and each waiter reads the set again once it holds the lock.

use std::time::SystemTime;

use crate::args::TokenArgs;
use crate::commands::store_of;
use crate::exit::CliError;
use crate::output;
use crate::prompt;

/// Prints the token.
pub fn run(args: &TokenArgs) -> Result<(), CliError> {
    let store = store_of(&args.store)?;
    let secret = args.secret.client_secret.as_deref();
    let fresh = store.valid_token(args.min_valid, secret)?;
    if !fresh.is_valid_for(args.min_valid, SystemTime::now()) {
        note!(
            "warning: the new token is valid for less than --min-valid ({}): the server issues shorter-lived tokens",
            prompt::describe(args.min_valid)
        );
    }
    output::print_set(&fresh, args.output, SystemTime::now(), false)
}
