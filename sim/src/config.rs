//! Server configuration: dialect, registered clients, timings, default script.

use std::fmt;
use std::time::Duration;

use crate::script::Script;

/// Which provider's wire behaviour the server reproduces: endpoint paths,
/// field names, number encodings, status codes and error bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// Plain RFC 8628: `/device_authorization` and `/token`, JSON bodies,
    /// every error HTTP 400, `verification_uri_complete`. Client
    /// authentication is enforced at the device endpoint too.
    Rfc8628,
    /// Azure AD v1 (ADAL era): `/{tenant}/oauth2/devicecode` and
    /// `/{tenant}/oauth2/token`, `resource` required, numbers as JSON
    /// strings, `verification_url`, poll with `grant_type=device_code` and
    /// `code=`, errors in the Microsoft envelope, `code_expired`.
    AzureAdV1,
    /// Microsoft identity platform v2: `/{tenant}/oauth2/v2.0/devicecode`
    /// and `/token`, `scope` required (a missing one is answered with an
    /// error body and HTTP 200), `authorization_declined`, `expired_token`.
    MicrosoftV2,
    /// Google: `/device/code` and `/token`, `verification_url`, pending 428,
    /// slow_down and denied 403, `client_secret` required in the poll form.
    Google,
    /// GitHub: `/login/device/code` and `/login/oauth/access_token`, every
    /// error with HTTP 200, form-encoded bodies unless the request says
    /// `Accept: application/json`, `slow_down` carries the new `interval`.
    GitHub,
    /// Auth0: `/oauth/device/code` and `/oauth/token`, pending and denied
    /// 403, slow_down 429, `expired_token` once then `invalid_grant`.
    Auth0,
    /// AWS IAM Identity Center (SSO OIDC) and Builder ID: `/client/register`,
    /// `/device_authorization`, `/token`; JSON bodies with camelCase members both ways,
    /// snake_case error bodies, `invalid_client` 401 for an expired registration, and the
    /// wrong-region answer when a home region is configured.
    AwsSso,
    /// Twitch: `/oauth2/device` and `/oauth2/token`; `scopes` (plural), errors as
    /// `{"status":400,"message":"..."}`, `invalid device code` once expired, array scopes.
    Twitch,
    /// Login with Amazon: `/auth/o2/create/codepair` and `/auth/o2/token`;
    /// `response_type=device_code`, polls with `grant_type=device_code` and the `user_code`.
    Amazon,
    /// Salesforce: `/services/oauth2/token` for both steps; `response_type=device_code`,
    /// polls with `grant_type=device` and `code`, no `expires_in`, `instance_url`.
    Salesforce,
    /// Yandex: `/device/code` and `/token`; `verification_url`, polls with
    /// `grant_type=device_code`, `code` and the client secret.
    Yandex,
    /// Zoho: `/oauth/v3/device/code` and `/oauth/v3/device/token` with parameters in the
    /// query string, `device_request` and `device_token` grants, `expired`, `other_dc` for a
    /// configured user location (served under `/{location}`), and `/oauth/serverinfo`.
    Zoho,
}

impl Dialect {
    /// Every dialect, for table-driven tests.
    pub const ALL: [Dialect; 6] = [
        Dialect::Rfc8628,
        Dialect::AzureAdV1,
        Dialect::MicrosoftV2,
        Dialect::Google,
        Dialect::GitHub,
        Dialect::Auth0,
    ];

    /// A short name for command lines and reports: `rfc8628`, `azure-ad-v1`,
    /// `microsoft-v2`, `google`, `github`, `auth0`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Rfc8628 => "rfc8628",
            Dialect::AzureAdV1 => "azure-ad-v1",
            Dialect::MicrosoftV2 => "microsoft-v2",
            Dialect::Google => "google",
            Dialect::GitHub => "github",
            Dialect::Auth0 => "auth0",
            Dialect::AwsSso => "aws-sso",
            Dialect::Twitch => "twitch",
            Dialect::Amazon => "amazon",
            Dialect::Salesforce => "salesforce",
            Dialect::Yandex => "yandex",
            Dialect::Zoho => "zoho",
        }
    }

    /// The dialects added for the second round of providers. They are kept out of
    /// [`Dialect::ALL`], whose table-driven suites assume RFC-style requests.
    pub const MORE: [Dialect; 6] = [
        Dialect::AwsSso,
        Dialect::Twitch,
        Dialect::Amazon,
        Dialect::Salesforce,
        Dialect::Yandex,
        Dialect::Zoho,
    ];

    /// The dialect with this [`Dialect::name`].
    pub fn from_name(name: &str) -> Option<Dialect> {
        Dialect::ALL
            .into_iter()
            .chain(Dialect::MORE)
            .find(|d| d.name() == name)
    }
}

/// How a client authenticates at the token endpoint (RFC 6749 §2.3.1),
/// named as in RFC 8414's `token_endpoint_auth_methods_supported`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientAuthMethod {
    /// A public client: `client_id` in the form, no secret anywhere.
    None,
    /// HTTP Basic with the form-urlencoded id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl ClientAuthMethod {
    /// The RFC 8414 name: `none`, `client_secret_basic`, `client_secret_post`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::None => "none",
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
        }
    }
}

impl fmt::Display for ClientAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered client: its id, the one authentication method it must use,
/// and its secret when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    id: String,
    method: ClientAuthMethod,
    secret: Option<String>,
}

impl Client {
    /// A public client (`none`): it must not send a secret.
    pub fn public(id: impl Into<String>) -> Self {
        Client {
            id: id.into(),
            method: ClientAuthMethod::None,
            secret: None,
        }
    }

    /// A confidential client using `client_secret_basic`.
    pub fn basic(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Client {
            id: id.into(),
            method: ClientAuthMethod::ClientSecretBasic,
            secret: Some(secret.into()),
        }
    }

    /// A confidential client using `client_secret_post`.
    pub fn post(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Client {
            id: id.into(),
            method: ClientAuthMethod::ClientSecretPost,
            secret: Some(secret.into()),
        }
    }

    /// The client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The authentication method the server expects from this client.
    pub fn method(&self) -> ClientAuthMethod {
        self.method
    }

    /// The secret, for confidential clients.
    pub fn secret(&self) -> Option<&str> {
        self.secret.as_deref()
    }
}

/// The default client id of [`ServerConfig::new`].
pub const DEFAULT_CLIENT_ID: &str = "device-grant-test-client";
/// The default secret, used by the [`Dialect::Google`] default client.
pub const DEFAULT_CLIENT_SECRET: &str = "device-grant-test-secret";

/// Configuration for [`Server::start`](crate::Server::start). Build it with
/// [`ServerConfig::new`] and the chained setters.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) dialect: Dialect,
    pub(crate) clients: Vec<Client>,
    pub(crate) interval: Option<Duration>,
    pub(crate) expires_in: Duration,
    pub(crate) refresh_tokens: bool,
    pub(crate) rotate_refresh_tokens: bool,
    pub(crate) enforce_interval: bool,
    pub(crate) tenant: String,
    pub(crate) script: Script,
    pub(crate) queued: Vec<Script>,
    pub(crate) registration_lifetime: Duration,
    pub(crate) home_region: Option<String>,
    pub(crate) user_location: Option<String>,
    pub(crate) dpop: Option<crate::dpop::DpopMode>,
    pub(crate) relative_verification_uri: bool,
}

impl ServerConfig {
    /// Defaults: one client [`DEFAULT_CLIENT_ID`] (public; for Google a
    /// `client_secret_post` client with [`DEFAULT_CLIENT_SECRET`]),
    /// `interval` 5 s, `expires_in` 900 s, refresh tokens issued and rotated,
    /// early polls answered with `slow_down`, tenant `common`, and the
    /// default script [`Script::approve_after_polls(1)`](Script::approve_after_polls).
    pub fn new(dialect: Dialect) -> Self {
        let client = match dialect {
            Dialect::Google | Dialect::Yandex | Dialect::Zoho => {
                Client::post(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            }
            _ => Client::public(DEFAULT_CLIENT_ID),
        };
        ServerConfig {
            dialect,
            clients: vec![client],
            interval: Some(Duration::from_secs(5)),
            expires_in: Duration::from_secs(900),
            refresh_tokens: true,
            rotate_refresh_tokens: true,
            enforce_interval: true,
            tenant: "common".to_owned(),
            script: Script::approve_after_polls(1),
            queued: Vec::new(),
            registration_lifetime: Duration::from_secs(7_858_800),
            home_region: None,
            user_location: None,
            dpop: None,
            relative_verification_uri: false,
        }
    }

    /// Replaces the registered clients with this one.
    pub fn client(mut self, client: Client) -> Self {
        self.clients = vec![client];
        self
    }

    /// Registers one more client next to the existing ones.
    pub fn extra_client(mut self, client: Client) -> Self {
        self.clients.push(client);
        self
    }

    /// The advertised polling `interval`. A fraction of a second is sent as
    /// a fractional number (`0.05`), so tests run fast.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Omits `interval` from the device response; the server then expects
    /// RFC 8628's default of 5 s between polls.
    pub fn no_interval(mut self) -> Self {
        self.interval = None;
        self
    }

    /// The advertised `expires_in`; the server answers the dialect's expired
    /// error once it has passed. Fractions are sent as fractional numbers.
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = expires_in;
        self
    }

    /// Whether a refresh token is issued with each access token.
    pub fn refresh_tokens(mut self, issue: bool) -> Self {
        self.refresh_tokens = issue;
        self
    }

    /// Whether the refresh grant rotates the refresh token (a new one is
    /// returned and the old one stops working). Without rotation the
    /// response carries no `refresh_token` and the old one stays valid.
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self
    }

    /// DPoP mode (RFC 9449): every device authorization and token request needs a valid
    /// ES256 proof, and issued tokens are bound to its key (`token_type` `DPoP`).
    #[cfg(feature = "dpop")]
    pub fn dpop(mut self, mode: crate::DpopMode) -> Self {
        self.dpop = Some(mode);
        self
    }

    /// Whether a poll that arrives before the current interval is answered
    /// with `slow_down` (default `true`). The referee records it either way.
    pub fn enforce_interval(mut self, enforce: bool) -> Self {
        self.enforce_interval = enforce;
        self
    }

    /// The tenant segment of the Microsoft endpoint paths (default `common`).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// The script used by flows that no queued script claims.
    pub fn script(mut self, script: Script) -> Self {
        self.script = script;
        self
    }

    /// Queues a script for the next device authorization request; queued
    /// scripts are consumed one per new flow, in order, before the default
    /// applies. See also [`Server::queue_script`](crate::Server::queue_script).
    pub fn queue_script(mut self, script: Script) -> Self {
        self.queued.push(script);
        self
    }

    /// Sends `verification_uri` (and `_complete`) as a path without scheme and host, as
    /// some server versions have: the client must resolve it against the device
    /// authorization endpoint.
    pub fn relative_verification_uri(mut self, relative: bool) -> Self {
        self.relative_verification_uri = relative;
        self
    }

    /// AWS: how long a client registration lasts (`clientSecretExpiresAt`; default about 90
    /// days as AWS's example). Requests with an expired registration get `invalid_client`.
    pub fn registration_lifetime(mut self, lifetime: Duration) -> Self {
        self.registration_lifetime = lifetime;
        self
    }

    /// AWS: the region the start URL belongs to; device requests are then answered with the
    /// wrong-region error naming it.
    pub fn home_region(mut self, region: impl Into<String>) -> Self {
        self.home_region = Some(region.into());
        self
    }

    /// Zoho: the user approves in this other data centre; polls at the configured one get
    /// `other_dc` with this `user_location`, polls under `/{location}` are answered.
    pub fn user_location(mut self, location: impl Into<String>) -> Self {
        self.user_location = Some(location.into());
        self
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}
