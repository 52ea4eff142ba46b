//! The payment-provider port and its value types.
//!
//! The payment page is the provider's, never Signet's: a renewal hands the buyer over to a
//! hosted checkout (Stripe Checkout; on the embedded back end, the local server's own page)
//! and learns the outcome from the provider's signed webhook. No card number ever reaches a
//! Signet function. The adapters are [`crate::adapters::stripe`] and
//! [`crate::adapters::local_payments`].

use crate::error::Result;
use crate::locale::Locale;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Cents of a currency.
pub type Cents = i64;

/// Why a webhook signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The header is missing or malformed.
    Malformed,
    /// No `v1` signature matches.
    Mismatch,
    /// The timestamp is outside the tolerance.
    Stale,
    /// No signing secret is configured: every webhook is refused.
    NotConfigured,
}

/// What a checkout is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    /// The same key gives the same session: a retried submit never opens a second payment.
    pub idempotency_key: String,
    /// The renewal paid for (the session's `client_reference_id`).
    pub renewal_id: String,
    /// The total to pay, in cents.
    pub amount: Cents,
    /// ISO 4217 currency.
    pub currency: String,
    /// What is bought, as the payment page shows it.
    pub description: String,
    /// The buyer's email (the provider may send its own receipt).
    pub customer_email: String,
    /// The page's language.
    pub locale: Locale,
    /// Where the buyer returns after paying.
    pub success_url: String,
    /// Where the buyer returns after giving up.
    pub cancel_url: String,
    /// When the session stops taking payment (unix seconds).
    pub expires_at: i64,
}

/// A hosted checkout session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    /// The provider's session id (`cs_…`).
    pub session_id: String,
    /// The hosted payment page.
    pub url: String,
}

/// What became of a checkout session the buyer gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// It takes no payment any more.
    Expired,
    /// It was paid first: the webhook fulfils the renewal.
    Paid,
}

/// The payment-provider port.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Opens (or, for the same idempotency key, finds again) a hosted checkout session.
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout>;

    /// Ends an open session so that it takes no payment (the buyer gave up).
    async fn expire_checkout(&self, session_id: &str) -> Result<Expiry>;

    /// The secret the provider signs its webhooks with; `None` refuses every webhook.
    fn webhook_secret(&self) -> Option<&[u8]>;

    /// Checks a webhook delivery's signature header for `body` at `now`.
    fn verify_webhook(&self, signature: &str, body: &[u8], now: i64) -> Result<(), SignatureError>;

    /// Whether card payments can be taken (a provider is configured).
    fn available(&self) -> bool {
        true
    }

    /// Whether this is the local hosted page (the embedded back end's demo provider), not
    /// a real payment provider.
    fn is_local(&self) -> bool {
        false
    }

    /// The adapter itself, for the composition that serves its page (the local server
    /// downcasts to the local provider).
    fn as_any(&self) -> &dyn std::any::Any;
}
