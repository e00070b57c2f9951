//! Sign in with any RFC 8628 server, given its endpoints.
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_generic -- <device-endpoint> <token-endpoint> <client-id> [scope ...]
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

// A link to the blocking examples' copy: what the user sees does not depend on the driver.
mod terminal;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if terminal::kit::enabled() {
        return kit().await;
    }
    let config = terminal::settings::generic();
    terminal::finish(device_grant_reqwest::authorize(config, terminal::show).await);
}

async fn kit() {
    let config = Arc::new(terminal::kit::config());
    let mut token = device_grant_reqwest::authorize(config.clone(), terminal::show)
        .await
        .unwrap_or_else(|e| terminal::fail(&e));
    terminal::kit::signed_in(&token);
    for _ in 0..terminal::kit::refreshes() {
        let refresh_token = terminal::kit::refresh_token(&token);
        token = device_grant_reqwest::refresh(config.clone(), refresh_token)
            .await
            .unwrap_or_else(|e| terminal::fail(&e));
        terminal::kit::refreshed(&token);
    }
}
