//! DPoP (RFC 9449): proofs of possession of a key on every request a flow sends, so that a
//! stolen device code or refresh token is useless without the key.
//!
//! The core builds each proof (a JWS in compact form) but holds no key and no crypto: a
//! [`DpopSigner`] the caller implements signs, hashes, and supplies the two things a sans-IO
//! state machine must not produce itself, the wall-clock time for `iat` and the randomness
//! for `jti`. The time comes from the signer rather than from an input of the flow because
//! `iat` has to be the wall-clock time at the moment the proof is built (servers reject
//! stale proofs), and a monotonic `Instant` anchored once drifts from it across a suspend.
//!
//! SHA-256 (for the RFC 7638 thumbprint and the `ath` claim) is the signer's too: any signer
//! already links a crypto library that has it, while a hash written here would be
//! security-relevant code the core's short dependency list does not allow it to import.
//!
//! With the `es256` feature, [`Es256Signer`](crate::Es256Signer) is a ready signer on `ring`.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::HeaderName;
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::{Map, Value};

use crate::answer::Answer;
use crate::error::FlowError;
use crate::secret::AccessToken;
use crate::token::TokenResponse;

/// The header a proof travels in, and the one a server's nonce comes in.
/// The header a proof travels in (RFC 9449 §4.1). A static, so that a lent request can hand
/// out a reference to it.
pub(crate) static DPOP: HeaderName = HeaderName::from_static("dpop");
const DPOP_NONCE: &str = "dpop-nonce";
/// A nonce longer than this is ignored: it would be copied into every proof.
const MAX_NONCE: usize = 1024;

/// What signs DPoP proofs: a key pair the caller holds, plus the clock and the randomness
/// the core never touches. One signer is one key; keep it as long as the tokens bound to
/// it (a refresh token of a public client works only with the same key).
pub trait DpopSigner: Send + Sync {
    /// The JWS algorithm, as in the proof's `alg` header (`ES256`, `EdDSA`, `RS256`, ...).
    fn algorithm(&self) -> &str;

    /// The public key as a JWK (RFC 7517): `kty` and its public members, never a private one
    /// (`d`, `p`, `q`, ...; the configuration refuses such a key).
    fn public_jwk(&self) -> Map<String, Value>;

    /// Signs the JWS signing input. The signature is in the JWS form for the algorithm
    /// (for ES256, `r || s`, 64 bytes; not DER).
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, DpopError>;

    /// SHA-256 of `data`, for the key's thumbprint (RFC 7638) and the `ath` claim.
    fn sha256(&self, data: &[u8]) -> [u8; 32];

    /// A fresh, unguessable identifier for one proof (`jti`): at least 96 random bits.
    /// Servers refuse a `jti` they have seen.
    fn jti(&self) -> String;

    /// The wall-clock time now, in seconds since the Unix epoch (`iat`).
    fn unix_time(&self) -> u64;

    /// The key's JWK SHA-256 thumbprint (RFC 7638), base64url: the `jkt` tokens are bound
    /// to, and the value of `dpop_jkt`.
    fn thumbprint(&self) -> Result<String, DpopError> {
        let input = thumbprint_input(&self.public_jwk())?;
        Ok(URL_SAFE_NO_PAD.encode(self.sha256(input.as_bytes())))
    }
}

/// What went wrong with DPoP.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopError {
    /// The signer could not sign.
    Signer(String),
    /// The signer's public JWK cannot be used: a member missing or not a string, an unknown
    /// `kty`, or a private member.
    InvalidKey(String),
    /// The server issued a token of this `token_type` instead of a DPoP-bound one, and the
    /// configuration is strict ([`ConfigBuilder::dpop_strict`](crate::ConfigBuilder::dpop_strict)).
    NotBound {
        /// The `token_type` the server sent.
        token_type: String,
    },
}

impl fmt::Display for DpopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DpopError::Signer(why) => write!(f, "the DPoP signer failed: {why}"),
            DpopError::InvalidKey(why) => write!(f, "the DPoP key cannot be used: {why}"),
            DpopError::NotBound { token_type } => write!(
                f,
                "DPoP was required but the server issued a token of type `{}`, not bound to the key",
                crate::display_safe(token_type)
            ),
        }
    }
}

impl std::error::Error for DpopError {}

/// Whether a token is bound to the DPoP key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopBinding {
    /// No DPoP proof was sent and the token is not a DPoP token.
    NotRequested,
    /// `token_type` is `DPoP`: use it with `Authorization: DPoP` and a proof per request.
    Bound,
    /// Proofs were sent but the server issued another type (a server without DPoP support
    /// issues `Bearer`): the token is a plain bearer token, and a thief can use it.
    Unbound,
}

/// The canonical JSON of a JWK's required members (RFC 7638 §3.2), the input to the
/// thumbprint hash.
pub fn thumbprint_input(jwk: &Map<String, Value>) -> Result<String, DpopError> {
    let kty = member(jwk, "kty")?;
    // Lexicographic order, as §3.3 requires.
    let names: &[&str] = match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        other => {
            return Err(DpopError::InvalidKey(format!(
                "unsupported kty `{}`",
                crate::display_safe(other)
            )));
        }
    };
    let mut out = String::from("{");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let value = Value::String(member(jwk, name)?.to_owned());
        out.push_str(&format!("\"{name}\":{}", crate::json::text(&value)));
    }
    out.push('}');
    Ok(out)
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<&'a str, DpopError> {
    match jwk.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(DpopError::InvalidKey(format!(
            "the JWK has no string member `{name}`"
        ))),
    }
}

/// The JWK members that are private key material (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Checks a signer once, when the configuration is built: an algorithm, a public JWK with
/// no private member (it is sent in every proof), and a thumbprint.
pub(crate) fn validate(signer: &dyn DpopSigner) -> Result<String, DpopError> {
    if signer.algorithm().is_empty() || signer.algorithm().eq_ignore_ascii_case("none") {
        return Err(DpopError::InvalidKey("no signing algorithm".into()));
    }
    let jwk = signer.public_jwk();
    if let Some(name) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(DpopError::InvalidKey(format!(
            "the public JWK holds the private member `{name}`"
        )));
    }
    signer.thumbprint()
}

/// A DPoP proof for one request (RFC 9449 §4.2): `method` and `uri` (query and fragment are
/// left out of `htu`), the server's latest `nonce`, and for a call to a resource server the
/// `access_token` it goes with (`ath`).
pub fn proof(
    signer: &dyn DpopSigner,
    method: &Method,
    uri: &http::Uri,
    nonce: Option<&str>,
    access_token: Option<&AccessToken>,
) -> Result<String, DpopError> {
    let header = serde_json::json!({
        "typ": "dpop+jwt",
        "alg": signer.algorithm(),
        "jwk": Value::Object(signer.public_jwk()),
    });
    let mut claims = Map::new();
    claims.insert("jti".into(), signer.jti().into());
    claims.insert("htm".into(), method.as_str().into());
    claims.insert("htu".into(), htu(uri).into());
    claims.insert("iat".into(), signer.unix_time().into());
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(token) = access_token {
        let hash = signer.sha256(token.secret().as_bytes());
        claims.insert("ath".into(), URL_SAFE_NO_PAD.encode(hash).into());
    }
    let mut jws = URL_SAFE_NO_PAD.encode(crate::json::text(&header));
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(crate::json::text(&Value::Object(claims))));
    let signature = signer.sign(jws.as_bytes())?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jws)
}

/// RFC 9449 §4.2: the target URI without query and fragment.
fn htu(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map_or("", |a| a.as_str());
    let path = match uri.path() {
        "" => "/",
        p => p,
    };
    format!("{scheme}://{authority}{path}")
}

/// DPoP as configured: the signer, what it is checked to be, and the options.
#[derive(Clone)]
pub(crate) struct DpopConfig {
    pub(crate) signer: Arc<dyn DpopSigner>,
    pub(crate) thumbprint: String,
    pub(crate) strict: bool,
    pub(crate) send_jkt: bool,
}

impl fmt::Debug for DpopConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopConfig")
            .field("alg", &self.signer.algorithm())
            .field("jkt", &self.thumbprint)
            .field("strict", &self.strict)
            .field("send_jkt", &self.send_jkt)
            .finish()
    }
}

/// What one flow keeps between requests: the server's latest nonce, and whether the request
/// out is already the one retry a `use_dpop_nonce` answer gets.
#[derive(Debug, Default)]
pub(crate) struct Session {
    nonce: Option<String>,
    retrying: bool,
}

impl Session {
    /// Adds a fresh proof to `request`.
    pub(crate) fn attach(
        &self,
        config: &DpopConfig,
        request: &mut Request<Vec<u8>>,
    ) -> Result<(), DpopError> {
        let value = self.header(config, request.method(), request.uri())?;
        request.headers_mut().insert(DPOP.clone(), value);
        Ok(())
    }

    /// A fresh proof for a request of `method` to `uri`, as the value of its `DPoP` header.
    pub(crate) fn header(
        &self,
        config: &DpopConfig,
        method: &Method,
        uri: &http::Uri,
    ) -> Result<HeaderValue, DpopError> {
        let jws = proof(&*config.signer, method, uri, self.nonce.as_deref(), None)?;
        HeaderValue::try_from(jws)
            .map_err(|_| DpopError::Signer("the proof is not a valid header value".into()))
    }

    /// Reads an answer: keeps any `DPoP-Nonce`, and says whether the request is to be sent
    /// again at once with it (a `use_dpop_nonce` error that brought a new nonce, once in a
    /// row). Such an answer is not a poll: the flow leaves its state as it was.
    pub(crate) fn answered(&mut self, headers: &HeaderMap, answer: &Answer<'_>) -> bool {
        let sent = headers
            .get(DPOP_NONCE)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.len() <= MAX_NONCE);
        if let Some(nonce) = sent {
            self.nonce = Some(nonce.to_owned());
        }
        let wants_nonce =
            matches!(answer, Answer::Error { error, .. } if error.error == "use_dpop_nonce");
        let retry = wants_nonce && sent.is_some() && !self.retrying;
        self.retrying = retry;
        retry
    }
}

/// After an answer ended the flow with a token: records whether proofs were sent, and in
/// strict mode refuses a token that is not bound.
pub(crate) fn check_binding(config: &DpopConfig, result: &mut Result<TokenResponse, FlowError>) {
    let Ok(token) = result else { return };
    token.members_mut().dpop_requested = true;
    if config.strict && token.dpop_binding() != DpopBinding::Bound {
        let token_type = token.token_type().to_owned();
        *result = Err(FlowError::Dpop(DpopError::NotBound { token_type }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_input_of_the_rfc_7638_example() {
        // RFC 7638 §3.1: the RSA key and the exact JSON its thumbprint hashes.
        let jwk: Map<String, Value> = serde_json::from_str(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        assert_eq!(
            thumbprint_input(&jwk).unwrap(),
            r#"{"e":"AQAB","kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#
        );
        let ec: Map<String, Value> =
            serde_json::from_str(r#"{"y":"Y","x":"X","kty":"EC","crv":"P-256","use":"sig"}"#)
                .unwrap();
        assert_eq!(
            thumbprint_input(&ec).unwrap(),
            r#"{"crv":"P-256","kty":"EC","x":"X","y":"Y"}"#
        );
        let bad: Map<String, Value> =
            serde_json::from_str(r#"{"kty":"EC","crv":"P-256","x":"X"}"#).unwrap();
        assert!(matches!(
            thumbprint_input(&bad),
            Err(DpopError::InvalidKey(_))
        ));
        let oct: Map<String, Value> = serde_json::from_str(r#"{"kty":"oct","k":"K"}"#).unwrap();
        assert!(thumbprint_input(&oct).is_err());
    }

    #[test]
    fn htu_drops_query_and_fragment() {
        let uri: http::Uri =
            "https://login.example.com:8443/common/oauth2/devicecode?api-version=1.0"
                .parse()
                .unwrap();
        assert_eq!(
            htu(&uri),
            "https://login.example.com:8443/common/oauth2/devicecode"
        );
        let uri: http::Uri = "http://127.0.0.1:9/".parse().unwrap();
        assert_eq!(htu(&uri), "http://127.0.0.1:9/");
    }
}
