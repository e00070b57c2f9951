//! A token store for OAuth 2.0 clients: named token sets that outlive the process, safe
//! when many processes use them at once.
//!
//! - [`TokenSet`]: one account's tokens, their expiry (wall clock), scopes, and the
//!   endpoints and client needed to refresh them. Secrets are redacted in `Debug`.
//! - [`TokenStore`]: profiles kept by a [`Backend`]: [`FileBackend`] (the default: JSON
//!   files, mode 0600, atomically replaced, refused when others can write them) or, with the
//!   `keyring` feature, `KeyringBackend` (the OS keyring).
//! - [`TokenStore::valid_token`]: under a per-profile lock across processes, re-read,
//!   refresh only if still needed, store. The refresh is a closure, so any HTTP stack (and
//!   either `device-grant` driver) fits. A refreshed set that cannot be stored goes to a
//!   recovery file instead of being lost.
//!
//! The store never reads the clock: the caller passes `now`.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use device_grant::{AccessToken, RefreshToken};
//! use device_grant_store::{ClientInfo, RefreshError, TokenSet, TokenStore};
//!
//! let dir = tempfile::tempdir()?;
//! let store = TokenStore::in_dir(dir.path().join("tokens"));
//!
//! // After a sign-in (normally `TokenSet::from_response` with the flow's result):
//! let now = SystemTime::now();
//! let mut set = TokenSet::new(ClientInfo::new("https://login.example.com/token", "my-client"));
//! set.set_access_token(Some(AccessToken::new("at-1")));
//! set.set_refresh_token(Some(RefreshToken::new("rt-1")));
//! set.set_expires_at(Some(device_grant_store::unix_seconds(now) + 30));
//! store.save("work", &set)?;
//!
//! // Later, maybe in another process: a token good for at least 5 minutes. This one expires
//! // in 30 s, so the closure is called (a real one sends the refresh grant).
//! let fresh = store.valid_token("work", Duration::from_secs(300), now, |old| {
//!     assert_eq!(old.refresh_token().unwrap().secret(), "rt-1");
//!     let mut new = old.clone();
//!     new.set_access_token(Some(AccessToken::new("at-2")));
//!     new.set_refresh_token(Some(RefreshToken::new("rt-2")));
//!     new.set_expires_at(Some(device_grant_store::unix_seconds(now) + 3600));
//!     Ok::<_, RefreshError>(new)
//! })?;
//! assert_eq!(fresh.access_token().unwrap().secret(), "at-2");
//!
//! // Stored: the next call needs no refresh.
//! let again = store.valid_token("work", Duration::from_secs(300), now, |_| {
//!     unreachable!("still valid")
//! })?;
//! assert_eq!(again.refresh_token().unwrap().secret(), "rt-2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Files
//!
//! In a directory store, profile `P` is `P.json`, locked through `P.json.lock`; recovery
//! files are `P.json.recovered-<unix seconds>`. The JSON holds the tokens in clear (and a
//! pending sign-in's device code): its protection is the file mode and the directory's.
//! It carries a format `version`; a newer version is refused, not rewritten.
//!
//! # Locking
//!
//! [`ProfileLock`] is an advisory lock ([`std::fs::File::lock`]) on the lock file: it
//! serializes the processes using this library (any version with the same file layout),
//! not other programs writing the token file. Network file systems may not honour it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod atomic;
mod backend;
mod error;
#[cfg(feature = "keyring")]
mod keyring;
mod location;
mod lock;
mod permissions;
mod recovery;
mod store;
mod token_set;

pub use backend::{Backend, BackendKind, FileBackend, UnknownBackend};
pub use error::{RefreshError, StoreError};
#[cfg(feature = "keyring")]
pub use keyring::KeyringBackend;
pub use location::{HOME_ENV, default_home, default_token_dir};
pub use lock::ProfileLock;
pub use store::TokenStore;
pub use token_set::{ClientInfo, FORMAT_VERSION, TokenSet, unix_seconds};

// The README's examples, compiled (and run unless marked otherwise) by `cargo test --doc`.
// Only under cfg(doctest), so it is not part of the API nor of its documentation.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
