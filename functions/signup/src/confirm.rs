//! Step 4: the code confirms the phone; the account becomes active.

use crate::{audit_event, load, SignupRequest, SignupStatus};
use axum::http::StatusCode;
use axum::{extract::State, response::Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, CustomerSpace, Person, PhoneFactor, SpaceKind, SubscriberRecord};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::otp::CodeCheck;
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::messages, Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfirmBody {
    signup_token: String,
    code: String,
}

#[derive(Serialize)]
pub(crate) struct Completed {
    status: &'static str,
    person_id: String,
    space_id: String,
    email: EmailAddress,
    message: &'static str,
}

pub(crate) async fn confirm(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response> {
    let store = services.store.as_ref();
    let (item, mut request) = match check_code(&services, &context, &body.signup_token, &body.code).await? {
        Checked::Valid(valid) => *valid,
        Checked::Completed(response) => return Ok(response),
    };

    let now = services.now();
    let profile = request.profile.clone().ok_or_else(|| Error::internal("code sent without profile"))?;
    let mut person = Person::new(
        request.person_id.clone(),
        request.email.clone(),
        profile.first_name.clone(),
        profile.last_name.clone(),
        request.locale,
        profile.password_hash.clone(),
        Some(PhoneFactor { phone: profile.phone.clone(), hint: profile.phone_hint.clone(), channel: profile.channel }),
        now,
    );
    person.subscriber_id = request.subscriber_id.clone();
    let space = CustomerSpace {
        id: services.new_id(),
        kind: SpaceKind::Individual,
        name: format!("{} {}", person.first_name, person.last_name),
        created_at: now,
        billing: None,
    };
    request.status = SignupStatus::Completed;
    request.space_id = Some(space.id.clone());
    let next = item.next(&request)?;
    let mut writes = account::individual_account_writes(&person, &space)?;
    let guard_index = 0;
    writes.push(Write::replace(next.clone()));
    if let Some(subscriber_id) = &request.subscriber_id {
        if let Some(record_item) = store.get(&keys::subscriber(&request.email)).await? {
            let mut record: SubscriberRecord = record_item.decode()?;
            if record.id == *subscriber_id && record.person_id.is_none() {
                record.person_id = Some(person.id.clone());
                writes.push(Write::replace(record_item.next(&record)?));
            }
        }
    }
    let audit = AuditEvent {
        actor: Some(person.id.clone()),
        ..audit_event(
            &services,
            &context,
            "signup.completed",
            &request,
            serde_json::json!({"space_id": space.id, "channel": profile.channel}),
        )
    };
    writes.push(audit.write(&services.new_id())?);
    match store.transact(writes).await {
        Ok(()) => audit.log(),
        Err(StoreError::ConditionFailed(failed)) => {
            // Lost a race. Against a confirm of this same sign-up: answer from what won.
            let current = store.get(&item.key).await?.ok_or_else(|| Error::new(ErrorCode::SignupExpired))?;
            let current_request: SignupRequest = current.decode()?;
            if current_request.status == SignupStatus::Completed {
                return completed(&services, &current, current_request).await;
            }
            if failed == Some(guard_index) {
                // Against another sign-up for this address: one address, one account.
                let mut ended = current_request;
                ended.status = SignupStatus::Ended;
                let _ = store.write(Write::replace(current.next(&ended)?)).await;
                return Err(Error::new(ErrorCode::AccountExists));
            }
            return Err(Error::new(ErrorCode::Conflict));
        }
        Err(e) => return Err(e.into()),
    }
    completed(&services, &next, request).await
}

/// A code checked: right (the request to complete), or the sign-up already completed (a
/// retry after success gets the same answer).
pub(crate) enum Checked {
    Valid(Box<(Item, SignupRequest)>),
    Completed(Response),
}

/// Checks the code. Every guess is stored before it is answered: a guess that loses a race
/// with another one is checked again on the fresh state, so parallel guesses all count
/// (five wrong ones end the sign-up, so the rounds are few).
pub(crate) async fn check_code(
    services: &Services,
    context: &RequestContext,
    token: &str,
    code: &str,
) -> Result<Checked> {
    let store = services.store.as_ref();
    retry::optimistic(32, retry::busy, || async move {
        let (item, mut request) = load(services, token).await?;
        if request.status == SignupStatus::Completed {
            // A retry after success (a lost answer, a failed confirmation email): same answer.
            return Ok(Round::Done(Checked::Completed(completed(services, &item, request).await?)));
        }
        if request.status != SignupStatus::CodeSent {
            return Err(Error::new(ErrorCode::SignupWrongStep));
        }
        let challenge = request.challenge.as_mut().ok_or_else(|| Error::internal("code sent without challenge"))?;
        let outcome = challenge.check(code, services.now(), &services.config.limits);
        if outcome == CodeCheck::Valid {
            return Ok(Round::Done(Checked::Valid(Box::new((item, request)))));
        }
        if outcome == CodeCheck::Exhausted {
            request.status = SignupStatus::Ended;
        }
        let action = if outcome == CodeCheck::Exhausted { "signup.ended_too_many_codes" } else { "signup.code_failed" };
        let audit =
            audit_event(services, context, action, &request, serde_json::json!({"outcome": format!("{outcome:?}")}));
        match store.transact(vec![Write::replace(item.next(&request)?), audit.write(&services.new_id())?]).await {
            Ok(()) => {
                audit.log();
                Err(outcome.error().unwrap_or_else(|| Error::new(ErrorCode::CodeInvalid)))
            }
            Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(())),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The answer of a completed sign-up. Sends the confirmation email if it has not gone
/// out: the send is claimed first by a conditional write, so racing confirms send it once.
pub(crate) async fn completed(services: &Services, item: &Item, mut request: SignupRequest) -> Result<Response> {
    let space_id = request.space_id.clone().unwrap_or_default();
    if !request.confirmation_sent {
        request.confirmation_sent = true;
        let claimed = item.next(&request)?;
        if services.store.write(Write::replace(claimed.clone())).await.is_ok() {
            let first_name = request.profile.as_ref().map(|p| p.first_name.clone()).unwrap_or_default();
            let mail = messages::signup_confirmed(
                request.email.as_str(),
                &first_name,
                &services.portal_link("/login"),
                request.locale,
            );
            if let Err(e) = services.mailer.send(&mail).await {
                // The account is active; give the email back to a retry of this step.
                tracing::warn!(error = %e, "confirmation email not sent");
                request.confirmation_sent = false;
                let _ = services.store.write(Write::replace(claimed.next(&request)?)).await;
            }
        }
    }
    Ok(json(
        StatusCode::CREATED,
        &Completed {
            status: "active",
            person_id: request.person_id,
            space_id,
            email: request.email,
            message: request.locale.pick(
                "La création de votre compte est complétée. Un courriel de confirmation vous a été envoyé.",
                "Your account is created. A confirmation email was sent to you.",
            ),
        },
    ))
}
