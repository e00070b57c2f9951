//! The OS keyring backend (Linux kernel keyutils), through the store.

#![cfg(all(feature = "keyring", target_os = "linux"))]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use device_grant::{AccessToken, RefreshToken};
use device_grant_store::{
    Backend, BackendKind, ClientInfo, KeyringBackend, StoreError, TokenSet, TokenStore,
};

const NOW_SECS: u64 = 1_700_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

fn expired() -> TokenSet {
    let mut s = TokenSet::new(ClientInfo::new("https://as.example/token", "cid"));
    s.set_access_token(Some(AccessToken::new("at-1")));
    s.set_refresh_token(Some(RefreshToken::new("rt-1")));
    s.set_expires_at(Some(NOW_SECS - 1));
    s
}

#[test]
fn keyring_round_trip_refresh_and_delete() {
    let tmp = tempfile::tempdir().unwrap();
    // A service name of its own, so parallel runs do not share entries.
    let service = format!("device-grant-store-test-{}", std::process::id());
    let backend = KeyringBackend::new(&service, tmp.path().join("keyring")).unwrap();
    assert!(backend.describe("p").contains(&service));
    let store = TokenStore::new(backend);
    assert_eq!(store.load("p").unwrap(), None);
    store.save("p", &expired()).unwrap();
    assert_eq!(store.load("p").unwrap(), Some(expired()));
    // The lock file lives in the private directory next to the file store.
    assert!(tmp.path().join("keyring/p.lock").is_file());

    let got = store
        .valid_token("p", Duration::from_secs(60), now(), |old| {
            let mut new = old.clone();
            new.set_access_token(Some(AccessToken::new("at-2")));
            new.set_refresh_token(Some(RefreshToken::new("rt-2")));
            new.set_expires_at(Some(NOW_SECS + 3600));
            Ok(new)
        })
        .unwrap();
    assert_eq!(got.refresh_token().unwrap().secret(), "rt-2");
    assert_eq!(store.load("p").unwrap(), Some(got));

    assert!(store.delete("p").unwrap());
    assert_eq!(store.load("p").unwrap(), None);
    assert!(!store.delete("p").unwrap());
}

#[test]
fn open_by_kind_gives_the_keyring() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TokenStore::open(BackendKind::Keyring, tmp.path()).unwrap();
    assert!(store.describe("x").contains("keyring"), "{store:?}");
    let e: Result<TokenStore, StoreError> = TokenStore::open(BackendKind::File, tmp.path());
    assert!(e.unwrap().describe("x").ends_with("tokens/x.json"));
}

const CHILD_ENV: &str = "DG_STORE_KEYRING_CHILD";

/// Another process sees what this one stored: the keyring is not per process. Run with
/// `DG_STORE_KEYRING_CHILD=<service>`, this test is the child and prints what it loads.
#[test]
fn keyring_entry_is_seen_by_another_process() {
    let tmp = tempfile::tempdir().unwrap();
    if let Ok(service) = std::env::var(CHILD_ENV) {
        let store = TokenStore::new(KeyringBackend::new(&service, tmp.path()).unwrap());
        let set = store.load("p").unwrap();
        println!(
            "child-loaded:{}",
            set.as_ref()
                .and_then(TokenSet::access_token)
                .map_or("none", |t| t.secret())
        );
        return;
    }
    let service = format!("device-grant-store-test-child-{}", std::process::id());
    let store = TokenStore::new(KeyringBackend::new(&service, tmp.path()).unwrap());
    store.save("p", &expired()).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keyring_entry_is_seen_by_another_process",
            "--nocapture",
        ])
        .env(CHILD_ENV, &service)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("child-loaded:at-1"), "{stdout}");
    assert!(store.delete("p").unwrap());
}
