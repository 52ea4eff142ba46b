//! The payment provider's webhook: signature first (`Stripe-Signature`, five minutes of
//! tolerance), then a paid checkout fulfils its renewal and an expired one abandons it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::billing::renewal::{self};
use signet_shared::domain::billing::renewal::{CheckoutReport, Expired};
use signet_shared::domain::crypto;
use signet_shared::ports::payments::SignatureError;
use signet_shared::web::json;
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
pub(crate) struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
pub(crate) struct EventData {
    object: CheckoutObject,
}

#[derive(Deserialize)]
pub(crate) struct CheckoutObject {
    id: String,
    #[serde(default)]
    client_reference_id: Option<String>,
    #[serde(default)]
    amount_total: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    payment_status: Option<String>,
    #[serde(default)]
    payment_intent: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Received {
    received: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
}

/// The payment provider's webhook: signature first (`Stripe-Signature`, five minutes of
/// tolerance), then a paid checkout fulfils its renewal — once, however many times and in
/// whatever order it is delivered — and an expired one abandons it.
pub(crate) async fn webhook(
    State(services): State<Services>,
    context: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    match services.payments.verify_webhook(signature, &body, services.now()) {
        Ok(()) => {}
        Err(SignatureError::NotConfigured) => {
            tracing::error!("payment webhook refused: no signing secret is configured");
            return Err(Error::new(ErrorCode::WebhookSignatureInvalid));
        }
        Err(e) => {
            tracing::warn!(reason = ?e, source = %context.source_ip, "payment webhook with a bad signature");
            return Err(Error::new(ErrorCode::WebhookSignatureInvalid));
        }
    }
    let event: Event = serde_json::from_slice(&body).map_err(|_| Error::new(ErrorCode::InvalidRequest))?;
    let session = event.data.object;
    let received =
        |outcome: &'static str| Ok(json(StatusCode::OK, &Received { received: true, outcome: Some(outcome) }));
    let Some(renewal_id) = session.client_reference_id.clone().filter(|id| crypto::is_random_id(id)) else {
        return received("not_a_renewal");
    };
    match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            if session.payment_status.as_deref() != Some("paid") {
                return received("not_paid_yet");
            }
            let report = CheckoutReport {
                session_id: session.id,
                renewal_id,
                amount_total: session.amount_total,
                currency: session.currency,
                payment_intent: session.payment_intent,
            };
            let done = renewal::on_paid(&services, &context, report).await?;
            // A failed receipt answers 503: the provider delivers again and the receipt goes.
            renewal::send_notices(&services, done, None).await?;
            received("fulfilled")
        }
        "checkout.session.expired" | "checkout.session.async_payment_failed" => {
            match renewal::on_expired(&services, &context, &renewal_id, &session.id, &event.kind).await? {
                Expired::Abandoned => received("abandoned"),
                Expired::UnknownRenewal => received("unknown_renewal"),
                Expired::NotThisSession => received("not_this_session"),
                Expired::AlreadySettled => received("already_settled"),
            }
        }
        _ => received("event_not_handled"),
    }
}
