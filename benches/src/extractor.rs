//! The hand-written extractor: the fields a device-flow client needs, read with serde into
//! small structs (JSON) or picked out of `name=value` pairs (form). It validates nothing
//! beyond what the types require; it is the least work that still gets the values out.

use serde::Deserialize;

/// A device authorization answer (RFC 8628 §3.2).
#[derive(Debug, Deserialize, Default)]
pub struct DeviceAuthorization {
    /// The code to poll with.
    pub device_code: String,
    /// The code the user types.
    pub user_code: String,
    /// Where the user types it.
    pub verification_uri: String,
    /// The same with the code in it.
    pub verification_uri_complete: Option<String>,
    /// Lifetime of the codes, seconds.
    pub expires_in: u64,
    /// Seconds between polls.
    pub interval: Option<u64>,
}

/// A token answer (RFC 6749 §5.1).
#[derive(Debug, Deserialize, Default)]
pub struct Token {
    /// The access token.
    pub access_token: String,
    /// `Bearer`, usually.
    pub token_type: String,
    /// Lifetime of the access token, seconds.
    pub expires_in: Option<u64>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// The granted scopes, space-separated.
    pub scope: Option<String>,
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Debug, Deserialize, Default)]
pub struct OAuthError {
    /// The error code.
    pub error: String,
    /// Human-readable text.
    pub error_description: Option<String>,
    /// A page about the error.
    pub error_uri: Option<String>,
}

/// Reads a JSON device authorization answer.
pub fn device_json(body: &[u8]) -> serde_json::Result<DeviceAuthorization> {
    serde_json::from_slice(body)
}

/// Reads a JSON token answer.
pub fn token_json(body: &[u8]) -> serde_json::Result<Token> {
    serde_json::from_slice(body)
}

/// Reads a JSON error answer.
pub fn error_json(body: &[u8]) -> serde_json::Result<OAuthError> {
    serde_json::from_slice(body)
}

/// Why a form body did not give the fields.
#[derive(Debug, PartialEq, Eq)]
pub struct FormError(pub &'static str);

fn number(value: &str, name: &'static str) -> Result<u64, FormError> {
    value.parse().map_err(|_| FormError(name))
}

fn required(value: String, name: &'static str) -> Result<String, FormError> {
    if value.is_empty() {
        Err(FormError(name))
    } else {
        Ok(value)
    }
}

/// Reads a form-encoded device authorization answer.
pub fn device_form(body: &[u8]) -> Result<DeviceAuthorization, FormError> {
    let mut out = DeviceAuthorization::default();
    let mut expires_in = None;
    for (name, value) in url::form_urlencoded::parse(body) {
        match &*name {
            "device_code" => out.device_code = value.into_owned(),
            "user_code" => out.user_code = value.into_owned(),
            "verification_uri" => out.verification_uri = value.into_owned(),
            "verification_uri_complete" => out.verification_uri_complete = Some(value.into_owned()),
            "expires_in" => expires_in = Some(number(&value, "expires_in")?),
            "interval" => out.interval = Some(number(&value, "interval")?),
            _ => {}
        }
    }
    out.expires_in = expires_in.ok_or(FormError("expires_in"))?;
    out.device_code = required(out.device_code, "device_code")?;
    out.user_code = required(out.user_code, "user_code")?;
    out.verification_uri = required(out.verification_uri, "verification_uri")?;
    Ok(out)
}

/// Reads a form-encoded token answer.
pub fn token_form(body: &[u8]) -> Result<Token, FormError> {
    let mut out = Token::default();
    for (name, value) in url::form_urlencoded::parse(body) {
        match &*name {
            "access_token" => out.access_token = value.into_owned(),
            "token_type" => out.token_type = value.into_owned(),
            "expires_in" => out.expires_in = Some(number(&value, "expires_in")?),
            "refresh_token" => out.refresh_token = Some(value.into_owned()),
            "scope" => out.scope = Some(value.into_owned()),
            _ => {}
        }
    }
    out.access_token = required(out.access_token, "access_token")?;
    out.token_type = required(out.token_type, "token_type")?;
    Ok(out)
}

/// Reads a form-encoded error answer.
pub fn error_form(body: &[u8]) -> Result<OAuthError, FormError> {
    let mut out = OAuthError::default();
    for (name, value) in url::form_urlencoded::parse(body) {
        match &*name {
            "error" => out.error = value.into_owned(),
            "error_description" => out.error_description = Some(value.into_owned()),
            "error_uri" => out.error_uri = Some(value.into_owned()),
            _ => {}
        }
    }
    out.error = required(out.error, "error")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canned::*;

    #[test]
    fn json_and_form_give_the_same_fields() {
        let (a, b) = (
            device_json(DEVICE_JSON).unwrap(),
            device_form(DEVICE_FORM).unwrap(),
        );
        assert_eq!(a.device_code, b.device_code);
        assert_eq!(a.verification_uri, b.verification_uri);
        assert_eq!(a.verification_uri_complete, b.verification_uri_complete);
        assert_eq!((a.expires_in, a.interval), (b.expires_in, b.interval));
        let (a, b) = (
            token_json(TOKEN_JSON).unwrap(),
            token_form(TOKEN_FORM).unwrap(),
        );
        assert_eq!(a.access_token, b.access_token);
        assert_eq!(a.refresh_token, b.refresh_token);
        assert_eq!(a.scope, b.scope);
        assert_eq!(a.expires_in, Some(3600));
        let (a, b) = (
            error_json(PENDING_JSON).unwrap(),
            error_form(PENDING_FORM).unwrap(),
        );
        assert_eq!(a.error, "authorization_pending");
        assert_eq!(b.error, "authorization_pending");
    }

    #[test]
    fn missing_fields_are_errors() {
        assert!(device_json(br#"{"user_code":"u"}"#).is_err());
        assert_eq!(
            device_form(b"device_code=d&user_code=u&verification_uri=v").unwrap_err(),
            FormError("expires_in")
        );
        assert_eq!(
            token_form(b"token_type=Bearer").unwrap_err(),
            FormError("access_token")
        );
    }
}
