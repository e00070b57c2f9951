//! Provider profiles: each provider's dialect, as data.
//!
//! A [`Profile`] names a provider's dialect; [`Profile::shape`] gives the [`Shape`] the
//! request builder and the answer classification read: parameter names and grant names, the
//! body encoding, where the scope goes and how it is joined, extra fields echoed on polls,
//! and how errors and members are spelt in answers. Adding a provider is a table entry here
//! plus its endpoints in the catalogue; the flow has no branch per provider.
//!
//! Parsing stays lenient for every provider (see the `wire` module): numbers as strings,
//! `verification_url`, array scopes are read whatever the profile.

use std::time::Duration;

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
    /// AWS IAM Identity Center (SSO OIDC) and AWS Builder ID: JSON bodies with camelCase
    /// members both ways, the registered client's id and secret in every request, the start
    /// URL in the device request, no scope there (scopes belong to the registration).
    AwsSso,
    /// Twitch: `scopes` (plural) in the device request and again on every poll; errors come as
    /// `{"status":400,"message":"authorization_pending"}` without an `error` member, and
    /// `invalid device code` means the code expired.
    Twitch,
    /// Login with Amazon: `response_type=device_code` in the device request, polls with
    /// `grant_type=device_code` that echo the `user_code`.
    Amazon,
    /// Salesforce: both steps at one endpoint, `response_type=device_code`, polls with
    /// `grant_type=device` and the code as `code`; no `expires_in` is promised, so a
    /// client-side cap of ten minutes applies.
    Salesforce,
    /// Yandex: polls with `grant_type=device_code` and the code as `code`;
    /// `verification_url`.
    Yandex,
    /// Zoho: parameters in the query string of a `POST`, `grant_type=device_request` and
    /// `device_token`, comma-separated scopes, `access_type=offline`, `expired` for an
    /// expired code, and `other_dc` when the user approved in another data centre (followed
    /// through `/oauth/serverinfo` of the configured accounts server).
    Zoho,
}

/// How a request's parameters travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyEncoding {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    Form,
    /// A JSON object of strings (and arrays for list-valued scopes).
    Json,
    /// In the query string of a `POST` with an empty body (Zoho).
    Query,
}

/// How parameter and member names are spelt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameCase {
    /// `device_code`, as in the RFCs.
    Snake,
    /// `deviceCode` (AWS): requests are written this way and answers read back to snake case.
    Camel,
}

/// How several scopes are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScopeJoin {
    /// Space-separated, as RFC 6749 §3.3 says.
    Space,
    /// Comma-separated (Zoho).
    Comma,
    /// A JSON array (AWS); space-separated in a form.
    Array,
}

/// A provider's dialect as data: what the requests look like and how its answers read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Shape {
    /// How parameters travel.
    pub encoding: BodyEncoding,
    /// How names are spelt in requests and answers.
    pub names: NameCase,
    /// `response_type` sent in the device request (Amazon, Salesforce: `device_code`).
    pub device_response_type: Option<&'static str>,
    /// `grant_type` sent in the device request (Zoho: `device_request`).
    pub device_grant_type: Option<&'static str>,
    /// `grant_type` of a poll.
    pub poll_grant_type: &'static str,
    /// The parameter that carries the device code in a poll (`device_code`, or `code`).
    pub device_code_param: &'static str,
    /// Whether polls echo the `user_code` (Amazon).
    pub echo_user_code: bool,
    /// The name of the scope parameter (`scope`, Twitch's `scopes`).
    pub scope_param: &'static str,
    /// How scopes are joined.
    pub scope_join: ScopeJoin,
    /// Whether the device request carries the scope (AWS registers scopes instead).
    pub scope_in_device_request: bool,
    /// Whether polls carry the scope again (Twitch's official CLI does).
    pub scope_in_polls: bool,
    /// Fixed parameters of the device request (Zoho's `access_type=offline`).
    pub device_extra: &'static [(&'static str, &'static str)],
    /// The member that carries the error code when `error` is absent (Twitch: `message`).
    pub error_member: &'static str,
    /// A provider's own error words and the RFC code they mean.
    pub error_aliases: &'static [(&'static str, &'static str)],
    /// Whether a token's `scope` separates with commas as well as spaces (GitHub).
    pub comma_scopes: bool,
    /// The code's lifetime when the device response has no `expires_in` (Salesforce).
    pub default_expires_in: Option<Duration>,
    /// Whether `other_dc` is followed to another data centre (Zoho).
    pub data_centres: bool,
    /// Whether an `invalid_request` naming a `region` is reported as the wrong region (AWS).
    pub region_hint: bool,
}

impl Shape {
    /// RFC 8628 and RFC 6749 as written.
    pub const RFC8628: Shape = Shape {
        encoding: BodyEncoding::Form,
        names: NameCase::Snake,
        device_response_type: None,
        device_grant_type: None,
        poll_grant_type: DEVICE_CODE_GRANT,
        device_code_param: "device_code",
        echo_user_code: false,
        scope_param: "scope",
        scope_join: ScopeJoin::Space,
        scope_in_device_request: true,
        scope_in_polls: false,
        device_extra: &[],
        error_member: "error",
        error_aliases: &[],
        comma_scopes: false,
        default_expires_in: None,
        data_centres: false,
        region_hint: false,
    };

    const AZURE_AD_V1: Shape = Shape {
        poll_grant_type: "device_code",
        device_code_param: "code",
        ..Shape::RFC8628
    };

    const GITHUB: Shape = Shape {
        comma_scopes: true,
        ..Shape::RFC8628
    };

    const AWS_SSO: Shape = Shape {
        encoding: BodyEncoding::Json,
        names: NameCase::Camel,
        scope_join: ScopeJoin::Array,
        scope_in_device_request: false,
        region_hint: true,
        ..Shape::RFC8628
    };

    const TWITCH: Shape = Shape {
        scope_param: "scopes",
        scope_in_polls: true,
        error_member: "message",
        error_aliases: &[("invalid device code", "expired_token")],
        ..Shape::RFC8628
    };

    const AMAZON: Shape = Shape {
        device_response_type: Some("device_code"),
        poll_grant_type: "device_code",
        echo_user_code: true,
        ..Shape::RFC8628
    };

    const SALESFORCE: Shape = Shape {
        device_response_type: Some("device_code"),
        poll_grant_type: "device",
        device_code_param: "code",
        default_expires_in: Some(Duration::from_secs(600)),
        ..Shape::RFC8628
    };

    const YANDEX: Shape = Shape {
        poll_grant_type: "device_code",
        device_code_param: "code",
        ..Shape::RFC8628
    };

    const ZOHO: Shape = Shape {
        encoding: BodyEncoding::Query,
        device_grant_type: Some("device_request"),
        poll_grant_type: "device_token",
        device_code_param: "code",
        scope_join: ScopeJoin::Comma,
        device_extra: &[("access_type", "offline")],
        error_aliases: &[("expired", "expired_token")],
        data_centres: true,
        ..Shape::RFC8628
    };
}

impl Profile {
    /// The dialect as data.
    #[must_use]
    pub fn shape(&self) -> Shape {
        *self.shape_ref()
    }

    /// The dialect without a copy: the core reads it on every answer.
    pub(crate) fn shape_ref(&self) -> &'static Shape {
        match self {
            Profile::Rfc8628 | Profile::MicrosoftV2 | Profile::Google => &Shape::RFC8628,
            Profile::AzureAdV1 { .. } => &Shape::AZURE_AD_V1,
            Profile::GitHub => &Shape::GITHUB,
            Profile::AwsSso => &Shape::AWS_SSO,
            Profile::Twitch => &Shape::TWITCH,
            Profile::Amazon => &Shape::AMAZON,
            Profile::Salesforce => &Shape::SALESFORCE,
            Profile::Yandex => &Shape::YANDEX,
            Profile::Zoho => &Shape::ZOHO,
        }
    }

    /// The parameter a profile adds to every request.
    pub(crate) fn resource(&self) -> Option<&str> {
        match self {
            Profile::AzureAdV1 { resource } => Some(resource),
            _ => None,
        }
    }
}

/// `device_code` → `deviceCode`.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            // Member names are ASCII; Unicode case tables would cost 12 KB of every binary.
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `deviceCode` → `device_code`.
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The RFC 8628 grant type.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_convert_both_ways() {
        for (s, c) in [
            ("device_code", "deviceCode"),
            ("verification_uri_complete", "verificationUriComplete"),
            ("error", "error"),
            ("startUrl", "startUrl"),
        ] {
            assert_eq!(camel(s), c);
            if s != "startUrl" {
                assert_eq!(snake(c), s);
            }
        }
    }

    #[test]
    fn every_profile_has_a_shape_the_old_branches_agree_with() {
        assert_eq!(
            Profile::AzureAdV1 {
                resource: "r".into()
            }
            .shape()
            .device_code_param,
            "code"
        );
        assert!(Profile::GitHub.shape().comma_scopes);
        assert_eq!(Profile::Google.shape(), Shape::RFC8628);
        assert_eq!(Profile::Twitch.shape().error_member, "message");
        assert_eq!(Profile::Zoho.shape().encoding, BodyEncoding::Query);
    }
}
