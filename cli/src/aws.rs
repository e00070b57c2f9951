//! AWS IAM Identity Center and AWS Builder ID: the client registration a login needs first,
//! kept with the tokens until shortly before it expires, and the copy of the token in
//! `~/.aws/sso/cache`, where the AWS CLI, boto3 and the Rust SDK read it (PROVIDERS §11).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use device_grant::{ClientRegistration, ClientSecret, FlowError, REGISTRATION_BODY_LIMIT};
use device_grant_store::{TokenSet, unix_seconds};
use serde_json::{Map, Value};

use crate::args::{AuthMethod, ClientArgs, LoginOutput, ServerArgs};
use crate::exit::{CliError, Failure, Grant};
use crate::provider::Provider;
use crate::tokens::{self, Tokens};
use crate::transport::Http;

/// Where a token set keeps its registration (the store has no field for it).
const REGISTRATION_KEY: &str = "device_grant_aws_registration";

/// A registration with less than this left (seconds) is replaced before a login: the user
/// would otherwise approve the code in the browser and then see "Invalid client".
pub const RENEW_BEFORE: u64 = 3600;

/// The scopes registered when none are given, as the AWS CLI's `sso login` does.
const DEFAULT_SCOPES: &[&str] = &["sso:account:access"];

/// The `clientName` of the registration.
const CLIENT_NAME: &str = "device-grant";

/// One login's AWS side: the registration and what it was made for. Holds the client
/// secret, so it has no `Debug`.
pub struct Session {
    registration: ClientRegistration,
    endpoint: String,
    scopes: Vec<String>,
    start_url: String,
    region: String,
    /// The key of the AWS CLI's cache file (an sso-session name or the start URL), when the
    /// token goes there too.
    sso_cache_key: Option<String>,
}

impl Session {
    /// For `--provider aws-sso` and `aws-builder-id`: reuses the registration kept in the
    /// store when it is for the same endpoint and scopes and lives for another hour, or
    /// registers a client; then fills in the client options (id, secret, start URL) that the
    /// rest of the login uses. `None` for other providers.
    pub fn prepare(
        server: &ServerArgs,
        client: &mut ClientArgs,
        output: &LoginOutput,
        store: Option<&Tokens>,
        http: &Http,
    ) -> Result<Option<Session>, CliError> {
        let Some(preset) = server
            .provider
            .map(Provider::preset)
            .filter(|p| p.requires.registration)
        else {
            if output.aws_sso_cache {
                return Err(CliError::usage(
                    "--aws-sso-cache applies to --provider aws-sso and aws-builder-id only",
                ));
            }
            return Ok(None);
        };
        // The region decides where the registration goes: checked before it is sent.
        crate::settings::resolve_location(server)?;
        if client.client_id.is_some()
            || client.secret.client_secret.is_some()
            || client.auth_method.is_some()
        {
            return Err(CliError::usage(
                "AWS registers its own client: drop --client-id, the client secret and --auth-method (and unset DEVICE_GRANT_CLIENT_ID and DEVICE_GRANT_CLIENT_SECRET)",
            ));
        }
        if server.issuer.is_some() {
            return Err(CliError::usage(
                "--issuer does not apply to AWS: use --region, or the endpoint options",
            ));
        }
        // Exactly as given: the AWS CLI keys its cache by the URL as configured.
        let start_url = match (preset.start_url, &server.start_url) {
            (Some(_), Some(_)) => {
                return Err(CliError::usage(
                    "--provider aws-builder-id always uses AWS's start URL; drop --start-url",
                ));
            }
            (Some(url), None) => url.to_owned(),
            (None, Some(url)) if !url.trim().is_empty() => url.clone(),
            (None, _) => {
                return Err(CliError::usage(
                    "--provider aws-sso needs --start-url, the AWS access portal URL (sso_start_url in ~/.aws/config)",
                ));
            }
        };
        let region = match (&server.region, preset.endpoints) {
            (Some(r), _) => r.clone(),
            (None, device_grant::Endpoints::Region { default_region, .. }) => {
                default_region.to_owned()
            }
            (None, _) => String::new(),
        };
        let endpoint = server
            .registration_endpoint
            .clone()
            .or_else(|| preset.registration_endpoint(Some(&region)))
            .ok_or_else(|| CliError::usage("no client registration endpoint: pass --region"))?;
        let mut scopes: Vec<String> = client
            .scopes
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect();
        if scopes.is_empty() {
            scopes = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        }
        // The scopes belong to the registration; the device request carries none.
        client.scopes.clear();

        let now = unix_seconds(SystemTime::now());
        let kept = match store {
            Some(s) => s.load()?.as_ref().and_then(Session::from_set),
            None => None,
        }
        .filter(|k| {
            k.endpoint == endpoint
                && k.scopes == scopes
                && k.registration.is_good_for(RENEW_BEFORE, now)
        });
        let registration = match kept {
            Some(k) => k.registration,
            None => {
                let registration = register(http, &endpoint, &scopes, server.allow_insecure_http)?;
                note!(
                    "Registered a client with AWS at {endpoint}; {} until {}.",
                    if store.is_some() {
                        "it is kept with the tokens"
                    } else {
                        "it is not kept (add --profile or --cache to reuse it)"
                    },
                    utc(registration.expires_at())
                );
                registration
            }
        };
        client.client_id = Some(registration.client_id().to_owned());
        client.secret.client_secret = Some(registration.client_secret().secret().to_owned());
        client.auth_method = Some(AuthMethod::Post);
        client
            .params
            .push(("startUrl".to_owned(), start_url.clone()));
        let sso_cache_key = output.aws_sso_cache.then(|| {
            output
                .sso_session
                .clone()
                .unwrap_or_else(|| start_url.clone())
        });
        Ok(Some(Session {
            registration,
            endpoint,
            scopes,
            start_url,
            region,
            sso_cache_key,
        }))
    }

    /// The session a stored set was signed in with, if it is an AWS one.
    pub fn from_set(set: &TokenSet) -> Option<Session> {
        let kept = set.extra().get(REGISTRATION_KEY)?.as_object()?;
        let text = |name: &str| kept.get(name).and_then(Value::as_str).map(str::to_owned);
        let registration = ClientRegistration::new(
            text("clientId")?,
            ClientSecret::new(text("clientSecret")?),
            kept.get("expiresAt").and_then(Value::as_u64)?,
        );
        Some(Session {
            registration,
            endpoint: text("registrationEndpoint")?,
            scopes: kept
                .get("scopes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            start_url: text("startUrl")?,
            region: text("region").unwrap_or_default(),
            sso_cache_key: text("ssoCacheKey"),
        })
    }

    /// Keeps the registration (with its secret; the store writes the set with mode 0600 or
    /// to the keyring) in `set`.
    pub fn remember(&self, set: &mut TokenSet) {
        let mut kept = Map::new();
        kept.insert("clientId".into(), self.registration.client_id().into());
        kept.insert(
            "clientSecret".into(),
            self.registration.client_secret().secret().into(),
        );
        kept.insert("expiresAt".into(), self.registration.expires_at().into());
        kept.insert("registrationEndpoint".into(), self.endpoint.clone().into());
        kept.insert("scopes".into(), self.scopes.clone().into());
        kept.insert("startUrl".into(), self.start_url.clone().into());
        kept.insert("region".into(), self.region.clone().into());
        if let Some(key) = &self.sso_cache_key {
            kept.insert("ssoCacheKey".into(), key.clone().into());
        }
        set.extra_mut()
            .insert(REGISTRATION_KEY.into(), Value::Object(kept));
    }

    /// The registered client secret, sent with every request.
    pub fn secret(&self) -> &str {
        self.registration.client_secret().secret()
    }

    /// The login's failure as the CLI reports it. `invalid_client` means the registration
    /// is no longer valid: it is dropped from the store so that the next login registers
    /// again.
    pub fn failed(&self, error: &device_grant_ureq::Error, store: Option<&Tokens>) -> CliError {
        match error.flow_error() {
            Some(FlowError::OAuth(e)) if e.error() == "invalid_client" => {
                let dropped = store.map(forget);
                let kept = match dropped {
                    Some(Ok(())) => "the cached registration was dropped",
                    Some(Err(_)) => "the cached registration could not be dropped",
                    None => "the registration was not kept",
                };
                CliError::new(
                    Failure::Server,
                    format!(
                        "AWS refused the client registration (invalid_client: it has expired or was revoked); {kept}: run login again to register a new client"
                    ),
                )
            }
            Some(FlowError::WrongRegion { region, .. }) => {
                let region = device_grant::display_safe(region);
                CliError::new(
                    Failure::Server,
                    format!(
                        "the start URL belongs to AWS region {region}, not {}; run login again with --region {region}",
                        self.region
                    ),
                )
            }
            _ => tokens::driver_error(error, Grant::Device),
        }
    }

    /// Writes the set's token to the AWS CLI's cache when `--aws-sso-cache` asked for it;
    /// the file written, if any.
    pub fn write_sso_cache(&self, set: &TokenSet) -> Result<Option<PathBuf>, CliError> {
        let Some(key) = &self.sso_cache_key else {
            return Ok(None);
        };
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var_os("USERPROFILE"))
            .ok_or_else(|| {
                CliError::cache("--aws-sso-cache: HOME is not set, so ~/.aws cannot be found")
            })?;
        let dir = Path::new(&home).join(".aws").join("sso").join("cache");
        let content = sso_cache_json(self, set)?;
        let path = dir.join(sso_cache_file_name(key));
        write_private(&dir, &path, content.as_bytes()).map_err(|e| {
            CliError::cache(format!(
                "--aws-sso-cache: could not write {} ({e})",
                path.display()
            ))
        })?;
        Ok(Some(path))
    }
}

/// Registers a client.
fn register(
    http: &Http,
    endpoint: &str,
    scopes: &[String],
    allow_insecure_http: bool,
) -> Result<ClientRegistration, CliError> {
    let request = ClientRegistration::request(endpoint, CLIENT_NAME, scopes, allow_insecure_http)
        .map_err(|e| CliError::usage(e.to_string()))?;
    let response = http
        .send(request, REGISTRATION_BODY_LIMIT.saturating_add(1))
        .map_err(|e| {
            CliError::new(
                Failure::Network,
                format!(
                    "could not reach the client registration endpoint {endpoint} ({e}); check --region and the network connection"
                ),
            )
        })?;
    ClientRegistration::from_response(&response).map_err(|e| {
        CliError::new(
            Failure::Server,
            format!("{e}; check --region and --registration-endpoint"),
        )
    })
}

/// Drops the registration from the stored set.
fn forget(store: &Tokens) -> Result<(), CliError> {
    if let Some(mut set) = store.load()?
        && set.extra_mut().remove(REGISTRATION_KEY).is_some()
    {
        store.save(&set)?;
    }
    Ok(())
}

/// `<sha1 hex of the key>.json`, lower-case, as botocore names it.
pub fn sso_cache_file_name(key: &str) -> String {
    format!("{}.json", sha1_smol::Sha1::from(key.as_bytes()).digest())
}

/// The cache file's content in the members, order and separators the AWS CLI writes
/// (AWS-CACHE-01): every value a string, times as `%Y-%m-%dT%H:%M:%SZ`.
fn sso_cache_json(session: &Session, set: &TokenSet) -> Result<String, CliError> {
    let (Some(access), Some(expires)) = (set.access_token(), set.expires_at()) else {
        return Err(CliError::cache(
            "--aws-sso-cache: the token has no lifetime, which the AWS tools need",
        ));
    };
    let mut members: Vec<(&str, String)> = vec![
        ("startUrl", session.start_url.clone()),
        ("region", session.region.clone()),
        ("accessToken", access.secret().to_owned()),
        ("expiresAt", utc(expires)),
        ("clientId", session.registration.client_id().to_owned()),
        ("clientSecret", session.secret().to_owned()),
        (
            "registrationExpiresAt",
            utc(session.registration.expires_at()),
        ),
    ];
    if let Some(refresh) = set.refresh_token() {
        members.push(("refreshToken", refresh.secret().to_owned()));
    }
    let body: Vec<String> = members
        .into_iter()
        .map(|(name, value)| format!("\"{name}\": {}", Value::String(value)))
        .collect();
    Ok(format!("{{{}}}", body.join(", ")))
}

/// Unix seconds as `2026-08-24T18:00:00Z` (UTC, no fraction).
pub fn utc(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm), in unsigned
    // arithmetic shifted to 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Writes `path` as botocore's cache does: a private temporary file in the same directory,
/// flushed to disk, then renamed over the old one, so a reader sees the old or the new file
/// whole.
fn write_private(dir: &Path, path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&temporary);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(content)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_the_sha1_of_the_key() {
        // PROVIDERS §11.5.
        assert_eq!(
            sso_cache_file_name("my-sso"),
            "0ad374308c5a4e22f723adf10145eafad7c4031c.json"
        );
    }

    #[test]
    fn times_are_utc_without_fractions() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_587_584_729), "2020-04-22T19:45:29Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_798_761_599), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn the_registration_survives_the_set() {
        let session = Session {
            registration: ClientRegistration::new("id", ClientSecret::new("s3cret"), 99),
            endpoint: "https://oidc.eu-west-1.amazonaws.com/client/register".into(),
            scopes: vec!["sso:account:access".into()],
            start_url: "https://x.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            sso_cache_key: Some("my-sso".into()),
        };
        let mut set = TokenSet::new(device_grant_store::ClientInfo::new("https://t", "id"));
        session.remember(&mut set);
        let back = Session::from_set(&set).unwrap();
        assert_eq!(back.registration, session.registration);
        assert_eq!(back.endpoint, session.endpoint);
        assert_eq!(back.scopes, session.scopes);
        assert_eq!(back.region, "eu-west-1");
        assert_eq!(back.sso_cache_key.as_deref(), Some("my-sso"));
        assert!(!format!("{set:?}").contains("s3cret"));
    }
}
