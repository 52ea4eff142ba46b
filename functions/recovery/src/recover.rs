//! A signature's recovery: a new reference number, emailed with the activation link.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::Person;
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::signatures::subscription::{self, ActivationState, Product, Recovery, Subscription};
use signet_shared::ports::store::{Item, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::messages, Error, ErrorCode, Result, Services};

/// How long a reference works.
pub(crate) const REFERENCE_DAYS: i64 = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecoverBody {
    /// `professional` (the login email, default) or `alternate` (the verified alternate).
    #[serde(default)]
    send_to: Option<SendTo>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SendTo {
    Professional,
    Alternate,
}

#[derive(Serialize)]
pub(crate) struct RecoveryRequested {
    status: &'static str,
    subscription_id: String,
    sent_to: String,
    expires_at: i64,
}

/// Asks for the recovery of one of my cloud signatures: a reference number by email.
pub(crate) async fn recover(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, live): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RecoverBody>,
) -> Result<Response> {
    let person = &live.person;
    if !signet_shared::domain::crypto::is_random_id(&id) {
        return Err(not_found());
    }
    let send_to = body.send_to.unwrap_or(SendTo::Professional);
    let (services, context, space, id) = (&services, &context, claims.space.as_str(), id.as_str());
    let recorded = retry::optimistic(16, retry::busy, || record(services, context, person, space, id, send_to)).await?;
    let Recorded { reference, subscription_id, to, expires_at } = recorded;
    let shown = subscription::display_reference(&reference);
    let link = services.portal_link(&format!("/activation?reference={shown}"));
    let email = messages::recovery_reference(to.as_str(), &shown, &link, REFERENCE_DAYS, person.locale);
    services.mailer.send(&email).await?;
    Ok(json(
        StatusCode::CREATED,
        &RecoveryRequested {
            status: "reference_sent",
            subscription_id,
            sent_to: messages::email_hint(to.as_str()),
            expires_at,
        },
    ))
}

fn not_found() -> Error {
    Error::new(ErrorCode::NotFound).field("id")
}

/// A recovery recorded: its reference, where it is emailed, until when it works.
struct Recorded {
    reference: String,
    subscription_id: String,
    to: EmailAddress,
    expires_at: i64,
}

/// Records a new recovery of the subscription `id` (replacing the pending one) with the
/// subscription's pointer to it, audited, in one transaction; another round when the
/// reference exists already (unlikely) or a concurrent request won.
async fn record(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    space: &str,
    id: &str,
    send_to: SendTo,
) -> Result<Round<Recorded>> {
    let store = services.store.as_ref();
    let now = services.now();
    let item = store.get(&keys::subscription(id)).await?.ok_or_else(not_found)?;
    let mut sub: Subscription = item.decode()?;
    // Another person's subscription, or another space's, does not exist for this one.
    if sub.holder_id != person.id || sub.space_id != space {
        return Err(not_found());
    }
    if sub.product != Product::CloudSignature {
        return Err(Error::new(ErrorCode::Conflict));
    }
    let to = match send_to {
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
        context,
        "recovery.requested",
        Some(&person.id),
        format!("subscription:{}", sub.id),
        serde_json::json!({"reference": reference}),
    );
    writes.push(event.write(&services.new_id())?);
    let recorded = Recorded { reference, subscription_id: sub.id, to, expires_at };
    let round: Round<Recorded> = retry::settle::<_, Error>(store.transact(writes).await, recorded)?;
    if let Round::Done(_) = round {
        event.log();
    }
    Ok(round)
}
