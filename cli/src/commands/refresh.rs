//! `device-grant refresh`: the refresh-token grant, from a cache or from the options.

use std::io::{self, Read};
use std::path::Path;
use std::time::{Instant, SystemTime};

use device_grant::{RefreshToken, TokenResponse};

use crate::args::{REFRESH_TOKEN_ENV, RefreshArgs};
use crate::cache::{self, TokenCache};
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
    match &args.cache {
        Some(path) => {
            let client = &args.client;
            if args.server.any()
                || client.auth_method.is_some()
                || !client.scopes.is_empty()
                || client.resource.is_some()
            {
                return Err(CliError::usage(
                    "with --cache, the server and client settings come from the cache; drop the other options (except the client secret)",
                ));
            }
            let previous = cache::load(path)?;
            if let Some(id) = &client.client_id
                && *id != previous.client.client_id
            {
                return Err(CliError::usage(format!(
                    "the cache {} was written for client {}, not {id}",
                    path.display(),
                    previous.client.client_id
                )));
            }
            let (response, _) = refresh_cache(&http, path, &previous, secret)?;
            output::print_response(&response, args.output)
        }
        None => {
            let settings =
                ClientSettings::resolve(&args.server, &args.client, Needs::Refresh, &http)?;
            let refresh_token = read_refresh_token(args.refresh_token_stdin)?;
            let config = settings.config(secret, &[])?;
            let response = http.refresh(config, refresh_token)?;
            output::print_response(&response, args.output)
        }
    }
}

/// Refreshes the token set of a cache and writes the new one back; the old cache stays
/// untouched when anything fails.
pub fn refresh_cache(
    http: &Http,
    path: &Path,
    previous: &TokenCache,
    secret: Option<&str>,
) -> Result<(TokenResponse, TokenCache), CliError> {
    let Some(refresh_token) = previous.token.refresh_token().cloned() else {
        return Err(CliError::cache(format!(
            "the cache {} holds no refresh token (the server issued none); run login again",
            path.display()
        )));
    };
    let config = previous.client.config(secret, &[])?;
    let response = http.refresh(config, refresh_token)?;
    let next = TokenCache::from_response(
        &response,
        previous.client.clone(),
        Some(previous),
        SystemTime::now(),
        Instant::now(),
    );
    cache::store(path, &next)?;
    Ok((response, next))
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
