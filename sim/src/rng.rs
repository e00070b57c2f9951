//! Unpredictable-looking values for codes and tokens, without a random-number crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
/// A source of unpredictable-looking values: a counter hashed with a
/// randomly keyed hasher. Not cryptographic; good enough for test tokens.
#[derive(Debug)]
pub(crate) struct Rng {
    keys: RandomState,
    counter: AtomicU64,
}

impl Rng {
    pub(crate) fn new() -> Self {
        Rng {
            keys: RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }

    pub(crate) fn next_u64(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut h = self.keys.build_hasher();
        h.write_u64(n);
        h.finish()
    }

    /// `len` characters drawn from `alphabet`.
    pub(crate) fn string(&self, alphabet: &[u8], len: usize) -> String {
        let mut out = String::with_capacity(len);
        let mut bits = 0u64;
        for i in 0..len {
            if i % 8 == 0 {
                bits = self.next_u64();
            }
            let idx = (bits & 0xff) as usize % alphabet.len();
            bits >>= 8;
            out.push(alphabet[idx] as char);
        }
        out
    }

    /// A GUID-shaped lowercase hex string (Microsoft trace ids).
    pub(crate) fn guid(&self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

pub(crate) const URL_SAFE: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const HEX: &[u8] = b"0123456789abcdef";
/// RFC 8628 §6.1's base-20 alphabet for user codes.
pub(crate) const BASE20: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
pub(crate) const UPPER_DIGITS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_values_differ() {
        let r = Rng::new();
        let a = r.string(URL_SAFE, 32);
        let b = r.string(URL_SAFE, 32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert_eq!(r.guid().len(), 36);
    }
}
