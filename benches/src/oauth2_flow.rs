//! The same flow through `oauth2` 5.x, with the in-memory server as its HTTP client (its
//! `SyncHttpClient` closure) and a sleep that returns at once.

use std::convert::Infallible;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    ClientId, DeviceAuthorizationUrl, DeviceCodeErrorResponse, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, Scope, StandardDeviceAuthorizationResponse, TokenUrl,
};

use crate::canned::{self, Canned};

/// A `BasicClient` with the device authorization and token endpoints set.
pub type DeviceClient =
    BasicClient<EndpointNotSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A client configured like [`crate::core_flow::config`].
pub fn client(client_id: &str, device_url: &str, token_url: &str) -> DeviceClient {
    BasicClient::new(ClientId::new(client_id.into()))
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(device_url.into()).expect("a valid URL"),
        )
        .set_token_uri(TokenUrl::new(token_url.into()).expect("a valid URL"))
}

/// The scopes, as `oauth2` takes them.
pub fn scopes() -> impl Iterator<Item = Scope> {
    canned::SCOPES.iter().map(|s| Scope::new((*s).into()))
}

/// One complete flow against `server`.
pub fn run(client: &DeviceClient, server: &Canned) -> BasicTokenResponse {
    let http =
        |request: HttpRequest| -> Result<HttpResponse, Infallible> { Ok(server.call(&request)) };
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(scopes())
        .request(&http)
        .expect("device authorization");
    std::hint::black_box(details.user_code());
    client
        .exchange_device_access_token(&details)
        .request(&http, |_: Duration| {}, None)
        .expect("a token")
}

/// Reads a body the way `oauth2` reads every answer (its private `endpoint_response`): the
/// `Content-Type` checked case-insensitively, then `serde_path_to_error` over
/// `serde_json`, into its public types.
fn read<T: serde::de::DeserializeOwned>(response: &HttpResponse) -> Option<T> {
    if let Some(ct) = response.headers().get(http::header::CONTENT_TYPE) {
        let ct = ct.to_str().ok()?;
        if !ct.to_lowercase().starts_with(canned::JSON) {
            return None;
        }
    }
    let body = response.body().as_slice();
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).ok()
}

/// `oauth2`'s reading of a device authorization answer.
pub fn parse_device(response: &HttpResponse) -> Option<StandardDeviceAuthorizationResponse> {
    read(response)
}

/// `oauth2`'s reading of a token answer.
pub fn parse_token(response: &HttpResponse) -> Option<BasicTokenResponse> {
    read(response)
}

/// `oauth2`'s reading of a poll's error answer (it does not look at `Content-Type` there).
pub fn parse_error(response: &HttpResponse) -> Option<DeviceCodeErrorResponse> {
    let body = response.body().as_slice();
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::TokenResponse;

    #[test]
    fn a_complete_flow_gets_the_token() {
        let server = Canned::new(2);
        let token = run(
            &client(canned::CLIENT_ID, canned::DEVICE_URL, canned::TOKEN_URL),
            &server,
        );
        assert!(token.access_token().secret().starts_with("eyJ"));
        assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn parsers_read_the_canned_answers() {
        let d = parse_device(&canned::response(200, canned::JSON, canned::DEVICE_JSON)).unwrap();
        assert_eq!(d.user_code().secret(), "WDJB-MJHT");
        let t = parse_token(&canned::response(200, canned::JSON, canned::TOKEN_JSON)).unwrap();
        assert_eq!(t.scopes().unwrap().len(), 2);
        let e = parse_error(&canned::response(400, canned::JSON, canned::PENDING_JSON)).unwrap();
        assert_eq!(e.error().to_string(), "authorization_pending");
        assert!(parse_device(&canned::response(200, canned::FORM, canned::DEVICE_FORM)).is_none());
    }
}
