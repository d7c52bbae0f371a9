//! API tokens: 64 lowercase hex characters, shown once, stored only as a SHA-256 hash.

use sha2::{Digest, Sha256};
use std::fmt;

/// A token's secret, as the user holds it. Its `Debug` form never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

/// A string that cannot be a token.
#[derive(Debug, Clone, thiserror::Error)]
#[error("a token is 64 lowercase hexadecimal characters")]
pub struct MalformedToken;

impl TokenSecret {
    /// A fresh token from the operating system's random source (256 bits).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
        TokenSecret(hex(&bytes))
    }

    /// Accepts exactly 64 lowercase hex characters.
    pub fn parse(text: &str) -> Result<Self, MalformedToken> {
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(TokenSecret(text.to_owned()))
        } else {
            Err(MalformedToken)
        }
    }

    /// The value, to show the user once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The form the store keeps and looks tokens up by.
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(…)")
    }
}

/// Lowercase hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = TokenSecret::generate();
        let b = TokenSecret::generate();
        assert!(TokenSecret::parse(a.expose()).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        let t = TokenSecret::parse(&"a".repeat(64)).unwrap();
        assert_eq!(t.hash().len(), 64);
        assert_ne!(t.hash(), t.expose());
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            assert!(TokenSecret::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let t = TokenSecret::generate();
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
