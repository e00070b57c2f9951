//! The client's configuration: who it is, where it talks to, how it authenticates, and the
//! limits it keeps. Validated once, when built, so that a bad endpoint is an error before the
//! first request rather than a surprise in the middle of a flow.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http::HeaderValue;
use url::{Host, Url};

use crate::catalogue::{DefaultAuth, Preset};
use crate::dpop::{DpopConfig, DpopSigner};
use crate::error::{ConfigError, Endpoint};
use crate::profile::Profile;
use crate::secret::ClientSecret;

/// The body-size limit when none is configured: 1 MiB. Real answers are a few kilobytes.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// The longest wait between polls that back-off (after transport failures or throttling)
/// reaches on its own; a `Retry-After` or the server's interval can be longer.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How many times the device authorization request is sent, at most, when it fails in a way
/// worth retrying (PROVIDERS §16: a few attempts).
pub const DEFAULT_DEVICE_ATTEMPTS: u32 = 4;

/// The first wait before the device authorization request is sent again; it doubles after
/// each failure, up to the back-off cap.
pub const DEFAULT_DEVICE_RETRY_DELAY: Duration = Duration::from_secs(5);

/// How the client authenticates to the server (RFC 6749 §2.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A public client: only `client_id` in the form (RFC 8628 §5.6 expects this of devices).
    #[default]
    None,
    /// `client_secret_basic`: HTTP Basic with the form-urlencoded id and secret.
    Basic(ClientSecret),
    /// `client_secret_post`: `client_id` and `client_secret` in the form.
    Post(ClientSecret),
}

/// A validated client configuration, shared by any number of flows.
///
/// Build one with [`Config::builder`] or a provider preset such as [`Config::microsoft`].
#[derive(Clone)]
pub struct Config {
    pub(crate) client_id: String,
    pub(crate) auth: ClientAuth,
    /// The headers of every POST the flow sends (`Accept`, `Content-Type`, and Basic
    /// credentials when configured), built once: each request takes a copy.
    pub(crate) post_headers: http::HeaderMap,
    /// The headers of a GET (`Accept`), built once for the same reason.
    pub(crate) get_headers: http::HeaderMap,
    pub(crate) device_endpoint: Option<(Url, http::Uri)>,
    pub(crate) token_endpoint: (Url, http::Uri),
    pub(crate) scopes: Vec<String>,
    pub(crate) device_params: Vec<(String, String)>,
    pub(crate) token_params: Vec<(String, String)>,
    pub(crate) profile: Profile,
    pub(crate) body_limit: usize,
    pub(crate) default_interval: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) device_attempts: u32,
    pub(crate) device_retry_delay: Duration,
    pub(crate) allow_insecure_http: bool,
    pub(crate) dpop: Option<DpopConfig>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .field(
                "device_endpoint",
                &self.device_endpoint.as_ref().map(|e| e.0.as_str()),
            )
            .field("token_endpoint", &self.token_endpoint.0.as_str())
            .field("scopes", &self.scopes)
            .field("profile", &self.profile)
            .field("body_limit", &self.body_limit)
            .field("dpop", &self.dpop)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Starts a configuration for a client id; add endpoints and options, then `build()`.
    pub fn builder(client_id: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::new(client_id)
    }

    /// Microsoft identity platform (v2 endpoints) for a tenant: `common`, `organizations`,
    /// `consumers`, a tenant id or a domain. Add scopes with [`ConfigBuilder::scope`];
    /// the server requires at least one. For sovereign clouds, replace the endpoints with
    /// [`ConfigBuilder::device_endpoint`] and [`ConfigBuilder::token_endpoint`].
    pub fn microsoft(tenant: &str, client_id: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::preset(Preset::MICROSOFT, Some(tenant), client_id)
    }

    /// Azure AD v1 for a tenant, with the `resource` the token is for.
    pub fn azure_ad_v1(
        tenant: &str,
        client_id: impl Into<String>,
        resource: impl Into<String>,
    ) -> ConfigBuilder {
        ConfigBuilder::preset(Preset::AZURE_AD_V1, Some(tenant), client_id).profile(
            Profile::AzureAdV1 {
                resource: resource.into(),
            },
        )
    }

    /// Google, with the id and secret of a "TVs and Limited Input devices" client; the secret
    /// goes in the form as Google's token endpoint requires.
    pub fn google(client_id: impl Into<String>, client_secret: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::preset(Preset::GOOGLE, None, client_id).client_secret(client_secret)
    }

    /// GitHub (OAuth apps and GitHub Apps with device flow enabled). For GitHub Enterprise
    /// Server, replace the endpoints.
    pub fn github(client_id: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::preset(Preset::GITHUB, None, client_id)
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The client authentication.
    pub fn client_auth(&self) -> &ClientAuth {
        &self.auth
    }
    /// The device authorization endpoint, when configured.
    pub fn device_endpoint(&self) -> Option<&Url> {
        self.device_endpoint.as_ref().map(|e| &e.0)
    }
    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Url {
        &self.token_endpoint.0
    }
    /// The scopes requested.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
    /// The request dialect.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }
    /// The largest response body accepted, in bytes. Adapters should read at most one byte
    /// more than this and hand the core what they read; the core then rejects it.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }
    /// The DPoP signer, when proofs are sent ([`ConfigBuilder::dpop`]).
    pub fn dpop_signer(&self) -> Option<&Arc<dyn DpopSigner>> {
        self.dpop.as_ref().map(|d| &d.signer)
    }
    /// The DPoP key's thumbprint (RFC 7638), when proofs are sent: the `jkt` tokens are
    /// bound to.
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.dpop.as_ref().map(|d| d.thumbprint.as_str())
    }
}

/// Builds a [`Config`]; nothing is checked until [`ConfigBuilder::build`].
#[derive(Clone, Debug)]
#[must_use]
pub struct ConfigBuilder {
    client_id: String,
    auth: ClientAuth,
    device_endpoint: Option<String>,
    token_endpoint: Option<String>,
    scopes: Vec<String>,
    device_params: Vec<(String, String)>,
    token_params: Vec<(String, String)>,
    profile: Profile,
    body_limit: usize,
    default_interval: Duration,
    max_backoff: Duration,
    device_attempts: u32,
    device_retry_delay: Duration,
    allow_insecure_http: bool,
    secret_in_form: bool,
    dpop: Option<SignerSlot>,
    dpop_strict: bool,
    dpop_jkt: bool,
}

/// The builder's signer, shown in `Debug` by its algorithm only.
#[derive(Clone)]
struct SignerSlot(Arc<dyn DpopSigner>);

impl fmt::Debug for SignerSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DpopSigner")
            .field(&self.0.algorithm())
            .finish()
    }
}

impl ConfigBuilder {
    /// A builder for a public client with this id and no endpoints yet.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            auth: ClientAuth::None,
            device_endpoint: None,
            token_endpoint: None,
            scopes: Vec::new(),
            device_params: Vec::new(),
            token_params: Vec::new(),
            profile: Profile::Rfc8628,
            body_limit: DEFAULT_BODY_LIMIT,
            default_interval: DEFAULT_INTERVAL,
            max_backoff: DEFAULT_MAX_BACKOFF,
            device_attempts: DEFAULT_DEVICE_ATTEMPTS,
            device_retry_delay: DEFAULT_DEVICE_RETRY_DELAY,
            allow_insecure_http: false,
            secret_in_form: false,
            dpop: None,
            dpop_strict: false,
            dpop_jkt: false,
        }
    }

    /// A builder from a catalogue entry: its endpoints for `tenant` (`None`: the default
    /// tenant; ignored by providers without tenants) and its dialect. For Azure AD v1, set
    /// the resource with [`ConfigBuilder::profile`] and [`Preset::profile`].
    pub fn preset(preset: &Preset, tenant: Option<&str>, client_id: impl Into<String>) -> Self {
        let (device, token) = preset.endpoints(tenant);
        ConfigBuilder::new(client_id)
            .profile(preset.dialect.clone())
            .device_endpoint(device)
            .token_endpoint(token)
            .default_auth(preset.default_auth)
    }

    fn default_auth(mut self, auth: DefaultAuth) -> Self {
        self.secret_in_form = auth == DefaultAuth::SecretInForm;
        self
    }

    /// Authenticates with the client secret the way the preset says (in the form for
    /// Google), or with `client_secret_basic` for anything else.
    pub fn client_secret(self, secret: impl Into<String>) -> Self {
        if self.secret_in_form {
            self.client_secret_post(secret)
        } else {
            self.client_secret_basic(secret)
        }
    }

    /// The device authorization endpoint (RFC 8628 §3.1). Not needed for refresh-only use.
    pub fn device_endpoint(mut self, url: impl Into<String>) -> Self {
        self.device_endpoint = Some(url.into());
        self
    }

    /// The token endpoint.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// Adds scopes; a string with spaces adds each word.
    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes
            .extend(scope.split_whitespace().map(str::to_owned));
        self
    }

    /// Adds several scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for s in scopes {
            self = self.scope(s.as_ref());
        }
        self
    }

    /// Authenticates with `client_secret_basic`.
    pub fn client_secret_basic(mut self, secret: impl Into<String>) -> Self {
        self.auth = ClientAuth::Basic(ClientSecret::new(secret));
        self
    }

    /// Authenticates with `client_secret_post`.
    pub fn client_secret_post(mut self, secret: impl Into<String>) -> Self {
        self.auth = ClientAuth::Post(ClientSecret::new(secret));
        self
    }

    /// Sets the client authentication.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the request dialect (presets set it for you).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Adds a form parameter to the device authorization request (Auth0's `audience`,
    /// Microsoft's `mkt`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.device_params.push((name.into(), value.into()));
        self
    }

    /// Adds a form parameter to every token request: polls and refreshes (Microsoft's
    /// `claims`).
    pub fn token_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.token_params.push((name.into(), value.into()));
        self
    }

    /// The largest response body accepted (default 1 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The polling interval used when the server sends none, `0`, or a value that does not
    /// parse. RFC 8628 §3.2 requires 5 s, the default; change it only for a lab server you
    /// run yourself.
    pub fn default_interval(mut self, interval: Duration) -> Self {
        self.default_interval = interval;
        self
    }

    /// The longest wait that back-off grows to on its own (default 60 s).
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// How often the device authorization request is sent at most (default 4; 1 turns
    /// retrying off) and the first wait between attempts (default 5 s, doubling up to the
    /// back-off cap). Only failures that issued no code are retried: no answer, 429, 5xx,
    /// `slow_down`, `temporarily_unavailable`; a `Retry-After` is honoured, and one longer
    /// than the back-off cap ends the flow with [`FlowError::Unavailable`] at once.
    ///
    /// [`FlowError::Unavailable`]: crate::FlowError::Unavailable
    pub fn device_retries(mut self, attempts: u32, first_delay: Duration) -> Self {
        self.device_attempts = attempts;
        self.device_retry_delay = first_delay;
        self
    }

    /// Allows plain `http` endpoints on hosts that are not loopback. Device codes, tokens and
    /// secrets then cross the network in clear text: for lab servers only.
    pub fn allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
        self
    }

    /// Sends a DPoP proof (RFC 9449) signed by `signer` with every request: the device
    /// authorization request, every poll, every refresh. Tokens then come bound to the key
    /// (`token_type` `DPoP`) from servers that support it; see
    /// [`TokenResponse::dpop_binding`](crate::TokenResponse::dpop_binding). Use the same
    /// signer to refresh: a public client's refresh token is bound to the key too.
    pub fn dpop(mut self, signer: Arc<dyn DpopSigner>) -> Self {
        self.dpop = Some(SignerSlot(signer));
        self
    }

    /// With [`ConfigBuilder::dpop`], refuses a token that is not DPoP-bound: the flow ends
    /// with [`DpopError::NotBound`](crate::DpopError::NotBound) instead of handing out a
    /// bearer token.
    pub fn dpop_strict(mut self) -> Self {
        self.dpop_strict = true;
        self
    }

    /// With [`ConfigBuilder::dpop`], adds `dpop_jkt` (the key's thumbprint, RFC 9449 §10)
    /// to the device authorization request, for servers that bind the device code to the key
    /// from there on (authentik); others ignore it or refuse the parameter.
    pub fn dpop_jkt(mut self) -> Self {
        self.dpop_jkt = true;
        self
    }

    /// Checks everything and builds the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        if self.client_id.is_empty() {
            return Err(ConfigError::EmptyClientId);
        }
        let insecure = self.allow_insecure_http;
        let token_endpoint = self
            .token_endpoint
            .as_deref()
            .ok_or(ConfigError::MissingTokenEndpoint)
            .and_then(|u| endpoint(u, Endpoint::Token, insecure))?;
        let device_endpoint = self
            .device_endpoint
            .as_deref()
            .map(|u| endpoint(u, Endpoint::DeviceAuthorization, insecure))
            .transpose()?;
        for (name, _) in self.device_params.iter().chain(&self.token_params) {
            if name.is_empty() {
                return Err(ConfigError::InvalidParameter(
                    "a form parameter has an empty name".into(),
                ));
            }
        }
        let dpop = match &self.dpop {
            Some(SignerSlot(signer)) => Some(DpopConfig {
                thumbprint: crate::dpop::validate(&**signer).map_err(ConfigError::Dpop)?,
                signer: Arc::clone(signer),
                strict: self.dpop_strict,
                send_jkt: self.dpop_jkt,
            }),
            None => None,
        };
        let basic_header = match &self.auth {
            ClientAuth::Basic(secret) => Some(basic_header(&self.client_id, secret)),
            _ => None,
        };
        let post_headers = crate::request::post_headers(self.profile.shape_ref(), basic_header);
        Ok(Config {
            client_id: self.client_id,
            auth: self.auth,
            post_headers,
            get_headers: crate::request::get_headers(),
            device_endpoint,
            token_endpoint,
            scopes: self.scopes,
            device_params: self.device_params,
            token_params: self.token_params,
            profile: self.profile,
            body_limit: self.body_limit,
            default_interval: self.default_interval,
            max_backoff: self.max_backoff,
            device_attempts: self.device_attempts.max(1),
            device_retry_delay: self.device_retry_delay,
            allow_insecure_http: insecure,
            dpop,
        })
    }
}

pub(crate) fn endpoint(
    raw: &str,
    which: Endpoint,
    allow_insecure: bool,
) -> Result<(Url, http::Uri), ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidUrl {
        endpoint: which,
        reason,
    };
    let url = Url::parse(raw).map_err(|e| invalid(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure || is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::InsecureEndpoint {
                endpoint: which,
                host: url.host_str().unwrap_or("").to_owned(),
            });
        }
        other => {
            return Err(invalid(format!(
                "the scheme `{other}` is not http or https"
            )));
        }
    }
    if url.host().is_none() {
        return Err(invalid("no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "credentials in the URL; configure a client secret instead".into(),
        ));
    }
    let mut without_fragment = url.clone();
    without_fragment.set_fragment(None);
    let uri = http::Uri::try_from(without_fragment.as_str()).map_err(|e| invalid(e.to_string()))?;
    Ok((url, uri))
}

/// Loopback hosts where plain http never leaves the machine: 127.0.0.0/8, ::1 and `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// RFC 6749 §2.3.1: the id and secret are form-urlencoded before they are joined and encoded
/// in base64. Many clients skip the first step, which breaks secrets holding `:` or `%`.
fn basic_header(client_id: &str, secret: &ClientSecret) -> HeaderValue {
    let id: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    let pw: String = url::form_urlencoded::byte_serialize(secret.secret().as_bytes()).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{pw}"));
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(device: &str, token: &str) -> Result<Config, ConfigError> {
        Config::builder("client")
            .device_endpoint(device)
            .token_endpoint(token)
            .build()
    }

    #[test]
    fn https_required_except_on_loopback() {
        assert!(cfg("https://as.example/device", "https://as.example/token").is_ok());
        assert!(cfg("http://127.0.0.1:8080/device", "http://127.9.9.9/token").is_ok());
        assert!(cfg("http://[::1]:1/d", "http://localhost:2/t").is_ok());
        assert_eq!(
            cfg("http://as.example/device", "https://as.example/token").unwrap_err(),
            ConfigError::InsecureEndpoint {
                endpoint: Endpoint::DeviceAuthorization,
                host: "as.example".into()
            }
        );
        assert!(matches!(
            cfg("https://as.example/device", "http://10.0.0.1/token"),
            Err(ConfigError::InsecureEndpoint {
                endpoint: Endpoint::Token,
                ..
            })
        ));
        // "localhost.example.com" is not loopback.
        assert!(cfg("http://localhost.example.com/d", "https://a/t").is_err());
        let ok = Config::builder("c")
            .device_endpoint("http://lab.internal/d")
            .token_endpoint("http://lab.internal/t")
            .allow_insecure_http()
            .build();
        assert!(ok.is_ok());
    }

    #[test]
    fn malformed_configurations_are_rejected() {
        assert!(matches!(
            cfg("not a url", "https://a/t"),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            cfg("ftp://a/d", "https://a/t"),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            cfg("https://u:p@a/d", "https://a/t"),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert_eq!(
            Config::builder("c")
                .device_endpoint("https://a/d")
                .build()
                .unwrap_err(),
            ConfigError::MissingTokenEndpoint
        );
        assert_eq!(
            Config::builder("")
                .token_endpoint("https://a/t")
                .build()
                .unwrap_err(),
            ConfigError::EmptyClientId
        );
        assert!(matches!(
            Config::builder("c")
                .token_endpoint("https://a/t")
                .param("", "x")
                .build(),
            Err(ConfigError::InvalidParameter(_))
        ));
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        let h = basic_header("my client", &ClientSecret::new("p:ss%"));
        // base64("my+client:p%3Ass%25")
        let expected = base64::engine::general_purpose::STANDARD.encode("my+client:p%3Ass%25");
        assert_eq!(h.to_str().unwrap(), format!("Basic {expected}"));
        assert!(h.is_sensitive());
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = Config::builder("c")
            .token_endpoint("https://a/t")
            .client_secret_basic("hunter2")
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(!d.contains(&base64::engine::general_purpose::STANDARD.encode("c:hunter2")));
    }

    #[test]
    fn presets_point_at_the_providers() {
        let c = Config::microsoft("contoso.onmicrosoft.com", "id")
            .build()
            .unwrap();
        assert_eq!(
            c.device_endpoint().unwrap().as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
        );
        let c = Config::azure_ad_v1("common", "id", "https://management.core.windows.net/")
            .build()
            .unwrap();
        assert_eq!(
            c.device_endpoint().unwrap().as_str(),
            "https://login.microsoftonline.com/common/oauth2/devicecode?api-version=1.0"
        );
        assert_eq!(
            c.token_endpoint().as_str(),
            "https://login.microsoftonline.com/common/oauth2/token"
        );
        let c = Config::microsoft("a/../b", "id").build().unwrap();
        assert!(
            c.device_endpoint()
                .unwrap()
                .as_str()
                .contains("/a%2F..%2Fb/")
        );
        let c = Config::google("id", "s").build().unwrap();
        assert_eq!(c.profile(), &Profile::Google);
        let c = Config::github("id").build().unwrap();
        assert_eq!(c.token_endpoint().host_str(), Some("github.com"));
    }
}
