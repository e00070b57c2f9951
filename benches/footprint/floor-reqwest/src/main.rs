//! A device flow written by hand over reqwest: `footprint-floor-reqwest <device URL> <token URL> <client id>`.
//!
//! Its own plain client (no timeouts, no presets), URLs parsed once, its own JSON extraction,
//! no serde.

use std::time::Duration;

#[path = "../../../src/json.rs"]
#[allow(dead_code)]
mod json;
#[path = "../../floor_fields.rs"]
mod floor_fields;

use floor_fields::read;

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn post(
    client: &reqwest::Client,
    url: &reqwest::Url,
    body: String,
) -> reqwest::Result<(u16, Vec<u8>)> {
    let answer = client
        .post(url.clone())
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
    let client = reqwest::Client::new();
    let (device, token): (reqwest::Url, reqwest::Url) = (device.parse()?, token.parse()?);
    let (status, body) = post(
        &client,
        &device,
        form(&[("client_id", client_id), ("scope", "openid")]),
    )
    .await?;
    let auth = read(&body)?;
    if status != 200 {
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
    let poll = form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", &device_code),
        ("client_id", client_id),
    ]);
    let mut interval = Duration::from_secs(auth.interval.filter(|&s| s > 0).unwrap_or(5));
    let mut left = Duration::from_secs(expires_in);
    loop {
        left = left.checked_sub(interval).ok_or("the code expired")?;
        tokio::time::sleep(interval).await;
        let (status, body) = post(&client, &token, poll.clone()).await?;
        let got = read(&body)?;
        if status == 200 {
            let (Some(_), Some(token_type)) = (got.access_token, got.token_type) else {
                return Err("an incomplete token answer".into());
            };
            return Ok(token_type);
        }
        match got.error.as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            other => return Err(other.unwrap_or("no error code").into()),
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
