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
    /// Per region, on a host named after it: `{region}` in the authority is replaced (AWS:
    /// `https://oidc.{region}.amazonaws.com`).
    Region {
        /// The authority with `{region}` in it, without a trailing slash.
        authority: &'static str,
        /// The region when none is given.
        default_region: &'static str,
        /// The device authorization endpoint's path.
        device_path: &'static str,
        /// The token endpoint's path.
        token_path: &'static str,
    },
    /// Per region, on hosts listed by region (Zoho's data centres).
    Hosts {
        /// Region names and their authorities.
        hosts: &'static [(&'static str, &'static str)],
        /// The region when none is given.
        default_region: &'static str,
        /// The device authorization endpoint's path.
        device_path: &'static str,
        /// The token endpoint's path.
        token_path: &'static str,
    },
    /// Under an instance URL the caller may give (Salesforce's My Domain).
    Instance {
        /// The instance when none is given.
        default_instance: &'static str,
        /// The device authorization endpoint's path.
        device_path: &'static str,
        /// The token endpoint's path.
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
    /// A start URL (AWS IAM Identity Center).
    pub start_url: bool,
    /// A client registration before the flow (AWS's `RegisterClient`).
    pub registration: bool,
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
    /// The client registration endpoint's path next to the others (AWS's
    /// `/client/register`).
    pub registration_path: Option<&'static str>,
    /// The start URL this preset always uses (AWS Builder ID).
    pub start_url: Option<&'static str>,
}

const NO_REQUIREMENTS: Requirements = Requirements {
    scope: false,
    resource: false,
    client_secret: false,
    start_url: false,
    registration: false,
};

const AWS_OIDC: Endpoints = Endpoints::Region {
    authority: "https://oidc.{region}.amazonaws.com",
    default_region: "us-east-1",
    device_path: "/device_authorization",
    token_path: "/token",
};

/// Zoho's accounts servers by data centre (PROVIDERS §15).
const ZOHO_HOSTS: &[(&str, &str)] = &[
    ("us", "https://accounts.zoho.com"),
    ("eu", "https://accounts.zoho.eu"),
    ("in", "https://accounts.zoho.in"),
    ("au", "https://accounts.zoho.com.au"),
    ("jp", "https://accounts.zoho.jp"),
    ("ca", "https://accounts.zohocloud.ca"),
    ("sa", "https://accounts.zoho.sa"),
    ("uk", "https://accounts.zoho.uk"),
];

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
            ..NO_REQUIREMENTS
        },
        dialect: Profile::MicrosoftV2,
        registration_path: None,
        start_url: None,
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
            ..NO_REQUIREMENTS
        },
        dialect: Profile::AzureAdV1 {
            resource: String::new(),
        },
        registration_path: None,
        start_url: None,
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
            ..NO_REQUIREMENTS
        },
        dialect: Profile::Google,
        registration_path: None,
        start_url: None,
    };

    /// GitHub (OAuth apps and GitHub Apps with device flow enabled).
    pub const GITHUB: &'static Preset = &Preset {
        name: "github",
        endpoints: Endpoints::Fixed {
            device: "https://github.com/login/device/code",
            token: "https://github.com/login/oauth/access_token",
        },
        default_auth: DefaultAuth::Public,
        requires: NO_REQUIREMENTS,
        dialect: Profile::GitHub,
        registration_path: None,
        start_url: None,
    };

    /// AWS IAM Identity Center (SSO OIDC) in a region (`us-east-1` unless given): a client
    /// registration first, then the device flow with the start URL.
    pub const AWS_SSO: &'static Preset = &Preset {
        name: "aws-sso",
        endpoints: AWS_OIDC,
        default_auth: DefaultAuth::SecretInForm,
        requires: Requirements {
            start_url: true,
            registration: true,
            ..NO_REQUIREMENTS
        },
        dialect: Profile::AwsSso,
        registration_path: Some("/client/register"),
        start_url: None,
    };

    /// AWS Builder ID: the Identity Center API in `us-east-1` with AWS's own start URL.
    pub const AWS_BUILDER_ID: &'static Preset = &Preset {
        name: "aws-builder-id",
        endpoints: AWS_OIDC,
        default_auth: DefaultAuth::SecretInForm,
        requires: Requirements {
            registration: true,
            ..NO_REQUIREMENTS
        },
        dialect: Profile::AwsSso,
        registration_path: Some("/client/register"),
        start_url: Some("https://view.awsapps.com/start"),
    };

    /// Twitch.
    pub const TWITCH: &'static Preset = &Preset {
        name: "twitch",
        endpoints: Endpoints::Fixed {
            device: "https://id.twitch.tv/oauth2/device",
            token: "https://id.twitch.tv/oauth2/token",
        },
        default_auth: DefaultAuth::SecretInForm,
        requires: NO_REQUIREMENTS,
        dialect: Profile::Twitch,
        registration_path: None,
        start_url: None,
    };

    /// Login with Amazon; needs a scope (`profile`, `profile:user_id`, `postal_code`).
    pub const AMAZON: &'static Preset = &Preset {
        name: "amazon",
        endpoints: Endpoints::Fixed {
            device: "https://api.amazon.com/auth/o2/create/codepair",
            token: "https://api.amazon.com/auth/o2/token",
        },
        default_auth: DefaultAuth::SecretInForm,
        requires: Requirements {
            scope: true,
            ..NO_REQUIREMENTS
        },
        dialect: Profile::Amazon,
        registration_path: None,
        start_url: None,
    };

    /// Salesforce, at `login.salesforce.com` unless given an instance (a sandbox's
    /// `test.salesforce.com`, a My Domain).
    pub const SALESFORCE: &'static Preset = &Preset {
        name: "salesforce",
        endpoints: Endpoints::Instance {
            default_instance: "https://login.salesforce.com",
            device_path: "/services/oauth2/token",
            token_path: "/services/oauth2/token",
        },
        default_auth: DefaultAuth::SecretInForm,
        requires: NO_REQUIREMENTS,
        dialect: Profile::Salesforce,
        registration_path: None,
        start_url: None,
    };

    /// Yandex ID; its polls carry the client secret.
    pub const YANDEX: &'static Preset = &Preset {
        name: "yandex",
        endpoints: Endpoints::Fixed {
            device: "https://oauth.yandex.ru/device/code",
            token: "https://oauth.yandex.ru/token",
        },
        default_auth: DefaultAuth::SecretInForm,
        requires: Requirements {
            client_secret: true,
            ..NO_REQUIREMENTS
        },
        dialect: Profile::Yandex,
        registration_path: None,
        start_url: None,
    };

    /// Zoho, in a data centre (`us` unless given: `eu`, `in`, `au`, `jp`, `ca`, `sa`, `uk`);
    /// needs a scope and the client secret.
    pub const ZOHO: &'static Preset = &Preset {
        name: "zoho",
        endpoints: Endpoints::Hosts {
            hosts: ZOHO_HOSTS,
            default_region: "us",
            device_path: "/oauth/v3/device/code",
            token_path: "/oauth/v3/device/token",
        },
        default_auth: DefaultAuth::SecretInForm,
        requires: Requirements {
            scope: true,
            client_secret: true,
            ..NO_REQUIREMENTS
        },
        dialect: Profile::Zoho,
        registration_path: None,
        start_url: None,
    };

    /// Every entry, in a stable order.
    pub const ALL: [&'static Preset; 11] = [
        Preset::MICROSOFT,
        Preset::AZURE_AD_V1,
        Preset::GOOGLE,
        Preset::GITHUB,
        Preset::AWS_SSO,
        Preset::AWS_BUILDER_ID,
        Preset::TWITCH,
        Preset::AMAZON,
        Preset::SALESFORCE,
        Preset::YANDEX,
        Preset::ZOHO,
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

    /// Whether the endpoints depend on a region (AWS, Zoho).
    #[must_use]
    pub fn has_region(&self) -> bool {
        matches!(
            self.endpoints,
            Endpoints::Region { .. } | Endpoints::Hosts { .. }
        )
    }

    /// Whether the endpoints depend on an instance URL (Salesforce).
    #[must_use]
    pub fn has_instance(&self) -> bool {
        matches!(self.endpoints, Endpoints::Instance { .. })
    }

    /// Whether `region` is one this preset knows: any name of lower-case letters, digits
    /// and hyphens for AWS, a listed data centre for Zoho; false for presets without regions.
    #[must_use]
    pub fn knows_region(&self, region: &str) -> bool {
        match self.endpoints {
            Endpoints::Region { .. } => {
                !region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }
            Endpoints::Hosts { hosts, .. } => hosts.iter().any(|(name, _)| *name == region),
            _ => false,
        }
    }

    /// The authority (scheme and host) of the endpoints for this tenant, region or instance.
    fn authority(&self, which: Option<&str>) -> Option<String> {
        match self.endpoints {
            Endpoints::Region {
                authority,
                default_region,
                ..
            } => {
                let region = which
                    .filter(|r| self.knows_region(r))
                    .unwrap_or(default_region);
                Some(authority.replace("{region}", region))
            }
            Endpoints::Hosts {
                hosts,
                default_region,
                ..
            } => {
                let region = which.unwrap_or(default_region);
                hosts
                    .iter()
                    .find(|(name, _)| *name == region)
                    .or_else(|| hosts.iter().find(|(name, _)| *name == default_region))
                    .map(|(_, host)| (*host).to_owned())
            }
            Endpoints::Instance {
                default_instance, ..
            } => Some(
                which
                    .unwrap_or(default_instance)
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            _ => None,
        }
    }

    /// The client registration endpoint for this region, for presets that register.
    #[must_use]
    pub fn registration_endpoint(&self, region: Option<&str>) -> Option<String> {
        let path = self.registration_path?;
        Some(format!("{}{path}", self.authority(region)?))
    }

    /// The device authorization and token endpoints for `tenant`: a tenant (Microsoft), a
    /// region (AWS, Zoho; an unknown one gives the default), an instance URL (Salesforce);
    /// ignored by the others, and `None` is the default. A tenant is escaped as one path
    /// segment, so `a/../b` cannot change the path.
    #[must_use]
    pub fn endpoints(&self, tenant: Option<&str>) -> (String, String) {
        match self.endpoints {
            Endpoints::Fixed { device, token } => (device.to_owned(), token.to_owned()),
            Endpoints::Region {
                device_path,
                token_path,
                ..
            }
            | Endpoints::Hosts {
                device_path,
                token_path,
                ..
            }
            | Endpoints::Instance {
                device_path,
                token_path,
                ..
            } => {
                let authority = self.authority(tenant).unwrap_or_default();
                (
                    format!("{authority}{device_path}"),
                    format!("{authority}{token_path}"),
                )
            }
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

    #[test]
    fn regions_and_instances() {
        let (device, token) = Preset::AWS_SSO.endpoints(Some("eu-west-1"));
        assert_eq!(
            device,
            "https://oidc.eu-west-1.amazonaws.com/device_authorization"
        );
        assert_eq!(token, "https://oidc.eu-west-1.amazonaws.com/token");
        assert_eq!(
            Preset::AWS_SSO
                .registration_endpoint(Some("eu-west-1"))
                .unwrap(),
            "https://oidc.eu-west-1.amazonaws.com/client/register"
        );
        // A region that could change the host falls back to the default.
        assert!(!Preset::AWS_SSO.knows_region("evil.example/x"));
        assert!(
            Preset::AWS_SSO
                .endpoints(Some("evil.example/x"))
                .0
                .starts_with("https://oidc.us-east-1.amazonaws.com/")
        );
        assert_eq!(
            Preset::AWS_BUILDER_ID.start_url,
            Some("https://view.awsapps.com/start")
        );
        assert_eq!(
            Preset::ZOHO.endpoints(Some("ca")).0,
            "https://accounts.zohocloud.ca/oauth/v3/device/code"
        );
        assert_eq!(
            Preset::ZOHO.endpoints(None).1,
            "https://accounts.zoho.com/oauth/v3/device/token"
        );
        let (device, token) = Preset::SALESFORCE.endpoints(Some("https://acme.my.salesforce.com/"));
        assert_eq!(
            device,
            "https://acme.my.salesforce.com/services/oauth2/token"
        );
        assert_eq!(device, token, "both steps at one endpoint");
        assert!(Preset::GITHUB.registration_endpoint(None).is_none());
    }
}
