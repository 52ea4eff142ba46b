//! The payment webhook's signature: Stripe's scheme, used by the Stripe adapter and by the
//! local page alike. The `Stripe-Signature` header carries `t=<unix seconds>` and one or
//! more `v1=<hex HMAC-SHA256 of "<t>.<body>">` under the endpoint's signing secret. A
//! signature is accepted when one `v1` matches (constant time) and `t` is within the
//! tolerance of now (replays of an old delivery are refused).

use crate::domain::crypto;
use crate::ports::payments::SignatureError;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The most `v1` signatures a header may carry.
const MAX_SIGNATURES: usize = 8;

/// The default tolerance, in seconds (Stripe's libraries use five minutes).
pub const DEFAULT_TOLERANCE: i64 = 300;

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` at `timestamp` (what the provider sends; the local payment
/// page signs its webhook with it).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, &timestamp.to_string(), body).finalize().into_bytes();
    format!("t={timestamp},v1={}", crypto::hex(&digest))
}

/// Verifies a `Stripe-Signature` header for `body` at `now`.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64, tolerance: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.to_owned()),
            Some(("v1", v)) => candidates.push(v.to_owned()),
            _ => {}
        }
    }
    let t_text = timestamp.ok_or(SignatureError::Malformed)?;
    let t: i64 = t_text.parse().map_err(|_| SignatureError::Malformed)?;
    // A few signatures at most (Stripe sends one per active secret): a header stuffed with
    // candidates costs one HMAC, not one per candidate.
    if candidates.is_empty() || candidates.len() > MAX_SIGNATURES {
        return Err(SignatureError::Malformed);
    }
    let expected = mac(secret, &t_text, body).finalize().into_bytes();
    let matched = candidates.iter().any(|hex| {
        crypto::unhex(hex).is_some_and(|b| {
            b.len() == expected.len() && bool::from(subtle::ConstantTimeEq::ct_eq(b.as_slice(), expected.as_slice()))
        })
    });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    if (now - t).abs() > tolerance {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret_for_unit_tests";

    #[test]
    fn a_signed_body_verifies_within_the_tolerance_only() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
        let header = sign(SECRET, 1_795_000_000, body);
        assert_eq!(verify(SECRET, &header, body, 1_795_000_010, DEFAULT_TOLERANCE), Ok(()));
        assert_eq!(verify(SECRET, &header, body, 1_795_000_000 + 301, DEFAULT_TOLERANCE), Err(SignatureError::Stale));
        assert_eq!(
            verify(SECRET, &header, b"{}", 1_795_000_010, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch),
            "another body"
        );
        assert_eq!(
            verify(b"another secret", &header, body, 1_795_000_010, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        let other_time = header.replace("t=1795000000", "t=1795000005");
        assert_eq!(
            verify(SECRET, &other_time, body, 1_795_000_010, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch),
            "the timestamp is signed"
        );
        // Several v1 (during a secret rotation): one match suffices; v0 is ignored.
        let rotated = format!("{header},v1=00ff,v0=abc");
        assert_eq!(verify(SECRET, &rotated, body, 1_795_000_010, DEFAULT_TOLERANCE), Ok(()));
        let stuffed = format!("{header}{}", ",v1=00".repeat(8));
        assert_eq!(
            verify(SECRET, &stuffed, body, 1_795_000_010, DEFAULT_TOLERANCE),
            Err(SignatureError::Malformed),
            "too many candidates"
        );
        for malformed in ["", "t=abc,v1=00", "v1=00", "t=1795000000"] {
            assert_eq!(
                verify(SECRET, malformed, body, 1_795_000_010, DEFAULT_TOLERANCE),
                Err(SignatureError::Malformed),
                "{malformed}"
            );
        }
    }

    #[test]
    fn the_signature_is_stripe_s_documented_scheme() {
        // HMAC-SHA256 over "<t>.<payload>", hex: computed independently with Python's hmac.
        let header = sign(b"whsec_abc", 1_700_000_000, b"{}");
        assert_eq!(header, "t=1700000000,v1=bad9ac117e973d721c232d46744158d75e3f1b44e36771e13d01b9e6a580bc72");
    }
}
