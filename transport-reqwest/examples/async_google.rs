//! Sign in with Google, as a "TVs and Limited Input devices" OAuth client.
//!
//! ```text
//! GOOGLE_CLIENT_SECRET=... cargo run -p device-grant-reqwest --example async_google -- <client-id> [scope ...]
//! ```
//!
//! Google requires the client secret of such clients in the token request; it is read from the
//! environment so that it does not show in the process list. Scopes default to
//! `openid email` (Google allows only a few scopes in this flow).

// The blocking examples' copy: what the user sees does not depend on the driver.
#[path = "../../transport-ureq/examples/terminal/mod.rs"]
mod terminal;

use device_grant_reqwest::device_grant::Config;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client_id, scopes @ ..] = args.as_slice() else {
        terminal::usage("GOOGLE_CLIENT_SECRET=... google <client-id> [scope ...]");
    };
    let Ok(secret) = std::env::var("GOOGLE_CLIENT_SECRET") else {
        terminal::usage("GOOGLE_CLIENT_SECRET=... google <client-id> [scope ...]");
    };
    let scope = if scopes.is_empty() {
        "openid email".to_owned()
    } else {
        scopes.join(" ")
    };
    let config = Config::google(client_id.as_str(), secret)
        .scope(&scope)
        .build()
        .unwrap_or_else(|e| terminal::fail(&e));
    match device_grant_reqwest::authorize(config, terminal::show).await {
        Ok(token) => terminal::report(&token),
        Err(e) => terminal::fail(&e),
    }
}
