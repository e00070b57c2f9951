//! AWS IAM Identity Center's client registration (`RegisterClient`, PROVIDERS §11.2): the
//! request and the reading of its answer, sans-IO like the flows. The caller sends the
//! request with its HTTP client and keeps the registration (it lasts about 90 days) until
//! shortly before [`ClientRegistration::expires_at`].

use std::fmt;

use serde_json::{Map, Value};

use crate::config::endpoint;
use crate::error::Endpoint;
use crate::safe_text::display_safe;
use crate::secret::ClientSecret;
use crate::{ConfigError, USER_AGENT};

/// The largest registration answer read; AWS's are a few hundred bytes.
pub const REGISTRATION_BODY_LIMIT: usize = 64 * 1024;

/// A registered client: its id, its secret and when the secret expires.
///
/// `Debug` shows the secret as `[redacted]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRegistration {
    client_id: String,
    client_secret: ClientSecret,
    expires_at: u64,
}

impl ClientRegistration {
    /// A registration kept from an earlier answer; `expires_at` in seconds since the Unix
    /// epoch.
    pub fn new(client_id: impl Into<String>, client_secret: ClientSecret, expires_at: u64) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            expires_at,
        }
    }

    /// The registered client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret, sent with every device and token request.
    pub fn client_secret(&self) -> &ClientSecret {
        &self.client_secret
    }

    /// When the secret expires (`clientSecretExpiresAt`), in seconds since the Unix epoch.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Whether the registration still has `margin` seconds to live at `now` (Unix seconds):
    /// a login started on one about to expire would reach the browser and then fail.
    pub fn is_good_for(&self, margin: u64, now: u64) -> bool {
        self.expires_at > now.saturating_add(margin)
    }

    /// The `RegisterClient` request: `POST` of `{clientName, clientType: "public",
    /// scopes?}` as JSON to `endpoint`, which must be https (or http on loopback, or with
    /// `allow_insecure_http`).
    pub fn request(
        endpoint_url: &str,
        client_name: &str,
        scopes: &[String],
        allow_insecure_http: bool,
    ) -> Result<http::Request<Vec<u8>>, ConfigError> {
        let (_, uri) = endpoint(endpoint_url, Endpoint::Registration, allow_insecure_http)?;
        if client_name.is_empty() {
            return Err(ConfigError::InvalidParameter(
                "the client name of a registration is empty".into(),
            ));
        }
        let mut body = Map::new();
        body.insert("clientName".into(), client_name.into());
        body.insert("clientType".into(), "public".into());
        if !scopes.is_empty() {
            body.insert("scopes".into(), scopes.to_vec().into());
        }
        http::Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, USER_AGENT)
            .body(crate::json::text(&Value::Object(body)).into_bytes())
            .map_err(|e| ConfigError::InvalidParameter(e.to_string()))
    }

    /// Reads the answer to [`ClientRegistration::request`].
    pub fn from_response(response: &http::Response<Vec<u8>>) -> Result<Self, RegistrationError> {
        let status = response.status().as_u16();
        let body = response.body();
        if body.len() > REGISTRATION_BODY_LIMIT {
            return Err(RegistrationError::InvalidResponse(
                "the answer is larger than a registration".into(),
            ));
        }
        let json = crate::wire::parse_json(body).map(crate::wire::Fields::into_map);
        let Some(mut json) = json else {
            return Err(RegistrationError::InvalidResponse(format!(
                "HTTP {status} without a JSON object"
            )));
        };
        if let Some(Value::String(error)) = json.remove("error") {
            let description = match json.remove("error_description") {
                Some(Value::String(d)) => Some(d),
                _ => None,
            };
            return Err(RegistrationError::Refused {
                status,
                error,
                description,
            });
        }
        if !(200..300).contains(&status) {
            return Err(RegistrationError::InvalidResponse(format!(
                "HTTP {status} without an OAuth error"
            )));
        }
        let text = |json: &mut Map<String, Value>, name: &'static str| match json.remove(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            _ => Err(RegistrationError::InvalidResponse(format!(
                "no {name} in the answer"
            ))),
        };
        let client_id = text(&mut json, "clientId")?;
        let client_secret = ClientSecret::new(text(&mut json, "clientSecret")?);
        let expires_at = json
            .get("clientSecretExpiresAt")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                RegistrationError::InvalidResponse(
                    "no clientSecretExpiresAt (seconds since the epoch) in the answer".into(),
                )
            })?;
        Ok(Self {
            client_id,
            client_secret,
            expires_at,
        })
    }
}

/// Why a registration failed. Its text holds no secret and no terminal control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The server answered with an OAuth error (`invalid_client_metadata`, `slow_down`, ...).
    Refused {
        /// The HTTP status.
        status: u16,
        /// The `error` member.
        error: String,
        /// The `error_description` member.
        description: Option<String>,
    },
    /// The answer is not a registration.
    InvalidResponse(String),
}

impl fmt::Display for RegistrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistrationError::Refused {
                status,
                error,
                description,
            } => {
                write!(
                    f,
                    "the client registration was refused with {} (HTTP {status})",
                    display_safe(error)
                )?;
                if let Some(d) = description {
                    write!(f, ": {}", display_safe(d))?;
                }
                Ok(())
            }
            RegistrationError::InvalidResponse(why) => {
                write!(f, "the client registration answer is unusable: {why}")
            }
        }
    }
}

impl std::error::Error for RegistrationError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> http::Response<Vec<u8>> {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn request_is_json_camel_case() {
        let scopes = ["sso:account:access".to_owned()];
        let r = ClientRegistration::request(
            "https://oidc.us-east-1.amazonaws.com/client/register",
            "botocore-client-my-sso",
            &scopes,
            false,
        )
        .unwrap();
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(r.headers()["content-type"], "application/json");
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"clientName":"botocore-client-my-sso","clientType":"public","scopes":["sso:account:access"]})
        );
        let r = ClientRegistration::request("http://127.0.0.1:9/r", "n", &[], false).unwrap();
        assert!(!String::from_utf8_lossy(r.body()).contains("scopes"));
        assert!(matches!(
            ClientRegistration::request("http://oidc.example/r", "n", &[], false),
            Err(ConfigError::InsecureEndpoint {
                endpoint: Endpoint::Registration,
                ..
            })
        ));
    }

    #[test]
    fn answers() {
        // AWS-REG-02.
        let r = ClientRegistration::from_response(&answer(
            200,
            r#"{"clientId":"_yzkThXVzLWVhc3QtMQEXAMPLECLIENTID","clientIdIssuedAt":1579725929,"clientSecret":"VERYLONGSECRET","clientSecretExpiresAt":1587584729}"#,
        ))
        .unwrap();
        assert_eq!(r.client_id(), "_yzkThXVzLWVhc3QtMQEXAMPLECLIENTID");
        assert_eq!(r.expires_at(), 1_587_584_729);
        assert!(r.is_good_for(3600, 1_587_584_729 - 3601));
        assert!(!r.is_good_for(3600, 1_587_584_729 - 3600));
        assert!(!format!("{r:?}").contains("VERYLONGSECRET"));

        let e = ClientRegistration::from_response(&answer(
            400,
            r#"{"error":"invalid_client_metadata","error_description":"bad\u001b[2J"}"#,
        ))
        .unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("invalid_client_metadata"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown}");
        for (status, body) in [
            (200, r#"{"clientId":"a","clientSecret":"b"}"#),
            (200, r#"{"clientId":"a","clientSecretExpiresAt":1}"#),
            (500, "<html>"),
            (503, "{}"),
            (200, r#"[1]"#),
        ] {
            assert!(matches!(
                ClientRegistration::from_response(&answer(status, body)),
                Err(RegistrationError::InvalidResponse(_))
            ));
        }
    }
}
