//! What goes to stdout: the token response as one JSON object, or the bare access token.
//! stdout carries nothing else, so `$(device-grant ...)` captures exactly the token.

use std::io::{self, Write};
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::args::OutputFormat;
use crate::cache::TokenCache;
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

/// Prints a cached token: the access token alone, or a JSON object in the form of a token
/// response with `expires_in` counted from `now`.
pub fn print_cached(
    cache: &TokenCache,
    format: OutputFormat,
    now: SystemTime,
) -> Result<(), CliError> {
    match format {
        OutputFormat::Token => print_line(cache.token.access_token().secret()),
        OutputFormat::Json => print_line(&cached_json(cache, now).to_string()),
    }
}

/// The cached token as a token-response-shaped JSON object.
pub fn cached_json(cache: &TokenCache, now: SystemTime) -> Value {
    let mut out = Map::new();
    out.insert(
        "access_token".into(),
        cache.token.access_token().secret().into(),
    );
    out.insert("token_type".into(), cache.token.token_type().into());
    if let Some(left) = cache.remaining(now) {
        out.insert("expires_in".into(), left.as_secs().into());
    }
    if let Some(at) = cache.expires_at {
        out.insert("expires_at".into(), at.into());
    }
    if !cache.scopes().is_empty() {
        out.insert("scope".into(), cache.scopes().join(" ").into());
    }
    Value::Object(out)
}

fn print_line(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::new(Failure::Other, format!("could not write to stdout ({e})")))
}
