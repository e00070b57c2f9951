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
use serde_json::{Map, Value};

use crate::exit::CliError;
use crate::settings::ClientSettings;

/// The format version written in every cache.
pub const VERSION: u32 = 1;

/// A cache file is a few kilobytes; anything much larger is not one.
const MAX_SIZE: u64 = 1024 * 1024;

/// The token set as stored: the core's token response, its expiry on the wall clock, and
/// the settings needed to refresh it.
#[derive(Clone, PartialEq)]
pub struct TokenCache {
    /// The token response. Its refresh token, ID token and scopes include what an earlier
    /// response gave when a refresh did not resend them.
    pub token: TokenResponse,
    /// When the access token expires, in seconds since the Unix epoch; `None` when the
    /// server did not say.
    pub expires_at: Option<u64>,
    /// Where and as whom to refresh.
    pub client: ClientSettings,
}

/// The file format: the token response's members at the top level (as
/// `TokenResponse::to_json_with_secrets` writes them, with `expires_in` replaced by the
/// absolute `expires_at` and `scope` by the list `scopes`), the server's other members under
/// `extra` so they cannot collide with the cache's own.
#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    #[serde(default)]
    expires_at: Option<u64>,
    #[serde(default)]
    scopes: Vec<String>,
    client: ClientSettings,
    #[serde(flatten)]
    token: Map<String, Value>,
}

/// Members of a token response kept at the top level of the file.
const TOP_LEVEL: [&str; 4] = ["access_token", "token_type", "refresh_token", "id_token"];

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token response's own Debug redacts its secrets.
        f.debug_struct("TokenCache")
            .field("token", &self.token)
            .field("expires_at", &self.expires_at)
            .field("client", &self.client)
            .finish()
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
        let mut json = response.to_json_with_secrets();
        if let Value::Object(members) = &mut json {
            // The core hands back the old refresh token when the server did not rotate it;
            // the ID token and scopes are carried over here.
            if let Some(Value::Object(old)) = previous.map(|p| p.token.to_json_with_secrets()) {
                for name in ["refresh_token", "id_token", "scope"] {
                    if let (false, Some(value)) = (members.contains_key(name), old.get(name)) {
                        members.insert(name.into(), value.clone());
                    }
                }
            }
            if !members.contains_key("scope") && !client.scopes.is_empty() {
                members.insert("scope".into(), client.scopes.join(" ").into());
            }
        }
        // The response was valid and only gained members it already had a place for.
        let token = TokenResponse::from_json(&json, response.received_at())
            .unwrap_or_else(|_| response.clone());
        TokenCache {
            token,
            expires_at,
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

    /// The scopes granted (the requested ones when the server did not list them).
    pub fn scopes(&self) -> &[String] {
        self.token.scopes().unwrap_or_default()
    }

    fn to_file(&self) -> File {
        let mut token = match self.token.to_json_with_secrets() {
            Value::Object(members) => members,
            _ => Map::new(),
        };
        token.remove("expires_in");
        token.remove("scope");
        let extra: Map<String, Value> = token
            .iter()
            .filter(|(name, _)| !TOP_LEVEL.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        token.retain(|name, _| TOP_LEVEL.contains(&name.as_str()));
        if !extra.is_empty() {
            token.insert("extra".into(), Value::Object(extra));
        }
        File {
            version: VERSION,
            expires_at: self.expires_at,
            scopes: self.scopes().to_vec(),
            client: self.client.clone(),
            token,
        }
    }

    /// Reads the file's contents back; the token's lifetime then counts from `now_instant`,
    /// the same moment as `now` on the monotonic clock.
    fn from_file(
        file: File,
        now: SystemTime,
        now_instant: Instant,
    ) -> Result<TokenCache, device_grant::Problem> {
        let File {
            expires_at,
            scopes,
            client,
            mut token,
            ..
        } = file;
        if let Some(Value::Object(extra)) = token.remove("extra") {
            for (name, value) in extra {
                token.entry(name).or_insert(value);
            }
        }
        if let Some(at) = expires_at {
            token.insert(
                "expires_in".into(),
                at.saturating_sub(unix_time(now)).into(),
            );
        }
        if !scopes.is_empty() {
            token.insert("scope".into(), scopes.join(" ").into());
        }
        let token = TokenResponse::from_json(&Value::Object(token), now_instant)?;
        Ok(TokenCache {
            token,
            expires_at,
            client,
        })
    }
}

/// Reads a cache file.
pub fn load(path: &Path) -> Result<TokenCache, CliError> {
    load_at(path, SystemTime::now(), Instant::now())
}

/// Reads a cache file at `now`/`now_instant`, the same moment on both clocks.
pub fn load_at(path: &Path, now: SystemTime, now_instant: Instant) -> Result<TokenCache, CliError> {
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
    let file: File = serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json's message can quote the offending value, which may be a token: say
        // only where the problem is.
        CliError::cache(format!(
            "{shown} is not a token cache written by this tool (line {}, column {}); run login again with --cache",
            e.line(),
            e.column()
        ))
    })?;
    if file.version != VERSION {
        return Err(CliError::cache(format!(
            "{shown} has cache format version {}, but this tool reads version {VERSION}; run login again with --cache",
            file.version
        )));
    }
    TokenCache::from_file(file, now, now_instant).map_err(|problem| {
        // The problem names a member, never its value.
        CliError::cache(format!(
            "{shown} does not hold a usable token ({problem}); run login again with --cache"
        ))
    })
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
    let mut json = serde_json::to_vec_pretty(&cache.to_file())
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

    /// The moment every test runs at, on both clocks.
    fn clocks() -> (SystemTime, Instant) {
        static INSTANT: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);
        (UNIX_EPOCH + Duration::from_secs(1_000_000), *INSTANT)
    }

    /// A token response as the core produces it, received at `received`.
    fn response(json: Value, received: Instant) -> TokenResponse {
        TokenResponse::from_json(&json, received).expect("a valid token response")
    }

    fn client() -> ClientSettings {
        ClientSettings {
            provider: None,
            client_id: "c".into(),
            auth_method: AuthMethod::None,
            device_endpoint: Some("https://a.example/device".into()),
            token_endpoint: "https://a.example/token".into(),
            scopes: vec!["openid".into()],
            resource: None,
            allow_insecure_http: false,
        }
    }

    /// A cache whose token expires at 2 000 000 000 on the wall clock.
    fn sample() -> TokenCache {
        let (now, instant) = clocks();
        let token = response(
            serde_json::json!({
                "access_token": "at-secret",
                "token_type": "Bearer",
                "refresh_token": "rt-secret",
                "expires_in": 2_000_000_000 - unix_time(now),
                "scope": "openid",
                "ext_expires_in": 7200,
            }),
            instant,
        );
        TokenCache::from_response(&token, client(), None, now, instant)
    }

    fn load_now(path: &Path) -> Result<TokenCache, CliError> {
        let (now, instant) = clocks();
        load_at(path, now, instant)
    }

    #[test]
    fn store_then_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        assert_eq!(sample().expires_at, Some(2_000_000_000));
        store(&path, &sample()).unwrap();
        assert_eq!(load_now(&path).unwrap(), sample());
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
    fn the_file_keeps_its_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        store(&path, &sample()).unwrap();
        let file: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(file["version"], VERSION);
        assert_eq!(file["access_token"], "at-secret");
        assert_eq!(file["refresh_token"], "rt-secret");
        assert_eq!(file["token_type"], "Bearer");
        assert_eq!(file["expires_at"], 2_000_000_000u64);
        assert_eq!(file["scopes"], serde_json::json!(["openid"]));
        assert_eq!(file["client"]["client_id"], "c");
        // The server's other members are kept, out of the way of the cache's own.
        assert_eq!(file["extra"]["ext_expires_in"], 7200);
        assert!(file.get("expires_in").is_none());
    }

    #[test]
    fn a_loaded_token_expires_when_the_stored_one_did() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        store(&path, &sample()).unwrap();
        // Read back a minute later, in another process whose monotonic clock means nothing
        // to the one that wrote it.
        let (now, _) = clocks();
        let later = Instant::now() + Duration::from_secs(5);
        let back = load_at(&path, now + Duration::from_secs(60), later).unwrap();
        let left = 2_000_000_000 - unix_time(now) - 60;
        assert_eq!(back.token.expires_in(), Some(Duration::from_secs(left)));
        assert_eq!(
            back.token.expires_at(back.token.received_at()),
            Some(later + Duration::from_secs(left))
        );
        assert_eq!(back.expires_at, sample().expires_at);
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
        assert_eq!(load_now(&path).unwrap(), sample());
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
        assert_eq!(load_now(&path).unwrap(), sample());
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
        // A well-formed file whose token is not one.
        let mut empty = serde_json::to_value(sample().to_file()).unwrap();
        empty["access_token"] = "".into();
        fs::write(&path, empty.to_string()).unwrap();
        let e = load(&path).unwrap_err();
        assert_eq!(e.failure(), Failure::Cache);
        assert!(e.to_string().contains("access_token"), "{e}");
        let mut newer = serde_json::to_value(sample().to_file()).unwrap();
        newer["version"] = 2.into();
        fs::write(&path, newer.to_string()).unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("version 2"));
    }

    #[test]
    fn debug_hides_tokens() {
        let shown = format!("{:?}", sample());
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn a_refresh_keeps_what_the_server_did_not_resend() {
        let (now, received) = clocks();
        let previous = TokenCache::from_response(
            &response(
                serde_json::json!({"access_token": "at", "token_type": "Bearer",
                    "refresh_token": "rt-secret", "id_token": "id-secret", "scope": "openid"}),
                received,
            ),
            client(),
            None,
            now,
            received,
        );
        let answer = response(
            serde_json::json!({"access_token": "at-new", "token_type": "Bearer", "expires_in": 3600}),
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
        assert_eq!(next.token.access_token().secret(), "at-new");
        assert_eq!(next.expires_at, Some(1_000_000 + 3600 - 10));
        assert_eq!(
            next.token.refresh_token().map(|t| t.secret()),
            Some("rt-secret")
        );
        assert_eq!(next.token.id_token().map(|t| t.secret()), Some("id-secret"));
        assert_eq!(next.scopes(), previous.scopes());
    }

    #[test]
    fn a_refresh_stores_what_the_server_sent() {
        let received = Instant::now();
        let answer = response(
            serde_json::json!({"access_token": "at-new", "token_type": "bearer",
                "refresh_token": "rt-new", "scope": "b c"}),
            received,
        );
        let next =
            TokenCache::from_response(&answer, client(), Some(&sample()), UNIX_EPOCH, received);
        assert_eq!(
            next.token.refresh_token().map(|t| t.secret()),
            Some("rt-new")
        );
        assert_eq!(next.scopes(), ["b", "c"]);
        assert_eq!(next.token.token_type(), "bearer");
        // No lifetime was given, so none is made up.
        assert_eq!(next.expires_at, None);
    }

    #[test]
    fn without_granted_scopes_the_requested_ones_are_kept() {
        let (now, received) = clocks();
        let answer = response(
            serde_json::json!({"access_token": "at", "token_type": "Bearer"}),
            received,
        );
        let first = TokenCache::from_response(&answer, client(), None, now, received);
        assert_eq!(first.scopes(), ["openid"]);
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
