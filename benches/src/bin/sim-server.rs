//! The simulated authorization server in a process of its own, so that the loopback
//! measurements see only the client's CPU time and instructions.
//!
//! `sim-server <pending polls>` prints one line, `<device URL> <token URL> <client id>`, then
//! serves until its standard input closes. Every flow gets `pending` answers of
//! `authorization_pending` and then its token; the device response carries no `interval`
//! and early polls are not answered `slow_down`, so clients poll back to back.

use std::io::Read;

use device_grant_tests::{Dialect, Script, Server, ServerConfig};

fn main() -> std::io::Result<()> {
    let pending: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: sim-server <pending polls>");
            std::process::exit(2)
        });
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .no_interval()
            .enforce_interval(false)
            .script(Script::approve_after_polls(pending)),
    )?;
    println!(
        "{} {} {}",
        server.device_endpoint(),
        server.token_endpoint(),
        server.client_id()
    );
    // Serve until the parent closes our standard input (or exits).
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink)?;
    server.shutdown();
    Ok(())
}
