//! Sign in with any RFC 8628 server, given its endpoints.
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_generic -- <device-endpoint> <token-endpoint> <client-id> [scope ...]
//! ```
//!
//! Endpoints must use `https`, except on loopback addresses, so a local test server at
//! `http://127.0.0.1:<port>` works as it is.

// A link to the blocking examples' copy: what the user sees does not depend on the driver.
mod terminal;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = terminal::settings::generic();
    terminal::finish(device_grant_reqwest::authorize(config, terminal::show).await);
}
