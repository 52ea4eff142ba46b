//! The activation form: the reference, the code and the signature's new PIN, then the activation advanced to its end
//! one conditional move at a time (a new key, the certificate, the subscription's new
//! certificate, the confirmation sent once).

use crate::{invalid, recovery_of, usable};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::Person;
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::step::{self, Commit, Purpose};
use signet_shared::domain::second_factor::Answer;
use signet_shared::domain::signatures::authority::{self, Subject};
use signet_shared::domain::signatures::pin;
use signet_shared::domain::signatures::subscription::{
    self, ActivationState, CurrentCertificate, Recovery, Subscription, SubscriptionStatus,
};
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{domain::crypto, domain::messages, Error, ErrorCode, Result, Services};

/// How long an issued certificate is valid at most (the subscription's term bounds it).
pub(crate) const CERTIFICATE_LIFETIME: i64 = 3 * 365 * 86400;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActivateBody {
    challenge_token: String,
    reference: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
    /// The signature's PIN (seed 003, step 12): 4 to 8 digits.
    pin: String,
}

#[derive(Serialize)]
pub(crate) struct Activated {
    status: &'static str,
    subscription_id: String,
    certificate_serial: String,
    message: &'static str,
}

/// The activation form: the reference and the code. A retry (same token) after a failure
/// resumes the activation without asking the code again.
pub(crate) async fn activate(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<ActivateBody>,
) -> Result<Response> {
    let answer = Answer::from_fields(body.code.as_deref(), body.backup_code.as_deref())?;
    pin::check(&body.pin)?;
    let (_, recovery) = recovery_of(&services, &live.person, &body.reference).await?;
    let (_, step) = step::load(&services, &body.challenge_token, Some("activation")).await?;
    if step.purpose != (Purpose::Activation { reference: recovery.reference.clone() })
        || step.person_id != live.person.id
        || recovery.step_id.as_deref() != Some(step.id.as_str())
    {
        return Err(Error::new(ErrorCode::LoginInvalid).field("challenge_token"));
    }
    usable(&recovery, services.now())?;
    // The second factor, committed once; a retry finds it passed.
    let (services, context, token) = (&services, &context, body.challenge_token.as_str());
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let passed = step::answer(services, context, token, "activation", Some(answer)).await?;
        if !passed.fresh {
            return Ok(Round::Done(()));
        }
        step::try_commit(services, Commit { writes: passed.writes()?, event: None, then: () }).await
    })
    .await?;
    let pin = pin::set_write(&recovery.subscription_id, &body.pin, services.config.argon2, services.now()).await?;
    let (subscription_id, serial) = run(services, context, &live.person, &recovery.reference, &pin).await?;
    Ok(json(
        StatusCode::OK,
        &Activated {
            status: "activated",
            subscription_id,
            certificate_serial: serial,
            message: locale
                .pick("Votre signature a été activée avec succès.", "Your signature was activated successfully."),
        },
    ))
}

/// Advances the activation to its end; each move is a conditional write, a lost race
/// re-reads the records and goes on from the state the winner left.
pub(crate) async fn run(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    reference: &str,
    pin: &Write,
) -> Result<(String, String)> {
    // The records as this call last wrote them: read again only after a lost race.
    retry::optimistic_from(64, retry::busy, None, |known| advance(services, context, person, reference, pin, known))
        .await
}

/// The records of an activation: the recovery and its subscription.
pub(crate) type Records = (Item, Item);

/// One move of the activation from the state its records hold: a new key, the
/// certificate, the subscription's new certificate, then the confirmation sent once.
pub(crate) async fn advance(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    reference: &str,
    pin: &Write,
    known: Option<Records>,
) -> Result<Round<(String, String), Option<Records>>> {
    let store = services.store.as_ref();
    let (item, sub_item) = match known {
        Some(pair) => pair,
        None => {
            let item = store.get(&keys::recovery(reference)).await?.ok_or_else(invalid)?;
            let subscription_id = item.decode::<Recovery>()?.subscription_id;
            let sub_item = store.get(&keys::subscription(&subscription_id)).await?.ok_or_else(invalid)?;
            (item, sub_item)
        }
    };
    let mut recovery: Recovery = item.decode()?;
    let sub: Subscription = sub_item.decode()?;
    match recovery.activation.clone() {
        ActivationState::Pending => {
            let (pkcs8, spki) = authority::new_signing_key()?;
            let private_key = services.keys.seal(&pkcs8, &subscription::key_context(&sub.id)).await?;
            let serial = crypto::hex(&authority::new_serial(services));
            recovery.activation = ActivationState::KeyReady { private_key, spki: crypto::b64url(&spki), serial };
            let next = item.next(&recovery)?;
            again_after(store.write(Write::replace(next.clone())).await, (next, sub_item))
        }
        ActivationState::KeyReady { private_key, spki, serial } => {
            let spki = crypto::b64url_decode(&spki).ok_or_else(|| Error::internal("stored public key"))?;
            let serial_bytes = crypto::unhex(&serial).ok_or_else(|| Error::internal("stored serial"))?;
            let not_after = sub.term_end.min(services.now() + CERTIFICATE_LIFETIME);
            let name = format!("{} {}", person.first_name, person.last_name);
            let subject = Subject { common_name: &name, email: person.email.as_str(), reference: &sub.id };
            let issued = authority::issue_with_serial(services, &subject, &spki, not_after, &serial_bytes)
                .await?
                .ok_or_else(|| Error::internal("serial of another subject"))?;
            recovery.activation = ActivationState::Issued {
                private_key,
                serial: issued.serial,
                certificate: issued.certificate,
                not_after: issued.not_after,
            };
            let next = item.next(&recovery)?;
            again_after(store.write(Write::replace(next.clone())).await, (next, sub_item))
        }
        ActivationState::Issued { private_key, serial, certificate, not_after } => {
            let issued = CurrentCertificate { serial, not_after, certificate, private_key };
            install(services, context, person, reference, (item, sub_item), issued, pin).await
        }
        ActivationState::Done { serial } => confirm(services, person, &item, recovery, sub.id, serial).await,
    }
}

/// Another move after a write: from the records written, or read again after a lost race.
pub(crate) fn again_after<T>(
    written: std::result::Result<(), StoreError>,
    records: Records,
) -> Result<Round<T, Option<Records>>> {
    match written {
        Ok(()) => Ok(Round::Again(Some(records))),
        Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(None)),
        Err(e) => Err(e.into()),
    }
}

/// The subscription gets the issued certificate (the previous one revoked) and its PIN, and is
/// functional again; the recovery is done. One transaction, audited.
pub(crate) async fn install(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    reference: &str,
    (item, sub_item): Records,
    issued: CurrentCertificate,
    pin: &Write,
) -> Result<Round<(String, String), Option<Records>>> {
    let mut recovery: Recovery = item.decode()?;
    let mut sub: Subscription = sub_item.decode()?;
    if let Some(previous) = sub.certificate.as_ref().filter(|c| c.serial != issued.serial) {
        authority::revoke(services, &previous.serial).await?;
    }
    let serial = issued.serial.clone();
    sub.certificate = Some(issued);
    sub.status = SubscriptionStatus::Functional;
    if sub.recovery.as_deref() == Some(reference) {
        sub.recovery = None;
    }
    recovery.activation = ActivationState::Done { serial: serial.clone() };
    let event = AuditEvent::new(
        services.now(),
        context,
        "activation.completed",
        Some(&person.id),
        format!("subscription:{}", sub.id),
        serde_json::json!({"serial": serial}),
    );
    let (next, sub_next) = (item.next(&recovery)?, sub_item.next(&sub)?);
    let writes = vec![
        Write::replace(next.clone()),
        Write::replace(sub_next.clone()),
        pin.clone(),
        event.write(&services.new_id())?,
    ];
    let result = services.store.transact(writes).await;
    if result.is_ok() {
        event.log();
    }
    again_after(result, (next, sub_next))
}

/// The confirmation email, sent once: claimed before it is sent, so racing activations
/// send it once; a failed send gives the claim back so that a retry sends it.
pub(crate) async fn confirm(
    services: &Services,
    person: &Person,
    item: &Item,
    mut recovery: Recovery,
    subscription_id: String,
    serial: String,
) -> Result<Round<(String, String), Option<Records>>> {
    if recovery.confirmation_sent {
        return Ok(Round::Done((subscription_id, serial)));
    }
    let store = services.store.as_ref();
    recovery.confirmation_sent = true;
    let claimed = item.next(&recovery)?;
    match store.write(Write::replace(claimed.clone())).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed(_)) => return Ok(Round::Again(None)),
        Err(e) => return Err(e.into()),
    }
    if let Err(e) =
        services.mailer.send(&messages::signature_activated(person.email.as_str(), &serial, person.locale)).await
    {
        recovery.confirmation_sent = false;
        let _ = store.write(Write::replace(claimed.next(&recovery)?)).await;
        return Err(e.into());
    }
    Ok(Round::Done((subscription_id, serial)))
}
