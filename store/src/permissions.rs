//! Who may write the files: only the user running the program.
//!
//! A token file that someone else can write could hold tokens they planted (the program
//! would then act as their account) or be swapped under it, so such files and directories
//! are refused, as ssh refuses a private key others can write. Only the token file, its
//! lock and recovery files, and the directory holding them are checked, not the directories
//! above. On platforms other than Unix nothing is checked: there the per-user data directory
//! is protected by the account's ACLs.

use std::fs::{self, DirBuilder, File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

use crate::StoreError;

/// Creates `dir` (and its missing parents) private to the user if it does not exist, then
/// checks it.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    match fs::metadata(dir) {
        Ok(meta) => check_dir(dir, &meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut builder = DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(dir)
                .map_err(|e| StoreError::io(dir, "create directory", e))?;
            let meta = fs::metadata(dir).map_err(|e| StoreError::io(dir, "inspect", e))?;
            check_dir(dir, &meta)
        }
        Err(e) => Err(StoreError::io(dir, "inspect", e)),
    }
}

/// Checks an existing directory: a directory, owned by the user (or root, for system
/// directories the user cannot write anyway), and not writable by group or others.
pub(crate) fn check_dir(dir: &Path, meta: &Metadata) -> Result<(), StoreError> {
    if !meta.is_dir() {
        return Err(StoreError::io(
            dir,
            "use as a directory",
            io::Error::new(io::ErrorKind::NotADirectory, "it is not a directory"),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = effective_uid(dir)?;
        if meta.uid() != me && meta.uid() != 0 {
            return Err(insecure(
                dir,
                format!(
                    "the directory belongs to user id {}, not to you (user id {me})",
                    meta.uid()
                ),
                format!("chown {me} {}", dir.display()),
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(insecure(
                dir,
                format!(
                    "the directory is writable by {} (mode {:o})",
                    who_can_write(meta.mode()),
                    meta.mode() & 0o7777
                ),
                format!("chmod go-w {}", dir.display()),
            ));
        }
    }
    Ok(())
}

/// Checks an open file: a regular file, owned by the user, not writable by group or others.
/// The metadata comes from the open handle, so the file checked is the file read.
pub(crate) fn check_file(path: &Path, meta: &Metadata) -> Result<(), StoreError> {
    if !meta.is_file() {
        return Err(StoreError::io(
            path,
            "use as a token file",
            io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file"),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = effective_uid(path)?;
        if meta.uid() != me {
            return Err(insecure(
                path,
                format!(
                    "the file belongs to user id {}, not to you (user id {me}); delete it if \
                     you did not create it",
                    meta.uid()
                ),
                format!("chown {me} {}", path.display()),
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(insecure(
                path,
                format!(
                    "the file is writable by {} (mode {:o})",
                    who_can_write(meta.mode()),
                    meta.mode() & 0o7777
                ),
                format!("chmod 600 {}", path.display()),
            ));
        }
    }
    Ok(())
}

/// Opens (creating if needed) a file that only the user can read and write, and checks it.
pub(crate) fn open_private(path: &Path, create_new: bool) -> Result<File, StoreError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(false);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|e| StoreError::io(path, "open", e))?;
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io(path, "inspect", e))?;
    check_file(path, &meta)?;
    Ok(file)
}

#[cfg(unix)]
fn insecure(path: &Path, problem: String, fix: String) -> StoreError {
    StoreError::Insecure {
        path: path.to_owned(),
        problem,
        fix,
    }
}

#[cfg(unix)]
fn who_can_write(mode: u32) -> &'static str {
    match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => "its group and everyone",
        (true, false) => "its group",
        _ => "everyone",
    }
}

/// The process's effective user id, found without `unsafe` or libc.
///
/// On Linux it is the second number of the `Uid:` line of `/proc/self/status`. Where that
/// file is missing, it is the owner of a file created for the purpose in the temporary
/// directory: a new file belongs to the creating process's effective (file-system) user.
#[cfg(unix)]
pub(crate) fn effective_uid(context: &Path) -> Result<u32, StoreError> {
    use std::sync::OnceLock;
    static UID: OnceLock<u32> = OnceLock::new();
    if let Some(uid) = UID.get() {
        return Ok(*uid);
    }
    let uid = uid_from_proc().map_or_else(|| uid_from_new_file(context), Ok)?;
    Ok(*UID.get_or_init(|| uid))
}

#[cfg(unix)]
fn uid_from_proc() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(unix)]
fn uid_from_new_file(context: &Path) -> Result<u32, StoreError> {
    use std::os::unix::fs::MetadataExt;
    let dir = std::env::temp_dir();
    for attempt in 0..16u32 {
        let probe = dir.join(format!(
            ".device-grant-uid-probe-{}-{attempt}",
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&probe) {
            Ok(file) => {
                let meta = file.metadata();
                let _ = fs::remove_file(&probe);
                return meta
                    .map(|m| m.uid())
                    .map_err(|e| StoreError::io(&probe, "inspect", e));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(StoreError::io(&probe, "create", e)),
        }
    }
    Err(StoreError::io(
        context,
        "find the current user id for",
        io::Error::other("no probe file could be created in the temporary directory"),
    ))
}
