//! `device-grant dpop-proof`: one DPoP proof (RFC 9449 §4.2) for a request to a resource
//! server, signed with the key a `login --dpop` stored, with `ath` for the stored access
//! token. It does not refresh: `device-grant token` does, and runs first in the usual
//! `curl -H "Authorization: DPoP $(device-grant token)" -H "DPoP: $(device-grant dpop-proof)"`,
//! so the proof is made for the token that is sent.

use std::time::{Duration, SystemTime};

use device_grant::http::{Method, Uri};

use crate::args::DpopProofArgs;
use crate::commands::store_of;
use crate::dpop;
use crate::exit::{CliError, Failure};
use crate::output;

/// Prints the proof.
pub fn run(args: &DpopProofArgs) -> Result<(), CliError> {
    let method = method(&args.method)?;
    let uri = target(&args.url)?;
    let store = store_of(&args.store)?;
    let set = store.require()?;
    let Some(key) = dpop::stored(&set)? else {
        return Err(CliError::cache(format!(
            "the token set in {} has no DPoP key: sign in with `device-grant login --dpop`",
            store.describe()
        )));
    };
    let Some(token) = set.access_token() else {
        return Err(CliError::cache(
            "the stored token set has no access token; run login",
        ));
    };
    if set.token_type() != "DPoP" {
        note!(
            "warning: the server issued a {} token, not bound to the key; the API may refuse DPoP for it",
            device_grant::display_safe(set.token_type())
        );
    }
    if !set.is_valid_for(Duration::ZERO, SystemTime::now()) {
        note!("warning: the stored access token has expired; run `device-grant token` first");
    }
    let nonce = args
        .nonce
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let proof = device_grant::dpop_proof(&*key, &method, &uri, nonce, Some(token))
        .map_err(|e| CliError::new(Failure::Other, e.to_string()))?;
    output::print_text(&proof)
}

/// The method as sent: methods are case-sensitive and APIs compare `htm` exactly, so a
/// lowercase standard method is taken to mean the uppercase one.
fn method(raw: &str) -> Result<Method, CliError> {
    let upper = raw.trim().to_ascii_uppercase();
    let known = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let name = if known.contains(&upper.as_str()) {
        upper
    } else {
        raw.trim().to_owned()
    };
    Method::from_bytes(name.as_bytes())
        .map_err(|_| CliError::usage(format!("--method {raw:?} is not an HTTP method")))
}

/// The request's URL: absolute http or https, no userinfo.
fn target(raw: &str) -> Result<Uri, CliError> {
    let bad = |why: &str| CliError::usage(format!("--url {raw:?}: {why}"));
    let mut url = url::Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    // Not part of `htu`, and not something an HTTP request carries.
    url.set_fragment(None);
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("expected an http or https URL"));
    }
    if url.host_str().is_none() {
        return Err(bad("the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("a URL with a user name or password is refused"));
    }
    url.as_str().parse::<Uri>().map_err(|e| bad(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert_eq!(method("get").unwrap(), Method::GET);
        assert_eq!(method(" POST ").unwrap(), Method::POST);
        assert_eq!(method("PROPFIND").unwrap().as_str(), "PROPFIND");
        assert!(method("GE T").is_err());
        assert!(method("").is_err());
    }

    #[test]
    fn targets() {
        let uri = target("https://api.example.com/v1/me?x=1#f").unwrap();
        assert_eq!(uri.host(), Some("api.example.com"));
        assert_eq!(uri.path(), "/v1/me");
        assert!(target("ftp://api.example.com/").is_err());
        assert!(target("/relative").is_err());
        assert!(target("https://user:pw@api.example.com/").is_err());
    }
}
