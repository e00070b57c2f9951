//! Eight processes ask for a valid token at once: one refresh, and all get the new token.
//!
//! The test binary is its own child: run with `DG_STORE_CHILD_DIR` set, it plays one of the
//! competing processes. It has no libtest harness, so it prints its own summary line.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use device_grant::{AccessToken, RefreshToken};
use device_grant_store::{ClientInfo, TokenSet, TokenStore};

const CHILD_ENV: &str = "DG_STORE_CHILD_DIR";
const PROCESSES: usize = 8;
const NOW_SECS: u64 = 1_700_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

fn main() -> ExitCode {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        return child(Path::new(&dir));
    }
    // `cargo test -- NAME` passes a filter; honour one that does not match.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if args
        .iter()
        .any(|f| !"eight_processes_refresh_once".contains(f.as_str()))
    {
        println!("0 passed, 0 failed");
        return ExitCode::SUCCESS;
    }
    eight_processes_refresh_once();
    println!("test eight_processes_refresh_once ... ok");
    println!("1 passed, 0 failed");
    ExitCode::SUCCESS
}

/// One competing process: waits for the start signal, asks for a token, prints it.
fn child(dir: &Path) -> ExitCode {
    let go = dir.join("go");
    // Bounded wait for the parent's signal, so the children start together.
    for _ in 0..3000 {
        if go.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let store = TokenStore::in_dir(dir.join("tokens"));
    let result = store.valid_token("p", Duration::from_secs(60), now(), |old| {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("refreshes"))
            .expect("refresh log");
        writeln!(
            log,
            "{} {}",
            std::process::id(),
            old.refresh_token().expect("refresh token").secret()
        )
        .expect("refresh log");
        // A slow server: the others pile up on the lock meanwhile.
        std::thread::sleep(Duration::from_millis(200));
        let mut new = old.clone();
        new.set_access_token(Some(AccessToken::new(format!("at-{}", std::process::id()))));
        new.set_refresh_token(Some(RefreshToken::new(format!(
            "rt-{}",
            std::process::id()
        ))));
        new.set_issued_at(Some(NOW_SECS));
        new.set_expires_at(Some(NOW_SECS + 3600));
        Ok(new)
    });
    match result {
        Ok(set) => {
            println!("{}", set.access_token().expect("access token").secret());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("child {}: {e}", std::process::id());
            ExitCode::FAILURE
        }
    }
}

fn eight_processes_refresh_once() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir: PathBuf = tmp.path().to_owned();
    let mut expired = TokenSet::new(ClientInfo::new("https://as.example/token", "cid"));
    expired.set_access_token(Some(AccessToken::new("at-old")));
    expired.set_refresh_token(Some(RefreshToken::new("rt-old")));
    expired.set_expires_at(Some(NOW_SECS - 1));
    let store = TokenStore::in_dir(dir.join("tokens"));
    store.save("p", &expired).expect("save");

    let exe = std::env::current_exe().expect("own executable");
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .env(CHILD_ENV, &dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    fs::write(dir.join("go"), b"").expect("start signal");

    let mut printed = Vec::new();
    for child in children {
        let out = child.wait_with_output().expect("child output");
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push(
            String::from_utf8(out.stdout)
                .expect("utf-8")
                .trim()
                .to_owned(),
        );
    }

    let log = fs::read_to_string(dir.join("refreshes")).expect("refresh log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one refresh, got {lines:?}"
    );
    let (pid, used) = lines[0].split_once(' ').expect("log line");
    assert_eq!(used, "rt-old");
    let expected = format!("at-{pid}");
    assert!(
        printed.iter().all(|p| *p == expected),
        "all {PROCESSES} processes must print the new token {expected}: {printed:?}"
    );
    let stored = store.load("p").expect("load").expect("stored");
    assert_eq!(stored.access_token().expect("token").secret(), expected);
    assert_eq!(
        stored.refresh_token().expect("token").secret(),
        format!("rt-{pid}")
    );
}
