//! Subscriptions (a cloud signature, for now) and their recoveries: the nouns of signature
//! recovery and activation (seeds 000 step 4 and 002).
//!
//! A subscription belongs to a customer space and is held by one person. A recovery is a
//! reference number (`RECOVERY#<reference>`) sent by email; it is also the record of the
//! activation it leads to, whose steps — key pair, certificate, previous certificate revoked,
//! subscription functional, confirmation email — advance by conditional writes, so that a
//! retry resumes where a failure stopped and racing activations issue one certificate.

use crate::domain::keys;
use crate::ports::store::Key;
use crate::ports::Sealed;
use serde::{Deserialize, Serialize};

/// What a subscription is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    /// A signing key and certificate kept by the provider (cloud signature).
    CloudSignature,
}

impl Product {
    /// Its name in French and English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Product::CloudSignature => ("Signature infonuagique", "Cloud signature"),
        }
    }
}

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Bought, never activated.
    PendingActivation,
    /// Works.
    Functional,
    /// "Your signature needs to be updated".
    NeedsUpdate,
    /// "Your signature is no longer functional".
    NotFunctional,
}

/// The certificate a subscription currently has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentCertificate {
    /// Serial (hex).
    pub serial: String,
    /// Validity end.
    pub not_after: i64,
    /// The certificate (DER, base64url).
    pub certificate: String,
    /// The private key (PKCS#8), sealed (context `purpose=signing-key`, `subscription=<id>`).
    pub private_key: Sealed,
}

/// A subscription (`SUB#<id>`, indexed under its space).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Random id.
    pub id: String,
    /// The customer space.
    pub space_id: String,
    /// The person who holds it (whose name goes into the certificate).
    pub holder_id: String,
    /// What it is.
    pub product: Product,
    /// Where it stands.
    pub status: SubscriptionStatus,
    /// Term start and end (unix seconds).
    pub term_start: i64,
    /// Term end.
    pub term_end: i64,
    /// The current certificate.
    pub certificate: Option<CurrentCertificate>,
    /// The pending recovery's reference, if any (a newer one replaces it).
    pub recovery: Option<String>,
}

/// The index item that finds the subscriptions ending on a day (`EXPIRY#<YYYY-MM-DD>`).
pub fn expiry_index_key(term_end: i64, id: &str) -> Key {
    keys::expiry_index(&crate::domain::calendar::utc_day(term_end), id)
}

/// The writes that create a subscription: the item (indexed under its space) and its entry
/// in the index of the day its term ends (renewal reminders read it).
pub fn creation_writes(sub: &Subscription) -> Result<Vec<crate::ports::store::Write>, crate::ports::store::StoreError> {
    use crate::ports::store::{Item, Write};
    #[derive(Serialize)]
    struct Entry<'a> {
        subscription_id: &'a str,
    }
    Ok(vec![
        Write::create(
            Item::new(keys::subscription(&sub.id), sub)?.gsi1(keys::space_subscription_index(&sub.space_id, &sub.id)),
        ),
        Write::create(
            Item::new(expiry_index_key(sub.term_end, &sub.id), &Entry { subscription_id: &sub.id })?
                .expires_at(sub.term_end + 86400),
        ),
    ])
}

/// The encryption context of a subscription's private key.
pub fn key_context(subscription_id: &str) -> crate::ports::EncryptionContext {
    crate::ports::EncryptionContext::from([
        ("purpose".to_owned(), "signing-key".to_owned()),
        ("subscription".to_owned(), subscription_id.to_owned()),
    ])
}

/// Where an activation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ActivationState {
    /// The reference was sent; nothing done yet.
    Pending,
    /// The second factor passed and a key pair exists (sealed), with the serial to certify it.
    KeyReady {
        /// The private key, sealed.
        private_key: Sealed,
        /// Its SubjectPublicKeyInfo (base64url).
        spki: String,
        /// The serial its certificate gets (hex): a retry reuses it, so one certificate.
        serial: String,
    },
    /// The certificate is issued.
    Issued {
        /// The private key, sealed.
        private_key: Sealed,
        /// The certificate.
        serial: String,
        /// DER, base64url.
        certificate: String,
        /// Validity end.
        not_after: i64,
    },
    /// The subscription is functional again with the new certificate.
    Done {
        /// The certificate's serial.
        serial: String,
    },
}

/// A recovery and its activation (`RECOVERY#<reference>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// The reference number (normalized: upper case, no separators).
    pub reference: String,
    /// The subscription.
    pub subscription_id: String,
    /// The person who asked (only they may activate).
    pub person_id: String,
    /// When the reference stops working.
    pub expires_at: i64,
    /// Set when a newer recovery of the subscription replaced this one.
    pub superseded: bool,
    /// Where the activation stands.
    pub activation: ActivationState,
    /// The second-factor step of the activation, once begun.
    pub step_id: Option<String>,
    /// Whether the confirmation email went out.
    pub confirmation_sent: bool,
}

/// Characters of a reference: no 0/O, 1/I/L, so it reads and copies without doubt.
const REFERENCE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in a reference (10 × 4.95 bits ≈ 49 bits).
pub const REFERENCE_LENGTH: usize = 10;

/// A new reference (normalized form).
pub fn new_reference(random: &dyn crate::ports::Random) -> String {
    let mut out = String::with_capacity(REFERENCE_LENGTH);
    while out.len() < REFERENCE_LENGTH {
        let b = crate::domain::crypto::random_bytes::<1>(random)[0];
        // 248 = 8 × 31: rejection sampling keeps the characters uniform.
        if (b as usize) < 248 {
            out.push(REFERENCE_ALPHABET[b as usize % REFERENCE_ALPHABET.len()] as char);
        }
    }
    out
}

/// A reference as shown: `ABCD-EFGH-JK`.
pub fn display_reference(reference: &str) -> String {
    let chars: Vec<char> = reference.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A reference as typed or pasted: spaces, dashes and case forgiven; `None` when it cannot be one.
pub fn normalize_reference(input: &str) -> Option<String> {
    let cleaned: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (cleaned.len() == REFERENCE_LENGTH && cleaned.bytes().all(|b| REFERENCE_ALPHABET.contains(&b))).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::OsRandom;

    #[test]
    fn references_read_without_doubt_and_forgive_what_is_pasted_around_them() {
        let r = new_reference(&OsRandom);
        assert_eq!(r.len(), 10);
        assert!(!r.contains(['0', 'O', '1', 'I', 'L']));
        let shown = display_reference(&r);
        assert_eq!(shown.len(), 12);
        assert_eq!(normalize_reference(&format!("  {} ", shown.to_lowercase())), Some(r.clone()));
        assert_eq!(normalize_reference(&format!("{} {}", &r[..5], &r[5..])), Some(r));
        assert_eq!(normalize_reference("ABCD-EFGH-J0"), None);
        assert_eq!(normalize_reference("short"), None);
    }
}
