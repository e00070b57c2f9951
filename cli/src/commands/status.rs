//! `device-grant status`: whether a token set is signed in, until when, with which scopes and
//! endpoints. Never a secret: not the tokens, not the device code of a pending sign-in.

use std::time::{Duration, Instant, SystemTime};

use device_grant::Snapshot;
use device_grant_store::{TokenSet, unix_seconds};
use serde_json::{Map, Value, json};

use crate::args::{StatusArgs, StatusFormat};
use crate::commands::store_of;
use crate::exit::CliError;
use crate::output;
use crate::prompt;

/// Prints the status.
pub fn run(args: &StatusArgs) -> Result<(), CliError> {
    let store = store_of(&args.store)?;
    let set = store.load()?;
    let now = SystemTime::now();
    let report = describe(set.as_ref(), now);
    match args.output {
        StatusFormat::Json => {
            let mut report = report;
            report.insert("profile".into(), store.profile().into());
            report.insert("store".into(), store.describe().into());
            output::print_text(&Value::Object(report).to_string())
        }
        StatusFormat::Text => output::print_text(&text(&report, &store.describe())),
    }
}

/// The status as JSON members, from the stored set (which may be absent).
fn describe(set: Option<&TokenSet>, now: SystemTime) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(set) = set else {
        out.insert("signed_in".into(), false.into());
        return out;
    };
    out.insert("signed_in".into(), set.access_token().is_some().into());
    if let Some(at) = set.expires_at() {
        out.insert("expires_at".into(), at.into());
        out.insert(
            "expires_in".into(),
            at.saturating_sub(unix_seconds(now)).into(),
        );
    }
    out.insert(
        "has_refresh_token".into(),
        set.refresh_token().is_some().into(),
    );
    out.insert("token_type".into(), set.token_type().into());
    if let Some(binding) = dpop_binding(set) {
        out.insert("dpop".into(), binding);
    }
    out.insert("scopes".into(), set.scopes().to_vec().into());
    let c = set.client();
    out.insert("client_id".into(), c.client_id.clone().into());
    if let Some(p) = &c.provider {
        out.insert("provider".into(), p.clone().into());
    }
    out.insert("token_endpoint".into(), c.token_endpoint.clone().into());
    for (name, value) in [
        ("device_endpoint", &c.device_endpoint),
        ("revocation_endpoint", &c.revocation_endpoint),
    ] {
        if let Some(v) = value {
            out.insert(name.into(), v.clone().into());
        }
    }
    if let Some(pending) = set.pending_flow() {
        // Only what the user was shown: the user code is typed on another device and is no
        // secret; the device code stays in the store.
        let shown = Snapshot::from_value(pending.clone())
            .ok()
            .and_then(|s| s.prompt(Instant::now(), now).zip(s.deadline()))
            .map(|(p, deadline)| {
                json!({
                    "user_code": p.user_code(),
                    "verification_uri": p.verification_uri(),
                    "expires_at": unix_seconds(deadline),
                })
            });
        out.insert("pending_sign_in".into(), shown.unwrap_or(Value::Bool(true)));
    }
    out
}

/// For a `login --dpop` set: whether its token is bound (`token_type` `DPoP`) and the key's
/// thumbprint, which a server's `cnf.jkt` can be compared with. Never the key.
fn dpop_binding(set: &TokenSet) -> Option<Value> {
    set.dpop_key()?;
    let jkt = crate::dpop::stored(set)
        .ok()
        .flatten()
        .and_then(|k| crate::dpop::thumbprint(&k).ok());
    Some(json!({
        "bound": set.token_type().eq_ignore_ascii_case("DPoP"),
        "jkt": jkt,
    }))
}

fn text(report: &Map<String, Value>, location: &str) -> String {
    let mut lines = Vec::new();
    let signed_in = report["signed_in"].as_bool().unwrap_or(false);
    lines.push(if signed_in {
        match report.get("expires_in").and_then(Value::as_u64) {
            Some(0) => format!("Signed in ({location}); the access token has expired"),
            Some(left) => format!(
                "Signed in ({location}); the access token expires in {}",
                prompt::describe(Duration::from_secs(left))
            ),
            None => format!("Signed in ({location}); the access token has no known expiry"),
        }
    } else {
        format!("Not signed in ({location})")
    });
    let field = |name: &str| report.get(name).and_then(Value::as_str);
    if let Some(scopes) = report.get("scopes").and_then(Value::as_array)
        && !scopes.is_empty()
    {
        let names: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
        lines.push(format!("  scopes:              {}", names.join(" ")));
    }
    if signed_in {
        let renew = if report["has_refresh_token"].as_bool() == Some(true) {
            "yes"
        } else {
            "no (sign in again when it expires)"
        };
        lines.push(format!("  refresh token:       {renew}"));
    }
    if let Some(d) = report.get("dpop") {
        let jkt = d.get("jkt").and_then(Value::as_str);
        lines.push(match (d.get("bound").and_then(Value::as_bool), jkt) {
            (Some(true), Some(jkt)) => {
                format!("  DPoP:                bound to the stored key (thumbprint {jkt})")
            }
            (_, None) => "  DPoP:                the stored key cannot be read; run login --dpop again".into(),
            _ => format!(
                "  DPoP:                key stored, but the server issued a {} token, not bound to it",
                report
                    .get("token_type")
                    .and_then(Value::as_str)
                    .map_or_else(String::new, |t| device_grant::display_safe(t).into_owned())
            ),
        });
    }
    for (label, name) in [
        ("client id:          ", "client_id"),
        ("provider:           ", "provider"),
        ("token endpoint:     ", "token_endpoint"),
        ("device endpoint:    ", "device_endpoint"),
        ("revocation endpoint:", "revocation_endpoint"),
    ] {
        if let Some(v) = field(name) {
            lines.push(format!("  {label} {}", device_grant::display_safe(v)));
        }
    }
    if let Some(p) = report.get("pending_sign_in") {
        match (p.get("user_code"), p.get("verification_uri")) {
            (Some(Value::String(code)), Some(Value::String(uri))) => lines.push(format!(
                "  pending sign-in:     enter {} at {}, then run login --resume",
                device_grant::display_safe(code),
                device_grant::display_safe(uri)
            )),
            _ => lines.push("  pending sign-in:     yes (run login --resume)".into()),
        }
    }
    lines.join("\n")
}
