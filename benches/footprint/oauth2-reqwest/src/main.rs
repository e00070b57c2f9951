//! Gets a token with oauth2 over reqwest: `footprint-oauth2-reqwest <device URL> <token URL> <client id>`.

use oauth2::basic::BasicClient;
use oauth2::{
    ClientId, DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse, TokenResponse,
    TokenUrl,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [device, token, client_id] = &args[..] else {
        return Err("usage: <device URL> <token URL> <client id>".into());
    };
    let client = BasicClient::new(ClientId::new(client_id.clone()))
        .set_device_authorization_url(DeviceAuthorizationUrl::new(device.clone())?)
        .set_token_uri(TokenUrl::new(token.clone())?);
    // oauth2 asks for redirects to be off, for the same reason device-grant turns them off.
    let http = oauth2::reqwest::ClientBuilder::new()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let token = runtime.block_on(async {
        let details: StandardDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scope(Scope::new("openid".into()))
            .request_async(&http)
            .await?;
        eprintln!(
            "Open {} and enter {}",
            details.verification_uri().as_str(),
            details.user_code().secret()
        );
        client
            .exchange_device_access_token(&details)
            .request_async(&http, tokio::time::sleep, None)
            .await
            .map_err(Box::<dyn std::error::Error>::from)
    })?;
    println!("got a {:?} token", token.token_type());
    Ok(())
}
