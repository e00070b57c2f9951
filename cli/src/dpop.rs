//! DPoP (RFC 9449) for the CLI: the ES256 key of a `login --dpop`, kept in the token set's
//! `dpop_key` slot (PKCS#8, base64) next to the tokens bound to it, so that refreshes and
//! `dpop-proof` sign with the same key. The key is as secret as the refresh token: it goes
//! only into the store, never to stdout, stderr or an error message.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use device_grant::{DpopSigner, Es256Signer};
use device_grant_store::TokenSet;

use crate::exit::{CliError, Failure};

/// A new key for one sign-in.
pub fn generate() -> Result<Arc<Es256Signer>, CliError> {
    Es256Signer::generate()
        .map(Arc::new)
        .map_err(|e| CliError::new(Failure::Other, e.to_string()))
}

/// Keeps `key` with the tokens of `set`.
pub fn keep(set: &mut TokenSet, key: &Es256Signer) {
    set.set_dpop_key(Some(STANDARD.encode(key.pkcs8_der())));
}

/// The key stored with `set`, if its sign-in used DPoP.
pub fn stored(set: &TokenSet) -> Result<Option<Arc<Es256Signer>>, CliError> {
    let Some(encoded) = set.dpop_key() else {
        return Ok(None);
    };
    // Neither error names the stored text: it is the private key.
    let der = STANDARD.decode(encoded.trim()).map_err(|_| {
        CliError::cache("the stored DPoP key is not base64; run login --dpop again")
    })?;
    Es256Signer::from_pkcs8_der(&der)
        .map(|k| Some(Arc::new(k)))
        .map_err(|_| {
            CliError::cache("the stored DPoP key is not an ES256 key; run login --dpop again")
        })
}

/// The key's RFC 7638 thumbprint, the `jkt` tokens are bound to.
pub fn thumbprint(key: &Es256Signer) -> Result<String, CliError> {
    key.thumbprint()
        .map_err(|e| CliError::new(Failure::Other, e.to_string()))
}

/// The signer as the configuration takes it.
pub fn signer(key: &Arc<Es256Signer>) -> Arc<dyn DpopSigner> {
    key.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use device_grant_store::ClientInfo;

    #[test]
    fn a_kept_key_comes_back_with_the_same_thumbprint() {
        let key = generate().unwrap();
        let mut set = TokenSet::new(ClientInfo::new("https://as.example/token", "c"));
        assert!(stored(&set).unwrap().is_none());
        keep(&mut set, &key);
        let back = stored(&set).unwrap().expect("a key");
        assert_eq!(thumbprint(&back).unwrap(), thumbprint(&key).unwrap());
    }

    #[test]
    fn a_damaged_key_is_a_cache_error_that_does_not_echo_it() {
        let mut set = TokenSet::new(ClientInfo::new("https://as.example/token", "c"));
        set.set_dpop_key(Some("not base64 !!".into()));
        let e = stored(&set).expect_err("refused");
        assert!(!e.to_string().contains("not base64 !!"));
        set.set_dpop_key(Some(STANDARD.encode(b"not a key")));
        let e = stored(&set).expect_err("refused");
        assert!(!e.to_string().contains(&STANDARD.encode(b"not a key")));
    }
}
