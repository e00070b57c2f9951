//! Named profiles: `[profiles.NAME]` tables in `config.toml`, whose keys are `login`'s long
//! option names with `_` for `-`. Options given on the command line win over the profile.
//!
//! The client secret never goes in the file: a `client_secret` key is refused, with the
//! reason.

use std::path::PathBuf;

use device_grant_store::BackendKind;
use serde::Deserialize;

use crate::args::{AuthMethod, ClientArgs, ServerArgs};
use crate::exit::CliError;
use crate::provider::Provider;

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "DEVICE_GRANT_CONFIG";

/// One profile as written in the file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    provider: Option<Provider>,
    tenant: Option<String>,
    region: Option<String>,
    instance: Option<String>,
    start_url: Option<String>,
    registration_endpoint: Option<String>,
    issuer: Option<String>,
    device_endpoint: Option<String>,
    token_endpoint: Option<String>,
    #[serde(default)]
    allow_insecure_http: bool,
    client_id: Option<String>,
    auth_method: Option<AuthMethod>,
    #[serde(default)]
    scopes: Vec<String>,
    resource: Option<String>,
    store: Option<String>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, toml::Value>,
}

/// `$DEVICE_GRANT_CONFIG`, else `$XDG_CONFIG_HOME/device-grant/config.toml`, else
/// `~/.config/device-grant/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("device-grant").join("config.toml"))
}

/// Reads profile `name`. A profile that is not in the file is an error only when `required`
/// (the store can hold a profile signed in without a table, e.g. from an earlier login
/// with every option on the command line).
pub fn load(name: &str, required: bool) -> Result<Profile, CliError> {
    let Some(path) = config_path() else {
        return missing(
            name,
            "no configuration file location (set DEVICE_GRANT_CONFIG)",
            required,
        );
    };
    let shown = path.display();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return missing(name, &format!("{shown} does not exist"), required);
        }
        Err(e) => return Err(CliError::usage(format!("could not read {shown} ({e})"))),
    };
    // toml's messages quote the offending line, which for a misplaced secret would print
    // it: say where, not what.
    let file: File = toml::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{shown} is not valid TOML{}",
            e.span()
                .map(|s| format!(" (at byte {})", s.start))
                .unwrap_or_default()
        ))
    })?;
    let Some(table) = file.profiles.get(name) else {
        return missing(
            name,
            &format!("{shown} has no [profiles.{name}] table"),
            required,
        );
    };
    if table.get("client_secret").is_some() {
        return Err(CliError::usage(format!(
            "[profiles.{name}] in {shown} has a client_secret: secrets never go in the configuration file; remove it and set DEVICE_GRANT_CLIENT_SECRET instead"
        )));
    }
    table
        .clone()
        .try_into::<Profile>()
        .map_err(|e| CliError::usage(format!("[profiles.{name}] in {shown}: {}", e.message())))
}

fn missing(name: &str, why: &str, required: bool) -> Result<Profile, CliError> {
    if required {
        Err(CliError::usage(format!("no profile {name}: {why}")))
    } else {
        Ok(Profile::default())
    }
}

impl Profile {
    /// The store the profile asks for (`file` by default).
    pub fn store_kind(&self) -> Result<BackendKind, CliError> {
        match self.store.as_deref() {
            None => Ok(BackendKind::File),
            Some(name) => name.parse().map_err(|_| {
                CliError::usage(format!(
                    "store = \"{name}\" in the profile: expected \"file\" or \"keyring\""
                ))
            }),
        }
    }

    /// Fills what the command line left unset.
    pub fn apply(&self, server: &mut ServerArgs, client: &mut ClientArgs) {
        let endpoints_given = server.provider.is_some()
            || server.issuer.is_some()
            || server.device_endpoint.is_some()
            || server.token_endpoint.is_some();
        // A server named on the command line replaces the profile's whole server, so that a
        // preset's tenant and an issuer from the file cannot mix with other endpoints.
        if !endpoints_given {
            server.provider = self.provider;
            // Each says where the preset's endpoints are; one given on the command line wins.
            server.tenant = server.tenant.take().or_else(|| self.tenant.clone());
            server.region = server.region.take().or_else(|| self.region.clone());
            server.instance = server.instance.take().or_else(|| self.instance.clone());
            server.start_url = server.start_url.take().or_else(|| self.start_url.clone());
            server.registration_endpoint = server
                .registration_endpoint
                .take()
                .or_else(|| self.registration_endpoint.clone());
            server.issuer.clone_from(&self.issuer);
            server.device_endpoint.clone_from(&self.device_endpoint);
            server.token_endpoint.clone_from(&self.token_endpoint);
        }
        server.allow_insecure_http |= self.allow_insecure_http;
        if client.client_id.is_none() {
            client.client_id.clone_from(&self.client_id);
        }
        if client.auth_method.is_none() {
            client.auth_method = self.auth_method;
        }
        if client.scopes.is_empty() {
            client.scopes.clone_from(&self.scopes);
        }
        if client.resource.is_none() {
            client.resource.clone_from(&self.resource);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profile, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        file.profiles["work"]
            .clone()
            .try_into::<Profile>()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn keys_are_the_long_option_names() {
        let p = parse(
            r#"
[profiles.work]
provider = "microsoft"
tenant = "contoso.com"
client_id = "cid"
auth_method = "none"
scopes = ["openid", "offline_access"]
store = "keyring"
"#,
        )
        .unwrap();
        assert_eq!(p.provider, Some(Provider::Microsoft));
        assert_eq!(p.scopes, ["openid", "offline_access"]);
        assert_eq!(p.store_kind().unwrap(), BackendKind::Keyring);
        let mut server = ServerArgs::default();
        let mut client = ClientArgs {
            client_id: Some("from-the-command-line".into()),
            ..ClientArgs::default()
        };
        p.apply(&mut server, &mut client);
        assert_eq!(server.tenant.as_deref(), Some("contoso.com"));
        assert_eq!(client.client_id.as_deref(), Some("from-the-command-line"));
        assert_eq!(client.auth_method, Some(AuthMethod::None));
    }

    #[test]
    fn an_aws_profile_keeps_its_region_and_start_url() {
        let p = parse(
            r#"
[profiles.work]
provider = "aws-sso"
region = "eu-west-1"
start_url = "https://acme.awsapps.com/start"
"#,
        )
        .unwrap();
        let mut server = ServerArgs {
            region: Some("us-east-2".into()),
            ..ServerArgs::default()
        };
        p.apply(&mut server, &mut ClientArgs::default());
        assert_eq!(server.provider, Some(Provider::AwsSso));
        // The command line's region wins; the file fills the rest.
        assert_eq!(server.region.as_deref(), Some("us-east-2"));
        assert_eq!(
            server.start_url.as_deref(),
            Some("https://acme.awsapps.com/start")
        );
        assert_eq!(server.instance, None);
    }

    #[test]
    fn a_server_on_the_command_line_replaces_the_profile_s_whole_server() {
        let p = parse(
            "[profiles.work]\nprovider = \"salesforce\"\ninstance = \"https://acme.my.salesforce.com\"\n",
        )
        .unwrap();
        let mut server = ServerArgs {
            issuer: Some("https://login.example".into()),
            ..ServerArgs::default()
        };
        p.apply(&mut server, &mut ClientArgs::default());
        assert_eq!(server.provider, None);
        assert_eq!(server.instance, None);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse("[profiles.work]\nclient-id = \"x\"\n").is_err());
    }
}
