//! The local hosted payment page's provider: sessions kept in the store (any store: the
//! AWS back end uses it too against an emulator), paid on the local server's page.

use crate::adapters::webhook_signature::{self, DEFAULT_TOLERANCE};
use crate::domain::crypto;
use crate::domain::keys;
use crate::domain::retry::{self, Round};
use crate::ports::payments::{Checkout, CheckoutRequest, Expiry, PaymentProvider, SignatureError};
use crate::ports::store::{Item, Store, StoreError, Write};
use crate::{error::Error, error::Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A session of the local hosted payment page (`PAYSESSION#<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalSession {
    /// `cs_local_…`.
    pub id: String,
    /// What is paid for, as the renewal asked.
    #[serde(flatten)]
    pub request: CheckoutRequest,
    /// `open`, `paid` or `expired`.
    pub status: String,
    /// The payment's reference, once paid.
    pub payment_intent: Option<String>,
    /// Whether the webhook announcing the outcome was accepted.
    pub delivered: bool,
}

/// The embedded back end's payment provider: sessions kept in the store, paid on the local
/// server's hosted page (`<page_url>/_pay/<session>`), which then signs and delivers the
/// webhook exactly as Stripe does.
pub struct LocalPayments {
    store: Arc<dyn Store>,
    page_url: String,
    webhook_secret: Vec<u8>,
}

/// The test card that pays on the local page.
pub const LOCAL_CARD_PAYS: &str = "4242424242424242";
/// The test card the local page declines.
pub const LOCAL_CARD_DECLINED: &str = "4000000000000002";

impl LocalPayments {
    /// A local provider; `webhook_secret` is shared with the webhook endpoint.
    pub fn new(store: Arc<dyn Store>, page_url: &str, webhook_secret: Vec<u8>) -> Self {
        LocalPayments { store, page_url: page_url.to_owned(), webhook_secret }
    }

    /// Reads a session.
    pub async fn session(&self, id: &str) -> Result<Option<(Item, LocalSession)>> {
        match self.store.get(&keys::local_payment_session(id)).await? {
            Some(item) => {
                let session = item.decode()?;
                Ok(Some((item, session)))
            }
            None => Ok(None),
        }
    }

    /// Stores a session's new state if nobody wrote it since `item`.
    pub async fn update(&self, item: &Item, session: &LocalSession) -> Result<()> {
        Ok(self.store.write(Write::replace(item.next(session)?)).await?)
    }

    /// The webhook delivery announcing `event_type` for `session`: (body, `Stripe-Signature`).
    pub fn webhook(&self, event_type: &str, session: &LocalSession, now: i64) -> (Vec<u8>, String) {
        let paid = session.status == "paid";
        let event = serde_json::json!({
            "id": format!("evt_{}_{}", session.id.trim_start_matches("cs_"), event_type.rsplit('.').next().unwrap_or("event")),
            "object": "event",
            "type": event_type,
            "created": now,
            "data": {"object": {
                "id": session.id,
                "object": "checkout.session",
                "client_reference_id": session.request.renewal_id,
                "metadata": {"renewal_id": session.request.renewal_id},
                "amount_total": session.request.amount,
                "currency": session.request.currency.to_ascii_lowercase(),
                "payment_status": if paid { "paid" } else { "unpaid" },
                "status": if session.status == "expired" { "expired" } else { "complete" },
                "payment_intent": session.payment_intent,
            }},
        });
        let body = serde_json::to_vec(&event).expect("a JSON value serializes");
        let signature = webhook_signature::sign(&self.webhook_secret, now, &body);
        (body, signature)
    }
}

#[async_trait]
impl PaymentProvider for LocalPayments {
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout> {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(request.idempotency_key.as_bytes());
        let id = format!("cs_local_{}", &crypto::hex(&digest)[..32]);
        let session = LocalSession {
            id: id.clone(),
            request: request.clone(),
            status: "open".into(),
            payment_intent: None,
            delivered: false,
        };
        // The same key finds the same session (created once).
        match self.store.write(Write::create(Item::new(keys::local_payment_session(&id), &session)?)).await {
            Ok(()) | Err(StoreError::ConditionFailed(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Checkout { url: format!("{}/_pay/{id}", self.page_url), session_id: id })
    }

    async fn expire_checkout(&self, session_id: &str) -> Result<Expiry> {
        retry::optimistic(8, retry::conflict, || async move {
            let Some((item, mut session)) = self.session(session_id).await? else {
                return Err(Error::new(crate::error::ErrorCode::NotFound));
            };
            match session.status.as_str() {
                "paid" => Ok(Round::Done(Expiry::Paid)),
                "expired" => Ok(Round::Done(Expiry::Expired)),
                _ => {
                    session.status = "expired".into();
                    match self.update(&item, &session).await {
                        Ok(()) => Ok(Round::Done(Expiry::Expired)),
                        // Paid or expired meanwhile: read it again.
                        Err(e) if e.code == crate::error::ErrorCode::Conflict => Ok(Round::Again(())),
                        Err(e) => Err(e),
                    }
                }
            }
        })
        .await
    }

    fn webhook_secret(&self) -> Option<&[u8]> {
        Some(&self.webhook_secret)
    }

    fn verify_webhook(&self, signature: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
        webhook_signature::verify(&self.webhook_secret, signature, body, now, DEFAULT_TOLERANCE)
    }

    fn is_local(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
