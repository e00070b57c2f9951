//! What goes to stdout: the token as one JSON object of a documented shape, or the bare
//! access token; with `--output json`, a failure as a JSON error instead. stdout carries
//! nothing else, so `$(device-grant ...)` captures exactly the token.
//!
//! The shape is the same for `login`, `refresh` and `token` (see `device-grant --help`):
//! `access_token`, `token_type`, `expires_in` (seconds from now) and `expires_at` (Unix
//! seconds) when the server gave a lifetime, `refresh_token` where the command hands it
//! over (`login`, `refresh`), `scope` and `id_token` when there are some. Other members of
//! the server's answer are left out: they differ by provider, and the shape must not.

use std::io::{self, Write};
use std::time::SystemTime;

use device_grant_store::{ClientInfo, TokenSet, unix_seconds};
use serde_json::{Map, Value};

use crate::args::OutputFormat;
use crate::exit::{CliError, Failure};

/// Prints a token response in the shape of [`print_set`] (refresh token included, on
/// purpose: the caller has nowhere else to get it from) or as the access token alone.
pub fn print_response(
    response: &device_grant::TokenResponse,
    format: OutputFormat,
) -> Result<(), CliError> {
    let now = SystemTime::now();
    // Only the token members are read; the client does not appear in the output.
    let set = TokenSet::from_response(response, now, ClientInfo::new("", ""));
    print_set(&set, format, now, true)
}

/// The access token's expiry in Unix seconds, when the response gives a lifetime.
pub fn expires_at(response: &device_grant::TokenResponse, now: SystemTime) -> Option<u64> {
    TokenSet::from_response(response, now, ClientInfo::new("", "")).expires_at()
}

/// Prints a stored token: the access token alone, or the JSON object with `expires_in`
/// counted from `now` (and the refresh token when asked for).
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
            print_line(&token_json(set, now, with_refresh_token, access.secret()).to_string())
        }
    }
}

fn token_json(set: &TokenSet, now: SystemTime, with_refresh_token: bool, access: &str) -> Value {
    let mut out = Map::new();
    out.insert("access_token".into(), access.into());
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
    if let Some(id) = set.id_token() {
        out.insert("id_token".into(), id.secret().into());
    }
    Value::Object(out)
}

/// Prints `{"error": {"kind", "message", "exit_code"}}` on stdout, where a script that
/// asked for JSON reads the token otherwise. Nothing to do when stdout is gone.
pub fn print_error(error: &CliError) {
    let _ = print_line(&serde_json::json!({ "error": error.to_json() }).to_string());
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
