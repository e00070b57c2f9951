//! Sign in with any RFC 8628 server, given its endpoints.
//!
//! ```text
//! cargo run -p device-grant-ureq --example blocking_generic -- <device-endpoint> <token-endpoint> <client-id> [scope ...]
//! ```
//!
//! Endpoints must use `https`, except on loopback addresses, so a local test server at
//! `http://127.0.0.1:<port>` works as it is.

mod terminal;

fn main() {
    let config = terminal::settings::generic();
    terminal::finish(device_grant_ureq::authorize(config, terminal::show));
}
