//! Finding the endpoints from an issuer: OpenID Connect Discovery
//! (`/.well-known/openid-configuration`), then OAuth 2.0 Authorization Server Metadata
//! (RFC 8414, `/.well-known/oauth-authorization-server`).

use serde::Deserialize;
use url::{Host, Url};

use crate::exit::{CliError, Failure};
use crate::transport::Http;

/// The members this tool reads from the metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// RFC 8628 §4: absent when the server does not support the device flow.
    pub device_authorization_endpoint: Option<String>,
    /// The token endpoint.
    pub token_endpoint: String,
    /// RFC 7009 token revocation, when the server offers it (RFC 8414 §2).
    pub revocation_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct Document {
    issuer: Option<String>,
    device_authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    // A member of another type is treated as absent rather than failing discovery.
    #[serde(default, deserialize_with = "lenient_string")]
    revocation_endpoint: Option<String>,
}

fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(value.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
}

/// The two metadata locations, in the order they are tried.
pub fn locations(issuer: &Url) -> [String; 2] {
    let path = issuer.path().trim_end_matches('/');
    let origin = issuer.origin().ascii_serialization();
    [
        // OpenID Connect Discovery 1.0 §4: appended to the issuer.
        format!("{origin}{path}/.well-known/openid-configuration"),
        // RFC 8414 §3: inserted between the host and the issuer's path.
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
    ]
}

/// Reads a metadata document and checks that it belongs to `issuer`.
pub fn parse(issuer: &str, body: &[u8]) -> Result<Metadata, String> {
    let doc: Document =
        serde_json::from_slice(body).map_err(|e| format!("it is not a metadata document ({e})"))?;
    let claimed = doc
        .issuer
        .ok_or_else(|| "it has no `issuer` member".to_owned())?;
    // RFC 8414 §3.3 and OIDC Discovery §4.3: the issuer must be the one asked for, or a
    // server could point this client at someone else's endpoints.
    if claimed.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "it names the issuer {}, not {issuer} (for Microsoft, use --provider microsoft --tenant instead)",
            // The server chose this text; it must not drive the terminal.
            device_grant::display_safe(&claimed)
        ));
    }
    let token_endpoint = doc
        .token_endpoint
        .filter(|s| !s.is_empty())
        .ok_or_else(|| "it has no `token_endpoint` member".to_owned())?;
    Ok(Metadata {
        device_authorization_endpoint: doc.device_authorization_endpoint.filter(|s| !s.is_empty()),
        token_endpoint,
        revocation_endpoint: doc.revocation_endpoint,
    })
}

/// Fetches and reads the issuer's metadata.
pub fn discover(http: &Http, issuer: &str, allow_insecure: bool) -> Result<Metadata, CliError> {
    let url = issuer_url(issuer, allow_insecure)?;
    let mut misses = Vec::new();
    for location in locations(&url) {
        let answer = http.get_json(&location).map_err(|e| {
            CliError::new(
                Failure::Network,
                format!(
                    "could not fetch the metadata at {location} ({e}); check --issuer and the network connection"
                ),
            )
        })?;
        if answer.too_large() {
            return Err(CliError::new(
                Failure::Server,
                format!("the metadata at {location} is too large; check --issuer"),
            ));
        }
        if !(200..300).contains(&answer.status) {
            misses.push(format!("{location} (HTTP {})", answer.status));
            continue;
        }
        return parse(issuer, &answer.body).map_err(|why| {
            CliError::new(
                Failure::Server,
                format!(
                    "the metadata at {location} cannot be used: {why}; pass --device-endpoint and --token-endpoint instead"
                ),
            )
        });
    }
    Err(CliError::new(
        Failure::Server,
        format!(
            "no metadata found at {}; check --issuer, or pass --device-endpoint and --token-endpoint",
            misses.join(" or ")
        ),
    ))
}

fn issuer_url(issuer: &str, allow_insecure: bool) -> Result<Url, CliError> {
    let url = Url::parse(issuer)
        .map_err(|e| CliError::usage(format!("--issuer {issuer} is not a URL ({e})")))?;
    if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
        return Err(CliError::usage(
            "--issuer must be an https URL without a query or fragment (RFC 8414 §2)",
        ));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback || allow_insecure => Ok(url),
        "http" => Err(CliError::usage(format!(
            "--issuer {issuer} uses plain http; use https (plain http is allowed only on loopback hosts, or with --allow-insecure-http for a lab server)"
        ))),
        other => Err(CliError::usage(format!(
            "--issuer uses the scheme {other}; use https"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_follow_both_specs() {
        let url = Url::parse("https://id.example/tenant/v2/").unwrap();
        assert_eq!(
            locations(&url),
            [
                "https://id.example/tenant/v2/.well-known/openid-configuration".to_owned(),
                "https://id.example/.well-known/oauth-authorization-server/tenant/v2".to_owned(),
            ]
        );
        let url = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            locations(&url)[1],
            "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn parse_checks_the_issuer() {
        let body = br#"{"issuer":"https://id.example","device_authorization_endpoint":"https://id.example/device","token_endpoint":"https://id.example/token","grant_types_supported":["x"]}"#;
        let m = parse("https://id.example/", body).unwrap();
        assert_eq!(
            m.device_authorization_endpoint.as_deref(),
            Some("https://id.example/device")
        );
        assert_eq!(m.token_endpoint, "https://id.example/token");
        let e = parse("https://other.example", body).unwrap_err();
        assert!(e.contains("names the issuer"), "{e}");
    }

    #[test]
    fn a_claimed_issuer_cannot_drive_the_terminal() {
        let body = br#"{"issuer":"https://evil.example/\u001b]8;;https://x\u0007\r\u202e","token_endpoint":"https://t"}"#;
        let why = parse("https://as.example", body).expect_err("another issuer");
        assert!(why.contains("evil.example"), "{why}");
        for bad in ['\x1b', '\x07', '\r', '\u{202e}'] {
            assert!(!why.contains(bad), "{why:?}");
        }
    }

    #[test]
    fn parse_rejects_incomplete_documents() {
        assert!(parse("https://a", b"<html>").is_err());
        assert!(parse("https://a", br#"{"token_endpoint":"https://a/t"}"#).is_err());
        assert!(parse("https://a", br#"{"issuer":"https://a"}"#).is_err());
        let m = parse(
            "https://a",
            br#"{"issuer":"https://a","token_endpoint":"https://a/t"}"#,
        )
        .unwrap();
        assert_eq!(m.device_authorization_endpoint, None);
    }

    #[test]
    fn issuers_must_be_https_off_loopback() {
        assert!(issuer_url("https://id.example", false).is_ok());
        assert!(issuer_url("http://localhost:8080", false).is_ok());
        assert!(issuer_url("http://[::1]:8080", false).is_ok());
        assert!(issuer_url("http://id.example", false).is_err());
        assert!(issuer_url("http://id.example", true).is_ok());
        assert!(issuer_url("https://id.example?x=1", false).is_err());
        assert!(issuer_url("ftp://id.example", true).is_err());
        assert!(issuer_url("not a url", true).is_err());
    }
}
