//! oauth2-rs 5's device flow (`exchange_device_code`, `exchange_device_access_token`,
//! `exchange_refresh_token`) driven by the kit's environment variables, as an application
//! would use it: redirects off, the library's own polling loop.

use std::env;
use std::process::ExitCode;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, ClientId, ClientSecret, DeviceAuthorizationUrl, DeviceCodeErrorResponseType,
    RefreshToken, RequestTokenError, Scope, StandardDeviceAuthorizationResponse, TokenResponse,
    TokenUrl,
};

fn var(name: &str) -> String {
    env::var(name).unwrap_or_default()
}

fn main() -> ExitCode {
    let transport = env::args().nth(1).unwrap_or_else(|| "reqwest".to_owned());
    match transport.as_str() {
        "reqwest" => {
            let http = oauth2::reqwest::blocking::ClientBuilder::new()
                .redirect(oauth2::reqwest::redirect::Policy::none())
                .build()
                .expect("a reqwest client");
            run!(http)
        }
        "ureq" => {
            let http = oauth2::ureq::builder().redirects(0).build();
            run!(http)
        }
        other => {
            eprintln!("unknown transport {other}");
            ExitCode::from(2)
        }
    }
}

#[macro_export]
macro_rules! run {
    ($http:expr) => {{
        let http = $http;
        let mut client = BasicClient::new(ClientId::new(var("CLIENT_ID")))
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(var("DEVICE_AUTHORIZATION_ENDPOINT")).expect("url"),
            )
            .set_token_uri(TokenUrl::new(var("TOKEN_ENDPOINT")).expect("url"));
        let secret = var("CLIENT_SECRET");
        if !secret.is_empty() {
            client = client.set_client_secret(ClientSecret::new(secret));
        }
        if var("CLIENT_AUTH_METHOD") == "client_secret_post" {
            client = client.set_auth_type(AuthType::RequestBody);
        }
        let mut request = client.exchange_device_code();
        for scope in var("SCOPE").split_whitespace() {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let details: StandardDeviceAuthorizationResponse = match request.request(&http) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: device authorization: {e}");
                return ExitCode::from(5);
            }
        };
        println!(
            "Open {} and enter the code {}",
            details.verification_uri().as_str(),
            details.user_code().secret()
        );
        let token = match client
            .exchange_device_access_token(&details)
            .request(&http, std::thread::sleep, None)
        {
            Ok(t) => t,
            Err(RequestTokenError::ServerResponse(e)) => {
                eprintln!("error: {e}");
                return match e.error() {
                    DeviceCodeErrorResponseType::AccessDenied => ExitCode::from(3),
                    DeviceCodeErrorResponseType::ExpiredToken => ExitCode::from(4),
                    _ => ExitCode::from(5),
                };
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(5);
            }
        };
        println!("access_token={}", token.access_token().secret());
        if var("HARNESS_REFRESH") == "1" {
            let count: u32 = var("HARNESS_REFRESH_COUNT").parse().unwrap_or(1);
            let mut refresh: Option<RefreshToken> = token.refresh_token().cloned();
            for _ in 0..count {
                let Some(rt) = refresh.clone() else {
                    eprintln!("error: no refresh token");
                    return ExitCode::from(5);
                };
                match client.exchange_refresh_token(&rt).request(&http) {
                    Ok(t) => {
                        println!("refreshed_access_token={}", t.access_token().secret());
                        if let Some(new) = t.refresh_token() {
                            refresh = Some(new.clone());
                        }
                    }
                    Err(RequestTokenError::ServerResponse(e)) => {
                        let _: &BasicErrorResponseType = e.error();
                        eprintln!("error: refresh: {e}");
                        return ExitCode::from(5);
                    }
                    Err(e) => {
                        eprintln!("error: refresh: {e}");
                        return ExitCode::from(5);
                    }
                }
            }
        }
        ExitCode::SUCCESS
    }};
}
