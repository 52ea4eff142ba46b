//! The small ports the domain talks to, besides the [`crate::ports::store::Store`]: mail, SMS,
//! voice calls, keys, clock and randomness.

pub mod payments;
pub mod store;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An email to send. Plain text: links must stay copyable, and nothing renders remote content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// A message could not be handed to the delivery service.
#[derive(Debug, Clone, thiserror::Error)]
#[error("delivery failed: {0}")]
pub struct DeliveryError(pub String);

impl From<DeliveryError> for crate::error::Error {
    fn from(e: DeliveryError) -> Self {
        tracing::warn!(cause = %e.0, "message delivery failed");
        crate::error::Error::new(crate::error::ErrorCode::DeliveryFailed).retry_after(5)
    }
}

/// Sends email (SES v2, or the local outbox).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands one email to the delivery service.
    async fn send(&self, email: &Email) -> Result<(), DeliveryError>;
}

/// Sends text messages (SNS, or the local outbox).
#[async_trait]
pub trait Sms: Send + Sync {
    /// Sends `text` to the E.164 number `to`.
    async fn send(&self, to: &str, text: &str) -> Result<(), DeliveryError>;
}

/// Places voice calls that read a message (SMS and Voice v2, or the local outbox).
#[async_trait]
pub trait Voice: Send + Sync {
    /// Calls the E.164 number `to` and reads `text` in `language` (`fr-CA`, `en-US`…).
    async fn call(&self, to: &str, text: &str, language: &str) -> Result<(), DeliveryError>;
}

/// Names the owner and purpose of a secret; bound to the ciphertext, so a secret cannot
/// be moved to another owner or purpose.
pub type EncryptionContext = BTreeMap<String, String>;

/// A secret under envelope encryption: a data key wrapped by the key service, and the
/// secret encrypted with that data key (AES-256-GCM, the context as associated data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The wrapped data key (KMS ciphertext blob, or the local key file's wrapping).
    #[serde(with = "crate::ports::b64")]
    pub wrapped_key: Vec<u8>,
    /// The AES-GCM nonce.
    #[serde(with = "crate::ports::b64")]
    pub nonce: Vec<u8>,
    /// The ciphertext and tag.
    #[serde(with = "crate::ports::b64")]
    pub ciphertext: Vec<u8>,
}

/// The key service failed or refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("key service: {0}")]
pub struct KeyError(pub String);

impl From<KeyError> for crate::error::Error {
    fn from(e: KeyError) -> Self {
        crate::error::Error::unavailable(e)
    }
}

/// Protects secrets at rest (KMS, or a local key file).
#[async_trait]
pub trait Keys: Send + Sync {
    /// Encrypts a secret under a fresh data key bound to `context`.
    async fn seal(&self, plaintext: &[u8], context: &EncryptionContext) -> Result<Sealed, KeyError>;
    /// Decrypts a secret sealed with the same context.
    async fn open(&self, sealed: &Sealed, context: &EncryptionContext) -> Result<Vec<u8>, KeyError>;
}

/// The one clock (unix seconds), so that tests can move time.
pub trait Clock: Send + Sync {
    /// Now, in seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// A clock that stands still until moved; for tests of expiry.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    /// A clock at the given time.
    pub fn at(now: i64) -> Self {
        ManualClock(std::sync::atomic::AtomicI64::new(now))
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The source of randomness (the operating system's CSPRNG).
pub trait Random: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // A failure of the OS random source leaves nothing safe to do.
        getrandom::fill(buf).expect("operating system random source failed");
    }
}

/// The authority's signer (KMS, or a local key).
#[async_trait]
pub trait CaSigner: Send + Sync {
    /// An identifier of the key (its KMS key id, or `local`).
    fn key_id(&self) -> String;
    /// The key's SubjectPublicKeyInfo (DER).
    async fn public_key(&self) -> Result<Vec<u8>, KeyError>;
    /// ECDSA P-256 with SHA-256 over `message`; the DER signature.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError>;
}

/// Public documents read over HTTPS (an identity provider's signing keys).
#[async_trait]
pub trait Documents: Send + Sync {
    /// The body at `url`, at most `max_bytes`; any failure is a retryable
    /// `service_unavailable`.
    async fn get(&self, url: &str, max_bytes: usize) -> crate::error::Result<Vec<u8>>;
}

/// An establishment as a company registry describes it (the INSEE Sirene directory).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Establishment {
    /// The SIRET.
    pub siret: String,
    /// The legal unit's name.
    pub name: String,
    /// Street address (number, way).
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Whether the establishment is active (`A`), not closed (`F`).
    pub active: bool,
}

/// What a company registry answers about a SIRET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAnswer {
    /// Known: its details.
    Found(Establishment),
    /// The registry does not know it.
    Unknown,
}

/// A company registry (seed 003: the entity's details fill in from its SIRET).
#[async_trait]
pub trait CompanyRegistry: Send + Sync {
    /// The establishment of a (checked) SIRET. A registry that cannot be reached, or is not
    /// configured, answers a retryable `service_unavailable`.
    async fn establishment(&self, siret: &str) -> crate::error::Result<RegistryAnswer>;
}

/// Serde helper: bytes as standard base64.
pub mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Deserializes base64 into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
