//! What every example of both drivers shows the person at the keyboard, and how it reads its
//! settings. One copy: the async examples' `terminal` folder links here.

#![allow(dead_code)] // each example uses its own part

use device_grant::{Config, Event, TokenResponse};

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

/// Reports how the sign-in ended and exits: status 0 with what was granted, or status 1
/// with the error and its causes.
pub fn finish<E: std::error::Error>(result: Result<TokenResponse, E>) {
    match result {
        Ok(token) => report(&token),
        Err(e) => fail(&e),
    }
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

/// The settings of each example, read from its arguments and environment. Kept here so
/// that each example shows only its driver's calls; the `Config` lines are the ones to copy.
pub mod settings {
    use super::{Config, env, fail, scope, usage};

    fn args() -> Vec<String> {
        std::env::args().skip(1).collect()
    }

    /// `generic <device-endpoint> <token-endpoint> <client-id> [scope ...]`
    pub fn generic() -> Config {
        let args = args();
        let [device_endpoint, token_endpoint, client_id, scopes @ ..] = args.as_slice() else {
            usage("generic <device-endpoint> <token-endpoint> <client-id> [scope ...]");
        };
        Config::builder(client_id.as_str())
            .device_endpoint(device_endpoint.as_str())
            .token_endpoint(token_endpoint.as_str())
            .scopes(scopes)
            .build()
            .unwrap_or_else(|e| fail(&e))
    }

    /// `azure_ad_v1 <tenant> <client-id> <resource>`
    pub fn azure_ad_v1() -> Config {
        let args = args();
        let [tenant, client_id, resource] = args.as_slice() else {
            usage("azure_ad_v1 <tenant> <client-id> <resource>");
        };
        Config::azure_ad_v1(tenant, client_id.as_str(), resource.as_str())
            .build()
            .unwrap_or_else(|e| fail(&e))
    }

    /// `microsoft <tenant> <client-id> [scope ...]`, or the same from `MICROSOFT_TENANT`,
    /// `MICROSOFT_CLIENT_ID` and `MICROSOFT_SCOPE`.
    pub fn microsoft() -> Config {
        const USAGE: &str = "microsoft <tenant> <client-id> [scope ...]\n   \
            or: MICROSOFT_TENANT=... MICROSOFT_CLIENT_ID=... [MICROSOFT_SCOPE=...] microsoft";
        let args = args();
        let (tenant, client_id, scopes) = match args.as_slice() {
            [tenant, client_id, scopes @ ..] => (tenant.clone(), client_id.clone(), scopes),
            [] => match (env("MICROSOFT_TENANT"), env("MICROSOFT_CLIENT_ID")) {
                (Some(tenant), Some(client_id)) => (tenant, client_id, &[][..]),
                _ => usage(USAGE),
            },
            _ => usage(USAGE),
        };
        let scope = scope(scopes, "MICROSOFT_SCOPE", "openid offline_access User.Read");
        Config::microsoft(&tenant, client_id)
            .scope(&scope)
            .build()
            .unwrap_or_else(|e| fail(&e))
    }

    /// `GOOGLE_CLIENT_ID=... GOOGLE_CLIENT_SECRET=... google [scope ...]`: the secret comes
    /// from the environment so that it does not show in the process list.
    pub fn google() -> Config {
        let (Some(client_id), Some(secret)) =
            (env("GOOGLE_CLIENT_ID"), env("GOOGLE_CLIENT_SECRET"))
        else {
            usage("GOOGLE_CLIENT_ID=... GOOGLE_CLIENT_SECRET=... google [scope ...]");
        };
        let scope = scope(&args(), "GOOGLE_SCOPE", "openid email");
        Config::google(client_id, secret)
            .scope(&scope)
            .build()
            .unwrap_or_else(|e| fail(&e))
    }

    /// `github <client-id> [scope ...]`
    pub fn github() -> Config {
        let args = args();
        let [client_id, scopes @ ..] = args.as_slice() else {
            usage("github <client-id> [scope ...]");
        };
        let scope = scope(scopes, "GITHUB_SCOPE", "read:user");
        Config::github(client_id.as_str())
            .scope(&scope)
            .build()
            .unwrap_or_else(|e| fail(&e))
    }
}
