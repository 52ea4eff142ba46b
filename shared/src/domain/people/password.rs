//! Password policy (NIST SP 800-63B: 8 to 128 characters, no composition rules, refused
//! when common or breached) and argon2id hashing, run off the async executor.

use crate::config::Argon2Params;
use crate::{error::Error, error::ErrorCode};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// The shipped list of common and breached passwords (`shared/data/common-passwords.txt`),
/// compiled by `build.rs` into a sorted array of 32-bit FNV-1a hashes: 4 bytes an entry
/// instead of the text, nothing to build at start-up. A password whose hash collides with
/// a listed one is refused too (about one chance in 100 000): a blocklist may err that way.
static COMMON_PASSWORD_HASHES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/common-passwords.fnv32"));

/// 32-bit FNV-1a, the hash `build.rs` uses for the list.
fn fnv1a32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193))
}

/// Checks a new password against the policy. `email` is the account's address, which a
/// password must not contain.
pub fn check_policy(password: &str, email: Option<&str>) -> Result<(), Error> {
    let length = password.chars().count();
    if length < 8 {
        return Err(Error::new(ErrorCode::PasswordTooShort).field("password"));
    }
    if length > 128 {
        return Err(Error::new(ErrorCode::PasswordTooLong).field("password"));
    }
    let lower = password.trim().to_lowercase();
    if is_common(&lower) {
        return Err(Error::new(ErrorCode::PasswordCommon).field("password"));
    }
    if let Some(email) = email {
        let local = email.split('@').next().unwrap_or("");
        if lower.contains(email) || (local.len() >= 4 && lower.contains(local)) {
            return Err(Error::new(ErrorCode::PasswordContainsEmail).field("password"));
        }
    }
    Ok(())
}

fn is_common(lower: &str) -> bool {
    let wanted = fnv1a32(lower);
    let at = |i: usize| {
        let mut word = [0u8; 4];
        word.copy_from_slice(&COMMON_PASSWORD_HASHES[i * 4..i * 4 + 4]);
        u32::from_le_bytes(word)
    };
    let (mut lo, mut hi) = (0usize, COMMON_PASSWORD_HASHES.len() / 4);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match at(mid).cmp(&wanted) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    false
}

fn hasher(params: Argon2Params) -> Result<Argon2<'static>, Error> {
    let params = Params::new(params.m_kib, params.t, params.p, None).map_err(Error::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id into a PHC string (parameters and salt included),
/// on a blocking thread.
pub async fn hash(password: String, params: Argon2Params) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = argon2::password_hash::generate_salt();
        hasher(params)?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(Error::internal)
    })
    .await
    .map_err(Error::internal)?
}

/// The outcome of checking a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or no account: the dummy hash was checked).
    No,
    /// Right password, hash up to date.
    Yes,
    /// Right password, but the stored hash uses other parameters: store this new hash.
    YesRehashed(String),
}

/// Verifies a password against a PHC string on a blocking thread; with `None`, checks a
/// dummy hash so that an unknown account costs the same time as a known one.
pub async fn verify(password: String, phc: Option<String>, params: Argon2Params) -> Result<Verified, Error> {
    tokio::task::spawn_blocking(move || {
        let argon = hasher(params)?;
        let target = phc.clone().unwrap_or_else(|| dummy_hash(params));
        let ok = argon.verify_password(password.as_bytes(), target.as_str()).is_ok();
        if !ok || phc.is_none() {
            return Ok(Verified::No);
        }
        let wanted = format!("$argon2id$v=19$m={},t={},p={}$", params.m_kib, params.t, params.p);
        if target.starts_with(&wanted) {
            return Ok(Verified::Yes);
        }
        let salt = argon2::password_hash::generate_salt();
        let new = argon.hash_password_with_salt(password.as_bytes(), &salt).map_err(Error::internal)?;
        Ok(Verified::YesRehashed(new.to_string()))
    })
    .await
    .map_err(Error::internal)?
}

/// The PHC string checked when there is no account: the configured parameters with a fixed
/// salt and digest. Verifying against it costs exactly what verifying a real hash costs, and
/// needs no hash computed beforehand (a first unknown login is not slower than the next).
fn dummy_hash(params: Argon2Params) -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}$c2lnbmV0LWR1bW15LXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        params.m_kib, params.t, params.p
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_long_common_and_email_passwords() {
        assert_eq!(check_policy("short", None).unwrap_err().code, ErrorCode::PasswordTooShort);
        assert_eq!(check_policy(&"x".repeat(129), None).unwrap_err().code, ErrorCode::PasswordTooLong);
        assert!(check_policy(&"é".repeat(128), None).is_ok());
        for common in ["password", "Password1", "12345678", "qwertyuiop", "iloveyou"] {
            assert_eq!(check_policy(common, None).unwrap_err().code, ErrorCode::PasswordCommon, "{common}");
        }
        assert_eq!(
            check_policy("my new.subscriber@example.com pw", Some("new.subscriber@example.com")).unwrap_err().code,
            ErrorCode::PasswordContainsEmail
        );
        assert!(check_policy("correct horse battery staple", Some("subscriber@example.com")).is_ok());
    }

    #[test]
    fn every_listed_password_is_found_and_others_are_not() {
        let lines: Vec<&str> = include_str!("../../../data/common-passwords.txt").lines().collect();
        assert!(lines.len() > 2000);
        // Two entries may share a hash (one pair does): the array is deduplicated.
        assert!(COMMON_PASSWORD_HASHES.len() / 4 >= lines.len() - 3);
        assert!(lines.iter().all(|l| is_common(l)));
        assert!(!is_common("correct horse battery staple") && !is_common("zzzzzzzzzzzzzzzzzzzzzzz"));
    }

    #[tokio::test]
    async fn hashes_verify_and_old_parameters_are_rehashed() {
        let params = Argon2Params { m_kib: 19456, t: 2, p: 1 };
        let phc = hash("correct horse battery staple".into(), params).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            verify("correct horse battery staple".into(), Some(phc.clone()), params).await.unwrap(),
            Verified::Yes
        );
        assert_eq!(verify("wrong horse".into(), Some(phc.clone()), params).await.unwrap(), Verified::No);
        assert_eq!(verify("anything".into(), None, params).await.unwrap(), Verified::No);
        // The dummy checked for unknown accounts has the real parameters: the same cost.
        let dummy = dummy_hash(params);
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = argon2::password_hash::phc::PasswordHash::new(&dummy)
            .expect("a well-formed PHC string: verifying it runs argon2id");
        assert_eq!(parsed.hash.map(|h| h.len()), Some(32));
        let stronger = Argon2Params { m_kib: 19456, t: 3, p: 1 };
        match verify("correct horse battery staple".into(), Some(phc), stronger).await.unwrap() {
            Verified::YesRehashed(new) => assert!(new.starts_with("$argon2id$v=19$m=19456,t=3,p=1$")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }
}
