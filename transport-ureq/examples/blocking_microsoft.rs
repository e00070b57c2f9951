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

fn main() {
    let config = terminal::settings::microsoft();
    terminal::finish(device_grant_ureq::authorize(config, terminal::show));
}
