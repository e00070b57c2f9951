//! Shared pieces of the end-to-end suites.
#![allow(dead_code)]

pub mod drive;
pub mod oidc;
pub mod pyserver;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a server may take to announce itself. It takes well under a second; this bounds
/// a server that hangs while starting, which would otherwise hang the suite.
const ANNOUNCE_WITHIN: Duration = Duration::from_secs(60);

/// Starts a real server's process (`program` names it in messages). The server picks a port
/// and announces itself with one JSON line on stdout; the returned closure reads a string
/// member of it. The process ends when its stdin closes. A server that has not announced
/// itself within [`ANNOUNCE_WITHIN`] is ended and the test fails, saying so.
pub fn spawn_announced(mut command: Command, program: &str) -> (Child, impl Fn(&str) -> String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    // The reading thread ends with the pipe: when the line comes, or when the child is ended.
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let line = match rx.recv_timeout(ANNOUNCE_WITHIN) {
        Ok(read) => read.expect("read the server's first line"),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not announce itself within {ANNOUNCE_WITHIN:?}; ended it");
        }
    };
    let info: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{program} printed {line:?}: {e}"));
    let field = move |k: &str| {
        info[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} in {line}"))
            .to_owned()
    };
    (child, field)
}
