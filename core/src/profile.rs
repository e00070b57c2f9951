//! Provider profiles: what each provider needs in its requests, and presets with their
//! endpoints.
//!
//! Parsing is lenient for every provider (see the `wire` module); a profile changes what is
//! *sent*. The differences come from the providers' documentation and official clients; see
//! the provider table in the README.

use crate::config::{Config, ConfigBuilder};

/// The request dialect of a provider.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Profile {
    /// RFC 8628 as written: `grant_type=urn:ietf:params:oauth:grant-type:device_code` with
    /// `device_code`.
    #[default]
    Rfc8628,
    /// Azure AD v1 (the ADAL-era endpoint): the device request carries `resource` instead of a
    /// scope, polls send `grant_type=device_code` with the code as `code`, and refresh
    /// requests carry `resource` again.
    AzureAdV1 {
        /// The App ID URI or id of the API the token is for, e.g.
        /// `https://management.core.windows.net/`.
        resource: String,
    },
    /// Microsoft identity platform v2: RFC 8628 requests; `scope` is required by the server.
    MicrosoftV2,
    /// Google: RFC 8628 requests; the client secret of a "TVs and Limited Input devices"
    /// client is sent in the form.
    Google,
    /// GitHub: RFC 8628 requests; the token's `scope` is comma-separated.
    GitHub,
}

impl Profile {
    /// The `grant_type` value and the name of the parameter that carries the device code.
    pub(crate) fn device_grant(&self) -> (&'static str, &'static str) {
        match self {
            Profile::AzureAdV1 { .. } => ("device_code", "code"),
            _ => (DEVICE_CODE_GRANT, "device_code"),
        }
    }

    /// The parameter a profile adds to every request.
    pub(crate) fn resource(&self) -> Option<&str> {
        match self {
            Profile::AzureAdV1 { resource } => Some(resource),
            _ => None,
        }
    }

    /// Whether `scope` in a token response separates with commas as well as spaces.
    pub(crate) fn comma_scopes(&self) -> bool {
        matches!(self, Profile::GitHub)
    }
}

/// The RFC 8628 grant type.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

const MICROSOFT_LOGIN: &str = "https://login.microsoftonline.com";

fn tenant_url(base: &str, tenant: &str, rest: &str) -> String {
    // The tenant is one path segment; escape anything that would change the path.
    let tenant: String = url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect();
    format!("{base}/{tenant}/{rest}")
}

impl Config {
    /// Microsoft identity platform (v2 endpoints) for a tenant: `common`, `organizations`,
    /// `consumers`, a tenant id or a domain. Add scopes with [`ConfigBuilder::scope`];
    /// the server requires at least one. For sovereign clouds, replace the endpoints with
    /// [`ConfigBuilder::device_endpoint`] and [`ConfigBuilder::token_endpoint`].
    pub fn microsoft(tenant: &str, client_id: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::new(client_id)
            .profile(Profile::MicrosoftV2)
            .device_endpoint(tenant_url(
                MICROSOFT_LOGIN,
                tenant,
                "oauth2/v2.0/devicecode",
            ))
            .token_endpoint(tenant_url(MICROSOFT_LOGIN, tenant, "oauth2/v2.0/token"))
    }

    /// Azure AD v1 for a tenant, with the `resource` the token is for.
    pub fn azure_ad_v1(
        tenant: &str,
        client_id: impl Into<String>,
        resource: impl Into<String>,
    ) -> ConfigBuilder {
        ConfigBuilder::new(client_id)
            .profile(Profile::AzureAdV1 {
                resource: resource.into(),
            })
            // ADAL always asked for api-version=1.0 at the device endpoint.
            .device_endpoint(tenant_url(
                MICROSOFT_LOGIN,
                tenant,
                "oauth2/devicecode?api-version=1.0",
            ))
            .token_endpoint(tenant_url(MICROSOFT_LOGIN, tenant, "oauth2/token"))
    }

    /// Google, with the id and secret of a "TVs and Limited Input devices" client; the secret
    /// goes in the form as Google's token endpoint requires.
    pub fn google(client_id: impl Into<String>, client_secret: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::new(client_id)
            .profile(Profile::Google)
            .device_endpoint("https://oauth2.googleapis.com/device/code")
            .token_endpoint("https://oauth2.googleapis.com/token")
            .client_secret_post(client_secret)
    }

    /// GitHub (OAuth apps and GitHub Apps with device flow enabled). For GitHub Enterprise
    /// Server, replace the endpoints.
    pub fn github(client_id: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::new(client_id)
            .profile(Profile::GitHub)
            .device_endpoint("https://github.com/login/device/code")
            .token_endpoint("https://github.com/login/oauth/access_token")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
