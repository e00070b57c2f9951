//! What every example shows the person at the keyboard.

use device_grant_reqwest::device_grant::{Event, TokenResponse};

/// The prompt (RFC 8628 §3.3: the verification URI and the user code, never the device
/// code) on stdout; the rest, informational, on stderr.
pub fn show(event: &Event) {
    match event {
        Event::UserCode(prompt) => println!("{prompt}"),
        other => eprintln!("{other}"),
    }
}

/// What was granted, without the token itself.
pub fn report(token: &TokenResponse) {
    println!("Signed in.");
    println!("  token type: {}", token.token_type());
    match token.expires_in() {
        Some(d) => println!("  expires in: {} s", d.as_secs()),
        None => println!("  expires in: not said"),
    }
    match token.scopes() {
        Some(scopes) => println!("  scopes:     {}", scopes.join(" ")),
        // RFC 6749 §5.1: no `scope` means the scopes asked for.
        None => println!("  scopes:     as requested"),
    }
    println!(
        "  refresh:    {}",
        if token.refresh_token().is_some() {
            "a refresh token was issued"
        } else {
            "no refresh token"
        }
    );
}

/// Prints `error` and what caused it, one cause a line, and exits with status 1.
pub fn fail(error: &dyn std::error::Error) -> ! {
    eprintln!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    std::process::exit(1)
}

/// Prints how to call the example and exits with status 2.
pub fn usage(text: &str) -> ! {
    eprintln!("usage: {text}");
    std::process::exit(2)
}
