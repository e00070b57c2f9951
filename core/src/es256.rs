//! A ready [`DpopSigner`]: ECDSA P-256 with SHA-256 (ES256) on `ring`, the crypto the
//! drivers' TLS already builds, so the feature adds no crate to a program that uses them.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Map, Value};

use crate::dpop::{DpopError, DpopSigner};

/// An ES256 key pair for DPoP proofs. Generate one per login with [`Es256Signer::generate`],
/// store [`Es256Signer::pkcs8_der`] next to the tokens bound to it (it is the private key:
/// guard it like the refresh token), and load it back with [`Es256Signer::from_pkcs8_der`].
///
/// It reads the system clock for `iat` and the system's secure random source for `jti`:
/// it is the caller's side of the flow, which itself never does either.
pub struct Es256Signer {
    key: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    jwk: Map<String, Value>,
    rng: SystemRandom,
}

impl Es256Signer {
    /// A new random key pair.
    pub fn generate() -> Result<Es256Signer, DpopError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| DpopError::Signer("could not generate a P-256 key".into()))?;
        Es256Signer::from_pkcs8_der(doc.as_ref())
    }

    /// The key pair in a PKCS#8 v1 or v2 document (DER), as [`Es256Signer::pkcs8_der`]
    /// writes it.
    pub fn from_pkcs8_der(pkcs8: &[u8]) -> Result<Es256Signer, DpopError> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|e| DpopError::InvalidKey(format!("not a P-256 PKCS#8 key: {e}")))?;
        // An uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = key.public_key().as_ref();
        let (x, y) = match point {
            [4, rest @ ..] if rest.len() == 64 => rest.split_at(32),
            _ => return Err(DpopError::InvalidKey("unexpected public key form".into())),
        };
        let mut jwk = Map::new();
        jwk.insert("kty".into(), "EC".into());
        jwk.insert("crv".into(), "P-256".into());
        jwk.insert("x".into(), URL_SAFE_NO_PAD.encode(x).into());
        jwk.insert("y".into(), URL_SAFE_NO_PAD.encode(y).into());
        Ok(Es256Signer {
            key,
            pkcs8: pkcs8.to_vec(),
            jwk,
            rng,
        })
    }

    /// The private key as a PKCS#8 document (DER), to store with the tokens. Secret.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The public key only; the PKCS#8 document holds the private one.
        f.debug_struct("Es256Signer")
            .field("x", &self.jwk.get("x"))
            .finish_non_exhaustive()
    }
}

impl DpopSigner for Es256Signer {
    fn algorithm(&self) -> &str {
        "ES256"
    }

    fn public_jwk(&self) -> Map<String, Value> {
        self.jwk.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, DpopError> {
        // ECDSA_P256_SHA256_FIXED_SIGNING gives r || s, the JWS form.
        self.key
            .sign(&self.rng, signing_input)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| DpopError::Signer("ECDSA signing failed".into()))
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        let digest = ring::digest::digest(&ring::digest::SHA256, data);
        let mut out = [0; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }

    fn jti(&self) -> String {
        let mut bytes = [0u8; 16];
        // The system source does not fail on supported platforms; should it, the proof still
        // differs by its time and the server's replay check is the backstop.
        let _ = self.rng.fill(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn unix_time(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    #[test]
    fn generates_exports_imports_and_signs() {
        let signer = Es256Signer::generate().unwrap();
        let back = Es256Signer::from_pkcs8_der(signer.pkcs8_der()).unwrap();
        assert_eq!(back.public_jwk(), signer.public_jwk());
        assert_eq!(back.thumbprint().unwrap(), signer.thumbprint().unwrap());
        assert_eq!(signer.thumbprint().unwrap().len(), 43);
        let sig = back.sign(b"input").unwrap();
        assert_eq!(sig.len(), 64);
        let point = signer.key.public_key().as_ref().to_vec();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(b"input", &sig)
            .unwrap();
        assert_ne!(signer.jti(), signer.jti());
        assert!(Es256Signer::from_pkcs8_der(b"not a key").is_err());
        let debug = format!("{signer:?}");
        assert!(!debug.contains(&URL_SAFE_NO_PAD.encode(signer.pkcs8_der())));
    }

    #[test]
    fn sha256_and_thumbprint_match_rfc_7638() {
        // RFC 7638 §3.1's RSA example hashed with this signer's SHA-256.
        let jwk: Map<String, Value> = serde_json::from_str(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        let signer = Es256Signer::generate().unwrap();
        let input = crate::dpop::thumbprint_input(&jwk).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(signer.sha256(input.as_bytes())),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
