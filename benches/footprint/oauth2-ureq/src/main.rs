//! Gets a token with oauth2 over ureq: `footprint-oauth2-ureq <device URL> <token URL> <client id>`.

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
    let http = oauth2::ureq::builder().redirects(0).build();
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("openid".into()))
        .request(&http)?;
    eprintln!(
        "Open {} and enter {}",
        details.verification_uri().as_str(),
        details.user_code().secret()
    );
    let token =
        client
            .exchange_device_access_token(&details)
            .request(&http, std::thread::sleep, None)?;
    println!("got a {:?} token", token.token_type());
    Ok(())
}
