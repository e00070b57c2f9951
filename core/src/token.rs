//! The token response (RFC 6749 §5.1), read leniently and validated.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::dpop::DpopBinding;
use crate::error::Problem;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::wire::{self, Fields, Member};

/// A successful token response.
///
/// Secrets are behind [`AccessToken::secret`] and friends; `Debug` shows `[redacted]`.
///
/// Cloning is cheap: the members are shared, and copied only by the crate itself before it
/// changes a shared response.
#[derive(Clone, PartialEq)]
pub struct TokenResponse(Arc<Members>);

/// What a [`TokenResponse`] holds. A finished flow keeps its result and hands out a copy each
/// time it is asked, so the members sit behind one `Arc` rather than costing an allocation
/// per string on every copy.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Members {
    pub(crate) access_token: AccessToken,
    pub(crate) token_type: String,
    pub(crate) expires_in: Option<Duration>,
    pub(crate) refresh_token: Option<RefreshToken>,
    pub(crate) refresh_token_rotated: bool,
    pub(crate) scopes: Option<Vec<String>>,
    pub(crate) id_token: Option<IdToken>,
    pub(crate) received_at: Instant,
    pub(crate) extra: Map<String, Value>,
    /// Whether the request that brought it carried a DPoP proof.
    pub(crate) dpop_requested: bool,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &*self.0;
        f.debug_struct("TokenResponse")
            .field("access_token", &m.access_token)
            .field("token_type", &m.token_type)
            .field("expires_in", &m.expires_in)
            .field("refresh_token", &m.refresh_token)
            .field("refresh_token_rotated", &m.refresh_token_rotated)
            .field("scopes", &m.scopes)
            .field("id_token", &m.id_token)
            .field("received_at", &m.received_at)
            .field("extra", &m.extra)
            .field("dpop_requested", &m.dpop_requested)
            .finish()
    }
}

impl TokenResponse {
    /// The members, to change: copied first if another clone shares them.
    pub(crate) fn members_mut(&mut self) -> &mut Members {
        Arc::make_mut(&mut self.0)
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.0.access_token
    }

    /// `token_type` as sent (`Bearer`, GitHub's `bearer`, ...).
    pub fn token_type(&self) -> &str {
        &self.0.token_type
    }

    /// Whether the access token is bound to the DPoP key: `token_type` `DPoP` (any case) is
    /// [`DpopBinding::Bound`]; another type after proofs were sent is
    /// [`DpopBinding::Unbound`], a downgrade worth reporting (refused by
    /// [`ConfigBuilder::dpop_strict`](crate::ConfigBuilder::dpop_strict)). A token read back
    /// with [`TokenResponse::from_json`] knows only its type.
    pub fn dpop_binding(&self) -> DpopBinding {
        if self.0.token_type.eq_ignore_ascii_case("DPoP") {
            DpopBinding::Bound
        } else if self.0.dpop_requested {
            DpopBinding::Unbound
        } else {
            DpopBinding::NotRequested
        }
    }

    /// `expires_in`, when the server sent it (numbers and numeric strings are both read).
    pub fn expires_in(&self) -> Option<Duration> {
        self.0.expires_in
    }

    /// The `now` given with the response that carried this token.
    pub fn received_at(&self) -> Instant {
        self.0.received_at
    }

    /// When the access token expires: `received + expires_in`. `None` when the server did not
    /// say, or when the sum does not fit in an `Instant`.
    pub fn expires_at(&self, received: Instant) -> Option<Instant> {
        received.checked_add(self.0.expires_in?)
    }

    /// Whether the access token should be refreshed at `now`, allowing `skew` for clock drift
    /// and request latency: true when it expires at or before `now + skew`. A token without
    /// a lifetime never needs refreshing by this rule; the API will say when it is rejected.
    pub fn needs_refresh(&self, now: Instant, skew: Duration) -> bool {
        match self.expires_at(self.0.received_at) {
            Some(at) => now.checked_add(skew).is_none_or(|limit| at <= limit),
            None => false,
        }
    }

    /// The refresh token. After a refresh grant whose answer had none, this is the one that
    /// was used, so a refresh never loses it.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.0.refresh_token.as_ref()
    }

    /// Whether the server sent a refresh token in this response (after a refresh grant:
    /// whether it rotated the token).
    pub fn refresh_token_issued(&self) -> bool {
        self.0.refresh_token_rotated
    }

    /// The granted scopes, when the server listed them (GitHub's comma-separated list is split
    /// too).
    pub fn scopes(&self) -> Option<&[String]> {
        self.0.scopes.as_deref()
    }

    /// The OpenID Connect ID token, when one was issued.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.0.id_token.as_ref()
    }

    /// Every other member of the response (Azure AD v1's `expires_on`, `resource`,
    /// `ext_expires_in`, ...).
    pub fn extra(&self) -> &Map<String, Value> {
        &self.0.extra
    }

    /// The response as a JSON object in RFC 6749 form, **secrets included**, for callers that
    /// store or print it on purpose.
    pub fn to_json_with_secrets(&self) -> Value {
        let mut out = self.0.extra.clone();
        out.insert("access_token".into(), self.0.access_token.secret().into());
        out.insert("token_type".into(), self.0.token_type.clone().into());
        if let Some(d) = self.0.expires_in {
            out.insert("expires_in".into(), d.as_secs().into());
        }
        if let Some(r) = &self.0.refresh_token {
            out.insert("refresh_token".into(), r.secret().into());
        }
        if let Some(s) = &self.0.scopes {
            out.insert("scope".into(), s.join(" ").into());
        }
        if let Some(i) = &self.0.id_token {
            out.insert("id_token".into(), i.secret().into());
        }
        Value::Object(out)
    }

    /// The inverse of [`TokenResponse::to_json_with_secrets`]: a token response read back
    /// from that JSON, as if it had arrived at `received_at`. The same validation applies as
    /// to a server's answer.
    ///
    /// `expires_in` counts from `received_at`, so pass the instant the JSON was written for
    /// the same expiry (`from_json(&t.to_json_with_secrets(), t.received_at()) == t`, save
    /// for [`TokenResponse::refresh_token_issued`], which is then true whenever there is a
    /// refresh token). When the JSON comes back in another process, whose `Instant`s mean
    /// nothing to this one, write the remaining lifetime as `expires_in` and pass the
    /// present instant.
    pub fn from_json(json: &Value, received_at: Instant) -> Result<TokenResponse, Problem> {
        let Value::Object(members) = json else {
            return Err(Problem::Unreadable {
                looked_like: "a JSON value other than an object",
            });
        };
        // Written with space-separated scopes, whatever the provider sent.
        parse(Fields::from_map(members.clone()), false, received_at)
    }
}

/// Reads and validates a success body (DESIGN rule 9: a non-empty `access_token` and a
/// `token_type`).
pub(crate) fn parse(
    mut fields: Fields<'_>,
    comma_scopes: bool,
    received_at: Instant,
) -> Result<TokenResponse, Problem> {
    // Members are moved out, not copied; what is left over becomes `extra`.
    let access_token = AccessToken::new(wire::take_required_string(&mut fields, "access_token")?);
    let token_type = wire::take_required_string(&mut fields, "token_type")?;
    // DESIGN rule 13: the optional members below are taken when they read as expected;
    // otherwise they stay in `extra` and the token is kept.
    let expires_in = wire::seconds(&fields, "expires_in").ok().flatten();
    let refresh_token = wire::take_optional_string(&mut fields, "refresh_token")
        .filter(|s| !s.is_empty())
        .map(RefreshToken::from);
    let id_token = wire::take_optional_string(&mut fields, "id_token")
        .filter(|s| !s.is_empty())
        .map(IdToken::from);
    let scopes = match fields.get("scope") {
        Some(Member::Text(s)) => Some(split_scopes(s, comma_scopes)),
        Some(Member::Json(Value::Array(items))) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    let took_scope = scopes.is_some();
    let took_expiry = expires_in.is_some();
    // One pass over what is left rather than a search per known name.
    fields.retain(|name| match name {
        "expires_in" => !took_expiry,
        "scope" => !took_scope,
        _ => true,
    });
    Ok(TokenResponse(Arc::new(Members {
        access_token,
        token_type,
        expires_in,
        refresh_token_rotated: refresh_token.is_some(),
        refresh_token,
        scopes,
        id_token,
        received_at,
        extra: fields.into_map(),
        dpop_requested: false,
    })))
}

fn split_scopes(s: &str, comma: bool) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || (comma && c == ','))
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(s: &str, comma: bool) -> Result<TokenResponse, Problem> {
        parse(
            crate::wire::parse_json(s.as_bytes()).unwrap(),
            comma,
            Instant::now(),
        )
    }

    #[test]
    fn azure_v1_string_numbers_and_extras() {
        // MSv1-TOK-02 from the provider notes.
        let t = parse_json(
            r#"{"access_token":"accessToken","refresh_token":"refreshToken","expires_in":"1000","expires_on":"2000","not_before":"3000","resource":"resource","token_type":"type"}"#,
            false,
        )
        .unwrap();
        assert_eq!(t.expires_in(), Some(Duration::from_secs(1000)));
        assert_eq!(t.extra()["expires_on"], "2000");
        assert_eq!(t.extra()["resource"], "resource");
        assert_eq!(t.refresh_token().unwrap().secret(), "refreshToken");
        assert!(t.refresh_token_issued());
    }

    #[test]
    fn github_comma_scopes() {
        let t = parse_json(
            r#"{"access_token":"gho_x","token_type":"bearer","scope":"repo,gist"}"#,
            true,
        )
        .unwrap();
        assert_eq!(t.scopes().unwrap(), ["repo", "gist"]);
        let t = parse_json(
            r#"{"access_token":"x","token_type":"Bearer","scope":"a,b c"}"#,
            false,
        )
        .unwrap();
        assert_eq!(t.scopes().unwrap(), ["a,b", "c"]);
    }

    #[test]
    fn validation() {
        assert_eq!(
            parse_json(r#"{"token_type":"Bearer"}"#, false),
            Err(Problem::MissingField("access_token"))
        );
        assert_eq!(
            parse_json(r#"{"access_token":"","token_type":"Bearer"}"#, false),
            Err(Problem::EmptyField("access_token"))
        );
        assert_eq!(
            parse_json(r#"{"access_token":"x"}"#, false),
            Err(Problem::MissingField("token_type"))
        );
        assert!(matches!(
            parse_json(r#"{"access_token":5,"token_type":"b"}"#, false),
            Err(Problem::InvalidField {
                field: "access_token",
                ..
            })
        ));
        // An impossible lifetime is not a reason to lose the token: it stays in `extra`.
        let t = parse_json(
            r#"{"access_token":"x","token_type":"b","expires_in":-3}"#,
            false,
        )
        .unwrap();
        assert_eq!(t.expires_in(), None);
        assert_eq!(t.extra()["expires_in"], -3);
    }

    #[test]
    fn expiry_and_refresh_decision() {
        let t0 = Instant::now();
        let t = parse(
            crate::wire::parse_json(br#"{"access_token":"x","token_type":"b","expires_in":3600}"#)
                .unwrap(),
            false,
            t0,
        )
        .unwrap();
        assert_eq!(t.expires_at(t0), Some(t0 + Duration::from_secs(3600)));
        assert!(!t.needs_refresh(t0, Duration::from_secs(60)));
        assert!(t.needs_refresh(t0 + Duration::from_secs(3540), Duration::from_secs(60)));
        let huge = parse(
            crate::wire::parse_json(
                br#"{"access_token":"x","token_type":"b","expires_in":18446744073709551615}"#,
            )
            .unwrap(),
            false,
            t0,
        )
        .unwrap();
        assert!(!huge.needs_refresh(t0, Duration::from_secs(60)));
        let none = parse(
            crate::wire::parse_json(br#"{"access_token":"x","token_type":"b"}"#).unwrap(),
            false,
            t0,
        )
        .unwrap();
        assert!(!none.needs_refresh(t0, Duration::MAX));
    }

    #[test]
    fn json_with_secrets_round_trip() {
        let t = parse_json(r#"{"access_token":"at","token_type":"Bearer","expires_in":60,"refresh_token":"rt","scope":"a b","x":1}"#, false).unwrap();
        let v = t.to_json_with_secrets();
        assert_eq!(v["access_token"], "at");
        assert_eq!(v["refresh_token"], "rt");
        assert_eq!(v["scope"], "a b");
        assert_eq!(v["x"], 1);
        assert!(!format!("{t:?}").contains("\"at\""));
    }

    #[test]
    fn from_json_is_the_inverse_of_to_json_with_secrets() {
        let t0 = Instant::now();
        let t = parse(
            crate::wire::parse_json(br#"{"access_token":"at","token_type":"bearer","expires_in":"60","refresh_token":"rt","id_token":"it","scope":"repo,gist","expires_on":"2000"}"#)
                .unwrap(),
            true,
            t0,
        )
        .unwrap();
        let back = TokenResponse::from_json(&t.to_json_with_secrets(), t0).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            back.expires_at(back.received_at()),
            Some(t0 + Duration::from_secs(60))
        );
        assert_eq!(back.scopes().unwrap(), ["repo", "gist"]);
        assert_eq!(back.extra()["expires_on"], "2000");
        assert_eq!(
            TokenResponse::from_json(&serde_json::json!({"token_type": "b"}), t0),
            Err(Problem::MissingField("access_token"))
        );
        assert!(TokenResponse::from_json(&serde_json::json!([1]), t0).is_err());
    }
}
