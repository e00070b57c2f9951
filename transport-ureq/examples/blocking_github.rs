//! Sign in with GitHub (an OAuth app or a GitHub App with the device flow enabled).
//!
//! ```text
//! cargo run -p device-grant-ureq --example blocking_github -- <client-id> [scope ...]
//! ```
//!
//! Scopes default to `read:user`. GitHub App tokens ignore scopes.

mod terminal;

fn main() {
    let config = terminal::settings::github();
    terminal::finish(device_grant_ureq::authorize(config, terminal::show));
}
