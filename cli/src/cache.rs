//! The token cache: one JSON file holding the token set and the settings needed to refresh
//! it, written atomically with mode 0600.
//!
//! A file is replaced only by renaming a complete new one over it, so a failed login or
//! refresh (or a crash while writing) leaves the previous cache as it was.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use device_grant::TokenResponse;
use serde::{Deserialize, Serialize};

use crate::exit::CliError;
use crate::settings::ClientSettings;

/// The format version written in every cache.
pub const VERSION: u32 = 1;

/// A cache file is a few kilobytes; anything much larger is not one.
const MAX_SIZE: u64 = 1024 * 1024;

/// The token set as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCache {
    /// The format version, [`VERSION`].
    pub version: u32,
    /// `token_type` as the server sent it.
    pub token_type: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token, when one was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The OpenID Connect ID token, when one was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch; `None` when the
    /// server did not say.
    pub expires_at: Option<u64>,
    /// The granted scopes (the requested ones when the server did not list them).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Where and as whom to refresh.
    pub client: ClientSettings,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch.
pub fn unix_time(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl TokenCache {
    /// The cache for a fresh token response. `previous` is the cache being refreshed: its
    /// refresh token, ID token and scopes are kept where the response has none.
    /// `now`/`now_instant` are the same moment on both clocks.
    pub fn from_response(
        response: &TokenResponse,
        client: ClientSettings,
        previous: Option<&TokenCache>,
        now: SystemTime,
        now_instant: Instant,
    ) -> TokenCache {
        // The lifetime counts from when the answer arrived, not from now.
        let expires_at = response.expires_in().map(|lifetime| {
            let age = now_instant.saturating_duration_since(response.received_at());
            unix_time(now)
                .saturating_add(lifetime.as_secs())
                .saturating_sub(age.as_secs())
        });
        let scopes = match response.scopes() {
            Some(granted) => granted.to_vec(),
            None => previous.map_or_else(|| client.scopes.clone(), |p| p.scopes.clone()),
        };
        TokenCache {
            version: VERSION,
            token_type: response.token_type().to_owned(),
            access_token: response.access_token().secret().to_owned(),
            // The core hands back the old refresh token when the server did not rotate it.
            refresh_token: response
                .refresh_token()
                .map(|r| r.secret().to_owned())
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
            id_token: response
                .id_token()
                .map(|t| t.secret().to_owned())
                .or_else(|| previous.and_then(|p| p.id_token.clone())),
            expires_at,
            scopes,
            client,
        }
    }

    /// How long the access token stays valid after `now`: `None` when unknown, zero when
    /// it has expired.
    pub fn remaining(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at
            .map(|at| Duration::from_secs(at.saturating_sub(unix_time(now))))
    }

    /// Whether the access token should be refreshed before use: it expires within
    /// `min_valid`. A token without a known lifetime is used until the API rejects it.
    pub fn needs_refresh(&self, now: SystemTime, min_valid: Duration) -> bool {
        self.remaining(now).is_some_and(|left| left <= min_valid)
    }
}

/// Reads a cache file.
pub fn load(path: &Path) -> Result<TokenCache, CliError> {
    let shown = path.display();
    let open = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => CliError::cache(format!(
            "there is no cache at {shown}; run `device-grant login --cache {shown}` first"
        )),
        _ => CliError::cache(format!(
            "could not read the cache {shown} ({e}); check its permissions"
        )),
    };
    let file = fs::File::open(path).map_err(open)?;
    let mut bytes = Vec::new();
    file.take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(open)?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(CliError::cache(format!(
            "{shown} is too large to be a token cache; check the path"
        )));
    }
    let cache: TokenCache = serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json's message can quote the offending value, which may be a token: say
        // only where the problem is.
        CliError::cache(format!(
            "{shown} is not a token cache written by this tool (line {}, column {}); run login again with --cache",
            e.line(),
            e.column()
        ))
    })?;
    if cache.version != VERSION {
        return Err(CliError::cache(format!(
            "{shown} has cache format version {}, but this tool reads version {VERSION}; run login again with --cache",
            cache.version
        )));
    }
    Ok(cache)
}

/// Checks before a sign-in that the cache can be written where asked, so that the user
/// does not approve a request whose token then has nowhere to go.
pub fn check_location(path: &Path) -> Result<(), CliError> {
    let dir = directory(path);
    if path.file_name().is_none() {
        return Err(CliError::usage(format!(
            "--cache {} does not name a file",
            path.display()
        )));
    }
    if !dir.is_dir() {
        return Err(CliError::cache(format!(
            "the directory {} of the cache does not exist; create it first",
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(CliError::cache(format!(
            "--cache {} is a directory; name a file",
            path.display()
        )));
    }
    Ok(())
}

/// Writes the cache atomically: a new file with mode 0600 in the same directory, flushed
/// to disk, then renamed over `path`.
pub fn store(path: &Path, cache: &TokenCache) -> Result<(), CliError> {
    check_location(path)?;
    let mut json = serde_json::to_vec_pretty(cache)
        .map_err(|_| CliError::cache("could not encode the token cache"))?;
    json.push(b'\n');
    let dir = directory(path);
    let failed = |e: io::Error| {
        CliError::cache(format!(
            "could not write the cache {} ({e}); check that its directory is writable",
            path.display()
        ))
    };
    let temp = write_temporary(dir, path, &json).map_err(failed)?;
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(failed(e));
    }
    // Makes the rename itself durable; failing here leaves a complete file either way.
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn write_temporary(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = io::Error::other("no temporary name was free");
    for attempt in 0..16u32 {
        let temp = dir.join(format!(
            ".{name}.{}.{stamp:x}{attempt}.tmp",
            std::process::id()
        ));
        let mut options = OpenOptions::new();
        // `create_new` never follows or reuses a file planted at that name.
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp) {
            Ok(mut file) => {
                let written = file.write_all(bytes).and_then(|()| file.sync_all());
                return match written {
                    Ok(()) => Ok(temp),
                    Err(e) => {
                        drop(file);
                        let _ = fs::remove_file(&temp);
                        Err(e)
                    }
                };
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::AuthMethod;
    use crate::exit::Failure;

    fn sample() -> TokenCache {
        TokenCache {
            version: VERSION,
            token_type: "Bearer".into(),
            access_token: "at-secret".into(),
            refresh_token: Some("rt-secret".into()),
            id_token: None,
            expires_at: Some(2_000_000_000),
            scopes: vec!["openid".into()],
            client: ClientSettings {
                provider: None,
                client_id: "c".into(),
                auth_method: AuthMethod::None,
                device_endpoint: Some("https://a.example/device".into()),
                token_endpoint: "https://a.example/token".into(),
                scopes: vec!["openid".into()],
                resource: None,
                allow_insecure_http: false,
            },
        }
    }

    #[test]
    fn store_then_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        store(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), sample());
        // Only the cache is left behind, no temporary files.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn replacing_a_world_readable_file_makes_it_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
        store(&path, &sample()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load(&path).unwrap(), sample());
    }

    #[test]
    fn a_failed_write_leaves_the_old_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        store(&path, &sample()).unwrap();
        let missing = dir.path().join("no-such-dir").join("token.json");
        assert_eq!(
            store(&missing, &sample()).unwrap_err().failure(),
            Failure::Cache
        );
        assert_eq!(load(&path).unwrap(), sample());
    }

    #[test]
    fn load_errors_do_not_quote_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        let e = load(&path).unwrap_err();
        assert_eq!(e.failure(), Failure::Cache);
        assert!(e.to_string().contains("run `device-grant login"), "{e}");
        fs::write(&path, r#"{"version":1,"token_type":"Bearer","access_token":"at-secret","expires_at":"at-secret"}"#).unwrap();
        let e = load(&path).unwrap_err();
        assert!(!e.to_string().contains("at-secret"), "{e}");
        let mut newer = serde_json::to_value(sample()).unwrap();
        newer["version"] = 2.into();
        fs::write(&path, newer.to_string()).unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("version 2"));
    }

    #[test]
    fn debug_hides_tokens() {
        let shown = format!("{:?}", sample());
        assert!(!shown.contains("secret"), "{shown}");
    }

    /// A token response as the core produces it, received at `received`.
    fn response(body: &str, received: Instant) -> TokenResponse {
        use device_grant::{Config, Flow, Output, RefreshToken};
        let config = Config::builder("c")
            .token_endpoint("https://a.example/token")
            .build()
            .unwrap();
        let mut flow = Flow::refresh(config, RefreshToken::new("rt-secret"), received);
        let Output::Send { id, .. } = flow.poll_output() else {
            panic!("the refresh request comes first")
        };
        let answer = device_grant::http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.as_bytes())
            .unwrap();
        flow.handle_response(id, answer, received).unwrap();
        match flow.poll_output() {
            Output::Done(Ok(token)) => token,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refresh_keeps_what_the_server_did_not_resend() {
        let received = Instant::now();
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let previous = TokenCache {
            id_token: Some("id-secret".into()),
            ..sample()
        };
        let answer = response(
            r#"{"access_token":"at-new","token_type":"Bearer","expires_in":3600}"#,
            received,
        );
        // Ten seconds passed between the answer and the write.
        let next = TokenCache::from_response(
            &answer,
            previous.client.clone(),
            Some(&previous),
            now,
            received + Duration::from_secs(10),
        );
        assert_eq!(next.access_token, "at-new");
        assert_eq!(next.expires_at, Some(1_000_000 + 3600 - 10));
        assert_eq!(next.refresh_token.as_deref(), Some("rt-secret"));
        assert_eq!(next.id_token.as_deref(), Some("id-secret"));
        assert_eq!(next.scopes, previous.scopes);
    }

    #[test]
    fn a_refresh_stores_what_the_server_sent() {
        let received = Instant::now();
        let answer = response(
            r#"{"access_token":"at-new","token_type":"bearer","refresh_token":"rt-new","scope":"b c"}"#,
            received,
        );
        let next = TokenCache::from_response(
            &answer,
            sample().client,
            Some(&sample()),
            UNIX_EPOCH,
            received,
        );
        assert_eq!(next.refresh_token.as_deref(), Some("rt-new"));
        assert_eq!(next.scopes, ["b", "c"]);
        assert_eq!(next.token_type, "bearer");
        // No lifetime was given, so none is made up.
        assert_eq!(next.expires_at, None);
    }

    #[test]
    fn refresh_decision() {
        let c = sample();
        let at = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let min = Duration::from_secs(60);
        assert!(!c.needs_refresh(at - Duration::from_secs(61), min));
        assert!(c.needs_refresh(at - Duration::from_secs(60), min));
        assert!(c.needs_refresh(at + Duration::from_secs(5), min));
        assert_eq!(
            c.remaining(at + Duration::from_secs(5)),
            Some(Duration::ZERO)
        );
        let unknown = TokenCache {
            expires_at: None,
            ..sample()
        };
        assert!(!unknown.needs_refresh(at, min));
    }
}
