//! A device flow written by hand over ureq: `footprint-floor-ureq <device URL> <token URL> <client id>`.

use std::time::Duration;

use serde::Deserialize;

#[derive(Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u64,
    interval: Option<u64>,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
    token_type: String,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [device, token, client_id] = &args[..] else {
        return Err("usage: <device URL> <token URL> <client id>".into());
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut answer = agent
        .post(device)
        .header("accept", "application/json")
        .send_form([("client_id", client_id.as_str()), ("scope", "openid")])?;
    if answer.status() != 200 {
        let e: OAuthError = serde_json::from_slice(&answer.body_mut().read_to_vec()?)?;
        return Err(e.error.into());
    }
    let auth: DeviceAuthorization = serde_json::from_slice(&answer.body_mut().read_to_vec()?)?;
    eprintln!(
        "Open {} and enter {}",
        auth.verification_uri, auth.user_code
    );
    let mut interval = Duration::from_secs(auth.interval.filter(|&s| s > 0).unwrap_or(5));
    let mut left = Duration::from_secs(auth.expires_in);
    loop {
        left = left.checked_sub(interval).ok_or("the code expired")?;
        std::thread::sleep(interval);
        let mut answer = agent
            .post(token)
            .header("accept", "application/json")
            .send_form([
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", auth.device_code.as_str()),
                ("client_id", client_id.as_str()),
            ])?;
        let body = answer.body_mut().read_to_vec()?;
        if answer.status() == 200 {
            let t: Token = serde_json::from_slice(&body)?;
            assert!(!t.access_token.is_empty());
            println!("got a {} token", t.token_type);
            return Ok(());
        }
        let e: OAuthError = serde_json::from_slice(&body)?;
        match e.error.as_str() {
            "authorization_pending" => {}
            "slow_down" => interval += Duration::from_secs(5),
            _ => return Err(e.error.into()),
        }
    }
}
