//! Sign in with GitHub (an OAuth app or a GitHub App with the device flow enabled).
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_github -- <client-id> [scope ...]
//! ```
//!
//! Scopes default to `read:user`. GitHub App tokens ignore scopes.

// The blocking examples' copy: what the user sees does not depend on the driver.
#[path = "../../transport-ureq/examples/terminal/mod.rs"]
mod terminal;

use device_grant_reqwest::device_grant::Config;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client_id, scopes @ ..] = args.as_slice() else {
        terminal::usage("github <client-id> [scope ...]");
    };
    let scope = if scopes.is_empty() {
        "read:user".to_owned()
    } else {
        scopes.join(" ")
    };
    let config = Config::github(client_id.as_str())
        .scope(&scope)
        .build()
        .unwrap_or_else(|e| terminal::fail(&e));
    match device_grant_reqwest::authorize(config, terminal::show).await {
        Ok(token) => terminal::report(&token),
        Err(e) => terminal::fail(&e),
    }
}
