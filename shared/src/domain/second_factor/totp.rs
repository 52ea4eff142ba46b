//! Authenticator-app codes (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) and backup codes.
//!
//! The TOTP seed is a secret at rest: it is kept sealed under the key service (context
//! `purpose=totp`, `person=<id>`) and opened only to check a code. A step is accepted at
//! most once: the last accepted step is stored with the seed and every later code must be
//! of a newer step. Enrolment is confirmed by a first valid code. Ten single-use backup
//! codes are given once at enrolment and stored hashed.

use crate::domain::crypto;
use crate::ports::{EncryptionContext, Random, Sealed};
use crate::{error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Totp};

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Signet";
/// Seconds per step.
pub const STEP: u64 = 30;
/// Number of backup codes given at enrolment.
pub const BACKUP_CODES: usize = 10;

/// The encryption context of a person's TOTP seed.
pub fn seed_context(person_id: &str) -> EncryptionContext {
    EncryptionContext::from([("purpose".to_owned(), "totp".to_owned()), ("person".to_owned(), person_id.to_owned())])
}

/// A person's authenticator-app factor, as stored (in the person's item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    /// The 20-byte seed, sealed.
    pub seed: Sealed,
    /// Whether a first code confirmed the enrolment.
    pub confirmed: bool,
    /// The last step a code was accepted for (never accepted again, nor any older).
    pub last_step: u64,
    /// Salted hashes of the unused backup codes.
    pub backup_codes: Vec<String>,
    /// Salt of the backup-code hashes (hex).
    pub backup_salt: String,
}

fn totp(seed: &[u8], account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(seed.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(Error::internal)
}

/// What enrolment gives the person once: the seed as an `otpauth://` URI and its QR code,
/// and the backup codes in clear.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    /// `otpauth://totp/Signet:<account>?secret=…&issuer=Signet&…`.
    pub otpauth_uri: String,
    /// The same URI as an SVG QR code.
    pub qr_svg: String,
    /// Ten single-use codes, `xxxx-xxxx`.
    pub backup_codes: Vec<String>,
}

/// Starts an enrolment: a fresh 160-bit seed (returned for sealing) and what to show.
pub fn enrol(account: &str, random: &dyn Random) -> Result<(Vec<u8>, Enrolment, Vec<String>, String)> {
    let seed = crypto::random_bytes::<20>(random).to_vec();
    let uri = totp(&seed, account)?.to_url().map_err(Error::internal)?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(Error::internal)?;
    let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build();
    let salt = crypto::hex(&crypto::random_bytes::<16>(random));
    let codes: Vec<String> = (0..BACKUP_CODES).map(|_| backup_code(random)).collect();
    let hashes = codes.iter().map(|c| hash_backup(&salt, c)).collect();
    Ok((seed, Enrolment { otpauth_uri: uri, qr_svg, backup_codes: codes }, hashes, salt))
}

/// Eight characters from an alphabet without look-alikes, shown as `xxxx-xxxx`.
fn backup_code(random: &dyn Random) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(9);
    let mut produced = 0;
    while produced < 8 {
        let b = crypto::random_bytes::<1>(random)[0];
        // 248 = 8 × 31: rejection sampling keeps characters uniform.
        if (b as usize) < 248 {
            out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            produced += 1;
            if produced == 4 {
                out.push('-');
            }
        }
    }
    out
}

fn normalize_backup(input: &str) -> String {
    input.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn hash_backup(salt: &str, code: &str) -> String {
    crypto::digest_hex(&[b"backup-code", salt.as_bytes(), normalize_backup(code).as_bytes()])
}

/// The outcome of checking an authenticator code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpCheck {
    /// Valid for this step, which is now used.
    Valid(u64),
    /// Wrong code.
    Wrong,
    /// A code of a step already used (a replay).
    Replayed,
}

impl TotpFactor {
    /// Checks a code at `now` against the opened seed; on success, records the step.
    pub fn check(&mut self, seed: &[u8], code: &str, now: i64) -> Result<TotpCheck> {
        let typed: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
        if typed.len() != 6 {
            return Ok(TotpCheck::Wrong);
        }
        let totp = totp(seed, "-")?;
        let Some(step) = totp.check(&typed, now.max(0) as u64) else { return Ok(TotpCheck::Wrong) };
        if step <= self.last_step {
            return Ok(TotpCheck::Replayed);
        }
        self.last_step = step;
        self.confirmed = true;
        Ok(TotpCheck::Valid(step))
    }

    /// Uses a backup code: true (and the code is gone) when it is one of the unused ones.
    pub fn use_backup_code(&mut self, code: &str) -> bool {
        let wanted = hash_backup(&self.backup_salt, code);
        match self.backup_codes.iter().position(|h| crypto::constant_time_eq(h.as_bytes(), wanted.as_bytes())) {
            Some(i) => {
                self.backup_codes.remove(i);
                true
            }
            None => false,
        }
    }
}

impl TotpCheck {
    /// The client error of a failed check.
    pub fn error(self) -> Option<Error> {
        match self {
            TotpCheck::Valid(_) => None,
            TotpCheck::Wrong | TotpCheck::Replayed => Some(Error::new(ErrorCode::CodeInvalid).field("code")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::OsRandom;

    fn code_at(seed: &[u8], time: i64) -> String {
        totp(seed, "-").unwrap().generate(time as u64).to_string()
    }

    fn factor(hashes: Vec<String>, salt: String) -> TotpFactor {
        let sealed = Sealed { wrapped_key: vec![], nonce: vec![], ciphertext: vec![] };
        TotpFactor { seed: sealed, confirmed: false, last_step: 0, backup_codes: hashes, backup_salt: salt }
    }

    #[test]
    fn enrolment_gives_an_otpauth_uri_a_qr_code_and_ten_backup_codes() {
        let (seed, enrolment, hashes, _) = enrol("subscriber@example.com", &OsRandom).unwrap();
        assert_eq!(seed.len(), 20);
        assert!(
            enrolment.otpauth_uri.starts_with("otpauth://totp/Signet:subscriber%40example.com?secret="),
            "{}",
            enrolment.otpauth_uri
        );
        assert!(enrolment.otpauth_uri.contains("issuer=Signet"));
        assert!(enrolment.qr_svg.starts_with("<?xml") && enrolment.qr_svg.contains("<svg"));
        assert_eq!(enrolment.backup_codes.len(), 10);
        assert_eq!(hashes.len(), 10);
        assert!(enrolment.backup_codes.iter().all(|c| c.len() == 9 && c.as_bytes()[4] == b'-'));
        assert!(hashes.iter().all(|h| !enrolment.backup_codes.iter().any(|c| h.contains(&c.replace('-', "")))));
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_never_twice() {
        let (seed, _, hashes, salt) = enrol("a@example.com", &OsRandom).unwrap();
        let mut f = factor(hashes, salt);
        let now = 1_795_000_000;
        let code = code_at(&seed, now);
        assert!(matches!(f.check(&seed, &code, now).unwrap(), TotpCheck::Valid(_)));
        assert!(f.confirmed);
        assert_eq!(f.check(&seed, &code, now).unwrap(), TotpCheck::Replayed, "same step twice");
        assert_eq!(f.check(&seed, &code_at(&seed, now - 30), now).unwrap(), TotpCheck::Replayed, "an older step");
        let next = code_at(&seed, now + 30);
        assert!(matches!(f.check(&seed, &next, now).unwrap(), TotpCheck::Valid(_)), "+1 step accepted");
        let mut g = factor(vec![], String::new());
        assert_eq!(g.check(&seed, &code_at(&seed, now - 90), now).unwrap(), TotpCheck::Wrong, "3 steps old");
        assert_eq!(g.check(&seed, "12345", now).unwrap(), TotpCheck::Wrong);
        let spaced = format!(" {} {} ", &code[..3], &code[3..]);
        let mut h = factor(vec![], String::new());
        assert!(matches!(h.check(&seed, &spaced, now).unwrap(), TotpCheck::Valid(_)));
    }

    #[test]
    fn backup_codes_work_once_each_whatever_their_case_and_dashes() {
        let (_, enrolment, hashes, salt) = enrol("a@example.com", &OsRandom).unwrap();
        let mut f = factor(hashes, salt);
        let code = enrolment.backup_codes[3].clone();
        assert!(f.use_backup_code(&code.to_uppercase().replace('-', " ")));
        assert!(!f.use_backup_code(&code), "single use");
        assert_eq!(f.backup_codes.len(), 9);
        assert!(!f.use_backup_code("aaaa-aaaa"));
    }
}
