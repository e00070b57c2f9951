//! Sign in with GitHub (an OAuth app or a GitHub App with the device flow enabled).
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_github -- <client-id> [scope ...]
//! ```
//!
//! Scopes default to `read:user`. GitHub App tokens ignore scopes.

// A link to the blocking examples' copy: what the user sees does not depend on the driver.
mod terminal;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = terminal::settings::github();
    terminal::finish(device_grant_reqwest::authorize(config, terminal::show).await);
}
