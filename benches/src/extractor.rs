//! The hand-written extractor: the fields a device-flow client needs, picked out of the JSON
//! object by [`crate::json`] (no serde) or out of `name=value` pairs (form). It validates
//! nothing beyond what the fields require (strings where strings are needed, whole numbers
//! for lifetimes); it is the least work that still gets the values out correctly.

use std::borrow::Cow;

use crate::json::{self, Malformed, Value};

/// A device authorization answer (RFC 8628 §3.2).
#[derive(Debug, Default)]
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
#[derive(Debug, Default)]
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

/// An OAuth error answer (RFC 6749 §5.2), borrowed from the body: a pending answer is read
/// and dropped without a copy.
#[derive(Debug, Default)]
pub struct OAuthError<'a> {
    /// The error code.
    pub error: Cow<'a, str>,
    /// Human-readable text.
    pub error_description: Option<Cow<'a, str>>,
    /// A page about the error.
    pub error_uri: Option<Cow<'a, str>>,
}

fn json_number(value: &str) -> Result<u64, Malformed> {
    value.parse().map_err(|_| Malformed)
}

fn json_required(value: String) -> Result<String, Malformed> {
    if value.is_empty() {
        Err(Malformed)
    } else {
        Ok(value)
    }
}

/// Reads a JSON device authorization answer.
pub fn device_json(body: &[u8]) -> Result<DeviceAuthorization, Malformed> {
    let mut out = DeviceAuthorization::default();
    let (mut expires_in, mut interval, mut bad) = (None, None, false);
    json::members(body, |name, value| match (name, value) {
        ("device_code", Value::Str(s)) => out.device_code = s.into_owned(),
        ("user_code", Value::Str(s)) => out.user_code = s.into_owned(),
        ("verification_uri", Value::Str(s)) => out.verification_uri = s.into_owned(),
        ("verification_uri_complete", Value::Str(s)) => {
            out.verification_uri_complete = Some(s.into_owned())
        }
        ("expires_in", Value::Num(n)) => expires_in = Some(n),
        ("interval", Value::Num(n)) => interval = Some(n),
        ("device_code" | "user_code" | "verification_uri" | "expires_in" | "interval", _) => {
            bad = true
        }
        _ => {}
    })?;
    if bad {
        return Err(Malformed);
    }
    out.expires_in = json_number(expires_in.ok_or(Malformed)?)?;
    out.interval = interval.map(json_number).transpose()?;
    out.device_code = json_required(out.device_code)?;
    out.user_code = json_required(out.user_code)?;
    out.verification_uri = json_required(out.verification_uri)?;
    Ok(out)
}

/// Reads a JSON token answer.
pub fn token_json(body: &[u8]) -> Result<Token, Malformed> {
    let mut out = Token::default();
    let (mut expires_in, mut bad) = (None, false);
    json::members(body, |name, value| match (name, value) {
        ("access_token", Value::Str(s)) => out.access_token = s.into_owned(),
        ("token_type", Value::Str(s)) => out.token_type = s.into_owned(),
        ("expires_in", Value::Num(n)) => expires_in = Some(n),
        ("refresh_token", Value::Str(s)) => out.refresh_token = Some(s.into_owned()),
        ("scope", Value::Str(s)) => out.scope = Some(s.into_owned()),
        ("access_token" | "token_type" | "expires_in", _) => bad = true,
        _ => {}
    })?;
    if bad {
        return Err(Malformed);
    }
    out.expires_in = expires_in.map(json_number).transpose()?;
    out.access_token = json_required(out.access_token)?;
    out.token_type = json_required(out.token_type)?;
    Ok(out)
}

/// Reads a JSON error answer.
pub fn error_json(body: &[u8]) -> Result<OAuthError<'_>, Malformed> {
    let mut out = OAuthError::default();
    json::members(body, |name, value| match (name, value) {
        ("error", Value::Str(s)) => out.error = s,
        ("error_description", Value::Str(s)) => out.error_description = Some(s),
        ("error_uri", Value::Str(s)) => out.error_uri = Some(s),
        _ => {}
    })?;
    if out.error.is_empty() {
        return Err(Malformed);
    }
    Ok(out)
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
pub fn error_form(body: &[u8]) -> Result<OAuthError<'_>, FormError> {
    let mut out = OAuthError::default();
    for (name, value) in url::form_urlencoded::parse(body) {
        match &*name {
            "error" => out.error = value,
            "error_description" => out.error_description = Some(value),
            "error_uri" => out.error_uri = Some(value),
            _ => {}
        }
    }
    if out.error.is_empty() {
        return Err(FormError("error"));
    }
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
        assert!(
            device_json(
                br#"{"device_code":1,"user_code":"u","verification_uri":"v","expires_in":5}"#
            )
            .is_err()
        );
        assert!(token_json(br#"{"access_token":"a","token_type":"b","expires_in":"x"}"#).is_err());
        assert!(token_json(br#"{"access_token":"a","token_type":"b","x":[{"y":null}]}"#).is_ok());
        assert!(error_json(br#"{"error_description":"d"}"#).is_err());
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
