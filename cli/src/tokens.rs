//! Where the CLI keeps token sets: the `device-grant-store` crate, by profile or, with
//! `--cache FILE`, in exactly that file. Also the conversions between the store's
//! [`TokenSet`] and the CLI's [`ClientSettings`], and the refresh the store's lock wraps.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use device_grant::{Config, Flow, FlowError, RefreshToken, TokenResponse};
use device_grant_store::{
    BackendKind, ClientInfo, RefreshError, StoreError, TokenSet, TokenStore, default_home,
};

use crate::args::AuthMethod;
use crate::exit::{CliError, Failure, Grant};
use crate::provider::Provider;
use crate::settings::ClientSettings;

/// The profile name used for `--cache FILE` without `--profile` (the file holds one set).
const CACHE_PROFILE: &str = "default";

/// One token set's place: a store and the profile in it.
pub struct Tokens {
    store: TokenStore,
    profile: String,
    /// The option that names this set, for advice: `--cache FILE` or `--profile NAME`.
    option: String,
}

/// The store named by `--cache` or `--profile`; `None` when neither was given.
pub fn open(
    profile: Option<&str>,
    cache: Option<&Path>,
    kind: BackendKind,
) -> Result<Option<Tokens>, CliError> {
    let name = profile.unwrap_or(CACHE_PROFILE).to_owned();
    let option = match (cache, profile) {
        (Some(path), _) => format!("--cache {}", path.display()),
        (None, Some(p)) => format!("--profile {p}"),
        (None, None) => String::new(),
    };
    let store = match (cache, profile) {
        (Some(path), _) => {
            if path.file_name().is_none() || path.is_dir() {
                return Err(CliError::usage(format!(
                    "--cache {} does not name a file",
                    path.display()
                )));
            }
            TokenStore::in_file(path)
        }
        (None, Some(_)) => {
            let home = default_home().map_err(store_error)?;
            TokenStore::open(kind, &home).map_err(store_error)?
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(Tokens {
        store,
        profile: name,
        option,
    }))
}

impl Tokens {
    /// The profile's name in the store.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Where the set is kept, for messages.
    pub fn describe(&self) -> String {
        self.store.describe(&self.profile)
    }

    /// The stored set, if any.
    pub fn load(&self) -> Result<Option<TokenSet>, CliError> {
        self.store.load(&self.profile).map_err(store_error)
    }

    /// The stored set, or the advice to sign in.
    pub fn require(&self) -> Result<TokenSet, CliError> {
        self.load()?.ok_or_else(|| self.not_signed_in())
    }

    fn not_signed_in(&self) -> CliError {
        CliError::cache(format!(
            "not signed in: nothing is stored in {}; run `device-grant login {}` first",
            self.describe(),
            self.option
        ))
    }

    /// Checks that the set can be stored (its directory and lock file can be made and are
    /// private), before anyone is asked to approve a sign-in whose token would then have
    /// nowhere to go.
    pub fn check(&self) -> Result<(), CliError> {
        self.store
            .lock(&self.profile)
            .map(drop)
            .map_err(store_error)
    }

    /// Stores `set`, replacing the profile's.
    pub fn save(&self, set: &TokenSet) -> Result<(), CliError> {
        self.store.save(&self.profile, set).map_err(store_error)
    }

    /// Deletes the profile's set; whether there was one.
    pub fn delete(&self) -> Result<bool, CliError> {
        self.store.delete(&self.profile).map_err(store_error)
    }

    /// A set whose access token is good for `min_valid` (`Duration::MAX`: refresh
    /// regardless), refreshed under the store's lock across processes: many processes at
    /// once cause one refresh.
    pub fn valid_token(
        &self,
        min_valid: Duration,
        secret: Option<&str>,
    ) -> Result<TokenSet, CliError> {
        // The refresh closure's own error, kept whole so its exit status survives.
        let failure: RefCell<Option<CliError>> = RefCell::new(None);
        let result = self
            .store
            .valid_token(&self.profile, min_valid, SystemTime::now(), |old| {
                refresh_set(old, secret).map_err(|(e, invalid_grant)| {
                    let description = e.to_string();
                    failure.replace(Some(e));
                    if invalid_grant {
                        RefreshError::InvalidGrant {
                            description: Some(description),
                        }
                    } else {
                        RefreshError::other(description)
                    }
                })
            });
        match result {
            Ok(set) => Ok(set),
            Err(StoreError::Refresh(_)) => Err(failure
                .take()
                .unwrap_or_else(|| CliError::new(Failure::Server, "the refresh failed"))),
            Err(StoreError::NotSignedIn { .. }) => Err(self.not_signed_in()),
            // The flow's own message already ends in the advice to sign in again.
            Err(StoreError::RefreshRejected { .. }) => Err(failure.take().unwrap_or_else(|| {
                CliError::new(
                    Failure::Server,
                    "the server rejected the refresh token; run login again",
                )
            })),
            Err(e) => Err(store_error(e)),
        }
    }
}

/// One refresh grant for `old`: the new set, or the error and whether it was
/// `invalid_grant`.
fn refresh_set(old: &TokenSet, secret: Option<&str>) -> Result<TokenSet, (CliError, bool)> {
    let Some(refresh_token) = old.refresh_token().cloned() else {
        return Err((
            CliError::cache(
                "the access token has expired and there is no refresh token to renew it (the server issued none); run login again",
            ),
            false,
        ));
    };
    let settings = settings_of(old).map_err(|e| (e, false))?;
    // AWS: the registered client's secret, kept with the set.
    let aws = crate::aws::Session::from_set(old);
    let secret = aws.as_ref().map(crate::aws::Session::secret).or(secret);
    // A DPoP sign-in refreshes with its own key: the refresh token may be bound to it.
    let key = crate::dpop::stored(old).map_err(|e| (e, false))?;
    let config = settings
        .config_with_dpop(secret, &[], key.as_ref().map(crate::dpop::signer))
        .map_err(|e| (e, false))?;
    let response = run_refresh(config, refresh_token)?;
    let mut new = old.refreshed(&response, SystemTime::now());
    remember_insecure(&mut new, &settings);
    if let Some(aws) = &aws {
        aws.remember(&mut new);
        // The AWS tools' copy follows the refresh; failing to write it does not lose the
        // refreshed set, which is what the caller asked for.
        if let Err(e) = aws.write_sso_cache(&new) {
            note!("warning: {e}");
        }
    }
    Ok(new)
}

fn run_refresh(
    config: Config,
    refresh_token: RefreshToken,
) -> Result<TokenResponse, (CliError, bool)> {
    let agent = device_grant_ureq::agent();
    let flow = Flow::refresh(Arc::new(config), refresh_token, Instant::now());
    crate::transport::run_flow(flow, &agent, |_| {}).map_err(|e| {
        let invalid_grant =
            matches!(e.flow_error(), Some(FlowError::OAuth(r)) if r.error() == "invalid_grant");
        (driver_error(&e, Grant::Refresh), invalid_grant)
    })
}

/// The driver's error as the CLI reports it.
pub fn driver_error(error: &device_grant_ureq::Error, grant: Grant) -> CliError {
    match error.flow_error() {
        Some(flow) => CliError::from_flow(
            flow.clone(),
            grant,
            error.client_error().map(ToString::to_string),
        ),
        None => CliError::new(Failure::Other, error.to_string()),
    }
}

/// The store's error as the CLI reports it. A refreshed set that could be stored nowhere
/// is printed on stdout, so that the rotated refresh token is not lost.
pub fn store_error(error: StoreError) -> CliError {
    match error {
        StoreError::NotSaved {
            recovery_file: None,
            ref token_set,
            ..
        } => {
            let json = serde_json::to_string(token_set.as_ref()).unwrap_or_default();
            let printed = crate::output::print_text(&json).is_ok();
            CliError::cache(format!(
                "{error}{}",
                if printed {
                    " The new token set was printed on stdout: save it as a cache file (mode 0600) and use it with --cache."
                } else {
                    ""
                }
            ))
        }
        StoreError::NotSaved { .. } | StoreError::Insecure { .. } | StoreError::Corrupt { .. } => {
            CliError::cache(error.to_string())
        }
        StoreError::InvalidProfile { .. } => CliError::usage(error.to_string()),
        other => CliError::cache(other.to_string()),
    }
}

/// What the store keeps of the settings (never the secret).
pub fn client_info(settings: &ClientSettings) -> ClientInfo {
    let mut info = ClientInfo::new(settings.token_endpoint.clone(), settings.client_id.clone());
    info.device_endpoint.clone_from(&settings.device_endpoint);
    info.revocation_endpoint
        .clone_from(&settings.revocation_endpoint);
    info.auth_method = Some(
        match settings.auth_method {
            AuthMethod::None => "none",
            AuthMethod::Basic => "basic",
            AuthMethod::Post => "post",
        }
        .to_owned(),
    );
    info.provider = settings.provider.map(|p| {
        serde_json::to_value(p)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    });
    info.resource.clone_from(&settings.resource);
    info
}

/// The settings a stored set was made with, to refresh it or resume its sign-in.
pub fn settings_of(set: &TokenSet) -> Result<ClientSettings, CliError> {
    let client = set.client();
    let provider: Option<Provider> = match &client.provider {
        None => None,
        Some(name) => Some(
            serde_json::from_value(serde_json::Value::String(name.clone())).map_err(|_| {
                CliError::cache(format!(
                    "the stored token set names provider {name:?}, which this version does not know"
                ))
            })?,
        ),
    };
    let auth_method = match client.auth_method.as_deref() {
        None | Some("none") => AuthMethod::None,
        Some("basic" | "client_secret_basic") => AuthMethod::Basic,
        Some("post" | "client_secret_post") => AuthMethod::Post,
        Some(other) => {
            return Err(CliError::cache(format!(
                "the stored token set names client authentication {other:?}, which this version does not know"
            )));
        }
    };
    Ok(ClientSettings {
        provider,
        client_id: client.client_id.clone(),
        auth_method,
        device_endpoint: client.device_endpoint.clone(),
        token_endpoint: client.token_endpoint.clone(),
        revocation_endpoint: client.revocation_endpoint.clone(),
        scopes: set.scopes().to_vec(),
        resource: client.resource.clone(),
        allow_insecure_http: set
            .extra()
            .get(INSECURE_KEY)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
    })
}

/// Where a set remembers `--allow-insecure-http` (the store has no field for it).
const INSECURE_KEY: &str = "device_grant_allow_insecure_http";

/// A new set for a sign-in, before or after its token.
pub fn new_set(settings: &ClientSettings) -> TokenSet {
    let mut set = TokenSet::new(client_info(settings));
    set.set_scopes(settings.scopes.clone());
    remember_insecure(&mut set, settings);
    set
}

/// The set after a sign-in's token response.
pub fn signed_in(settings: &ClientSettings, response: &TokenResponse) -> TokenSet {
    let mut set = new_set(settings).refreshed(response, SystemTime::now());
    remember_insecure(&mut set, settings);
    set
}

fn remember_insecure(set: &mut TokenSet, settings: &ClientSettings) {
    if settings.allow_insecure_http {
        set.extra_mut()
            .insert(INSECURE_KEY.into(), serde_json::Value::Bool(true));
    }
}
