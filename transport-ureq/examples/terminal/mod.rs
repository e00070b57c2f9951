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

/// The harness mode of the generic examples, for `device-grant-sim check` (sim/README.md,
/// "The client contract"): on when `DEVICE_GRANT_KIT=1`. The settings come from the kit's
/// environment instead of the arguments, and the tokens are printed, as the kit asks and
/// only here: outside this mode no example prints a secret.
pub mod kit {
    use device_grant::{Config, Profile, RefreshToken, TokenResponse};

    use super::{env, fail, usage};

    /// Whether the example runs under the kit.
    pub fn enabled() -> bool {
        env("DEVICE_GRANT_KIT").as_deref() == Some("1")
    }

    fn required(name: &str) -> String {
        env(name).unwrap_or_else(|| usage(&format!("DEVICE_GRANT_KIT=1 needs {name}")))
    }

    /// The client the kit describes: endpoints, id, authentication, scope, and `PROVIDER`
    /// as the core's profile (the same mapping as sim/kit/device-grant-cli.sh).
    pub fn config() -> Config {
        let profile = match required("PROVIDER").as_str() {
            "rfc" | "auth0" => Profile::Rfc8628,
            "azure-ad-v1" => Profile::AzureAdV1 {
                resource: required("RESOURCE"),
            },
            "microsoft" => Profile::MicrosoftV2,
            "google" => Profile::Google,
            "github" => Profile::GitHub,
            other => usage(&format!("unknown PROVIDER {other}")),
        };
        let builder = Config::builder(required("CLIENT_ID"))
            .device_endpoint(required("DEVICE_AUTHORIZATION_ENDPOINT"))
            .token_endpoint(required("TOKEN_ENDPOINT"))
            .scope(&env("SCOPE").unwrap_or_default())
            .profile(profile);
        let builder = match env("CLIENT_AUTH_METHOD").as_deref().unwrap_or("none") {
            "none" => builder,
            "client_secret_basic" => builder.client_secret_basic(required("CLIENT_SECRET")),
            "client_secret_post" => builder.client_secret_post(required("CLIENT_SECRET")),
            other => usage(&format!("unknown CLIENT_AUTH_METHOD {other}")),
        };
        builder.build().unwrap_or_else(|e| fail(&e))
    }

    /// How many refreshes the kit asks for after the sign-in.
    pub fn refreshes() -> u32 {
        if env("HARNESS_REFRESH").as_deref() != Some("1") {
            return 0;
        }
        env("HARNESS_REFRESH_COUNT").map_or(1, |n| {
            n.parse()
                .unwrap_or_else(|_| usage("HARNESS_REFRESH_COUNT must be a number"))
        })
    }

    /// The refresh token `token` holds (the newest: a driver's refresh result carries the
    /// old one when the server did not rotate it), or exit with status 1.
    pub fn refresh_token(token: &TokenResponse) -> RefreshToken {
        token.refresh_token().cloned().unwrap_or_else(|| {
            eprintln!("error: no refresh token to refresh with");
            std::process::exit(1)
        })
    }

    /// `access_token=<token>` after the sign-in.
    pub fn signed_in(token: &TokenResponse) {
        println!("access_token={}", token.access_token().secret());
    }

    /// `refreshed_access_token=<token>` after each refresh.
    pub fn refreshed(token: &TokenResponse) {
        println!("refreshed_access_token={}", token.access_token().secret());
    }
}
