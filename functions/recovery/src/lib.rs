//! My subscriptions, signature recovery (seed 002: "your signature needs to be updated" or
//! "is no longer functional"), and the status of a certificate by serial.
//!
//! A recovery gives a reference number — ten characters without look-alikes, unique (its
//! record is created only if absent) — emailed to the professional or the verified alternate
//! address with an "Activate my signature" link. One recovery per signature at a time: a new
//! request replaces the pending one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::signatures::authority::{self, CertificateStatus};
use signet_shared::domain::signatures::subscription::{
    self, ActivationState, Product, Recovery, Subscription, SubscriptionStatus,
};
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{domain::messages, Error, ErrorCode, Result, Services};

signet_shared::routes! {
    GET "/subscriptions" => list,
    POST "/subscriptions/{id}/recovery" => recover,
    GET "/certificates/{serial}/status" => certificate_status,
}

/// How long a reference works.
const REFERENCE_DAYS: i64 = 30;

#[derive(Serialize)]
struct SubscriptionView {
    id: String,
    product: Product,
    product_name: &'static str,
    status: SubscriptionStatus,
    term_start: i64,
    term_end: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_expires_at: Option<i64>,
    recovery_pending: bool,
    held_by_me: bool,
}

#[derive(Serialize)]
struct SubscriptionList {
    space_id: String,
    subscriptions: Vec<SubscriptionView>,
}

/// The subscriptions of the space the token acts for.
async fn list(
    State(services): State<Services>,
    RequestLocale(locale): RequestLocale,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let items =
        services.store.query_gsi1(&keys::space_partition(&claims.space), keys::SUBSCRIPTION_PREFIX, 500).await?;
    let mut subscriptions = Vec::new();
    for item in items {
        let s: Subscription = item.decode()?;
        let (fr, en) = s.product.names();
        subscriptions.push(SubscriptionView {
            product_name: locale.pick(fr, en),
            held_by_me: s.holder_id == claims.sub,
            recovery_pending: s.recovery.is_some(),
            certificate_serial: s.certificate.as_ref().map(|c| c.serial.clone()),
            certificate_expires_at: s.certificate.as_ref().map(|c| c.not_after),
            id: s.id,
            product: s.product,
            status: s.status,
            term_start: s.term_start,
            term_end: s.term_end,
        });
    }
    Ok(json(StatusCode::OK, &SubscriptionList { space_id: claims.space, subscriptions }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverBody {
    /// `professional` (the login email, default) or `alternate` (the verified alternate).
    #[serde(default)]
    send_to: Option<SendTo>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum SendTo {
    Professional,
    Alternate,
}

#[derive(Serialize)]
struct RecoveryRequested {
    status: &'static str,
    subscription_id: String,
    sent_to: String,
    expires_at: i64,
}

/// Asks for the recovery of one of my cloud signatures: a reference number by email.
async fn recover(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, live): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RecoverBody>,
) -> Result<Response> {
    let person = &live.person;
    let store = services.store.as_ref();
    let now = services.now();
    let not_found = || Error::new(ErrorCode::NotFound).field("id");
    if !signet_shared::domain::crypto::is_random_id(&id) {
        return Err(not_found());
    }
    for _ in 0..16 {
        let item = store.get(&keys::subscription(&id)).await?.ok_or_else(not_found)?;
        let mut sub: Subscription = item.decode()?;
        // Another person's subscription, or another space's, does not exist for this one.
        if sub.holder_id != person.id || sub.space_id != claims.space {
            return Err(not_found());
        }
        if sub.product != Product::CloudSignature {
            return Err(Error::new(ErrorCode::Conflict));
        }
        let to = match body.send_to.unwrap_or(SendTo::Professional) {
            SendTo::Professional => person.email.clone(),
            SendTo::Alternate => person
                .alternate_email
                .as_ref()
                .filter(|a| a.verified)
                .map(|a| a.email.clone())
                .ok_or_else(|| Error::new(ErrorCode::Conflict).field("send_to"))?,
        };
        let reference = subscription::new_reference(services.random.as_ref());
        let expires_at = now + REFERENCE_DAYS * 86400;
        let recovery = Recovery {
            reference: reference.clone(),
            subscription_id: sub.id.clone(),
            person_id: person.id.clone(),
            expires_at,
            superseded: false,
            activation: ActivationState::Pending,
            step_id: None,
            confirmation_sent: false,
        };
        // Kept as long again past its expiry, so that a late activation is told "expired".
        let mut writes = vec![Write::create(
            Item::new(keys::recovery(&reference), &recovery)?.expires_at(expires_at + REFERENCE_DAYS * 86400),
        )];
        // A new request replaces the pending one.
        if let Some(previous) = &sub.recovery {
            if let Some(previous_item) = store.get(&keys::recovery(previous)).await? {
                let mut old: Recovery = previous_item.decode()?;
                if matches!(old.activation, ActivationState::Pending) && !old.superseded {
                    old.superseded = true;
                    writes.push(Write::replace(previous_item.next(&old)?));
                }
            }
        }
        sub.recovery = Some(reference.clone());
        writes.push(Write::replace(item.next(&sub)?));
        let event = AuditEvent::new(
            now,
            &context,
            "recovery.requested",
            Some(&person.id),
            format!("subscription:{}", sub.id),
            serde_json::json!({"reference": reference}),
        );
        writes.push(event.write(&services.new_id())?);
        match store.transact(writes).await {
            Ok(()) => event.log(),
            // A reference that already exists (unlikely), or a concurrent request: again.
            Err(StoreError::ConditionFailed(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        let link =
            services.portal_link(&format!("/activation?reference={}", subscription::display_reference(&reference)));
        let email = messages::recovery_reference(
            to.as_str(),
            &subscription::display_reference(&reference),
            &link,
            REFERENCE_DAYS,
            person.locale,
        );
        services.mailer.send(&email).await?;
        return Ok(json(
            StatusCode::CREATED,
            &RecoveryRequested {
                status: "reference_sent",
                subscription_id: sub.id,
                sent_to: messages::email_hint(to.as_str()),
                expires_at,
            },
        ));
    }
    Err(Error::new(ErrorCode::ServiceUnavailable).retry_after(1))
}

#[derive(Serialize)]
struct StatusView {
    serial: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<i64>,
}

/// good / revoked / unknown, by serial (hex; case and colons forgiven).
async fn certificate_status(State(services): State<Services>, Path(serial): Path<String>) -> Result<Response> {
    let serial: String = serial.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    if serial.is_empty() || serial.len() > 40 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::new(ErrorCode::InvalidRequest).field("serial"));
    }
    let record = authority::status(&services, &serial).await?;
    let (status, revoked_at) = match record {
        Some(r) if r.status == CertificateStatus::Revoked => ("revoked", r.revoked_at),
        Some(_) => ("good", None),
        None => ("unknown", None),
    };
    Ok(json(StatusCode::OK, &StatusView { serial, status, revoked_at }))
}
