//! A new login email: the request (a link to the new address, a notice to the old one), the
//! link, then the second factor; the change is committed with the step used up.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::person_event as audit;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::messages::{self};
use signet_shared::domain::people::account::{self, PendingEmail, Person};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::step::{self, Commit, Purpose};
use signet_shared::domain::second_factor::Answer;
use signet_shared::domain::secret_token;
use signet_shared::ports::store::{Condition, Item, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::throttle, Error, ErrorCode, Result, Services};

/// Change requests per person per hour.
pub(crate) const CHANGES_PER_HOUR: u32 = 5;

/// How many times one link may start the second factor (a lost code, a closed tab).
pub(crate) const LINK_STARTS: u32 = 3;

/// A change request (`EMAILCHANGE#<id>`; removed a day after its link expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChangeRequest {
    token_hash: String,
    person_id: String,
    old_email: EmailAddress,
    new_email: EmailAddress,
    expires_at: i64,
    /// Second-factor steps begun from the link.
    starts: u32,
    /// The current step (a new one replaces it and inherits its wrong answers).
    #[serde(default)]
    step_id: Option<String>,
    /// Set once the email changed, or the change ended (too many wrong codes).
    finished: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeBody {
    new_email: String,
}

#[derive(Serialize)]
pub(crate) struct ChangeRequested {
    status: &'static str,
    pending_email: String,
    expires_at: i64,
}

/// Asks for a new login email. The link goes to the new address — or, when that address
/// is another person's, a notice goes to its owner and no link exists; the requester gets
/// the same answer and sees the same pending address either way.
pub(crate) async fn request_change(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Response> {
    let new_email = EmailAddress::parse(&body.new_email).map_err(|e| e.field("new_email"))?;
    let store = services.store.as_ref();
    let now = services.now();
    if new_email == live.person.email {
        return Err(Error::new(ErrorCode::NoChange).field("new_email"));
    }
    // The link alone never moves a login: without a second factor there is nothing to ask.
    if live.person.phone.is_none() && live.person.confirmed_totp().is_none() {
        return Err(Error::new(ErrorCode::SecondFactorMissing));
    }
    throttle::enforce(store, "email-change", &live.person.id, 3600, CHANGES_PER_HOUR, now).await?;
    let owner = store.get(&keys::email_guard(&new_email)).await?;
    let taken_by_other =
        owner.map(|g| g.decode::<account::EmailGuard>()).transpose()?.is_some_and(|g| g.person_id != live.person.id);
    let id = services.new_id();
    let token = secret_token::issue(&id, services.random.as_ref());
    let expires_at = now + services.config.limits.link_ttl;
    let request = ChangeRequest {
        token_hash: token.hash,
        person_id: live.person.id.clone(),
        old_email: live.person.email.clone(),
        new_email: new_email.clone(),
        expires_at,
        starts: 0,
        step_id: None,
        // A change to a taken address can never complete; its link is never sent.
        finished: taken_by_other.then(|| "address_taken".to_owned()),
    };
    let mut person = live.person.clone();
    person.pending_email = Some(PendingEmail { change_id: id.clone(), email: new_email.clone(), expires_at });
    let event = audit(&services, &context, "email_change.requested", &person.id, serde_json::json!({"change_id": id}));
    let writes = vec![
        // Kept a day past its link, so that a late click is told "expired", not "invalid".
        Write::create(Item::new(keys::email_change(&id), &request)?.expires_at(expires_at + 86400)),
        // A newer request replaces the pending one (its link stops working).
        Write::replace(live.person_item.next(&person)?),
        event.write(&services.new_id())?,
    ];
    let message = if taken_by_other {
        messages::email_change_address_taken(new_email.as_str(), person.locale)
    } else {
        let link = services.portal_link(&format!("/account/email/verify?token={}", token.token));
        messages::email_change_link(new_email.as_str(), &link, services.config.limits.link_ttl / 60, person.locale)
    };
    // The link goes out first: a failed email changes nothing (the pending change and its
    // link stay as they were), and a link whose request was not stored leads nowhere.
    services.mailer.send(&message).await?;
    store.transact(writes).await?;
    event.log();
    // The old address may be unreachable (the reason for the change): never blocking.
    services
        .send_notice(
            &messages::email_change_requested(
                person.email.as_str(),
                &messages::email_hint(new_email.as_str()),
                person.locale,
            ),
            "email change requested",
        )
        .await;
    Ok(json(
        StatusCode::ACCEPTED,
        &ChangeRequested { status: "confirmation_sent", pending_email: new_email.to_string(), expires_at },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkBody {
    pub(crate) token: String,
}

/// Follows the link, signed in as the person who asked: the second factor is asked.
pub(crate) async fn verify_link(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, live): Authenticated,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<Response> {
    let invalid = || Error::new(ErrorCode::LinkInvalid).field("token");
    let presented = secret_token::parse(&body.token).ok_or_else(invalid)?;
    let now = services.now();
    let item = services.store.get(&keys::email_change(presented.id)).await?.ok_or_else(invalid)?;
    let mut request: ChangeRequest = item.decode()?;
    // Another person's link, signed in or not, is not a link for this one.
    if !presented.matches(&request.token_hash) || request.person_id != live.person.id {
        return Err(invalid());
    }
    if now >= request.expires_at {
        return Err(Error::new(ErrorCode::LinkExpired).field("token"));
    }
    let current = live.person.pending_email.as_ref().is_some_and(|p| p.change_id == presented.id);
    if request.finished.is_some() || !current || request.starts >= LINK_STARTS {
        return Err(Error::new(ErrorCode::LinkUsed).field("token"));
    }
    // A new step replaces the previous one and inherits its wrong answers: opening the link
    // again never buys more tries.
    let replacement = step::replacing(&services, request.step_id.as_deref()).await?;
    request.starts += 1;
    request.step_id = Some(replacement.id.clone());
    let writes = vec![Write::replace(item.next(&request)?)];
    let purpose = Purpose::EmailChange { change_id: presented.id.to_owned(), session_id: claims.sid.clone() };
    let asked = step::begin_replacement(&services, &context, &live.person, replacement, purpose, writes).await?;
    Ok(json(StatusCode::OK, &asked))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfirmBody {
    challenge_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct EmailChanged {
    status: &'static str,
    email: String,
}

/// The second factor; then the login email changes, in one transaction: the guard moves
/// from the old address to the new one, the person's email changes, the request and the
/// step are used up. Five wrong codes end the change.
pub(crate) async fn confirm_change(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response> {
    let answer = Some(Answer::from_fields(body.code.as_deref(), body.backup_code.as_deref())?);
    let (_, begun) = step::load(&services, &body.challenge_token, Some("email_change")).await?;
    let Purpose::EmailChange { change_id, session_id } = begun.purpose.clone() else {
        return Err(Error::new(ErrorCode::LoginInvalid));
    };
    if session_id != claims.sid || begun.person_id != claims.sub {
        return Err(Error::new(ErrorCode::LoginInvalid).field("challenge_token"));
    }
    let (old, person) = retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || {
        change_email_round(&services, &context, &body.challenge_token, &change_id, answer)
    })
    .await?;
    let new = person.email.as_str();
    for to in [new, old.as_str()] {
        services.send_notice(&messages::email_changed(to, old.as_str(), new, person.locale), "email changed").await;
    }
    Ok(json(StatusCode::OK, &EmailChanged { status: "email_changed", email: new.to_owned() }))
}

/// One round of the change: the answer checked on the fresh step, then the new address
/// committed with the step used up; the old address and the person once committed.
pub(crate) async fn change_email_round(
    services: &Services,
    context: &RequestContext,
    token: &str,
    change_id: &str,
    answer: Option<Answer<'_>>,
) -> Result<Round<(EmailAddress, Person)>> {
    let store = services.store.as_ref();
    let mut passed = match step::answer(services, context, token, "email_change", answer).await {
        Ok(passed) => passed,
        Err(e) if e.code == ErrorCode::CodeAttemptsExceeded => {
            end_change(services, context, change_id).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if answer.is_some() && !passed.fresh {
        return Err(Error::new(ErrorCode::Conflict));
    }
    let now = services.now();
    let request_item =
        store.get(&keys::email_change(change_id)).await?.ok_or_else(|| Error::new(ErrorCode::LinkExpired))?;
    let mut request: ChangeRequest = request_item.decode()?;
    let current = passed.person.pending_email.as_ref().is_some_and(|p| p.change_id == change_id);
    if request.finished.is_some() || !current || request.step_id.as_deref() != Some(passed.challenge.id.as_str()) {
        return Err(Error::new(ErrorCode::LinkUsed));
    }
    if now >= request.expires_at {
        return Err(Error::new(ErrorCode::LinkExpired));
    }
    if store.get(&keys::email_guard(&request.new_email)).await?.is_some() {
        // Taken since the request (a sign-up, another change): the mailbox holder asking
        // may be told.
        return Err(Error::new(ErrorCode::AccountExists));
    }
    let old = passed.person.email.clone();
    passed.person.email = request.new_email.clone();
    passed.person.pending_email = None;
    passed.challenge.completed = Some("email_changed".into());
    request.finished = Some("email_changed".into());
    let event = audit(
        services,
        context,
        "email_change.completed",
        &passed.person.id,
        serde_json::json!({"change_id": change_id, "amr": passed.challenge.amr}),
    );
    let writes = vec![
        Write::replace(passed.item.next(&passed.challenge)?),
        Write::replace(passed.person_item.next(&passed.person)?),
        Write::Delete { key: keys::email_guard(&old), condition: Condition::None },
        Write::create(Item::new(
            keys::email_guard(&request.new_email),
            &account::EmailGuard { person_id: passed.person.id.clone() },
        )?),
        Write::replace(request_item.next(&request)?),
        event.write(&services.new_id())?,
    ];
    let then = (old, passed.person.clone());
    step::try_commit(services, Commit { writes, event: Some(event), then }).await
}

/// Ends a change after too many wrong codes: the request is finished and no longer pending.
pub(crate) async fn end_change(services: &Services, context: &RequestContext, change_id: &str) -> Result<()> {
    let store = services.store.as_ref();
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let Some(item) = store.get(&keys::email_change(change_id)).await? else { return Ok(Round::Done(())) };
        let mut request: ChangeRequest = item.decode()?;
        if request.finished.is_some() {
            return Ok(Round::Done(()));
        }
        let person_item =
            store.get(&keys::person(&request.person_id)).await?.ok_or_else(|| Error::new(ErrorCode::LoginInvalid))?;
        let mut person: Person = person_item.decode()?;
        request.finished = Some("too_many_codes".into());
        let mut writes = vec![Write::replace(item.next(&request)?)];
        if person.pending_email.as_ref().is_some_and(|p| p.change_id == change_id) {
            person.pending_email = None;
            writes.push(Write::replace(person_item.next(&person)?));
        }
        let event = audit(
            services,
            context,
            "email_change.ended_too_many_codes",
            &person.id,
            serde_json::json!({"change_id": change_id}),
        );
        writes.push(event.write(&services.new_id())?);
        step::try_commit(services, Commit { writes, event: Some(event), then: () }).await
    })
    .await
}
