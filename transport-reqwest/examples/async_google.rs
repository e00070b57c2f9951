//! Sign in with Google, as a "TVs and Limited Input devices" OAuth client.
//!
//! ```text
//! GOOGLE_CLIENT_ID=... GOOGLE_CLIENT_SECRET=... cargo run -p device-grant-reqwest --example async_google -- [scope ...]
//! ```
//!
//! Google requires the client secret of such clients in the token request; it and the client
//! id are read from the environment so that they do not show in the process list. Scopes default to
//! `openid email` (Google allows only a few scopes in this flow).

// A link to the blocking examples' copy: what the user sees does not depend on the driver.
mod terminal;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = terminal::settings::google();
    terminal::finish(device_grant_reqwest::authorize(config, terminal::show).await);
}
