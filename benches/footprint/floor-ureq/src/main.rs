//! A device flow written by hand over ureq: `footprint-floor-ureq <device URL> <token URL> <client id>`.
//!
//! Its own plain agent (no timeouts, no presets but error statuses read as answers), its own
//! JSON extraction, no serde.

use std::time::Duration;

#[path = "../../../src/json.rs"]
#[allow(dead_code)]
mod json;
#[path = "../../floor_fields.rs"]
mod floor_fields;

use floor_fields::{Fields, read};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [device, token, client_id] = &args[..] else {
        return Err("usage: <device URL> <token URL> <client id>".into());
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut answer = agent
        .post(device)
        .header("accept", "application/json")
        .send_form([("client_id", client_id.as_str()), ("scope", "openid")])?;
    let auth: Fields = read(&answer.body_mut().read_to_vec()?)?;
    if answer.status() != 200 {
        return Err(auth.error.unwrap_or_default().into());
    }
    let (Some(device_code), Some(user_code), Some(uri), Some(expires_in)) = (
        auth.device_code,
        auth.user_code,
        auth.verification_uri,
        auth.expires_in,
    ) else {
        return Err("an incomplete device authorization".into());
    };
    eprintln!("Open {uri} and enter {user_code}");
    let mut interval = Duration::from_secs(auth.interval.filter(|&s| s > 0).unwrap_or(5));
    let mut left = Duration::from_secs(expires_in);
    loop {
        left = left.checked_sub(interval).ok_or("the code expired")?;
        std::thread::sleep(interval);
        let mut answer = agent
            .post(token)
            .header("accept", "application/json")
            .send_form([
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code.as_str()),
                ("client_id", client_id.as_str()),
            ])?;
        let got = read(&answer.body_mut().read_to_vec()?)?;
        if answer.status() == 200 {
            let (Some(_), Some(token_type)) = (got.access_token, got.token_type) else {
                return Err("an incomplete token answer".into());
            };
            println!("got a {token_type} token");
            return Ok(());
        }
        match got.error.as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            other => return Err(other.unwrap_or("no error code").into()),
        }
    }
}
