//! The providers with presets: their request dialect and their public endpoints.

use clap::ValueEnum;
use device_grant::{Preset, Profile};
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
    /// AWS IAM Identity Center (SSO); needs --start-url, and --region unless us-east-1. The
    /// client registers itself: no --client-id.
    AwsSso,
    /// AWS Builder ID; the client registers itself: no --client-id.
    AwsBuilderId,
    /// Twitch.
    Twitch,
    /// Login with Amazon; needs a --scope (`profile`, ...).
    Amazon,
    /// Salesforce (login.salesforce.com; a My Domain or sandbox with --instance).
    Salesforce,
    /// Yandex ID; needs the client secret.
    Yandex,
    /// Zoho (the US data centre; others with --region); needs --scope and the secret.
    Zoho,
}

impl Provider {
    /// The core's catalogue entry, the one source of endpoints, dialect and requirements.
    pub fn preset(self) -> &'static Preset {
        match self {
            Provider::Microsoft => Preset::MICROSOFT,
            Provider::AzureAdV1 => Preset::AZURE_AD_V1,
            Provider::Google => Preset::GOOGLE,
            Provider::Github => Preset::GITHUB,
            Provider::AwsSso => Preset::AWS_SSO,
            Provider::AwsBuilderId => Preset::AWS_BUILDER_ID,
            Provider::Twitch => Preset::TWITCH,
            Provider::Amazon => Preset::AMAZON,
            Provider::Salesforce => Preset::SALESFORCE,
            Provider::Yandex => Preset::YANDEX,
            Provider::Zoho => Preset::ZOHO,
        }
    }

    /// The name used on the command line and in the cache.
    #[cfg(any(feature = "demo", test))]
    pub fn name(self) -> &'static str {
        self.preset().name
    }

    /// The provider's RFC 7009 revocation endpoint, where it has one for these clients.
    /// Microsoft and GitHub have none (GitHub revokes through its REST API, with the app's
    /// credentials).
    pub fn revocation_endpoint(self) -> Option<&'static str> {
        match self {
            Provider::Google => Some("https://oauth2.googleapis.com/revoke"),
            Provider::Microsoft | Provider::AzureAdV1 | Provider::Github => None,
            // Not in our provider notes: `logout` then says it only deleted the local set.
            Provider::AwsSso
            | Provider::AwsBuilderId
            | Provider::Twitch
            | Provider::Amazon
            | Provider::Salesforce
            | Provider::Yandex
            | Provider::Zoho => None,
        }
    }

    /// Whether the endpoints contain a tenant.
    pub fn has_tenant(self) -> bool {
        self.preset().has_tenant()
    }

    /// The request dialect.
    pub fn profile(self, resource: Option<&str>) -> Profile {
        self.preset().profile(resource.unwrap_or_default())
    }

    /// The public device and token endpoints; `None` is the default tenant.
    pub fn endpoints(self, tenant: Option<&str>) -> (String, String) {
        self.preset().endpoints(tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_core_presets() {
        let (device, token) = Provider::Microsoft.endpoints(Some("contoso.example"));
        assert!(device.starts_with("https://login.microsoftonline.com/contoso.example/"));
        assert!(token.ends_with("/oauth2/v2.0/token"), "{token}");
        let (device, _) = Provider::Microsoft.endpoints(None);
        assert!(device.contains("/common/"), "{device}");
        let (device, _) = Provider::Github.endpoints(None);
        assert_eq!(device, "https://github.com/login/device/code");
        for p in Provider::value_variants() {
            let (device, token) = p.endpoints(None);
            assert!(device.starts_with("https://") && token.starts_with("https://"));
            // The same entries the core's presets are built from.
            assert_eq!(Preset::named(p.name()), Some(p.preset()));
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
