//! Bearer secrets: the single-use tokens of emailed links and the continuation tokens of
//! multi-step journeys. 256 random bits, only their hash is stored, compared in constant
//! time. A token reads `<record id>.<secret>` so that finding its record is one key lookup.

use crate::domain::crypto;
use crate::ports::Random;

/// A freshly issued token: give `token` to the person, store `hash`.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// `<record id>.<secret>`; never stored, never logged.
    pub token: String,
    /// SHA-256 of the secret (hex); stored.
    pub hash: String,
}

/// Issues a token for the record `id`.
pub fn issue(id: &str, random: &dyn Random) -> IssuedToken {
    let secret = crypto::b64url(&crypto::random_bytes::<32>(random));
    let hash = hash_secret(&secret);
    IssuedToken { token: format!("{id}.{secret}"), hash }
}

fn hash_secret(secret: &str) -> String {
    crypto::digest_hex(&[b"signet-token", secret.as_bytes()])
}

/// A token split into its record id and secret; `None` when malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken<'a> {
    /// The record id.
    pub id: &'a str,
    secret: &'a str,
}

/// Splits a presented token; ids are 32 hex characters, secrets 43 base64url characters.
pub fn parse(token: &str) -> Option<PresentedToken<'_>> {
    let (id, secret) = token.trim().split_once('.')?;
    let id_ok = crypto::is_random_id(id);
    let secret_ok = secret.len() == 43 && crypto::b64url_decode(secret).is_some_and(|s| s.len() == 32);
    (id_ok && secret_ok).then_some(PresentedToken { id, secret })
}

impl PresentedToken<'_> {
    /// Whether the secret matches a stored hash (constant time).
    pub fn matches(&self, stored_hash: &str) -> bool {
        crypto::constant_time_eq(hash_secret(self.secret).as_bytes(), stored_hash.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::OsRandom;

    #[test]
    fn a_token_matches_only_its_own_hash() {
        let id = crypto::random_id(&OsRandom);
        let a = issue(&id, &OsRandom);
        let b = issue(&id, &OsRandom);
        let presented = parse(&a.token).unwrap();
        assert_eq!(presented.id, id);
        assert!(presented.matches(&a.hash));
        assert!(!presented.matches(&b.hash));
        assert_eq!(a.hash.len(), 64, "a SHA-256 digest is stored, not the secret");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in ["", "abc", "abc.def", &format!("{}.{}", "g".repeat(32), "A".repeat(43))] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
