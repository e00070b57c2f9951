//! Where token sets are kept: the [`Backend`] trait and the file backend.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::atomic::{self, parent};
use crate::{StoreError, TokenSet, permissions, recovery};

/// Storage for token sets, one per profile. [`TokenStore`](crate::TokenStore) adds the lock,
/// the refresh logic and the recovery files on top; a backend only reads and writes.
///
/// Implementations other than the two given here are welcome (a database, a secret
/// manager), and a wrapper around one is how tests make a write fail on purpose.
pub trait Backend: Send + Sync {
    /// The stored set of `profile`, or `None` when nothing is stored.
    fn load(&self, profile: &str) -> Result<Option<TokenSet>, StoreError>;

    /// Stores `set` as `profile`, replacing what was there, all or nothing.
    fn save(&self, profile: &str, set: &TokenSet) -> Result<(), StoreError>;

    /// Deletes the stored set; `true` when there was one.
    fn delete(&self, profile: &str) -> Result<bool, StoreError>;

    /// The lock file that serializes the processes using `profile`.
    fn lock_path(&self, profile: &str) -> PathBuf;

    /// The path recovery files of `profile` are named after (`<this>.recovered-<time>`).
    fn recovery_base(&self, profile: &str) -> PathBuf;

    /// Where `profile` is kept, for messages (a path, or a keyring entry's name).
    fn describe(&self, profile: &str) -> String;
}

/// The backend kinds, by the names a configuration file or command line uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum BackendKind {
    /// One JSON file per profile (the default).
    #[default]
    File,
    /// The OS keyring (needs the `keyring` feature).
    Keyring,
}

impl BackendKind {
    /// The name: `file` or `keyring`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Keyring => "keyring",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backend name that is neither `file` nor `keyring`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownBackend(pub String);

impl fmt::Display for UnknownBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown token store {:?}: use `file` or `keyring`",
            self.0
        )
    }
}

impl std::error::Error for UnknownBackend {}

impl FromStr for BackendKind {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "file" => Ok(Self::File),
            "keyring" => Ok(Self::Keyring),
            other => Err(UnknownBackend(other.to_owned())),
        }
    }
}

/// Token sets in JSON files, mode 0600, replaced atomically.
///
/// Either a directory with one `<profile>.json` per profile, or one file for whatever
/// profile is asked (the CLI's `--cache FILE`). A missing directory is created with mode
/// 0700; files or directories that others can write, or that belong to another user, are
/// refused (see [`StoreError::Insecure`]).
#[derive(Clone, Debug)]
pub struct FileBackend {
    location: Location,
}

#[derive(Clone, Debug)]
enum Location {
    Dir(PathBuf),
    File(PathBuf),
}

impl FileBackend {
    /// One `<profile>.json` per profile in `dir`.
    pub fn dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            location: Location::Dir(dir.into()),
        }
    }

    /// Exactly this file, whatever the profile.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            location: Location::File(path.into()),
        }
    }

    /// The file `profile` is kept in.
    pub fn path(&self, profile: &str) -> PathBuf {
        match &self.location {
            Location::Dir(dir) => dir.join(format!("{profile}.json")),
            Location::File(path) => path.clone(),
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl Backend for FileBackend {
    fn load(&self, profile: &str) -> Result<Option<TokenSet>, StoreError> {
        recovery::read_token_file(&self.path(profile))
    }

    fn save(&self, profile: &str, set: &TokenSet) -> Result<(), StoreError> {
        let path = self.path(profile);
        permissions::ensure_dir(parent(&path))?;
        let bytes = serde_json::to_vec_pretty(set).map_err(|e| StoreError::Corrupt {
            location: path.display().to_string(),
            reason: e.to_string(),
        })?;
        atomic::replace(&path, &bytes)
    }

    fn delete(&self, profile: &str) -> Result<bool, StoreError> {
        let path = self.path(profile);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io(path, "delete", e)),
        }
    }

    fn lock_path(&self, profile: &str) -> PathBuf {
        with_suffix(&self.path(profile), ".lock")
    }

    fn recovery_base(&self, profile: &str) -> PathBuf {
        self.path(profile)
    }

    fn describe(&self, profile: &str) -> String {
        self.path(profile).display().to_string()
    }
}
