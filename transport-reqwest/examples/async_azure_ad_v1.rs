//! Sign in with Azure AD v1 (the ADAL-era endpoints), asking for a token for one `resource`.
//!
//! ```text
//! cargo run -p device-grant-reqwest --example async_azure_ad_v1 -- <tenant> <client-id> <resource>
//! ```
//!
//! For example the resource `https://management.core.windows.net/` for Azure Resource
//! Manager. The app registration must allow public client flows.

// The blocking examples' copy: what the user sees does not depend on the driver.
#[path = "../../transport-ureq/examples/terminal/mod.rs"]
mod terminal;

use device_grant_reqwest::device_grant::Config;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tenant, client_id, resource] = args.as_slice() else {
        terminal::usage("azure_ad_v1 <tenant> <client-id> <resource>");
    };
    let config = Config::azure_ad_v1(tenant, client_id.as_str(), resource.as_str())
        .build()
        .unwrap_or_else(|e| terminal::fail(&e));
    match device_grant_reqwest::authorize(config, terminal::show).await {
        Ok(token) => terminal::report(&token),
        Err(e) => terminal::fail(&e),
    }
}
