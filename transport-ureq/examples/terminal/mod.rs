//! What every example of both drivers shows the person at the keyboard, and how it reads its
//! settings. One copy, shared by the async examples through `#[path]`.

#![allow(dead_code)] // each example uses its own part

use device_grant::{Event, TokenResponse};

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

/// An environment variable that is set and not empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The scopes given on the command line, else those in the environment variable `var`, else
/// `default`, as one space-separated string.
pub fn scope(args: &[String], var: &str, default: &str) -> String {
    if !args.is_empty() {
        args.join(" ")
    } else {
        env(var).unwrap_or_else(|| default.to_owned())
    }
}
