//! Shared pieces of the end-to-end suites.
#![allow(dead_code)]

pub mod drive;
pub mod oidc;
pub mod pyserver;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts a real server's process (`program` names it in messages). The server picks a port
/// and announces itself with one JSON line on stdout; the returned closure reads a string
/// member of it. The process ends when its stdin closes.
pub fn spawn_announced(mut command: Command, program: &str) -> (Child, impl Fn(&str) -> String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the server's first line");
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
