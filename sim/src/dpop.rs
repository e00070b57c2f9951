//! DPoP mode (RFC 9449): every device authorization and token request must carry a valid
//! proof, checked here (ES256 signature, `typ`, `jwk`, `htm`, `htu`, `iat`, `jti` replay,
//! `nonce`), and the tokens issued are bound to the key's thumbprint: `token_type` `DPoP`,
//! and a poll or a refresh with another key is refused.
//!
//! A proof that fails is answered `invalid_dpop_proof` and recorded as a
//! [`Violation::DpopProof`](crate::Violation::DpopProof). With
//! [`DpopMode::RequiredWithNonce`], a proof without the server's current (or previous)
//! nonce is answered `use_dpop_nonce`, which is the protocol, not a violation; the nonce
//! changes every few accepted proofs and goes out in `DPoP-Nonce` on every answer of the
//! device and token endpoints, so a client that keeps the latest one is asked only once.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use http::request::Parts;
use serde_json::{Map, Value};

use crate::app::Plan;
use crate::dialect::Reply;
use crate::encoding::JsonObject;
use crate::referee::{Referee, Violation};
use crate::state::Shared;

/// How the server treats DPoP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopMode {
    /// Every device authorization and token request needs a valid proof.
    Required,
    /// As `Required`, and every proof needs the server's nonce.
    RequiredWithNonce,
}

/// How far `iat` may be from the server's clock.
const IAT_WINDOW: u64 = 300;
/// A new nonce after this many accepted proofs.
const NONCE_ROTATION: u64 = 2;

/// What the server remembers about proofs and bound tokens.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    jtis: HashSet<String>,
    /// Accepted proofs, counting towards the next nonce.
    accepted: u64,
    device: HashMap<String, String>,
    refresh: HashMap<String, String>,
    access: HashMap<String, String>,
    nonce_answers: usize,
    /// Every accepted proof's claims, by request index.
    proofs: Vec<(usize, Map<String, Value>)>,
}

impl Ledger {
    fn nonce(&self, generation: u64) -> String {
        format!("sim-nonce-{generation}")
    }

    fn generation(&self) -> u64 {
        self.accepted / NONCE_ROTATION
    }

    fn current_nonce(&self) -> String {
        self.nonce(self.generation())
    }

    fn nonce_ok(&self, sent: Option<&str>) -> bool {
        let g = self.generation();
        sent.is_some_and(|n| n == self.nonce(g) || (g > 0 && n == self.nonce(g - 1)))
    }
}

fn error(code: &str, description: &str) -> Reply {
    let body = JsonObject::new()
        .field("error", code)
        .field("error_description", description)
        .finish();
    Reply::new(StatusCode::BAD_REQUEST, "application/json", body)
        .header("cache-control", "no-store")
}

/// Checks the proof of request `idx` at the endpoint `htu` (query left out). `Ok(None)`
/// outside DPoP mode; `Ok(Some(jkt))` for a good proof; otherwise the answer to send.
pub(crate) fn check(
    mode: Option<DpopMode>,
    sh: &mut Shared,
    idx: usize,
    parts: &Parts,
    htu: &str,
) -> Result<Option<String>, Plan> {
    let Some(mode) = mode else { return Ok(None) };
    let refuse = |sh: &mut Shared, problem: String| {
        let reply = error("invalid_dpop_proof", &problem);
        sh.violations.push(Violation::DpopProof {
            request: idx,
            problem,
        });
        Err(Plan::Reply(reply))
    };
    let mut values = parts.headers.get_all("dpop").iter();
    let jws = match (values.next(), values.next()) {
        (Some(v), None) => v.to_str().unwrap_or_default().to_owned(),
        (None, _) => return refuse(sh, "no DPoP proof".into()),
        (Some(_), Some(_)) => return refuse(sh, "more than one DPoP header".into()),
    };
    let htu = htu.split(['?', '#']).next().unwrap_or_default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let proof = match verify(&jws, parts.method.as_str(), htu, now) {
        Ok(p) => p,
        Err(problem) => return refuse(sh, problem),
    };
    let jti = proof
        .claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !sh.dpop.jtis.insert(jti.to_owned()) {
        return refuse(sh, format!("jti `{jti}` was used before"));
    }
    let nonce = proof.claims.get("nonce").and_then(Value::as_str);
    if mode == DpopMode::RequiredWithNonce && !sh.dpop.nonce_ok(nonce) {
        sh.dpop.nonce_answers += 1;
        return Err(Plan::Reply(error(
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof",
        )));
    }
    sh.dpop.accepted += 1;
    sh.dpop.proofs.push((idx, proof.claims));
    Ok(Some(proof.jkt))
}

/// Adds the current nonce to an answer of the device or token endpoint.
pub(crate) fn stamp(mode: Option<DpopMode>, sh: &Shared, plan: Plan) -> Plan {
    match (mode, plan) {
        (Some(DpopMode::RequiredWithNonce), Plan::Reply(r)) => {
            Plan::Reply(r.header("dpop-nonce", sh.dpop.current_nonce()))
        }
        (_, plan) => plan,
    }
}

/// Binds the device code of a new flow to the key of its device authorization request.
pub(crate) fn bind_device(sh: &mut Shared, device_code: &str, jkt: Option<String>) {
    if let Some(jkt) = jkt {
        sh.dpop.device.insert(device_code.to_owned(), jkt);
    }
}

/// Refuses a poll or refresh whose device code or refresh token is bound to another key.
pub(crate) fn key_matches(
    sh: &Shared,
    jkt: Option<&str>,
    device_code: Option<&str>,
    refresh_token: Option<&str>,
) -> Result<(), Plan> {
    let bound = device_code
        .and_then(|c| sh.dpop.device.get(c))
        .or_else(|| refresh_token.and_then(|t| sh.dpop.refresh.get(t)));
    match bound {
        Some(want) if Some(want.as_str()) != jkt => Err(Plan::Reply(error(
            "invalid_grant",
            "the grant is bound to another DPoP key",
        ))),
        _ => Ok(()),
    }
}

/// Turns a token answer for a good proof into a DPoP-bound one.
pub(crate) fn issue(sh: &mut Shared, jkt: Option<String>, plan: Plan) -> Plan {
    let (jkt, mut reply) = match (jkt, plan) {
        (Some(jkt), Plan::Reply(reply)) => (jkt, reply),
        (_, plan) => return plan,
    };
    if reply.status != StatusCode::OK || !reply.is_json() {
        return Plan::Reply(reply);
    }
    let Ok(mut body) = serde_json::from_slice::<Map<String, Value>>(&reply.body) else {
        return Plan::Reply(reply);
    };
    let Some(access) = body.get("access_token").and_then(Value::as_str) else {
        return Plan::Reply(reply);
    };
    sh.dpop.access.insert(access.to_owned(), jkt.clone());
    if let Some(rt) = body.get("refresh_token").and_then(Value::as_str) {
        sh.dpop.refresh.insert(rt.to_owned(), jkt);
    }
    body.insert("token_type".into(), "DPoP".into());
    reply.body = Value::Object(body).to_string().into_bytes();
    Plan::Reply(reply)
}

struct Proof {
    claims: Map<String, Value>,
    jkt: String,
}

fn decode_json(part: &str) -> Option<Map<String, Value>> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// RFC 9449 §4.3's checks, ES256 only.
fn verify(jws: &str, method: &str, htu: &str, now: u64) -> Result<Proof, String> {
    let mut parts = jws.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWS in compact form".into());
    };
    let header = decode_json(h).ok_or("the header is not base64url JSON")?;
    let claims = decode_json(c).ok_or("the claims are not base64url JSON")?;
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| "the signature is not base64url")?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err("typ is not dpop+jwt".into());
    }
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err("alg is not ES256".into());
    }
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err("no jwk in the header".into());
    };
    if jwk.contains_key("d") {
        return Err("the jwk holds the private key".into());
    }
    let coordinate = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .filter(|b| b.len() == 32)
            .ok_or(format!("jwk member `{name}` is not a P-256 coordinate"))
    };
    if jwk.get("kty").and_then(Value::as_str) != Some("EC")
        || jwk.get("crv").and_then(Value::as_str) != Some("P-256")
    {
        return Err("the jwk is not an EC P-256 key".into());
    }
    let mut point = vec![4u8];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    crypto::verify(&point, format!("{h}.{c}").as_bytes(), &signature)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("jti").is_none_or(str::is_empty) {
        return Err("no jti".into());
    }
    if text("htm") != Some(method) {
        return Err(format!("htm is {:?}, not {method}", text("htm")));
    }
    if text("htu") != Some(htu) {
        return Err(format!("htu is {:?}, not {htu}", text("htu")));
    }
    match claims.get("iat").and_then(Value::as_u64) {
        Some(iat) if iat.abs_diff(now) <= IAT_WINDOW => {}
        other => {
            return Err(format!(
                "iat {other:?} is not within {IAT_WINDOW} s of {now}"
            ));
        }
    }
    let input = device_grant::thumbprint_input(jwk).map_err(|e| e.to_string())?;
    let jkt = URL_SAFE_NO_PAD.encode(crypto::sha256(input.as_bytes()));
    Ok(Proof { claims, jkt })
}

#[cfg(feature = "dpop")]
mod crypto {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    pub(super) fn verify(point: &[u8], input: &[u8], signature: &[u8]) -> Result<(), String> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(input, signature)
            .map_err(|_| "the signature does not verify".into())
    }

    pub(super) fn sha256(data: &[u8]) -> [u8; 32] {
        let mut out = [0; 32];
        out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
        out
    }
}

/// Without the `dpop` feature no `ServerConfig` turns DPoP mode on, so nothing gets here.
#[cfg(not(feature = "dpop"))]
mod crypto {
    pub(super) fn verify(_: &[u8], _: &[u8], _: &[u8]) -> Result<(), String> {
        Err("built without the dpop feature".into())
    }

    pub(super) fn sha256(_: &[u8]) -> [u8; 32] {
        [0; 32]
    }
}

impl Referee {
    fn shared_lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The thumbprint (`jkt`) an issued access token is bound to, in DPoP mode.
    pub fn dpop_jkt(&self, access_token: &str) -> Option<String> {
        self.shared_lock().dpop.access.get(access_token).cloned()
    }

    /// How many `use_dpop_nonce` answers were sent.
    pub fn dpop_nonce_answers(&self) -> usize {
        self.shared_lock().dpop.nonce_answers
    }

    /// The claims of every accepted proof, with the index of its request.
    pub fn dpop_proofs(&self) -> Vec<(usize, Map<String, Value>)> {
        self.shared_lock().dpop.proofs.clone()
    }
}

#[cfg(feature = "dpop")]
pub use signer::TestSigner;

#[cfg(feature = "dpop")]
mod signer {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use device_grant::{DpopError, DpopSigner};
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::{Map, Value};

    /// An ES256 [`DpopSigner`] for tests: a fresh key, `jti`s that count up
    /// (`<key prefix>-1`, `-2`, ...) so tests can name them, and the system clock.
    pub struct TestSigner {
        key: EcdsaKeyPair,
        jwk: Map<String, Value>,
        rng: SystemRandom,
        count: AtomicU64,
    }

    impl std::fmt::Debug for TestSigner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("TestSigner").finish_non_exhaustive()
        }
    }

    impl TestSigner {
        /// A signer with a new P-256 key.
        ///
        /// # Panics
        ///
        /// When the system has no random source.
        pub fn new() -> TestSigner {
            let rng = SystemRandom::new();
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("a P-256 key");
            let key =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng)
                    .expect("the key just made");
            let point = key.public_key().as_ref();
            let mut jwk = Map::new();
            jwk.insert("kty".into(), "EC".into());
            jwk.insert("crv".into(), "P-256".into());
            jwk.insert("x".into(), URL_SAFE_NO_PAD.encode(&point[1..33]).into());
            jwk.insert("y".into(), URL_SAFE_NO_PAD.encode(&point[33..65]).into());
            TestSigner {
                key,
                jwk,
                rng,
                count: AtomicU64::new(0),
            }
        }

        /// How many `jti`s were handed out (one per proof).
        pub fn proofs(&self) -> u64 {
            self.count.load(Ordering::Relaxed)
        }
    }

    impl Default for TestSigner {
        fn default() -> Self {
            TestSigner::new()
        }
    }

    impl DpopSigner for TestSigner {
        fn algorithm(&self) -> &str {
            "ES256"
        }

        fn public_jwk(&self) -> Map<String, Value> {
            self.jwk.clone()
        }

        fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, DpopError> {
            self.key
                .sign(&self.rng, signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| DpopError::Signer("signing failed".into()))
        }

        fn sha256(&self, data: &[u8]) -> [u8; 32] {
            super::crypto::sha256(data)
        }

        fn jti(&self) -> String {
            let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
            let x = self.jwk["x"].as_str().unwrap_or_default();
            format!("{}-{n}", &x[..8.min(x.len())])
        }

        fn unix_time(&self) -> u64 {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        }
    }
}
