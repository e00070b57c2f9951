//! Sign in with the Microsoft identity platform (v2 endpoints).
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_microsoft -- <tenant> <client-id> [scope ...]
//! ```
//!
//! `tenant` is `common`, `organizations`, `consumers`, a tenant id or a domain. The app
//! registration must allow public client flows. Scopes default to
//! `openid offline_access User.Read`.

// The blocking examples' copy: what the user sees does not depend on the driver.
#[path = "../../transport-ureq/examples/terminal/mod.rs"]
mod terminal;

use device_grant_reqwest::device_grant::Config;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tenant, client_id, scopes @ ..] = args.as_slice() else {
        terminal::usage("microsoft <tenant> <client-id> [scope ...]");
    };
    let scope = if scopes.is_empty() {
        "openid offline_access User.Read".to_owned()
    } else {
        scopes.join(" ")
    };
    let config = Config::microsoft(tenant, client_id.as_str())
        .scope(&scope)
        .build()
        .unwrap_or_else(|e| terminal::fail(&e));
    match device_grant_reqwest::authorize(config, terminal::show).await {
        Ok(token) => terminal::report(&token),
        Err(e) => terminal::fail(&e),
    }
}
