//! `--open`: the verification page in the default browser, started and left to itself.

use std::process::{Command, Stdio};

use crate::prompt;

/// Opens `uri` in the default browser when it is a page the CLI would send people to
/// (https, or http on loopback). Returns what to tell the user either way.
pub fn open(uri: &str) -> Result<String, String> {
    let Some(host) = prompt::page_host(uri) else {
        return Err(
            "not opening the browser: the verification page is not an https address".to_owned(),
        );
    };
    let (program, args) = opener();
    let mut command = Command::new(program);
    command
        .args(args)
        .arg(uri)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match command.spawn() {
        Ok(mut child) => {
            // Reaped in the background, so the sign-in does not wait for the browser.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            Ok(format!(
                "Opened the page on {host} in the browser ({program})."
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "could not open the browser: {program} was not found; open the page yourself"
        )),
        Err(e) => Err(format!(
            "could not open the browser with {program} ({e}); open the page yourself"
        )),
    }
}

/// The program that opens a URL with the user's default browser.
fn opener() -> (&'static str, &'static [&'static str]) {
    if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        // Not `cmd /C start`: cmd would read the `&` between query parameters as a command
        // separator. The URL protocol handler takes the URL as it is.
        ("rundll32", &["url.dll,FileProtocolHandler"])
    } else {
        ("xdg-open", &[])
    }
}
