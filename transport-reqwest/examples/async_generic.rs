//! Sign in with any RFC 8628 server, given its endpoints.
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_generic -- <device-endpoint> <token-endpoint> <client-id> [scope ...]
//! ```
//!
//! Endpoints must use `https`, except on loopback addresses, so a local test server at
//! `http://127.0.0.1:<port>` works as it is.

// The blocking examples' copy: what the user sees does not depend on the driver.
#[path = "../../transport-ureq/examples/terminal/mod.rs"]
mod terminal;

use device_grant_reqwest::device_grant::Config;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [device_endpoint, token_endpoint, client_id, scopes @ ..] = args.as_slice() else {
        terminal::usage("generic <device-endpoint> <token-endpoint> <client-id> [scope ...]");
    };
    let config = Config::builder(client_id.as_str())
        .device_endpoint(device_endpoint.as_str())
        .token_endpoint(token_endpoint.as_str())
        .scopes(scopes)
        .build()
        .unwrap_or_else(|e| terminal::fail(&e));
    match device_grant_reqwest::authorize(config, terminal::show).await {
        Ok(token) => terminal::report(&token),
        Err(e) => terminal::fail(&e),
    }
}
