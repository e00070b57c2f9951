//! The store: a backend, plus the lock, the refresh decision and the recovery files.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::backend::{Backend, BackendKind, FileBackend};
use crate::lock::ProfileLock;
use crate::{RefreshError, StoreError, TokenSet, location, recovery};

/// Named token sets, safe to share between threads and processes.
///
/// Every operation on a profile runs under that profile's [`ProfileLock`], so a process
/// never sees another one's half-done refresh, and [`valid_token`](Self::valid_token) asked
/// by many processes at once refreshes once.
pub struct TokenStore {
    backend: Box<dyn Backend>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("example_location", &self.backend.describe("PROFILE"))
            .finish()
    }
}

impl TokenStore {
    /// A store over any backend.
    pub fn new(backend: impl Backend + 'static) -> Self {
        Self {
            backend: Box::new(backend),
        }
    }

    /// One `<profile>.json` per profile in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self::new(FileBackend::dir(dir))
    }

    /// Exactly one file, whatever the profile (the CLI's `--cache FILE`).
    pub fn in_file(path: impl Into<PathBuf>) -> Self {
        Self::new(FileBackend::file(path))
    }

    /// The store of `kind` under `home` (see [`default_home`](crate::default_home)): files
    /// in `<home>/tokens`, or the OS keyring with its lock and recovery files in
    /// `<home>/keyring`. The keyring fails with [`StoreError::Keyring`] when this library was
    /// built without the `keyring` feature or the platform has no supported keyring.
    pub fn open(kind: BackendKind, home: &Path) -> Result<Self, StoreError> {
        match kind {
            BackendKind::File => Ok(Self::in_dir(home.join("tokens"))),
            BackendKind::Keyring => open_keyring(home),
        }
    }

    /// [`open`](Self::open) under the default home.
    pub fn open_default(kind: BackendKind) -> Result<Self, StoreError> {
        Self::open(kind, &location::default_home()?)
    }

    /// Takes the lock of `profile`, waiting for other threads and processes to release it.
    /// The other methods take it themselves; hold it across your own read-modify-write.
    pub fn lock(&self, profile: &str) -> Result<ProfileLock, StoreError> {
        check_profile(profile)?;
        ProfileLock::acquire(&self.backend.lock_path(profile))
    }

    /// The token set of `profile`, or `None` when it has none.
    ///
    /// If a refresh could not be stored earlier, its recovery file is adopted here: stored,
    /// then deleted (see [`recovery_files`](Self::recovery_files)).
    pub fn load(&self, profile: &str) -> Result<Option<TokenSet>, StoreError> {
        let _lock = self.lock(profile)?;
        self.current(profile)
    }

    /// [`load`](Self::load) for a caller that already holds the profile's lock.
    pub fn load_locked(
        &self,
        _lock: &ProfileLock,
        profile: &str,
    ) -> Result<Option<TokenSet>, StoreError> {
        check_profile(profile)?;
        self.current(profile)
    }

    /// Stores `set` as `profile` (after a sign-in, say), replacing any earlier set.
    pub fn save(&self, profile: &str, set: &TokenSet) -> Result<(), StoreError> {
        let lock = self.lock(profile)?;
        self.save_locked(&lock, profile, set)
    }

    /// [`save`](Self::save) for a caller that already holds the profile's lock.
    pub fn save_locked(
        &self,
        _lock: &ProfileLock,
        profile: &str,
        set: &TokenSet,
    ) -> Result<(), StoreError> {
        check_profile(profile)?;
        self.backend.save(profile, set)
    }

    /// Deletes the token set of `profile` and its recovery files; `true` when anything was
    /// deleted. The lock file stays (see [`ProfileLock`]).
    pub fn delete(&self, profile: &str) -> Result<bool, StoreError> {
        let _lock = self.lock(profile)?;
        let mut deleted = self.backend.delete(profile)?;
        for file in recovery::list(&self.backend.recovery_base(profile))? {
            std::fs::remove_file(&file).map_err(|e| StoreError::io(&file, "delete", e))?;
            deleted = true;
        }
        Ok(deleted)
    }

    /// Recovery files of `profile` that are waiting to be adopted, oldest first. There are
    /// some only after a [`StoreError::NotSaved`], and until the store is writable again.
    pub fn recovery_files(&self, profile: &str) -> Result<Vec<PathBuf>, StoreError> {
        check_profile(profile)?;
        recovery::list(&self.backend.recovery_base(profile))
    }

    /// Adopts a waiting recovery file now: what [`load`](Self::load) does first. Returns the
    /// set that is current afterwards.
    pub fn recover(&self, profile: &str) -> Result<Option<TokenSet>, StoreError> {
        self.load(profile)
    }

    /// Where `profile` is kept, for messages.
    pub fn describe(&self, profile: &str) -> String {
        self.backend.describe(profile)
    }

    /// A token set whose access token is good for at least `min_valid` at `now`, refreshed
    /// with `refresh` if needed.
    ///
    /// Under the profile's lock: read the set (again: another process may have refreshed
    /// while this one waited); return it if it is still valid; otherwise call `refresh` and
    /// store what it returns. So N processes asking at once cause one refresh, and all get
    /// the new token. A returned set without a refresh token keeps the old one (RFC 6749
    /// §6: the old one stays valid when no new one is issued). Pass `Duration::MAX` as
    /// `min_valid` to refresh unconditionally.
    ///
    /// When `refresh` reports [`RefreshError::InvalidGrant`], the set is read once more: if it
    /// changed meanwhile (a writer that does not use this lock rotated it), the new one is
    /// returned when valid, or refreshed once (the only case where `refresh` is called
    /// twice); otherwise the result is [`StoreError::RefreshRejected`] (sign in again).
    ///
    /// If the new set cannot be stored, it is written to a recovery file and the result is
    /// [`StoreError::NotSaved`], which names that file and carries the set: a rotated refresh
    /// token is never lost.
    pub fn valid_token<F>(
        &self,
        profile: &str,
        min_valid: Duration,
        now: SystemTime,
        mut refresh: F,
    ) -> Result<TokenSet, StoreError>
    where
        F: FnMut(&TokenSet) -> Result<TokenSet, RefreshError>,
    {
        let _lock = self.lock(profile)?;
        let not_signed_in = || StoreError::NotSignedIn {
            profile: profile.to_owned(),
        };
        let current = self.current(profile)?.ok_or_else(not_signed_in)?;
        if current.is_valid_for(min_valid, now) {
            return Ok(current);
        }
        let description = match refresh(&current) {
            Ok(new) => return self.store_refreshed(profile, &current, new, now),
            Err(RefreshError::InvalidGrant { description }) => description,
            Err(e) => return Err(StoreError::Refresh(e)),
        };
        let rejected = |description| StoreError::RefreshRejected {
            profile: profile.to_owned(),
            description,
        };
        let again = self.current(profile)?.ok_or_else(not_signed_in)?;
        if again == current {
            return Err(rejected(description));
        }
        if again.is_valid_for(min_valid, now) {
            return Ok(again);
        }
        if again.refresh_token() == current.refresh_token() {
            return Err(rejected(description));
        }
        match refresh(&again) {
            Ok(new) => self.store_refreshed(profile, &again, new, now),
            Err(RefreshError::InvalidGrant { description }) => Err(rejected(description)),
            Err(e) => Err(StoreError::Refresh(e)),
        }
    }

    fn store_refreshed(
        &self,
        profile: &str,
        old: &TokenSet,
        mut new: TokenSet,
        now: SystemTime,
    ) -> Result<TokenSet, StoreError> {
        if new.refresh_token().is_none() {
            new.set_refresh_token(old.refresh_token().cloned());
        }
        let Err(cause) = self.backend.save(profile, &new) else {
            return Ok(new);
        };
        let (recovery_file, recovery_error) =
            match recovery::write(&self.backend.recovery_base(profile), &new, now) {
                Ok(path) => (Some(path), None),
                Err(e) => (None, Some(Box::new(e))),
            };
        Err(StoreError::NotSaved {
            profile: profile.to_owned(),
            cause: Box::new(cause),
            recovery_file,
            recovery_error,
            token_set: Box::new(new),
        })
    }

    /// The current set, under the lock: the stored one, or the newest recovery file when
    /// that is at least as recent. An adopted file is stored and the recovery files deleted;
    /// if storing fails they stay, and the recovered set is still what is current.
    fn current(&self, profile: &str) -> Result<Option<TokenSet>, StoreError> {
        let stored = self.backend.load(profile)?;
        let files = recovery::list(&self.backend.recovery_base(profile))?;
        let Some(newest) = files.last() else {
            return Ok(stored);
        };
        let recovered = recovery::read(newest)?;
        let adopt = stored
            .as_ref()
            .is_none_or(|s| recovered.issued_at().unwrap_or(0) >= s.issued_at().unwrap_or(0));
        if adopt && self.backend.save(profile, &recovered).is_err() {
            return Ok(Some(recovered));
        }
        for file in &files {
            // A file left behind is adopted or discarded again next time.
            let _ = std::fs::remove_file(file);
        }
        Ok(if adopt { Some(recovered) } else { stored })
    }
}

/// Profile names become file names: keep them to a portable, unsurprising set.
fn check_profile(name: &str) -> Result<(), StoreError> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidProfile {
            name: name.to_owned(),
        })
    }
}

#[cfg(feature = "keyring")]
fn open_keyring(home: &Path) -> Result<TokenStore, StoreError> {
    crate::keyring::KeyringBackend::new("device-grant", home.join("keyring")).map(TokenStore::new)
}

#[cfg(not(feature = "keyring"))]
fn open_keyring(_home: &Path) -> Result<TokenStore, StoreError> {
    Err(StoreError::Keyring {
        profile: String::new(),
        message: "this program was built without the `keyring` feature; use the file store".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::check_profile;

    #[test]
    fn profile_names() {
        for ok in ["default", "work.azure", "a-b_c", "X1"] {
            assert!(check_profile(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "..", "a b", "é", &"x".repeat(65)] {
            assert!(check_profile(bad).is_err(), "{bad}");
        }
    }
}
