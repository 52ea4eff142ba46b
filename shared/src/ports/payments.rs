//! Card payments: the payment-provider port, its adapters, and the provider's webhook
//! signature.
//!
//! The payment page is the provider's, never Signet's: a renewal hands the buyer over to a
//! hosted checkout (Stripe Checkout; on the embedded back end, the local server's own page)
//! and learns the outcome from the provider's signed webhook. No card number ever reaches a
//! Signet function.
//!
//! The webhook signature is Stripe's scheme, used by the Stripe adapter and by the local
//! page alike: the `Stripe-Signature` header carries `t=<unix seconds>` and one or more
//! `v1=<hex HMAC-SHA256 of "<t>.<body>">` under the endpoint's signing secret. A signature
//! is accepted when one `v1` matches (constant time) and `t` is within the tolerance of now
//! (replays of an old delivery are refused).

use crate::domain::billing::catalogue::Cents;
use crate::domain::locale::Locale;
use crate::ports::store::{Item, Key, Store, StoreError, Write};
use crate::{Error, Result};
use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;

/// The most `v1` signatures a header may carry.
const MAX_SIGNATURES: usize = 8;

/// The default tolerance, in seconds (Stripe's libraries use five minutes).
pub const DEFAULT_TOLERANCE: i64 = 300;

/// Why a webhook signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The header is missing or malformed.
    Malformed,
    /// No `v1` signature matches.
    Mismatch,
    /// The timestamp is outside the tolerance.
    Stale,
}

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
    format!("t={timestamp},v1={}", crate::domain::crypto::hex(&digest))
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
        crate::domain::crypto::unhex(hex).is_some_and(|b| {
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

    /// Whether card payments can be taken (a provider is configured).
    fn available(&self) -> bool {
        true
    }

    /// The local hosted page's provider, when this is it (the local server serves its page).
    fn as_local(&self) -> Option<&LocalPayments> {
        None
    }
}

/// The Stripe adapter: `POST /v1/checkout/sessions` (form-encoded, the secret key as
/// bearer, the idempotency key as `Idempotency-Key`).
pub struct Stripe {
    api_url: String,
    secret_key: String,
    webhook_secret: Option<Vec<u8>>,
}

impl Stripe {
    /// From the configuration.
    pub fn new(settings: &crate::config::StripeSettings, webhook_secret: Option<&crate::config::Secret>) -> Self {
        Stripe {
            api_url: settings.api_url.clone(),
            secret_key: settings.secret_key.0.clone(),
            webhook_secret: webhook_secret.map(|s| s.0.as_bytes().to_vec()),
        }
    }

    /// The form of a Checkout Session for `request` (Stripe's documented parameters).
    pub fn checkout_form(request: &CheckoutRequest) -> String {
        let fields = [
            ("mode", "payment".to_owned()),
            ("client_reference_id", request.renewal_id.clone()),
            ("metadata[renewal_id]", request.renewal_id.clone()),
            ("customer_email", request.customer_email.clone()),
            ("locale", request.locale.pick("fr", "en").to_owned()),
            ("success_url", request.success_url.clone()),
            ("cancel_url", request.cancel_url.clone()),
            ("line_items[0][quantity]", "1".to_owned()),
            ("line_items[0][price_data][currency]", request.currency.to_ascii_lowercase()),
            ("line_items[0][price_data][unit_amount]", request.amount.to_string()),
            ("line_items[0][price_data][product_data][name]", request.description.clone()),
            ("payment_method_types[0]", "card".to_owned()),
            ("expires_at", request.expires_at.to_string()),
        ];
        fields.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&")
    }
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
pub fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[async_trait]
impl PaymentProvider for Stripe {
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout> {
        #[derive(Deserialize)]
        struct Session {
            id: String,
            url: String,
        }
        let url = format!("{}/v1/checkout/sessions", self.api_url);
        let auth = format!("Bearer {}", self.secret_key);
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
            ("idempotency-key", request.idempotency_key.as_str()),
            ("stripe-version", "2024-06-20"),
        ];
        let (status, body) = crate::adapters::http_client::send(
            http::Method::POST,
            &url,
            &headers,
            Self::checkout_form(request).into(),
            64 * 1024,
        )
        .await?;
        if !status.is_success() {
            // Stripe's error body names the parameter, never the key.
            let reason = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(Error::unavailable(format!("stripe checkout session: status {status}: {reason}")));
        }
        let session: Session =
            serde_json::from_slice(&body).map_err(|e| Error::unavailable(format!("stripe checkout session: {e}")))?;
        Ok(Checkout { session_id: session.id, url: session.url })
    }

    async fn expire_checkout(&self, session_id: &str) -> Result<Expiry> {
        #[derive(Deserialize)]
        struct Session {
            status: Option<String>,
        }
        if !session_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::internal("a checkout session id of an unexpected shape"));
        }
        let auth = format!("Bearer {}", self.secret_key);
        let headers = [("authorization", auth.as_str()), ("stripe-version", "2024-06-20")];
        let url = format!("{}/v1/checkout/sessions/{session_id}", self.api_url);
        let (status, _) = crate::adapters::http_client::send(
            http::Method::POST,
            &format!("{url}/expire"),
            &headers,
            bytes::Bytes::new(),
            64 * 1024,
        )
        .await?;
        if status.is_success() {
            return Ok(Expiry::Expired);
        }
        // Not open any more (Stripe refuses to expire it): paid, or expired already.
        let (status, body) =
            crate::adapters::http_client::send(http::Method::GET, &url, &headers, bytes::Bytes::new(), 64 * 1024)
                .await?;
        let session: Option<Session> = status.is_success().then(|| serde_json::from_slice(&body).ok()).flatten();
        match session.and_then(|s| s.status).as_deref() {
            Some("complete") => Ok(Expiry::Paid),
            Some("expired") => Ok(Expiry::Expired),
            _ => Err(Error::unavailable(format!("stripe checkout session expiry: status {status}"))),
        }
    }

    fn webhook_secret(&self) -> Option<&[u8]> {
        self.webhook_secret.as_deref()
    }
}

/// No provider configured (a deployment without `SIGNET_STRIPE_SECRET_KEY`): card payments
/// are refused as unavailable and every webhook is refused.
pub struct Unconfigured;

#[async_trait]
impl PaymentProvider for Unconfigured {
    async fn create_checkout(&self, _: &CheckoutRequest) -> Result<Checkout> {
        Err(Error::unavailable("card payments need SIGNET_STRIPE_SECRET_KEY"))
    }

    async fn expire_checkout(&self, _: &str) -> Result<Expiry> {
        Err(Error::unavailable("card payments need SIGNET_STRIPE_SECRET_KEY"))
    }

    fn webhook_secret(&self) -> Option<&[u8]> {
        None
    }

    fn available(&self) -> bool {
        false
    }
}

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

/// Key of a local payment session.
pub fn local_session_key(id: &str) -> Key {
    Key::new(format!("PAYSESSION#{id}"), "SESSION")
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
        match self.store.get(&local_session_key(id)).await? {
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
        let signature = sign(&self.webhook_secret, now, &body);
        (body, signature)
    }
}

#[async_trait]
impl PaymentProvider for LocalPayments {
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout> {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(request.idempotency_key.as_bytes());
        let id = format!("cs_local_{}", &crate::domain::crypto::hex(&digest)[..32]);
        let session = LocalSession {
            id: id.clone(),
            request: request.clone(),
            status: "open".into(),
            payment_intent: None,
            delivered: false,
        };
        // The same key finds the same session (created once).
        match self.store.write(Write::create(Item::new(local_session_key(&id), &session)?)).await {
            Ok(()) | Err(StoreError::ConditionFailed(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Checkout { url: format!("{}/_pay/{id}", self.page_url), session_id: id })
    }

    async fn expire_checkout(&self, session_id: &str) -> Result<Expiry> {
        for _ in 0..8 {
            let Some((item, mut session)) = self.session(session_id).await? else {
                return Err(Error::new(crate::ErrorCode::NotFound));
            };
            match session.status.as_str() {
                "paid" => return Ok(Expiry::Paid),
                "expired" => return Ok(Expiry::Expired),
                _ => {
                    session.status = "expired".into();
                    match self.update(&item, &session).await {
                        Ok(()) => return Ok(Expiry::Expired),
                        // Paid or expired meanwhile: read it again.
                        Err(e) if e.code == crate::ErrorCode::Conflict => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Err(Error::new(crate::ErrorCode::Conflict))
    }

    fn webhook_secret(&self) -> Option<&[u8]> {
        Some(&self.webhook_secret)
    }

    fn as_local(&self) -> Option<&LocalPayments> {
        Some(self)
    }
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
    fn the_checkout_form_is_stripe_s_parameters_encoded() {
        let form = Stripe::checkout_form(&CheckoutRequest {
            idempotency_key: "renewal-r1".into(),
            renewal_id: "r1".into(),
            amount: 11_498,
            currency: "CAD".into(),
            description: "Signature infonuagique – 1 an".into(),
            customer_email: "a+b@example.com".into(),
            locale: Locale::Fr,
            success_url: "https://portal.example.com/renewals/r1?paid=1".into(),
            cancel_url: "https://portal.example.com/renewals/r1".into(),
            expires_at: 1_795_086_340,
        });
        assert!(form.contains("&expires_at=1795086340"), "{form}");
        assert!(form.contains("line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=11498"), "{form}");
        assert!(form.contains("line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=cad"));
        assert!(form.contains("customer_email=a%2Bb%40example.com"));
        assert!(form.contains("client_reference_id=r1&"));
        assert!(form.contains("product_data%5D%5Bname%5D=Signature+infonuagique+%E2%80%93+1+an"));
    }

    #[test]
    fn the_signature_is_stripe_s_documented_scheme() {
        // HMAC-SHA256 over "<t>.<payload>", hex: computed independently with Python's hmac.
        let header = sign(b"whsec_abc", 1_700_000_000, b"{}");
        assert_eq!(header, "t=1700000000,v1=bad9ac117e973d721c232d46744158d75e3f1b44e36771e13d01b9e6a580bc72");
    }
}
