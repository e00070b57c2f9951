//! What can go wrong, said so that the user knows what to do. No message carries a secret.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::TokenSet;

/// Why the caller's refresh closure failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshError {
    /// The server rejected the refresh token (`invalid_grant`): it expired, was revoked, or
    /// was already rotated by someone else. The store re-reads once before giving up.
    InvalidGrant {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// Anything else (network, server error, ...): the stored tokens are left as they were.
    Other(Box<dyn Error + Send + Sync>),
}

impl RefreshError {
    /// Wraps any other failure.
    pub fn other(e: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::Other(e.into())
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidGrant { description: None } => {
                f.write_str("the server rejected the refresh token (invalid_grant)")
            }
            Self::InvalidGrant {
                description: Some(d),
            } => write!(
                f,
                "the server rejected the refresh token (invalid_grant: {d})"
            ),
            Self::Other(e) => write!(f, "the refresh failed: {e}"),
        }
    }
}

impl Error for RefreshError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Other(e) => Some(&**e),
            Self::InvalidGrant { .. } => None,
        }
    }
}

/// A store operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A file operation failed.
    Io {
        /// The path concerned.
        path: PathBuf,
        /// What was being done (`read`, `write`, `lock`, ...).
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// A file or directory is writable by others or belongs to another user, so the tokens
    /// in it could have been planted or read by someone else.
    Insecure {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// How to fix it (a command to run).
        fix: String,
    },
    /// A stored token set could not be read (not JSON of the expected shape, or a format
    /// version this library does not know).
    Corrupt {
        /// Where it is stored.
        location: String,
        /// The parser's message (it never quotes the stored values).
        reason: String,
    },
    /// A profile name that cannot be used as a file name.
    InvalidProfile {
        /// The name given.
        name: String,
    },
    /// Nothing is stored for this profile: sign in first.
    NotSignedIn {
        /// The profile.
        profile: String,
    },
    /// The refresh closure failed with something other than a rejected refresh token.
    Refresh(RefreshError),
    /// The server rejected the refresh token and the stored one had not changed meanwhile.
    RefreshRejected {
        /// The profile.
        profile: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The refresh succeeded (the server may have rotated the refresh token) but the new
    /// tokens could not be stored. They are in `recovery_file` when that could be written,
    /// and in `token_set` in any case, for the caller to print if there is no file.
    NotSaved {
        /// The profile.
        profile: String,
        /// Why the store write failed.
        cause: Box<StoreError>,
        /// Where the new tokens were written instead; the next load adopts it.
        recovery_file: Option<PathBuf>,
        /// Why the recovery file could not be written, when it could not.
        recovery_error: Option<Box<StoreError>>,
        /// The new tokens.
        token_set: Box<TokenSet>,
    },
    /// No per-user data directory is known (no home directory): set `DEVICE_GRANT_HOME`.
    NoHome,
    /// The OS keyring failed.
    Keyring {
        /// The profile.
        profile: String,
        /// The keyring's message.
        message: String,
    },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Self::Insecure { path, problem, fix } => write!(
                f,
                "refusing to use {}: {problem}; fix it with `{fix}`",
                path.display()
            ),
            Self::Corrupt { location, reason } => {
                write!(f, "the token set in {location} cannot be read: {reason}")
            }
            Self::InvalidProfile { name } => write!(
                f,
                "invalid profile name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.', \
                 not starting with '.'"
            ),
            Self::NotSignedIn { profile } => {
                write!(f, "profile {profile:?} is not signed in: sign in first")
            }
            Self::Refresh(e) => e.fmt(f),
            Self::RefreshRejected {
                profile,
                description,
            } => {
                write!(
                    f,
                    "the server rejected the refresh token of profile {profile:?}"
                )?;
                if let Some(d) = description {
                    write!(f, " ({d})")?;
                }
                f.write_str(": sign in again")
            }
            Self::NotSaved {
                profile,
                cause,
                recovery_file,
                recovery_error,
                ..
            } => {
                write!(
                    f,
                    "the tokens of profile {profile:?} were refreshed but could not be saved ({cause}); "
                )?;
                match (recovery_file, recovery_error) {
                    (Some(p), _) => write!(
                        f,
                        "they were written to {}, which the next run adopts once the store \
                         is writable again",
                        p.display()
                    ),
                    (None, Some(e)) => write!(
                        f,
                        "no recovery file could be written either ({e}); the new tokens are \
                         only in this error value"
                    ),
                    (None, None) => f.write_str("the new tokens are only in this error value"),
                }
            }
            Self::NoHome => f.write_str(
                "no home directory to keep tokens in: set DEVICE_GRANT_HOME to a directory",
            ),
            Self::Keyring { profile, message } => {
                write!(f, "OS keyring, profile {profile:?}: {message}")
            }
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Refresh(e) => Some(e),
            Self::NotSaved { cause, .. } => Some(&**cause),
            _ => None,
        }
    }
}
