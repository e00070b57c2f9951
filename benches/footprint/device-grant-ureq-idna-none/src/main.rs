//! Gets a token with device-grant-ureq: `footprint-device-grant-ureq <device URL> <token URL> <client id>`.

use device_grant_ureq::device_grant::{Config, Event};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [device, token, client_id] = &args[..] else {
        return Err("usage: <device URL> <token URL> <client id>".into());
    };
    let config = Config::builder(client_id)
        .device_endpoint(device)
        .token_endpoint(token)
        .scope("openid")
        .build()?;
    let token = device_grant_ureq::authorize(config, |event| {
        if let Event::UserCode(prompt) = event {
            eprintln!(
                "Open {} and enter {}",
                prompt.verification_uri(),
                prompt.user_code()
            );
        }
    })?;
    println!("got a {} token", token.token_type());
    Ok(())
}
