//! The store's behaviour through its public API: locking between threads, permissions,
//! recovery files, and the re-read after `invalid_grant`.

#![cfg(unix)]
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use device_grant::{AccessToken, Config, Flow, Output, RefreshToken};
use device_grant_store::{
    Backend, ClientInfo, FileBackend, RefreshError, StoreError, TokenSet, TokenStore,
};

const NOW_SECS: u64 = 1_700_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

fn set(access: &str, refresh: &str, issued: u64, expires: u64) -> TokenSet {
    let mut s = TokenSet::new(ClientInfo::new("https://as.example/token", "cid"));
    s.set_access_token(Some(AccessToken::new(access)));
    s.set_refresh_token(Some(RefreshToken::new(refresh)));
    s.set_issued_at(Some(issued));
    s.set_expires_at(Some(expires));
    s
}

/// An expired set, then what a rotating server gives for it.
fn expired() -> TokenSet {
    set("at-1", "rt-1", NOW_SECS - 4000, NOW_SECS - 400)
}

fn rotate(old: &TokenSet, n: usize) -> TokenSet {
    let mut new = old.clone();
    new.set_access_token(Some(AccessToken::new(format!("at-new-{n}"))));
    new.set_refresh_token(Some(RefreshToken::new(format!("rt-new-{n}"))));
    new.set_issued_at(Some(NOW_SECS));
    new.set_expires_at(Some(NOW_SECS + 3600));
    new
}

fn access(s: &TokenSet) -> &str {
    s.access_token().unwrap().secret()
}

fn refresh_of(s: &TokenSet) -> &str {
    s.refresh_token().unwrap().secret()
}

const MIN: Duration = Duration::from_secs(60);

#[test]
fn save_creates_private_dir_and_file_and_load_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/tokens");
    let store = TokenStore::in_dir(&dir);
    let s = set("at", "rt", NOW_SECS, NOW_SECS + 10);
    store.save("work", &s).unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    let file = dir.join("work.json");
    assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
    assert_eq!(
        fs::metadata(dir.join("work.json.lock")).unwrap().mode() & 0o777,
        0o600
    );
    assert_eq!(store.load("work").unwrap(), Some(s));
    assert_eq!(store.load("other").unwrap(), None);
    // No temporary file is left behind by the atomic replace.
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    assert!(store.delete("work").unwrap());
    assert!(!store.delete("work").unwrap());
    assert_eq!(store.load("work").unwrap(), None);
}

#[test]
fn single_file_store_ignores_the_profile_name() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("cache.json");
    let store = TokenStore::in_file(&file);
    store.save("default", &expired()).unwrap();
    assert!(file.is_file());
    assert!(tmp.path().join("cache.json.lock").is_file());
    assert_eq!(store.load("anything").unwrap(), Some(expired()));
}

#[test]
fn valid_token_returns_a_valid_set_without_refreshing_and_refreshes_an_expired_one() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    let valid = set("at", "rt", NOW_SECS, NOW_SECS + 3600);
    store.save("p", &valid).unwrap();
    let got = store
        .valid_token("p", MIN, now(), |_| panic!("valid: no refresh"))
        .unwrap();
    assert_eq!(got, valid);
    // Valid for 1 hour but 2 hours asked: refresh.
    let got = store
        .valid_token("p", Duration::from_secs(7200), now(), |old| {
            Ok(rotate(old, 1))
        })
        .unwrap();
    assert_eq!(access(&got), "at-new-1");
    assert_eq!(store.load("p").unwrap(), Some(got));
}

#[test]
fn a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    store.save("p", &expired()).unwrap();
    let got = store
        .valid_token("p", MIN, now(), |old| {
            let mut new = rotate(old, 1);
            new.set_refresh_token(None);
            Ok(new)
        })
        .unwrap();
    assert_eq!(refresh_of(&got), "rt-1");
    assert_eq!(refresh_of(&store.load("p").unwrap().unwrap()), "rt-1");
}

#[test]
fn errors_for_missing_profile_bad_name_and_failed_refresh() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    let e = store
        .valid_token("nobody", MIN, now(), |_| panic!("nothing to refresh"))
        .unwrap_err();
    assert!(matches!(e, StoreError::NotSignedIn { .. }), "{e}");
    let e = store.load("../etc/passwd").unwrap_err();
    assert!(matches!(e, StoreError::InvalidProfile { .. }), "{e}");
    store.save("p", &expired()).unwrap();
    let e = store
        .valid_token("p", MIN, now(), |_| {
            Err(RefreshError::other("connection refused"))
        })
        .unwrap_err();
    assert!(matches!(e, StoreError::Refresh(_)), "{e}");
    assert!(e.to_string().contains("connection refused"));
    // A failed refresh leaves the stored set alone.
    assert_eq!(store.load("p").unwrap(), Some(expired()));
}

#[test]
fn corrupt_file_is_reported_without_its_content() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    let file = tmp.path().join("p.json");
    fs::write(&file, r#"{"version":1,"access_token":"at-secret","#).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let e = store.load("p").unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("p.json"), "{e}");
    assert!(!e.to_string().contains("at-secret"), "{e}");
}

#[test]
fn from_response_uses_the_core_result_and_the_issue_time() {
    let config = Config::builder("cid")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    let t0 = Instant::now();
    let mut flow = Flow::refresh(config, RefreshToken::new("rt-old"), t0);
    let body = r#"{"access_token":"at-x","token_type":"Bearer","expires_in":3600,"scope":"a b","refresh_token":"rt-x","ext":1}"#;
    let response = loop {
        match flow.poll_output() {
            Output::Send { id, .. } => {
                let r = device_grant::http::Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(body)
                    .unwrap();
                flow.handle_response(id, r, t0).unwrap();
            }
            Output::Done(result) => break result.unwrap(),
            Output::WaitUntil(at) => flow.handle_timeout(at).unwrap(),
            _ => {}
        }
    };
    let s = TokenSet::from_response(
        &response,
        now(),
        ClientInfo::new("https://as.example/token", "cid"),
    );
    assert_eq!(access(&s), "at-x");
    assert_eq!(refresh_of(&s), "rt-x");
    assert_eq!(s.issued_at(), Some(NOW_SECS));
    assert_eq!(s.expires_at(), Some(NOW_SECS + 3600));
    assert_eq!(s.scopes(), ["a", "b"]);
    assert_eq!(s.extra()["ext"], 1);
    // `refreshed` keeps what a response leaves out.
    let mut before = expired();
    before.set_scopes(vec!["kept".into()]);
    let after = before.refreshed(&response, now());
    assert_eq!(after.client(), before.client());
    assert_eq!(refresh_of(&after), "rt-x");
}

// ---------------------------------------------------------------------------------------
// The lock

#[test]
fn eight_threads_cause_one_refresh_and_get_the_same_token() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    TokenStore::in_dir(&dir).save("p", &expired()).unwrap();
    let refreshes = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (dir, refreshes, barrier) = (dir.clone(), refreshes.clone(), barrier.clone());
            std::thread::spawn(move || {
                // Each thread has its own store, as separate processes would.
                let store = TokenStore::in_dir(&dir);
                barrier.wait();
                store
                    .valid_token("p", MIN, now(), |old| {
                        assert_eq!(refresh_of(old), "rt-1", "refreshed with a used token");
                        refreshes.fetch_add(1, Ordering::SeqCst);
                        Ok(rotate(old, i))
                    })
                    .unwrap()
            })
        })
        .collect();
    let results: Vec<TokenSet> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert!(results.iter().all(|r| r == &results[0]), "{results:?}");
    assert_eq!(
        TokenStore::in_dir(&dir).load("p").unwrap().as_ref(),
        Some(&results[0])
    );
}

#[test]
fn a_waiting_caller_re_reads_after_taking_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(TokenStore::in_dir(tmp.path()));
    store.save("p", &expired()).unwrap();
    let lock = store.lock("p").unwrap();
    // This thread reads only after the lock is released, so it must see the new set.
    let waiter = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.valid_token("p", MIN, now(), |_| {
                panic!("refreshed although another holder had already done it")
            })
        })
    };
    let old = store.load_locked(&lock, "p").unwrap().unwrap();
    store.save_locked(&lock, "p", &rotate(&old, 7)).unwrap();
    drop(lock);
    let got = waiter.join().unwrap().unwrap();
    assert_eq!(access(&got), "at-new-7");
}

// ---------------------------------------------------------------------------------------
// Permissions (Unix)

#[test]
fn a_token_file_others_can_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    store.save("p", &expired()).unwrap();
    let file = tmp.path().join("p.json");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o622)).unwrap();
    let e = store.load("p").unwrap_err();
    assert!(matches!(e, StoreError::Insecure { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    assert!(msg.contains("its group and everyone"), "{msg}");
    assert!(
        msg.contains(&format!("chmod 600 {}", file.display())),
        "{msg}"
    );
    // A refresh is refused too, before the closure runs.
    let e = store
        .valid_token("p", MIN, now(), |_| panic!("must not refresh"))
        .unwrap_err();
    assert!(matches!(e, StoreError::Insecure { .. }), "{e}");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(store.load("p").unwrap().is_some());
}

#[test]
fn a_directory_others_can_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shared");
    let store = TokenStore::in_dir(&dir);
    store.save("p", &expired()).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    for e in [
        store.load("p").unwrap_err(),
        store.save("p", &expired()).unwrap_err(),
    ] {
        let msg = e.to_string();
        assert!(matches!(e, StoreError::Insecure { .. }), "{msg}");
        assert!(msg.contains(&dir.display().to_string()), "{msg}");
        assert!(
            msg.contains(&format!("chmod go-w {}", dir.display())),
            "{msg}"
        );
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();
    assert!(store.load("p").unwrap().is_some());
}

#[test]
fn a_token_file_of_another_user_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    store.save("p", &expired()).unwrap();
    let file = tmp.path().join("p.json");
    let me = fs::metadata(&file).unwrap().uid();
    let other = if me == 4242 { 4243 } else { 4242 };
    match std::os::unix::fs::chown(&file, Some(other), None) {
        Ok(()) => {
            let e = store.load("p").unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, StoreError::Insecure { .. }), "{msg}");
            assert!(
                msg.contains(&format!(
                    "belongs to user id {other}, not to you (user id {me})"
                )),
                "{msg}"
            );
            assert!(msg.contains(&file.display().to_string()), "{msg}");
        }
        // Only root can give a file away; an unprivileged run checks the accepted case.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            assert!(store.load("p").unwrap().is_some());
        }
        Err(e) => panic!("chown: {e}"),
    }
}

// ---------------------------------------------------------------------------------------
// A rotated refresh token is never lost

/// A file backend whose writes fail while `failing` is set: a full or read-only disk.
struct FailingSave {
    inner: FileBackend,
    failing: Arc<AtomicBool>,
}

impl Backend for FailingSave {
    fn load(&self, profile: &str) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load(profile)
    }
    fn save(&self, profile: &str, set: &TokenSet) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Io {
                path: self.inner.path(profile),
                action: "write",
                source: std::io::Error::other("No space left on device"),
            });
        }
        self.inner.save(profile, set)
    }
    fn delete(&self, profile: &str) -> Result<bool, StoreError> {
        self.inner.delete(profile)
    }
    fn lock_path(&self, profile: &str) -> PathBuf {
        self.inner.lock_path(profile)
    }
    fn recovery_base(&self, profile: &str) -> PathBuf {
        self.inner.recovery_base(profile)
    }
    fn describe(&self, profile: &str) -> String {
        self.inner.describe(profile)
    }
}

#[test]
fn a_failed_write_after_rotation_leaves_a_recovery_file_that_the_next_load_adopts() {
    let tmp = tempfile::tempdir().unwrap();
    let failing = Arc::new(AtomicBool::new(false));
    let store = TokenStore::new(FailingSave {
        inner: FileBackend::dir(tmp.path()),
        failing: failing.clone(),
    });
    store.save("p", &expired()).unwrap();
    failing.store(true, Ordering::SeqCst);

    let e = store
        .valid_token("p", MIN, now(), |old| Ok(rotate(old, 1)))
        .unwrap_err();
    let StoreError::NotSaved {
        recovery_file: Some(path),
        token_set,
        ..
    } = &e
    else {
        panic!("expected NotSaved with a recovery file: {e}");
    };
    let msg = e.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("No space left on device"), "{msg}");
    assert!(!msg.contains("rt-new-1") && !format!("{e:?}").contains("rt-new-1"));
    assert_eq!(refresh_of(token_set), "rt-new-1");
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("p.json.recovered-{NOW_SECS}")
    );
    assert_eq!(fs::metadata(path).unwrap().mode() & 0o777, 0o600);
    let on_disk: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    assert_eq!(on_disk["refresh_token"], "rt-new-1");
    assert_eq!(store.recovery_files("p").unwrap(), vec![path.clone()]);

    // Still failing: the recovered set is what is current (no refresh with the revoked
    // token), and the file stays.
    let got = store
        .valid_token("p", MIN, now(), |_| panic!("the recovered token is valid"))
        .unwrap();
    assert_eq!(access(&got), "at-new-1");
    assert!(path.exists());

    // Writable again: the next load stores it and removes the recovery file.
    failing.store(false, Ordering::SeqCst);
    let loaded = store.load("p").unwrap().unwrap();
    assert_eq!(refresh_of(&loaded), "rt-new-1");
    assert!(!path.exists());
    assert!(store.recovery_files("p").unwrap().is_empty());
    let plain = FileBackend::dir(tmp.path()).load("p").unwrap().unwrap();
    assert_eq!(refresh_of(&plain), "rt-new-1");
    // And the recovered refresh token is the one the next refresh uses.
    let later = UNIX_EPOCH + Duration::from_secs(NOW_SECS + 7200);
    store
        .valid_token("p", MIN, later, |old| {
            assert_eq!(refresh_of(old), "rt-new-1");
            Ok(rotate(old, 2))
        })
        .unwrap();
}

#[test]
fn when_even_the_recovery_file_fails_the_error_carries_the_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tokens");
    let store = TokenStore::in_dir(&dir);
    store.save("p", &expired()).unwrap();
    let moved = tmp.path().join("moved");
    let e = store
        .valid_token("p", MIN, now(), |old| {
            // While the lock is held, the directory is replaced by a file: nothing can be
            // written there any more, whoever runs the test (root included).
            fs::rename(&dir, &moved).unwrap();
            fs::write(&dir, b"not a directory").unwrap();
            Ok(rotate(old, 1))
        })
        .unwrap_err();
    let StoreError::NotSaved {
        recovery_file: None,
        recovery_error: Some(_),
        token_set,
        ..
    } = &e
    else {
        panic!("expected NotSaved without a recovery file: {e}");
    };
    assert_eq!(refresh_of(token_set), "rt-new-1");
    assert!(e.to_string().contains("only in this error value"), "{e}");
}

// ---------------------------------------------------------------------------------------
// invalid_grant

fn write_behind_the_lock(dir: &Path, s: &TokenSet) {
    // A writer that does not take the lock (another program, an older version).
    FileBackend::dir(dir).save("p", s).unwrap();
}

#[test]
fn invalid_grant_re_reads_and_uses_a_set_rotated_meanwhile() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    store.save("p", &expired()).unwrap();
    let calls = AtomicUsize::new(0);
    let got = store
        .valid_token("p", MIN, now(), |old| {
            calls.fetch_add(1, Ordering::SeqCst);
            write_behind_the_lock(tmp.path(), &rotate(old, 9));
            Err(RefreshError::InvalidGrant { description: None })
        })
        .unwrap();
    assert_eq!(access(&got), "at-new-9");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn invalid_grant_refreshes_once_more_with_a_changed_but_expired_set() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    store.save("p", &expired()).unwrap();
    let mut used = Vec::new();
    let got = store
        .valid_token("p", MIN, now(), |old| {
            used.push(refresh_of(old).to_owned());
            if used.len() == 1 {
                write_behind_the_lock(tmp.path(), &set("at-2", "rt-2", NOW_SECS - 10, NOW_SECS));
                Err(RefreshError::InvalidGrant { description: None })
            } else {
                Ok(rotate(old, 3))
            }
        })
        .unwrap();
    assert_eq!(used, ["rt-1", "rt-2"]);
    assert_eq!(access(&got), "at-new-3");
}

#[test]
fn invalid_grant_without_a_change_gives_up_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::in_dir(tmp.path());
    store.save("p", &expired()).unwrap();
    let calls = AtomicUsize::new(0);
    let e = store
        .valid_token("p", MIN, now(), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(RefreshError::InvalidGrant {
                description: Some("token revoked".into()),
            })
        })
        .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(matches!(e, StoreError::RefreshRejected { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("token revoked") && msg.contains("sign in again"),
        "{msg}"
    );
    assert_eq!(store.load("p").unwrap(), Some(expired()));
}
