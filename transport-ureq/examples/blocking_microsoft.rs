//! Sign in with the Microsoft identity platform (v2 endpoints).
//!
//! ```text
//! cargo run -p device-grant-ureq --example blocking_microsoft -- <tenant> <client-id> [scope ...]
//! MICROSOFT_TENANT=... MICROSOFT_CLIENT_ID=... [MICROSOFT_SCOPE=...] cargo run -p device-grant-ureq --example blocking_microsoft
//! ```
//!
//! `tenant` is `common`, `organizations`, `consumers`, a tenant id or a domain. The app
//! registration must allow public client flows. Scopes default to
//! `openid offline_access User.Read`.

mod terminal;

use device_grant_ureq::device_grant::Config;

const USAGE: &str = "microsoft <tenant> <client-id> [scope ...]\n   \
    or: MICROSOFT_TENANT=... MICROSOFT_CLIENT_ID=... [MICROSOFT_SCOPE=...] microsoft";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (tenant, client_id, scopes) = match args.as_slice() {
        [tenant, client_id, scopes @ ..] => (tenant.clone(), client_id.clone(), scopes),
        [] => match (
            terminal::env("MICROSOFT_TENANT"),
            terminal::env("MICROSOFT_CLIENT_ID"),
        ) {
            (Some(tenant), Some(client_id)) => (tenant, client_id, &[][..]),
            _ => terminal::usage(USAGE),
        },
        _ => terminal::usage(USAGE),
    };
    let scope = terminal::scope(scopes, "MICROSOFT_SCOPE", "openid offline_access User.Read");
    let config = Config::microsoft(&tenant, client_id)
        .scope(&scope)
        .build()
        .unwrap_or_else(|e| terminal::fail(&e));
    match device_grant_ureq::authorize(config, terminal::show) {
        Ok(token) => terminal::report(&token),
        Err(e) => terminal::fail(&e),
    }
}
