//! The advisory lock that makes load -> refresh -> store one step across processes.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::StoreError;
use crate::atomic::parent;
use crate::permissions;

/// An exclusive lock on one profile, held until dropped.
///
/// It is an advisory lock (`flock` on Unix, `LockFileEx` on Windows) on a lock file next to
/// the token file, taken with [`File::lock`]: it serializes every process that uses this
/// library on the same profile, and the operating system releases it when the process
/// dies. The lock file is left in place: deleting it would let two processes lock two
/// different files of the same name.
#[derive(Debug)]
pub struct ProfileLock {
    // Closing the handle releases the lock.
    _file: File,
    path: PathBuf,
}

impl ProfileLock {
    /// Waits until the lock at `path` is free and takes it. The directory is created private
    /// if missing; the lock file is created with mode 0600 and refused if others can write it.
    pub(crate) fn acquire(path: &Path) -> Result<Self, StoreError> {
        permissions::ensure_dir(parent(path))?;
        let file = permissions::open_private(path, false)?;
        file.lock().map_err(|e| StoreError::io(path, "lock", e))?;
        Ok(Self {
            _file: file,
            path: path.to_owned(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
