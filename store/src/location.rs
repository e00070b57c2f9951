//! Where tokens live when the caller does not say.

use std::path::PathBuf;

use crate::StoreError;

/// The environment variable that overrides the home directory.
pub const HOME_ENV: &str = "DEVICE_GRANT_HOME";

/// The library's home directory: `$DEVICE_GRANT_HOME` when set and not empty, else the
/// platform's per-user local data directory: `$XDG_DATA_HOME/device-grant` (by default
/// `~/.local/share/device-grant`) on Linux, `~/Library/Application Support/device-grant` on
/// macOS, `%LOCALAPPDATA%\device-grant\data` on Windows.
pub fn default_home() -> Result<PathBuf, StoreError> {
    if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    directories::ProjectDirs::from("", "", "device-grant")
        .map(|dirs| dirs.data_local_dir().to_owned())
        .ok_or(StoreError::NoHome)
}

/// The directory of the file backend's token files: `<home>/tokens`.
pub fn default_token_dir() -> Result<PathBuf, StoreError> {
    default_home().map(|h| h.join("tokens"))
}
