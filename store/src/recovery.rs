//! Recovery files: where refreshed tokens go when the store cannot take them.
//!
//! After a refresh the server may have rotated the refresh token, making the stored one
//! useless. If the new set cannot be stored, it is written next to the store as
//! `<base>.recovered-<unix seconds>` (then `-1`, `-2`, ... within the same second), mode
//! 0600. Every later load or refresh of the profile adopts the newest such file that is at
//! least as recent as the stored set, stores it, and deletes the recovery files once that
//! succeeds.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::atomic::parent;
use crate::{StoreError, TokenSet, permissions, unix_seconds};

const MARKER: &str = ".recovered-";

/// Writes `set` to a new recovery file for `base` and returns its path.
pub(crate) fn write(base: &Path, set: &TokenSet, now: SystemTime) -> Result<PathBuf, StoreError> {
    permissions::ensure_dir(parent(base))?;
    let bytes = serde_json::to_vec_pretty(set).map_err(|e| StoreError::Corrupt {
        location: base.display().to_string(),
        reason: e.to_string(),
    })?;
    let secs = unix_seconds(now);
    for n in 0..1000u32 {
        let mut name = base.as_os_str().to_owned();
        name.push(if n == 0 {
            format!("{MARKER}{secs}")
        } else {
            format!("{MARKER}{secs}-{n}")
        });
        let path = PathBuf::from(name);
        match permissions::open_private(&path, true) {
            Ok(mut file) => {
                file.write_all(&bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| StoreError::io(&path, "write", e))?;
                return Ok(path);
            }
            Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::io(
        base,
        "name a recovery file for",
        io::Error::other("a thousand recovery files in the same second"),
    ))
}

/// The recovery files for `base`, oldest first.
pub(crate) fn list(base: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let dir = parent(base);
    let Some(stem) = base.file_name() else {
        return Ok(Vec::new());
    };
    let mut prefix: OsString = stem.to_owned();
    prefix.push(MARKER);
    let prefix = prefix.to_string_lossy().into_owned();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir, "list", e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(dir, "list", e))?;
        let name = entry.file_name();
        let Some(suffix) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let (secs, n) = suffix.split_once('-').unwrap_or((suffix, "0"));
        if let (Ok(secs), Ok(n)) = (secs.parse::<u64>(), n.parse::<u32>()) {
            found.push(((secs, n), entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// Reads a recovery file, with the same checks as a token file.
pub(crate) fn read(path: &Path) -> Result<TokenSet, StoreError> {
    read_token_file(path)?.ok_or_else(|| {
        StoreError::io(
            path,
            "read",
            io::Error::new(io::ErrorKind::NotFound, "the recovery file disappeared"),
        )
    })
}

/// Reads a token file: `None` when it does not exist. Its directory and the file itself are
/// checked first.
pub(crate) fn read_token_file(path: &Path) -> Result<Option<TokenSet>, StoreError> {
    let dir = parent(path);
    match fs::metadata(dir) {
        Ok(meta) => permissions::check_dir(dir, &meta)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(dir, "inspect", e)),
    }
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, "open", e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io(path, "inspect", e))?;
    permissions::check_file(path, &meta)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(path, "read", e))?;
    crate::token_set::parse_stored(&bytes, &path.display().to_string()).map(Some)
}
