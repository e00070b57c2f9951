//! A device flow written by hand over reqwest: `footprint-floor-reqwest <device URL> <token URL> <client id>`.

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

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: String,
) -> reqwest::Result<(u16, Vec<u8>)> {
    let answer = client
        .post(url)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = answer.status().as_u16();
    Ok((status, answer.bytes().await?.to_vec()))
}

async fn flow(
    device: &str,
    token: &str,
    client_id: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let (status, body) = post(
        &client,
        device,
        form(&[("client_id", client_id), ("scope", "openid")]),
    )
    .await?;
    if status != 200 {
        return Err(serde_json::from_slice::<OAuthError>(&body)?.error.into());
    }
    let auth: DeviceAuthorization = serde_json::from_slice(&body)?;
    eprintln!(
        "Open {} and enter {}",
        auth.verification_uri, auth.user_code
    );
    let poll = form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", &auth.device_code),
        ("client_id", client_id),
    ]);
    let mut interval = Duration::from_secs(auth.interval.filter(|&s| s > 0).unwrap_or(5));
    let mut left = Duration::from_secs(auth.expires_in);
    loop {
        left = left.checked_sub(interval).ok_or("the code expired")?;
        tokio::time::sleep(interval).await;
        let (status, body) = post(&client, token, poll.clone()).await?;
        if status == 200 {
            let t: Token = serde_json::from_slice(&body)?;
            assert!(!t.access_token.is_empty());
            return Ok(t.token_type);
        }
        let e: OAuthError = serde_json::from_slice(&body)?;
        match e.error.as_str() {
            "authorization_pending" => {}
            "slow_down" => interval += Duration::from_secs(5),
            _ => return Err(e.error.into()),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [device, token, client_id] = &args[..] else {
        return Err("usage: <device URL> <token URL> <client id>".into());
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let token_type = runtime.block_on(flow(device, token, client_id))?;
    println!("got a {token_type} token");
    Ok(())
}
