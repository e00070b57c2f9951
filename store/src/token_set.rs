//! The stored value: one account's tokens and what is needed to refresh them.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use device_grant::{AccessToken, IdToken, RefreshToken, TokenResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The format version written by this library. A file with a higher version is refused
/// rather than read partially and written back without the members this version does not know.
pub const FORMAT_VERSION: u32 = 1;

/// Where and as whom to refresh: what a later process needs besides the refresh token.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The token endpoint the refresh grant is sent to.
    pub token_endpoint: String,
    /// The device authorization endpoint, for signing in again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_endpoint: Option<String>,
    /// The token revocation endpoint (RFC 7009), when the server has one: where signing out
    /// revokes the refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The client identifier.
    pub client_id: String,
    /// The client authentication method's name (`none`, `client_secret_basic`, ...). The
    /// secret itself is never stored here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    /// The provider preset or profile the tokens came from (`microsoft`, `github`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The `resource` parameter (RFC 8707, Azure AD v1), when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl ClientInfo {
    /// The two values every refresh needs; set the optional fields afterwards.
    pub fn new(token_endpoint: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            token_endpoint: token_endpoint.into(),
            client_id: client_id.into(),
            ..Self::default()
        }
    }
}

/// One account's tokens: what a profile holds.
///
/// Times are wall-clock seconds since the Unix epoch, so they mean the same in the next
/// process. `Debug` shows `[redacted]` for the tokens and the DPoP key.
#[derive(Clone, PartialEq)]
pub struct TokenSet {
    access_token: Option<AccessToken>,
    refresh_token: Option<RefreshToken>,
    token_type: String,
    issued_at: Option<u64>,
    expires_at: Option<u64>,
    scopes: Vec<String>,
    id_token: Option<IdToken>,
    client: ClientInfo,
    pending_flow: Option<Value>,
    dpop_key: Option<String>,
    extra: Map<String, Value>,
}

impl TokenSet {
    /// An empty set for `client`: no tokens yet (for instance while a sign-in is pending).
    pub fn new(client: ClientInfo) -> Self {
        Self {
            access_token: None,
            refresh_token: None,
            token_type: "Bearer".into(),
            issued_at: None,
            expires_at: None,
            scopes: Vec::new(),
            id_token: None,
            client,
            pending_flow: None,
            dpop_key: None,
            extra: Map::new(),
        }
    }

    /// The set a token response gives, received at `issued` (wall clock).
    ///
    /// The expiry is `issued + expires_in`, rounded down to the second.
    pub fn from_response(response: &TokenResponse, issued: SystemTime, client: ClientInfo) -> Self {
        let mut set = Self::new(client);
        set.apply_response(response, issued);
        set
    }

    /// The set after a refresh: this one with `response` applied. What the response left out
    /// (a refresh token that was not rotated, the scopes, the ID token) is kept; the pending
    /// flow, if any, is dropped since the account is now signed in.
    pub fn refreshed(&self, response: &TokenResponse, issued: SystemTime) -> Self {
        let mut set = self.clone();
        set.apply_response(response, issued);
        set
    }

    fn apply_response(&mut self, response: &TokenResponse, issued: SystemTime) {
        let issued_secs = unix_seconds(issued);
        self.access_token = Some(response.access_token().clone());
        self.token_type = response.token_type().to_owned();
        self.issued_at = Some(issued_secs);
        self.expires_at = response
            .expires_in()
            .and_then(|d| issued_secs.checked_add(d.as_secs()));
        if let Some(r) = response.refresh_token() {
            self.refresh_token = Some(r.clone());
        }
        if let Some(s) = response.scopes() {
            self.scopes = s.to_vec();
        }
        if let Some(i) = response.id_token() {
            self.id_token = Some(i.clone());
        }
        self.pending_flow = None;
        self.extra = response.extra().clone();
    }

    /// Whether the access token is still good for at least `min_valid` at `now`. A set
    /// without an access token is never valid; one without an expiry always is (the API will
    /// say when it is rejected), as in the core's `TokenResponse::needs_refresh`.
    pub fn is_valid_for(&self, min_valid: Duration, now: SystemTime) -> bool {
        if self.access_token.is_none() {
            return false;
        }
        match self.expires_at {
            None => true,
            Some(at) => unix_seconds(now)
                .checked_add(min_valid.as_secs())
                .is_some_and(|limit| at > limit),
        }
    }

    /// The access token, once signed in.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.access_token.as_ref()
    }

    /// Replaces the access token.
    pub fn set_access_token(&mut self, token: Option<AccessToken>) {
        self.access_token = token;
    }

    /// The refresh token, when the server issued one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// Replaces the refresh token.
    pub fn set_refresh_token(&mut self, token: Option<RefreshToken>) {
        self.refresh_token = token;
    }

    /// `token_type` as the server sent it (`Bearer` before any response).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// Replaces the token type.
    pub fn set_token_type(&mut self, token_type: impl Into<String>) {
        self.token_type = token_type.into();
    }

    /// When the tokens were received, in Unix seconds.
    pub fn issued_at(&self) -> Option<u64> {
        self.issued_at
    }

    /// Sets when the tokens were received, in Unix seconds.
    pub fn set_issued_at(&mut self, unix_seconds: Option<u64>) {
        self.issued_at = unix_seconds;
    }

    /// When the access token expires, in Unix seconds; `None` when the server did not say.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// Sets when the access token expires, in Unix seconds.
    pub fn set_expires_at(&mut self, unix_seconds: Option<u64>) {
        self.expires_at = unix_seconds;
    }

    /// The granted scopes (empty when the server did not list them).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Replaces the scopes.
    pub fn set_scopes(&mut self, scopes: Vec<String>) {
        self.scopes = scopes;
    }

    /// The OpenID Connect ID token, when one was issued.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.id_token.as_ref()
    }

    /// Replaces the ID token.
    pub fn set_id_token(&mut self, token: Option<IdToken>) {
        self.id_token = token;
    }

    /// The endpoints and client the tokens belong to.
    pub fn client(&self) -> &ClientInfo {
        &self.client
    }

    /// The endpoints and client, to change them.
    pub fn client_mut(&mut self) -> &mut ClientInfo {
        &mut self.client
    }

    /// A pending sign-in, as the core's snapshot serialized it. It contains the device code:
    /// it is stored with the same protection as the tokens.
    pub fn pending_flow(&self) -> Option<&Value> {
        self.pending_flow.as_ref()
    }

    /// Stores or clears a pending sign-in snapshot.
    pub fn set_pending_flow(&mut self, snapshot: Option<Value>) {
        self.pending_flow = snapshot;
    }

    /// A DPoP private key (PKCS#8, base64), when the tokens are sender-constrained.
    pub fn dpop_key(&self) -> Option<&str> {
        self.dpop_key.as_deref()
    }

    /// Stores or clears the DPoP private key.
    pub fn set_dpop_key(&mut self, pkcs8_base64: Option<String>) {
        self.dpop_key = pkcs8_base64;
    }

    /// Other members of the last token response, and anything an application adds.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The extra members, to change them.
    pub fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
}

/// Seconds since the Unix epoch; times before it count as 0.
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("id_token", &self.id_token)
            .field("client", &self.client)
            .field(
                "pending_flow",
                &self.pending_flow.as_ref().map(|_| "[redacted]"),
            )
            .field("dpop_key", &self.dpop_key.as_ref().map(|_| "[redacted]"))
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The serialized form. The secret newtypes have no serde support on purpose, so the
/// conversion to plain strings happens only here, on the way to storage.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issued_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    client: ClientInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_flow: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_key: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    extra: Map<String, Value>,
}

impl Serialize for TokenSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Stored {
            version: FORMAT_VERSION,
            access_token: self.access_token.as_ref().map(|t| t.secret().to_owned()),
            refresh_token: self.refresh_token.as_ref().map(|t| t.secret().to_owned()),
            token_type: self.token_type.clone(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            scopes: self.scopes.clone(),
            id_token: self.id_token.as_ref().map(|t| t.secret().to_owned()),
            client: self.client.clone(),
            pending_flow: self.pending_flow.clone(),
            dpop_key: self.dpop_key.clone(),
            extra: self.extra.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TokenSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = Stored::deserialize(deserializer)?;
        if s.version == 0 || s.version > FORMAT_VERSION {
            return Err(serde::de::Error::custom(format_args!(
                "token set format version {} is not supported (this library reads 1 to {FORMAT_VERSION}); \
                 a newer program wrote it",
                s.version
            )));
        }
        Ok(Self {
            access_token: s.access_token.map(AccessToken::new),
            refresh_token: s.refresh_token.map(RefreshToken::new),
            token_type: s.token_type,
            issued_at: s.issued_at,
            expires_at: s.expires_at,
            scopes: s.scopes,
            id_token: s.id_token.map(IdToken::new),
            client: s.client,
            pending_flow: s.pending_flow,
            dpop_key: s.dpop_key,
            extra: s.extra,
        })
    }
}

/// Reads a stored token set. The error never quotes the stored text (serde's messages can
/// quote a value, which could be a token in the wrong place).
pub(crate) fn parse_stored(bytes: &[u8], location: &str) -> Result<TokenSet, crate::StoreError> {
    let corrupt = |reason: String| crate::StoreError::Corrupt {
        location: location.to_owned(),
        reason,
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        corrupt(format!(
            "not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match value.get("version").and_then(Value::as_u64) {
        None => return Err(corrupt("no format `version` member".into())),
        Some(v) if v == 0 || v > u64::from(FORMAT_VERSION) => {
            return Err(corrupt(format!(
                "format version {v} is not supported (this program reads 1 to \
                 {FORMAT_VERSION}); a newer program wrote it"
            )));
        }
        Some(_) => {}
    }
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        corrupt(if msg.starts_with("missing field") {
            msg
        } else {
            "a member has the wrong type".into()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TokenSet {
        let mut client = ClientInfo::new("https://as.example/token", "cid");
        client.device_endpoint = Some("https://as.example/device".into());
        let mut s = TokenSet::new(client);
        s.set_access_token(Some(AccessToken::new("at-secret")));
        s.set_refresh_token(Some(RefreshToken::new("rt-secret")));
        s.set_id_token(Some(IdToken::new("id-secret")));
        s.set_dpop_key(Some("key-secret".into()));
        s.set_pending_flow(Some(serde_json::json!({"device_code": "dc-secret"})));
        s.set_expires_at(Some(1_000));
        s.set_scopes(vec!["openid".into()]);
        s
    }

    #[test]
    fn debug_hides_every_secret() {
        let d = format!("{:?}", sample());
        for secret in [
            "at-secret",
            "rt-secret",
            "id-secret",
            "key-secret",
            "dc-secret",
        ] {
            assert!(!d.contains(secret), "{secret} in {d}");
        }
        assert!(d.contains("openid"));
    }

    #[test]
    fn serde_round_trip_with_version() {
        let s = sample();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["version"], FORMAT_VERSION);
        assert_eq!(v["refresh_token"], "rt-secret");
        assert_eq!(v["client"]["client_id"], "cid");
        let back: TokenSet = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn newer_version_is_refused() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["version"] = (FORMAT_VERSION + 1).into();
        let e = serde_json::from_value::<TokenSet>(v.clone()).unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
        let e = parse_stored(v.to_string().as_bytes(), "f").unwrap_err();
        assert!(e.to_string().contains("format version 2"), "{e}");
    }

    #[test]
    fn parse_errors_never_quote_values() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["expires_at"] = "rt-secret-in-the-wrong-place".into();
        let e = parse_stored(v.to_string().as_bytes(), "f").unwrap_err();
        assert!(!e.to_string().contains("rt-secret"), "{e}");
        assert!(e.to_string().contains("wrong type"), "{e}");
        let e = parse_stored(b"{\"access_token\": \"at-secret", "f").unwrap_err();
        assert!(!e.to_string().contains("at-secret"), "{e}");
    }

    #[test]
    fn validity_window() {
        let s = sample();
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert!(s.is_valid_for(Duration::from_secs(60), at(900)));
        assert!(!s.is_valid_for(Duration::from_secs(60), at(940)));
        assert!(!s.is_valid_for(Duration::ZERO, at(1_000)));
        let mut no_expiry = s.clone();
        no_expiry.set_expires_at(None);
        assert!(no_expiry.is_valid_for(Duration::MAX, at(u64::MAX / 2)));
        let mut no_token = s;
        no_token.set_access_token(None);
        assert!(!no_token.is_valid_for(Duration::ZERO, at(0)));
    }
}
