//! The provider catalogue: what the crate knows about each provider with a preset, as data.
//!
//! [`Config::microsoft`](crate::Config::microsoft) and the other presets are built from these
//! entries, and a program that lets its users pick a provider (a command line, a settings
//! file) can read the same table instead of repeating endpoints. The facts come from the
//! providers' documentation and official clients.

use crate::profile::Profile;

/// Where a provider's endpoints are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoints {
    /// The same for every client.
    Fixed {
        /// The device authorization endpoint.
        device: &'static str,
        /// The token endpoint.
        token: &'static str,
    },
    /// Under a tenant: `{authority}/{tenant}/{path}`. Sovereign clouds use another authority.
    Tenant {
        /// The authority of the public cloud, without a trailing slash.
        authority: &'static str,
        /// The tenant when none is given.
        default_tenant: &'static str,
        /// The device authorization endpoint's path after the tenant.
        device_path: &'static str,
        /// The token endpoint's path after the tenant.
        token_path: &'static str,
    },
}

/// How a provider's clients authenticate unless told otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DefaultAuth {
    /// A public client: the client id alone.
    Public,
    /// The client secret goes in the form (`client_secret_post`), as Google requires.
    SecretInForm,
}

/// What a provider needs from the caller besides a client id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Requirements {
    /// At least one scope (Microsoft v2 refuses a device request without one).
    pub scope: bool,
    /// The `resource` the token is for (Azure AD v1).
    pub resource: bool,
    /// A client secret (Google's "TVs and Limited Input devices" clients).
    pub client_secret: bool,
}

/// One provider in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Preset {
    /// A short name: `microsoft`, `azure-ad-v1`, `google`, `github`.
    pub name: &'static str,
    /// Where the endpoints are.
    pub endpoints: Endpoints,
    /// How clients authenticate by default.
    pub default_auth: DefaultAuth,
    /// What the caller must supply.
    pub requires: Requirements,
    /// The request dialect. For Azure AD v1 the resource here is empty; [`Preset::profile`]
    /// fills it in.
    pub dialect: Profile,
}

const MICROSOFT_LOGIN: &str = "https://login.microsoftonline.com";

impl Preset {
    /// Microsoft identity platform (v2 endpoints).
    pub const MICROSOFT: &'static Preset = &Preset {
        name: "microsoft",
        endpoints: Endpoints::Tenant {
            authority: MICROSOFT_LOGIN,
            default_tenant: "common",
            device_path: "oauth2/v2.0/devicecode",
            token_path: "oauth2/v2.0/token",
        },
        default_auth: DefaultAuth::Public,
        requires: Requirements {
            scope: true,
            resource: false,
            client_secret: false,
        },
        dialect: Profile::MicrosoftV2,
    };

    /// Azure AD v1, the ADAL-era endpoints.
    pub const AZURE_AD_V1: &'static Preset = &Preset {
        name: "azure-ad-v1",
        endpoints: Endpoints::Tenant {
            authority: MICROSOFT_LOGIN,
            default_tenant: "common",
            // ADAL always asked for api-version=1.0 at the device endpoint.
            device_path: "oauth2/devicecode?api-version=1.0",
            token_path: "oauth2/token",
        },
        default_auth: DefaultAuth::Public,
        requires: Requirements {
            scope: false,
            resource: true,
            client_secret: false,
        },
        dialect: Profile::AzureAdV1 {
            resource: String::new(),
        },
    };

    /// Google, for "TVs and Limited Input devices" clients.
    pub const GOOGLE: &'static Preset = &Preset {
        name: "google",
        endpoints: Endpoints::Fixed {
            device: "https://oauth2.googleapis.com/device/code",
            token: "https://oauth2.googleapis.com/token",
        },
        default_auth: DefaultAuth::SecretInForm,
        requires: Requirements {
            scope: false,
            resource: false,
            client_secret: true,
        },
        dialect: Profile::Google,
    };

    /// GitHub (OAuth apps and GitHub Apps with device flow enabled).
    pub const GITHUB: &'static Preset = &Preset {
        name: "github",
        endpoints: Endpoints::Fixed {
            device: "https://github.com/login/device/code",
            token: "https://github.com/login/oauth/access_token",
        },
        default_auth: DefaultAuth::Public,
        requires: Requirements {
            scope: false,
            resource: false,
            client_secret: false,
        },
        dialect: Profile::GitHub,
    };

    /// Every entry, in a stable order.
    pub const ALL: [&'static Preset; 4] = [
        Preset::MICROSOFT,
        Preset::AZURE_AD_V1,
        Preset::GOOGLE,
        Preset::GITHUB,
    ];

    /// The entry with this [`Preset::name`].
    #[must_use]
    pub fn named(name: &str) -> Option<&'static Preset> {
        Preset::ALL.into_iter().find(|p| p.name == name)
    }

    /// Whether the endpoints depend on a tenant.
    #[must_use]
    pub fn has_tenant(&self) -> bool {
        matches!(self.endpoints, Endpoints::Tenant { .. })
    }

    /// The device authorization and token endpoints for `tenant` (ignored by providers
    /// without tenants; `None` is the default tenant). The tenant is escaped as one path
    /// segment, so `a/../b` cannot change the path.
    #[must_use]
    pub fn endpoints(&self, tenant: Option<&str>) -> (String, String) {
        match self.endpoints {
            Endpoints::Fixed { device, token } => (device.to_owned(), token.to_owned()),
            Endpoints::Tenant {
                authority,
                default_tenant,
                device_path,
                token_path,
            } => {
                let tenant: String = url::form_urlencoded::byte_serialize(
                    tenant.unwrap_or(default_tenant).as_bytes(),
                )
                .collect();
                (
                    format!("{authority}/{tenant}/{device_path}"),
                    format!("{authority}/{tenant}/{token_path}"),
                )
            }
        }
    }

    /// The request dialect, with `resource` filled in for Azure AD v1 (ignored otherwise).
    #[must_use]
    pub fn profile(&self, resource: &str) -> Profile {
        match &self.dialect {
            Profile::AzureAdV1 { .. } => Profile::AzureAdV1 {
                resource: resource.to_owned(),
            },
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for p in Preset::ALL {
            assert_eq!(Preset::named(p.name), Some(p));
        }
        assert_eq!(Preset::named("nope"), None);
    }

    #[test]
    fn tenants_are_one_escaped_segment() {
        let (device, token) = Preset::MICROSOFT.endpoints(Some("a/../b"));
        assert!(device.contains("/a%2F..%2Fb/"), "{device}");
        assert!(token.ends_with("/oauth2/v2.0/token"), "{token}");
        let (device, _) = Preset::AZURE_AD_V1.endpoints(None);
        assert_eq!(
            device,
            "https://login.microsoftonline.com/common/oauth2/devicecode?api-version=1.0"
        );
        assert_eq!(
            Preset::GITHUB.endpoints(Some("ignored")).0,
            "https://github.com/login/device/code"
        );
    }
}
