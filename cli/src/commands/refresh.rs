//! `device-grant refresh`: the refresh-token grant, for a stored token set or from the
//! options.

use std::io::{self, Read};
use std::time::{Duration, SystemTime};

use device_grant::RefreshToken;

use crate::args::{REFRESH_TOKEN_ENV, RefreshArgs, StoreArgs};
use crate::commands::store_of;
use crate::exit::CliError;
use crate::output;
use crate::settings::{ClientSettings, Needs};
use crate::transport::Http;

/// The longest refresh token read from stdin.
const STDIN_LIMIT: u64 = 64 * 1024;

/// Runs the refresh.
pub fn run(args: &RefreshArgs) -> Result<(), CliError> {
    let http = Http::new();
    let secret = args.client.secret.client_secret.as_deref();
    if !args.client.params.is_empty() {
        return Err(CliError::usage(
            "--param adds to the device authorization request of login only",
        ));
    }
    if args.cache.is_some() || args.profile.is_some() {
        let client = &args.client;
        if args.server.any()
            || client.auth_method.is_some()
            || !client.scopes.is_empty()
            || client.resource.is_some()
        {
            return Err(CliError::usage(
                "with --cache or --profile, the server and client settings come from the stored token set; drop the other options (except the client secret)",
            ));
        }
        let store = store_of(&StoreArgs {
            cache: args.cache.clone(),
            profile: args.profile.clone(),
        })?;
        if let Some(id) = &client.client_id {
            let stored = store.require()?;
            if *id != stored.client().client_id {
                return Err(CliError::usage(format!(
                    "{} was written for client {}, not {id}",
                    store.describe(),
                    stored.client().client_id
                )));
            }
        }
        // Unconditional, under the store's lock like `token`.
        let fresh = store.valid_token(Duration::MAX, secret)?;
        return output::print_set(&fresh, args.output, SystemTime::now(), true);
    }
    let settings = ClientSettings::resolve(&args.server, &args.client, Needs::Refresh, &http)?;
    let refresh_token = read_refresh_token(args.refresh_token_stdin)?;
    let config = settings.config(secret, &[])?;
    let response = http.refresh(config, refresh_token)?;
    output::print_response(&response, args.output)
}

fn read_refresh_token(from_stdin: bool) -> Result<RefreshToken, CliError> {
    let raw = if from_stdin {
        let mut text = String::new();
        io::stdin()
            .take(STDIN_LIMIT)
            .read_to_string(&mut text)
            .map_err(|e| {
                CliError::usage(format!("could not read the refresh token from stdin ({e})"))
            })?;
        text
    } else {
        std::env::var(REFRESH_TOKEN_ENV).map_err(|_| {
            CliError::usage(format!(
                "no refresh token: pass --cache FILE, set {REFRESH_TOKEN_ENV}, or pipe it with --refresh-token-stdin"
            ))
        })?
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(CliError::usage("the refresh token is empty"));
    }
    Ok(RefreshToken::new(token))
}
