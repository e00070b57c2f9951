//! Sign in with Google, as a "TVs and Limited Input devices" OAuth client.
//!
//! ```text
//! GOOGLE_CLIENT_ID=... GOOGLE_CLIENT_SECRET=... cargo run -p device-grant-ureq --example blocking_google -- [scope ...]
//! ```
//!
//! Google requires the client secret of such clients in the token request; it and the client
//! id are read from the environment so that they do not show in the process list. Scopes
//! default to `openid email` (Google allows only a few scopes in this flow).

mod terminal;

use device_grant_ureq::device_grant::Config;

const USAGE: &str = "GOOGLE_CLIENT_ID=... GOOGLE_CLIENT_SECRET=... google [scope ...]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(client_id), Some(secret)) = (
        terminal::env("GOOGLE_CLIENT_ID"),
        terminal::env("GOOGLE_CLIENT_SECRET"),
    ) else {
        terminal::usage(USAGE);
    };
    let scope = terminal::scope(&args, "GOOGLE_SCOPE", "openid email");
    let config = Config::google(client_id, secret)
        .scope(&scope)
        .build()
        .unwrap_or_else(|e| terminal::fail(&e));
    match device_grant_ureq::authorize(config, terminal::show) {
        Ok(token) => terminal::report(&token),
        Err(e) => terminal::fail(&e),
    }
}
