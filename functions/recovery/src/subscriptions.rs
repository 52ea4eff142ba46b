//! My subscriptions in the space I act for, and the status of a certificate by serial.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use signet_shared::domain::keys;
use signet_shared::domain::signatures::authority::{self, CertificateStatus};
use signet_shared::domain::signatures::subscription::{Product, Subscription, SubscriptionStatus};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, RequestLocale};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Serialize)]
pub(crate) struct SubscriptionView {
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
pub(crate) struct SubscriptionList {
    space_id: String,
    subscriptions: Vec<SubscriptionView>,
}

/// The subscriptions of the space the token acts for.
pub(crate) async fn list(
    State(services): State<Services>,
    RequestLocale(locale): RequestLocale,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let items =
        services.store.query_gsi1(&keys::space_partition(&claims.space), keys::SUBSCRIPTION_PREFIX, 500).await?;
    let mut subscriptions = Vec::new();
    // In an organisation's space, a member sees the subscriptions they hold; an agent sees
    // all (the membership is read only when someone else's are there).
    let mut all = None;
    for item in items {
        let s: Subscription = item.decode()?;
        if s.holder_id != claims.sub {
            if all.is_none() {
                all = Some(
                    signet_shared::domain::organisations::acts_for_subscriptions(&services, &claims.sub, &claims.space)
                        .await?,
                );
            }
            if all == Some(false) {
                continue;
            }
        }
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

#[derive(Serialize)]
pub(crate) struct StatusView {
    serial: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<i64>,
}

/// good / revoked / unknown, by serial (hex; case and colons forgiven).
pub(crate) async fn certificate_status(
    State(services): State<Services>,
    Path(serial): Path<String>,
) -> Result<Response> {
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
