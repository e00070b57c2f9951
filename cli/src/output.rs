//! What goes to stdout: the token response as one JSON object, or the bare access token.
//! stdout carries nothing else, so `$(device-grant ...)` captures exactly the token.

use std::io::{self, Write};
use std::time::SystemTime;

use device_grant_store::{TokenSet, unix_seconds};
use serde_json::{Map, Value};

use crate::args::OutputFormat;
use crate::exit::{CliError, Failure};

/// Prints a token response as the server's JSON (secrets included, on purpose) or as the
/// access token alone.
pub fn print_response(
    response: &device_grant::TokenResponse,
    format: OutputFormat,
) -> Result<(), CliError> {
    match format {
        OutputFormat::Json => print_line(&response.to_json_with_secrets().to_string()),
        OutputFormat::Token => print_line(response.access_token().secret()),
    }
}

/// Prints a stored token: the access token alone, or a JSON object in the form of a token
/// response with `expires_in` counted from `now` (and the refresh token when asked for).
pub fn print_set(
    set: &TokenSet,
    format: OutputFormat,
    now: SystemTime,
    with_refresh_token: bool,
) -> Result<(), CliError> {
    let Some(access) = set.access_token() else {
        return Err(CliError::cache(
            "the stored token set has no access token; run login",
        ));
    };
    match format {
        OutputFormat::Token => print_line(access.secret()),
        OutputFormat::Json => {
            let mut out = Map::new();
            out.insert("access_token".into(), access.secret().into());
            out.insert("token_type".into(), set.token_type().into());
            if let Some(at) = set.expires_at() {
                out.insert(
                    "expires_in".into(),
                    at.saturating_sub(unix_seconds(now)).into(),
                );
                out.insert("expires_at".into(), at.into());
            }
            if with_refresh_token && let Some(r) = set.refresh_token() {
                out.insert("refresh_token".into(), r.secret().into());
            }
            if !set.scopes().is_empty() {
                out.insert("scope".into(), set.scopes().join(" ").into());
            }
            print_line(&Value::Object(out).to_string())
        }
    }
}

/// Prints one line on stdout.
pub fn print_text(text: &str) -> Result<(), CliError> {
    print_line(text)
}

fn print_line(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::new(Failure::Other, format!("could not write to stdout ({e})")))
}
