//! The providers with presets: their request dialect and their public endpoints.

use clap::ValueEnum;
use device_grant::{Config, Profile};
use serde::{Deserialize, Serialize};

/// A provider whose dialect and endpoints the tool knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// Microsoft identity platform (v2 endpoints); needs at least one --scope.
    Microsoft,
    /// Azure AD v1 (the ADAL-era endpoints); needs --resource.
    AzureAdV1,
    /// Google; needs the client secret of a "TVs and Limited Input devices" client.
    Google,
    /// GitHub and GitHub Enterprise Server.
    Github,
}

/// The tenant used when none is given.
pub const DEFAULT_TENANT: &str = "common";

impl Provider {
    /// The name used on the command line and in the cache.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Microsoft => "microsoft",
            Provider::AzureAdV1 => "azure-ad-v1",
            Provider::Google => "google",
            Provider::Github => "github",
        }
    }

    /// Whether the endpoints contain a tenant.
    pub fn has_tenant(self) -> bool {
        matches!(self, Provider::Microsoft | Provider::AzureAdV1)
    }

    /// The request dialect.
    pub fn profile(self, resource: Option<&str>) -> Profile {
        match self {
            Provider::Microsoft => Profile::MicrosoftV2,
            Provider::AzureAdV1 => Profile::AzureAdV1 {
                resource: resource.unwrap_or_default().to_owned(),
            },
            Provider::Google => Profile::Google,
            Provider::Github => Profile::GitHub,
        }
    }

    /// The public device and token endpoints.
    pub fn endpoints(self, tenant: &str) -> (String, String) {
        // The core owns the presets; a placeholder id is enough to read their endpoints.
        let builder = match self {
            Provider::Microsoft => Config::microsoft(tenant, "-"),
            Provider::AzureAdV1 => Config::azure_ad_v1(tenant, "-", "-"),
            Provider::Google => Config::google("-", "-"),
            Provider::Github => Config::github("-"),
        };
        match builder.build() {
            Ok(config) => (
                config
                    .device_endpoint()
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
                config.token_endpoint().to_string(),
            ),
            // The presets are https URLs built from an escaped tenant; they always parse.
            Err(_) => (String::new(), String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_core_presets() {
        let (device, token) = Provider::Microsoft.endpoints("contoso.example");
        assert!(device.starts_with("https://login.microsoftonline.com/contoso.example/"));
        assert!(token.ends_with("/oauth2/v2.0/token"), "{token}");
        let (device, _) = Provider::Github.endpoints(DEFAULT_TENANT);
        assert_eq!(device, "https://github.com/login/device/code");
        for p in [Provider::AzureAdV1, Provider::Google] {
            let (device, token) = p.endpoints(DEFAULT_TENANT);
            assert!(device.starts_with("https://") && token.starts_with("https://"));
        }
    }

    #[test]
    fn names_match_the_command_line() {
        for p in Provider::value_variants() {
            let shown = p.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(shown.as_deref(), Some(p.name()));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::from(p.name())
            );
        }
    }
}
