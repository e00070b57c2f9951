//! Sign in with any RFC 8628 server, given its endpoints.
//!
//! ```text
//! cargo run -p device-grant-ureq --example blocking_generic -- <device-endpoint> <token-endpoint> <client-id> [scope ...]
//! ```
//!
//! Endpoints must use `https`, except on loopback addresses, so a local test server at
//! `http://127.0.0.1:<port>` works as it is.
//!
//! With `DEVICE_GRANT_KIT=1` it is a client for `device-grant-sim check` instead (harness
//! mode): it takes no arguments, reads the kit's environment (endpoints, client, scope,
//! `PROVIDER`), prints `access_token=<token>` once signed in, then refreshes as many times as
//! `HARNESS_REFRESH_COUNT` asks, each time with the newest refresh token, printing
//! `refreshed_access_token=<token>`. Only this mode prints tokens.

use std::sync::Arc;

mod terminal;

fn main() {
    if terminal::kit::enabled() {
        return kit();
    }
    let config = terminal::settings::generic();
    terminal::finish(device_grant_ureq::authorize(config, terminal::show));
}

fn kit() {
    let config = Arc::new(terminal::kit::config());
    let mut token = device_grant_ureq::authorize(config.clone(), terminal::show)
        .unwrap_or_else(|e| terminal::fail(&e));
    terminal::kit::signed_in(&token);
    for _ in 0..terminal::kit::refreshes() {
        let refresh_token = terminal::kit::refresh_token(&token);
        token = device_grant_ureq::refresh(config.clone(), refresh_token)
            .unwrap_or_else(|e| terminal::fail(&e));
        terminal::kit::refreshed(&token);
    }
}
