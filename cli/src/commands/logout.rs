//! `device-grant logout`: revoke the refresh token at the server (RFC 7009) when a
//! revocation endpoint is known, then delete the local token set. Says what it did.

use device_grant::http::{Request, header};
use device_grant_store::TokenSet;

use crate::args::{AuthMethod, LogoutArgs};
use crate::commands::store_of;
use crate::exit::CliError;
use crate::tokens;

/// The largest revocation answer read: RFC 7009 answers are empty or tiny.
const ANSWER_LIMIT: usize = 16 * 1024;

/// Signs out.
pub fn run(args: &LogoutArgs) -> Result<(), CliError> {
    let store = store_of(&args.store)?;
    let Some(set) = store.load()? else {
        note!("Not signed in ({}): nothing to do.", store.describe());
        return Ok(());
    };
    match revoke(&set, args.secret.client_secret.as_deref()) {
        Revoked::Yes(endpoint) => note!("Revoked the refresh token at {endpoint}."),
        Revoked::NoToken => {}
        Revoked::NoEndpoint => note!(
            "Not revoked at the server: no revocation endpoint is known for it. The refresh token stays valid there until it expires or is revoked by other means."
        ),
        Revoked::Failed(endpoint, why) => note!(
            "warning: revoking the refresh token at {endpoint} failed ({why}); it may stay valid at the server"
        ),
    }
    store.delete()?;
    note!("Deleted the local token set ({}).", store.describe());
    Ok(())
}

enum Revoked {
    Yes(String),
    NoToken,
    NoEndpoint,
    Failed(String, String),
}

fn revoke(set: &TokenSet, secret: Option<&str>) -> Revoked {
    // The refresh token is the long-lived one; revoking it also ends its access tokens at
    // servers that tie them together (RFC 7009 §2.1).
    let (token, hint) = match (set.refresh_token(), set.access_token()) {
        (Some(r), _) => (r.secret(), "refresh_token"),
        (None, Some(a)) => (a.secret(), "access_token"),
        (None, None) => return Revoked::NoToken,
    };
    let client = set.client();
    let Some(endpoint) = client.revocation_endpoint.clone() else {
        return Revoked::NoEndpoint;
    };
    let settings = match tokens::settings_of(set) {
        Ok(s) => s,
        Err(e) => return Revoked::Failed(endpoint, e.to_string()),
    };
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token)
        .append_pair("token_type_hint", hint);
    let mut request = Request::post(endpoint.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    // RFC 7009 §2.1: the client authenticates as at the token endpoint.
    match (settings.auth_method, secret) {
        (AuthMethod::None, _) => {
            form.append_pair("client_id", &client.client_id);
        }
        (AuthMethod::Post, Some(s)) => {
            form.append_pair("client_id", &client.client_id)
                .append_pair("client_secret", s);
        }
        (AuthMethod::Basic, Some(s)) => {
            use base64::Engine as _;
            let enc =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(&client.client_id), enc(s));
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            );
            request = request.header(header::AUTHORIZATION, value);
        }
        (_, None) => {
            return Revoked::Failed(
                endpoint,
                "this client authenticates with a secret: set DEVICE_GRANT_CLIENT_SECRET".into(),
            );
        }
    }
    let Ok(request) = request.body(form.finish().into_bytes()) else {
        return Revoked::Failed(endpoint, "the endpoint is not a valid URI".into());
    };
    let agent = device_grant_ureq::agent();
    match crate::verbose::send(&agent, request, ANSWER_LIMIT) {
        Ok(r) if r.status().is_success() => Revoked::Yes(endpoint),
        Ok(r) => {
            let status = r.status().as_u16();
            Revoked::Failed(endpoint, format!("HTTP {status}"))
        }
        Err(e) => Revoked::Failed(endpoint, e.to_string()),
    }
}
