//! Sign in with Azure AD v1 (the ADAL-era endpoints), asking for a token for one `resource`.
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_azure_ad_v1 -- <tenant> <client-id> <resource>
//! ```
//!
//! For example the resource `https://management.core.windows.net/` for Azure Resource
//! Manager. The app registration must allow public client flows.

// A link to the blocking examples' copy: what the user sees does not depend on the driver.
mod terminal;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = terminal::settings::azure_ad_v1();
    terminal::finish(device_grant_reqwest::authorize(config, terminal::show).await);
}
