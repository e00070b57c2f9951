//! The OS keyring as a backend (feature `keyring`).
//!
//! On Linux this is the kernel's keyutils keyrings (`linux-keyutils-keyring-store`): the
//! set is a `user` key in the session keyring, linked to the user's persistent keyring when
//! the kernel has one, so it outlives the session until the persistent keyring expires
//! (`/proc/sys/kernel/keys/persistent_keyring_expiry`, three days by default) and does not
//! survive a reboot. It needs no desktop session or D-Bus. Other platforms are not wired
//! yet: opening the backend there fails with a clear error, and the file backend remains.
//!
//! The keyring has no lock of its own, so the lock files, and any recovery files, live in a
//! private directory next to the file store.

use std::path::PathBuf;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use crate::backend::Backend;
use crate::{StoreError, TokenSet, permissions};

/// Token sets in the OS keyring: one entry per profile, named `<service>` / `<profile>`,
/// holding the set's JSON.
pub struct KeyringBackend {
    service: String,
    dir: PathBuf,
    store: Arc<CredentialStore>,
}

impl std::fmt::Debug for KeyringBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringBackend")
            .field("service", &self.service)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl KeyringBackend {
    /// The platform's keyring, with entries under `service` and lock and recovery files in
    /// `dir` (created with mode 0700 when first needed).
    pub fn new(service: impl Into<String>, dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        Ok(Self {
            service: service.into(),
            dir: dir.into(),
            store: platform_store()?,
        })
    }

    fn entry(&self, profile: &str) -> Result<Entry, StoreError> {
        Entry::new_in_store(&self.store, &self.service, profile)
            .map_err(|e| keyring_error(profile, &e))
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<Arc<CredentialStore>, StoreError> {
    let store: Arc<CredentialStore> =
        linux_keyutils_keyring_store::Store::new().map_err(|e| keyring_error("", &e))?;
    // A process outside a login session (no pam_keyinit: containers, some ssh and cron
    // setups) has no session keyring of its own. Building an entry links the persistent
    // keyring into the session keyring, which makes the kernel create one for the process;
    // an entry built before that would hold the shared user-session keyring, where linking
    // to the persistent keyring is refused (EACCES). So one entry is built, and dropped,
    // first; the entries built afterwards use the new session keyring, through which the
    // persistent keyring, and so the other processes' entries, are found.
    Entry::new_in_store(&store, "device-grant", "session-keyring-probe")
        .map_err(|e| keyring_error("", &e))?;
    Ok(store)
}

#[cfg(not(target_os = "linux"))]
fn platform_store() -> Result<Arc<CredentialStore>, StoreError> {
    Err(StoreError::Keyring {
        profile: String::new(),
        message: "no OS keyring is supported on this platform yet; use the file store".into(),
    })
}

fn keyring_error(profile: &str, e: &KeyringError) -> StoreError {
    // Keyring errors can carry the stored bytes (BadEncoding): only the kind is reported.
    let message = match e {
        KeyringError::PlatformFailure(inner) => format!("the keyring failed: {inner}"),
        KeyringError::NoStorageAccess(inner) => format!("the keyring is not accessible: {inner}"),
        KeyringError::TooLong(what, max) => format!("the {what} is longer than {max} bytes"),
        KeyringError::NoDefaultStore => "no keyring is available".into(),
        KeyringError::NotSupportedByStore(what) => format!("not supported by this keyring: {what}"),
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => {
            "the stored entry is not text".into()
        }
        _ => "the keyring refused the operation".into(),
    };
    StoreError::Keyring {
        profile: profile.to_owned(),
        message,
    }
}

impl Backend for KeyringBackend {
    fn load(&self, profile: &str) -> Result<Option<TokenSet>, StoreError> {
        match self.entry(profile)?.get_password() {
            Ok(text) => {
                crate::token_set::parse_stored(text.as_bytes(), &self.describe(profile)).map(Some)
            }
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(profile, &e)),
        }
    }

    fn save(&self, profile: &str, set: &TokenSet) -> Result<(), StoreError> {
        let text = serde_json::to_string(set).map_err(|e| StoreError::Corrupt {
            location: self.describe(profile),
            reason: e.to_string(),
        })?;
        self.entry(profile)?
            .set_password(&text)
            .map_err(|e| keyring_error(profile, &e))
    }

    fn delete(&self, profile: &str) -> Result<bool, StoreError> {
        match self.entry(profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(keyring_error(profile, &e)),
        }
    }

    fn lock_path(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{profile}.lock"))
    }

    fn recovery_base(&self, profile: &str) -> PathBuf {
        self.dir.join(format!("{profile}.json"))
    }

    fn describe(&self, profile: &str) -> String {
        format!("the OS keyring entry {}/{profile}", self.service)
    }
}

// The directory is created by the lock; checked here so an unusable one fails early.
impl KeyringBackend {
    /// The directory of the lock and recovery files.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Creates the lock directory if needed and checks it.
    pub fn ensure_dir(&self) -> Result<(), StoreError> {
        permissions::ensure_dir(&self.dir)
    }
}
