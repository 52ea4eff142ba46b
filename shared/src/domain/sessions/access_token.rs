//! Access tokens: short-lived ES256 JWTs with an explicit type (`at+jwt`, RFC 9068), signed
//! by a key ring whose private keys are sealed under the key service and published as a
//! JWKS. Verification accepts ES256 only, the `at+jwt` type only, a known key id, this
//! issuer and audience, and an unexpired token by the one [`crate::ports::Clock`].
//!
//! The ring lives in the store (`SIGNINGKEYS` partition, one item per key). The newest key
//! signs; older keys stay published until the tokens they signed have expired, then their
//! items expire. Rotating is adding a key.

use crate::domain::crypto;
use crate::error::{Error, ErrorCode, Result};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::RwLock;

/// The JWT `typ` of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The JWT `typ` of device tokens: never accepted as an access token, nor the reverse.
pub const DEVICE_TOKEN_TYPE: &str = "device+jwt";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer (the portal).
    pub iss: String,
    /// Audience (the API).
    pub aud: String,
    /// The person.
    pub sub: String,
    /// The customer space the token acts for.
    pub space: String,
    /// Authentication methods used (`pwd`, `sms`, `voice`, `otp`, `google`…; RFC 8176).
    pub amr: Vec<String>,
    /// The session (refresh-token family) the token belongs to.
    pub sid: String,
    /// The person's session epoch when issued: a password change bumps it.
    pub epoch: u64,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expires at (unix seconds).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
}

/// The claims of a device token: given to a browser or an app when it signs in (password
/// and second factor), it names that device for the person's account, so that its failed
/// logins are counted apart and guesses from elsewhere never lock it out (OWASP's "device
/// cookies"). It authenticates nobody: the password and the second factor are still asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClaims {
    /// Issuer (the portal).
    pub iss: String,
    /// Audience (the API).
    pub aud: String,
    /// The person it was given to.
    pub sub: String,
    /// The person's session epoch then: a password change or reset cancels every device
    /// token given before.
    pub epoch: u64,
    /// The device's id.
    pub jti: String,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expires at (unix seconds).
    pub exp: i64,
}

/// The times every token type carries, checked against Signet's clock.
trait Timed {
    fn times(&self) -> (i64, i64);
}

impl Timed for AccessClaims {
    fn times(&self) -> (i64, i64) {
        (self.iat, self.exp)
    }
}

impl Timed for DeviceClaims {
    fn times(&self) -> (i64, i64) {
        (self.iat, self.exp)
    }
}

/// A new P-256 key pair: (PKCS#8 private key, x, y).
pub(super) fn generate() -> Result<(Vec<u8>, String, String)> {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map_err(|_| Error::internal("key generation failed"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| Error::internal("bad generated key"))?;
    let point = pair.public_key().as_ref();
    // Uncompressed point: 0x04 || x (32) || y (32).
    if point.len() != 65 || point[0] != 4 {
        return Err(Error::internal("unexpected public key encoding"));
    }
    Ok((pkcs8.as_ref().to_vec(), crypto::b64url(&point[1..33]), crypto::b64url(&point[33..65])))
}

/// The keys that sign and verify access tokens.
pub struct KeyRing {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    published: Vec<(String, String, String)>,
}

impl KeyRing {
    /// A ring from private keys in clear (newest first signs); for tests and for [`load`].
    pub fn from_keys(keys: &[(String, Vec<u8>, String, String)]) -> Result<KeyRing> {
        let (kid, pkcs8, _, _) = keys.first().ok_or_else(|| Error::internal("empty key ring"))?;
        let mut verifying = HashMap::new();
        let mut published = Vec::new();
        for (kid, _, x, y) in keys {
            verifying.insert(kid.clone(), DecodingKey::from_ec_components(x, y).map_err(Error::internal)?);
            published.push((kid.clone(), x.clone(), y.clone()));
        }
        Ok(KeyRing { signing_kid: kid.clone(), signing: EncodingKey::from_ec_der(pkcs8), verifying, published })
    }

    /// A ring of one fresh key, never stored (tests).
    pub fn ephemeral() -> Result<KeyRing> {
        let (pkcs8, x, y) = generate()?;
        KeyRing::from_keys(&[("ephemeral".into(), pkcs8, x, y)])
    }

    /// The key id that signs.
    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    /// Signs claims as an `at+jwt`.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        self.sign_typed(ACCESS_TOKEN_TYPE, claims)
    }

    /// Signs claims as a `device+jwt`.
    pub fn sign_device(&self, claims: &DeviceClaims) -> Result<String> {
        self.sign_typed(DEVICE_TOKEN_TYPE, claims)
    }

    fn sign_typed<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.signing_kid.clone());
        let token = jsonwebtoken::encode(&header, claims, &self.signing).map_err(Error::internal)?;
        low_s(&token).ok_or_else(|| Error::internal("an ES256 signature that is not 64 bytes"))
    }

    /// Verifies a token: ES256, `typ` `at+jwt`, a key of this ring, signature, issuer,
    /// audience, and `exp` after `now`. Every failure is the same `token_invalid`.
    pub fn verify(&self, token: &str, issuer: &str, audience: &str, now: i64) -> Result<AccessClaims> {
        self.verify_typed(ACCESS_TOKEN_TYPE, token, issuer, audience, now)
    }

    /// Verifies a device token as [`Self::verify`] does an access token.
    pub fn verify_device(&self, token: &str, issuer: &str, audience: &str, now: i64) -> Result<DeviceClaims> {
        self.verify_typed(DEVICE_TOKEN_TYPE, token, issuer, audience, now)
    }

    fn verify_typed<T: serde::de::DeserializeOwned + Timed>(
        &self,
        typ: &str,
        token: &str,
        issuer: &str,
        audience: &str,
        now: i64,
    ) -> Result<T> {
        let invalid = || Error::new(ErrorCode::TokenInvalid);
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::ES256 || header.typ.as_deref() != Some(typ) {
            return Err(invalid());
        }
        let key = header.kid.as_deref().and_then(|kid| self.verifying.get(kid)).ok_or_else(invalid)?;
        // Of a signature's two forms (s and n − s) only the low one is ours: its twin would
        // be another string for the same token.
        if !has_low_s(token) {
            return Err(invalid());
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        // Expiry is checked below against Signet's clock, the one every test can move.
        validation.validate_exp = false;
        validation.required_spec_claims = ["iss", "aud", "sub", "exp"].iter().map(|c| c.to_string()).collect();
        let data = jsonwebtoken::decode::<T>(token, key, &validation).map_err(|_| invalid())?;
        let (iat, exp) = data.claims.times();
        if exp <= now || iat > now + 60 {
            return Err(invalid());
        }
        Ok(data.claims)
    }

    /// The public keys as a JWKS document (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .published
            .iter()
            .map(|(kid, x, y)| serde_json::json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid, "x": x, "y": y}))
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// The order n of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA,
    0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// n / 2, rounded down: the largest "low" s.
const P256_HALF_ORDER: [u8; 32] = [
    0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xDE, 0x73, 0x7D,
    0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8,
];

/// The `s` half of a JWT's 64-byte ES256 signature (r ‖ s), if it has that shape.
fn signature_s(token: &str) -> Option<(usize, [u8; 32], [u8; 32])> {
    let dot = token.rfind('.')?;
    let bytes = crypto::b64url_decode(&token[dot + 1..]).filter(|b| b.len() == 64)?;
    let (mut r, mut s) = ([0u8; 32], [0u8; 32]);
    r.copy_from_slice(&bytes[..32]);
    s.copy_from_slice(&bytes[32..]);
    Some((dot, r, s))
}

/// Whether a token's ES256 signature is in its low-S form (s ≤ n/2).
fn has_low_s(token: &str) -> bool {
    signature_s(token).is_some_and(|(_, _, s)| s <= P256_HALF_ORDER)
}

/// The token with its signature in the low-S form: s, or n − s when s > n/2 (both verify;
/// verification accepts only the low one).
fn low_s(token: &str) -> Option<String> {
    let (dot, r, s) = signature_s(token)?;
    if s <= P256_HALF_ORDER {
        return Some(token.to_owned());
    }
    Some(format!("{}.{}", &token[..dot], crypto::b64url(&[r, order_minus(&s)].concat())))
}

/// n − s, for 0 < s < n (32-byte big-endian numbers).
fn order_minus(s: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let digit = i16::from(P256_ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(digit < 0);
        out[i] = digit.rem_euclid(256) as u8;
    }
    out
}

/// The key ring, loaded once per instance and reloaded now and then.
#[derive(Default)]
pub struct TokenKeys {
    pub(super) ring: RwLock<Option<(Arc<KeyRing>, i64)>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    const ISS: &str = "https://portal.example.com";
    const AUD: &str = "signet";

    fn claims(now: i64) -> AccessClaims {
        AccessClaims {
            iss: ISS.into(),
            aud: AUD.into(),
            sub: "person-1".into(),
            space: "space-1".into(),
            amr: vec!["pwd".into(), "sms".into()],
            sid: "session-1".into(),
            epoch: 0,
            iat: now,
            exp: now + 600,
            jti: "jti-1".into(),
        }
    }

    fn invalid(result: Result<AccessClaims>) -> bool {
        matches!(result, Err(Error { code: ErrorCode::TokenInvalid, .. }))
    }

    fn part(token: &str, i: usize) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(i).unwrap()).unwrap()).unwrap()
    }

    fn forge(header: serde_json::Value, payload: serde_json::Value, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            signature
        )
    }

    #[test]
    fn a_signed_token_verifies_and_names_its_type_key_and_space() {
        let ring = KeyRing::ephemeral().unwrap();
        let token = ring.sign(&claims(1000)).unwrap();
        let header = part(&token, 0);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], ring.signing_kid());
        assert_eq!(ring.verify(&token, ISS, AUD, 1001).unwrap(), claims(1000));
        let jwks = ring.jwks();
        assert_eq!(jwks["keys"][0]["kid"], ring.signing_kid());
        assert_eq!(jwks["keys"][0]["crv"], "P-256");
        assert!(jwks.to_string().find("\"d\"").is_none(), "no private part published");
    }

    #[test]
    fn alg_none_is_refused() {
        let ring = KeyRing::ephemeral().unwrap();
        let token = ring.sign(&claims(1000)).unwrap();
        let forged =
            forge(serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": ring.signing_kid()}), part(&token, 1), "");
        assert!(invalid(ring.verify(&forged, ISS, AUD, 1001)));
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_refused() {
        let ring = KeyRing::ephemeral().unwrap();
        let jwk = &ring.jwks()["keys"][0];
        let public = serde_json::to_vec(jwk).unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(ring.signing_kid().into());
        let forged = jsonwebtoken::encode(&header, &claims(1000), &EncodingKey::from_secret(&public)).unwrap();
        assert!(invalid(ring.verify(&forged, ISS, AUD, 1001)));
    }

    #[test]
    fn expired_wrong_audience_wrong_issuer_and_wrong_type_are_refused() {
        let ring = KeyRing::ephemeral().unwrap();
        let token = ring.sign(&claims(1000)).unwrap();
        assert!(invalid(ring.verify(&token, ISS, AUD, 1600)), "expired");
        assert!(invalid(ring.verify(&token, ISS, "another-api", 1001)), "audience");
        assert!(invalid(ring.verify(&token, "https://evil.example.org", AUD, 1001)), "issuer");
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("JWT".into());
        header.kid = Some(ring.signing_kid().into());
        let id_token_like = jsonwebtoken::encode(&header, &claims(1000), &ring.signing).unwrap();
        assert!(invalid(ring.verify(&id_token_like, ISS, AUD, 1001)), "typ");
    }

    #[test]
    fn only_the_low_s_form_of_a_signature_is_accepted() {
        let ring = KeyRing::ephemeral().unwrap();
        for i in 0..64 {
            let mut c = claims(1000);
            c.jti = format!("jti-{i}");
            let token = ring.sign(&c).unwrap();
            assert!(has_low_s(&token), "every token signed is low-S");
            assert_eq!(ring.verify(&token, ISS, AUD, 1001).unwrap(), c);
            // Its malleable twin: the same signature with n − s, valid ECDSA all the same.
            let (dot, r, s) = signature_s(&token).unwrap();
            let twin = format!("{}.{}", &token[..dot], crypto::b64url(&[r, order_minus(&s)].concat()));
            let key = ring.verifying.values().next().unwrap();
            let mut validation = Validation::new(Algorithm::ES256);
            validation.set_audience(&[AUD]);
            validation.validate_exp = false;
            assert!(
                jsonwebtoken::decode::<AccessClaims>(&twin, key, &validation).is_ok(),
                "the twin is a valid ECDSA signature"
            );
            assert!(invalid(ring.verify(&twin, ISS, AUD, 1001)), "but not accepted");
        }
    }

    #[test]
    fn a_tampered_payload_or_a_foreign_key_is_refused() {
        let ring = KeyRing::ephemeral().unwrap();
        let token = ring.sign(&claims(1000)).unwrap();
        let mut payload = part(&token, 1);
        payload["sub"] = "person-2".into();
        let pieces: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", pieces[0], URL_SAFE_NO_PAD.encode(payload.to_string()), pieces[2]);
        assert!(invalid(ring.verify(&tampered, ISS, AUD, 1001)));
        let other = KeyRing::ephemeral().unwrap();
        assert!(invalid(other.verify(&token, ISS, AUD, 1001)), "same kid, other key");
    }
}
