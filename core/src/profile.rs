//! Provider profiles: what each provider needs in its requests. The presets with their
//! endpoints are in the catalogue.
//!
//! Parsing is lenient for every provider (see the `wire` module); a profile changes what is
//! *sent*. The differences come from the providers' documentation and official clients; see
//! the provider table in the README.

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
