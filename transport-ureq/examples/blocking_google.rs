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

fn main() {
    let config = terminal::settings::google();
    terminal::finish(device_grant_ureq::authorize(config, terminal::show));
}
