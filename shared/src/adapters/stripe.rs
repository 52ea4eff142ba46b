//! The Stripe adapter of the payment-provider port, and the provider used when none is
//! configured.

use crate::adapters::webhook_signature::{self, DEFAULT_TOLERANCE};
use crate::ports::payments::{Checkout, CheckoutRequest, Expiry, PaymentProvider, SignatureError};
use crate::{error::Error, error::Result};
use async_trait::async_trait;
use serde::Deserialize;

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
        let (status, body) = super::http_client::send(
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
        let (status, _) = super::http_client::send(
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
            super::http_client::send(http::Method::GET, &url, &headers, bytes::Bytes::new(), 64 * 1024).await?;
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

    fn verify_webhook(&self, signature: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
        let secret = self.webhook_secret.as_deref().ok_or(SignatureError::NotConfigured)?;
        webhook_signature::verify(secret, signature, body, now, DEFAULT_TOLERANCE)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
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

    fn verify_webhook(&self, _: &str, _: &[u8], _: i64) -> Result<(), SignatureError> {
        Err(SignatureError::NotConfigured)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn available(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::Locale;

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
}
