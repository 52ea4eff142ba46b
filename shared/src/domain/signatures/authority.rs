//! The certificate authority: one implementation used everywhere. Its private key never
//! leaves its signer — a KMS asymmetric key (ECC_NIST_P256, `Sign`) on AWS, a local key file
//! on the embedded back end — and it issues real X.509 v3 certificates (see [`crate::domain::signatures::x509`]).
//! Its own certificate is self-signed once, on first use, and kept in the store. Every issued
//! certificate gets a unique serial and a status record (`CERT#<serial>`: good or revoked).

use crate::domain::keys;
use crate::domain::retry::{self, Round};
use crate::domain::signatures::x509::{self, Profile, ToBeSigned};
use crate::ports::store::{Item, StoreError, Write};
use crate::ports::KeyError;
use crate::{domain::crypto, domain::services::Services, error::Error, error::Result};
use serde::{Deserialize, Serialize};

/// The authority's distinguished name.
pub const AUTHORITY_NAME: &str = "Signet Issuing CA";
/// How long the authority's own certificate is valid (20 years).
const AUTHORITY_LIFETIME: i64 = 20 * 365 * 86400;

/// The authority's certificate, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Authority {
    /// The certificate (DER, base64url).
    pub certificate: String,
    /// Its SubjectPublicKeyInfo (DER, base64url).
    pub spki: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl Authority {
    /// The certificate's DER.
    pub fn der(&self) -> Vec<u8> {
        crypto::b64url_decode(&self.certificate).unwrap_or_default()
    }
}

fn authority_name() -> Vec<u8> {
    x509::name(&[(x509::COUNTRY, "CA"), (x509::ORGANIZATION, "Signet"), (x509::COMMON_NAME, AUTHORITY_NAME)])
}

/// The status of an issued certificate (`CERT#<serial>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    /// Serial (hex).
    pub serial: String,
    /// `good` or `revoked`.
    pub status: CertificateStatus,
    /// What it was issued for (a subscription id).
    pub subject_ref: String,
    /// Validity end.
    pub not_after: i64,
    /// When revoked.
    pub revoked_at: Option<i64>,
}

/// good / revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// Valid.
    Good,
    /// Revoked.
    Revoked,
}

fn unavailable(e: KeyError) -> Error {
    Error::unavailable(format!("certificate authority: {e}"))
}

/// The authority's certificate: read from the store, or made (self-signed) on first use.
/// Two instances making it at once keep the first stored.
pub async fn authority(services: &Services) -> Result<Authority> {
    let key = keys::authority(&services.ca.key_id());
    if let Some(item) = services.store.get(&key).await? {
        return Ok(item.decode()?);
    }
    let now = services.now();
    let spki = services.ca.public_key().await.map_err(unavailable)?;
    let name = authority_name();
    let serial = serial(services);
    let tbs = x509::tbs_certificate(&ToBeSigned {
        serial: &serial,
        issuer: &name,
        subject: &name,
        not_before: now - 3600,
        not_after: now + AUTHORITY_LIFETIME,
        spki: &spki,
        issuer_spki: &spki,
        profile: Profile::Authority,
        email: None,
    });
    let signature = services.ca.sign(&tbs).await.map_err(unavailable)?;
    let authority = Authority {
        certificate: crypto::b64url(&x509::certificate(&tbs, &signature)),
        spki: crypto::b64url(&spki),
        created_at: now,
    };
    match services.store.write(Write::create(Item::new(key.clone(), &authority)?)).await {
        Ok(()) => Ok(authority),
        Err(StoreError::ConditionFailed(_)) => {
            Ok(services.store.get(&key).await?.ok_or_else(|| Error::internal("authority vanished"))?.decode()?)
        }
        Err(e) => Err(e.into()),
    }
}

/// 16 random bytes, positive: a serial unique in practice (and checked by its record).
fn serial(services: &Services) -> Vec<u8> {
    let mut bytes = crypto::random_bytes::<16>(services.random.as_ref()).to_vec();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    bytes
}

/// Who a certificate is for.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// Common name (the person's name).
    pub common_name: &'a str,
    /// Their email (subject alternative name).
    pub email: &'a str,
    /// What it is issued for (a subscription id), kept in the status record.
    pub reference: &'a str,
}

/// An issued certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// Serial (hex).
    pub serial: String,
    /// The certificate (DER, base64url).
    pub certificate: String,
    /// Validity end.
    pub not_after: i64,
}

/// Issues a signing certificate for `spki` with a fresh serial (see [`issue_with_serial`]).
pub async fn issue(
    services: &Services,
    subject: &Subject<'_>,
    spki: &[u8],
    not_after: i64,
) -> Result<IssuedCertificate> {
    // A serial already recorded (for another subject) is drawn again.
    retry::optimistic(4, retry::busy, || async move {
        Ok(match issue_with_serial(services, subject, spki, not_after, &new_serial(services)).await? {
            Some(issued) => Round::Done(issued),
            None => Round::Again(()),
        })
    })
    .await
}

/// A fresh serial for [`issue_with_serial`].
pub fn new_serial(services: &Services) -> Vec<u8> {
    serial(services)
}

/// Issues a signing certificate for `spki`, valid from now to `not_after`, with `serial`,
/// and records its status as good. The record is created only if absent, so a serial is
/// recorded once: a retry of the same issuance (same serial, same subject reference) gets
/// that certificate again; a serial of another subject gets `None`.
pub async fn issue_with_serial(
    services: &Services,
    subject: &Subject<'_>,
    spki: &[u8],
    not_after: i64,
    serial: &[u8],
) -> Result<Option<IssuedCertificate>> {
    let authority = authority(services).await?;
    let issuer_spki = crypto::b64url_decode(&authority.spki).ok_or_else(|| Error::internal("authority key"))?;
    let now = services.now();
    let subject_name = x509::name(&[(x509::COMMON_NAME, subject.common_name)]);
    let tbs = x509::tbs_certificate(&ToBeSigned {
        serial,
        issuer: &authority_name(),
        subject: &subject_name,
        not_before: now - 60,
        not_after,
        spki,
        issuer_spki: &issuer_spki,
        profile: Profile::Signing,
        email: Some(subject.email),
    });
    let signature = services.ca.sign(&tbs).await.map_err(unavailable)?;
    let serial_hex = crypto::hex(serial);
    let record = CertificateRecord {
        serial: serial_hex.clone(),
        status: CertificateStatus::Good,
        subject_ref: subject.reference.to_owned(),
        not_after,
        revoked_at: None,
    };
    match services.store.write(Write::create(Item::new(keys::certificate(&serial_hex), &record)?)).await {
        Ok(()) => Ok(Some(IssuedCertificate {
            serial: serial_hex,
            certificate: crypto::b64url(&x509::certificate(&tbs, &signature)),
            not_after,
        })),
        Err(StoreError::ConditionFailed(_)) => {
            // The same issuance retried (the same serial for the same subject): the one
            // recorded certificate, signed again. Another subject's serial: `None`.
            let existing = status(services, &serial_hex).await?;
            Ok(existing.filter(|r| r.subject_ref == subject.reference).map(|r| IssuedCertificate {
                serial: serial_hex,
                certificate: crypto::b64url(&x509::certificate(&tbs, &signature)),
                not_after: r.not_after,
            }))
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks a certificate revoked (idempotent).
pub async fn revoke(services: &Services, serial: &str) -> Result<()> {
    retry::optimistic(8, retry::busy, || async move {
        let Some(item) = services.store.get(&keys::certificate(serial)).await? else { return Ok(Round::Done(())) };
        let mut record: CertificateRecord = item.decode()?;
        if record.status == CertificateStatus::Revoked {
            return Ok(Round::Done(()));
        }
        record.status = CertificateStatus::Revoked;
        record.revoked_at = Some(services.now());
        retry::settle(services.store.write(Write::replace(item.next(&record)?)).await, ())
    })
    .await
}

/// The status of a serial: good, revoked, or unknown (`None`).
pub async fn status(services: &Services, serial: &str) -> Result<Option<CertificateRecord>> {
    Ok(services.store.get(&keys::certificate(&serial.to_ascii_lowercase())).await?.map(|i| i.decode()).transpose()?)
}

/// A new P-256 key pair for a subscriber: its PKCS#8 private key (to seal) and its
/// SubjectPublicKeyInfo (to certify).
pub fn new_signing_key() -> Result<(Vec<u8>, Vec<u8>)> {
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).map_err(Error::internal)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).map_err(Error::internal)?;
    let spki = x509::p256_spki(pair.public_key().as_ref());
    Ok((pkcs8.as_ref().to_vec(), spki))
}
