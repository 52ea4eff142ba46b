//! Small cryptographic building blocks shared by the domain and the key adapters:
//! digests, random tokens, constant-time comparison and AES-256-GCM with a context.

use crate::ports::{EncryptionContext, Random};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes from lower- or upper-case hex; `None` when malformed.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

/// SHA-256 of the parts, each prefixed by its length so that parts cannot run into each other.
pub fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Hex of a SHA-256 digest of the parts (for storing hashed tokens and codes).
pub fn digest_hex(parts: &[&[u8]]) -> String {
    hex(&digest(parts))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Constant-time equality of two byte strings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Whether a presented secret is the expected one, in constant time whatever their lengths
/// (both are hashed first, so the comparison leaks neither their content nor their length).
pub fn same_secret(presented: &str, expected: &str) -> bool {
    constant_time_eq(&digest(&[presented.as_bytes()]), &digest(&[expected.as_bytes()]))
}

/// URL-safe base64 without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes URL-safe base64 without padding.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// `n` random bytes.
pub fn random_bytes<const N: usize>(random: &dyn Random) -> [u8; N] {
    let mut buf = [0u8; N];
    random.fill(&mut buf);
    buf
}

/// A random identifier: 128 bits, lower-case hex (32 characters).
pub fn random_id(random: &dyn Random) -> String {
    hex(&random_bytes::<16>(random))
}

/// Whether `text` has the shape of a [`random_id`] (32 lower-case hex characters): ids from
/// paths and bodies are checked before they become store keys.
pub fn is_random_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The canonical form of an encryption context, used as associated data.
pub fn context_aad(context: &EncryptionContext) -> Vec<u8> {
    let mut aad = Vec::new();
    for (k, v) in context {
        for part in [k.as_bytes(), v.as_bytes()] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part);
        }
    }
    aad
}

/// AES-256-GCM encryption under `key` with a random nonce; returns (nonce, ciphertext).
pub fn aes_gcm_seal(
    key: &[u8],
    plaintext: &[u8],
    aad: &[u8],
    random: &dyn Random,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| "bad key length".to_string())?;
    let nonce_bytes = random_bytes::<12>(random);
    let nonce = Nonce::try_from(&nonce_bytes[..]).map_err(|_| "bad nonce".to_string())?;
    let ciphertext =
        cipher.encrypt(&nonce, Payload { msg: plaintext, aad }).map_err(|_| "encryption failed".to_string())?;
    Ok((nonce_bytes.to_vec(), ciphertext))
}

/// AES-256-GCM decryption; fails when the key, nonce, context or ciphertext differ.
pub fn aes_gcm_open(key: &[u8], nonce: &[u8], ciphertext: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| "bad key length".to_string())?;
    let nonce = Nonce::try_from(nonce).map_err(|_| "bad nonce".to_string())?;
    cipher
        .decrypt(&nonce, Payload { msg: ciphertext, aad })
        .map_err(|_| "decryption failed (wrong key or context)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::OsRandom;

    #[test]
    fn sealed_data_opens_only_with_the_same_context() {
        let key = random_bytes::<32>(&OsRandom);
        let (nonce, ct) = aes_gcm_seal(&key, b"+14155550134", b"owner=a", &OsRandom).unwrap();
        assert_eq!(aes_gcm_open(&key, &nonce, &ct, b"owner=a").unwrap(), b"+14155550134");
        assert!(aes_gcm_open(&key, &nonce, &ct, b"owner=b").is_err());
    }

    #[test]
    fn digest_separates_parts() {
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
    }
}
