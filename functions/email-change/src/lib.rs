//! Changing the login email (seed 000, step 2), the second-factor phone and the alternate
//! email of a signed-in person.
//!
//! A new login email: a single-use link goes to the new address (the old one is told of the
//! request; it may be unreachable, and nothing waits for it); following the link, signed in,
//! asks for the second factor; only then, in one transaction, the uniqueness guard moves from
//! the old address to the new one and the person's email changes. Until then the old address
//! stays the login and the new one shows as pending; a newer request replaces an older one.
//! An address that belongs to another person gets the same answer (its owner is emailed
//! instead of a link).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::person_event as audit;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::messages::{self, CredentialChange};
use signet_shared::domain::people::account::{self, AlternateEmail, PendingEmail, Person, PhoneFactor};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::phone::{PhoneChannel, PhoneNumber};
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::otp::{self, CodeCheck, SentCode};
use signet_shared::domain::second_factor::step::{self, Commit, Purpose};
use signet_shared::domain::second_factor::{self, Answer};
use signet_shared::domain::secret_token;
use signet_shared::domain::sessions::session::Live;
use signet_shared::ports::store::{Condition, Item, Write};
use signet_shared::ports::Sealed;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::throttle, Error, ErrorCode, Result, Services};

signet_shared::routes! {
    GET "/account/email" => show,
    POST "/account/email" => request_change,
    POST "/account/email/verify" => verify_link,
    POST "/account/email/confirm" => confirm_change,
    POST "/account/phone" => request_phone_change,
    POST "/account/phone/confirm" => confirm_phone_change,
    POST "/account/alternate-email" => add_alternate,
    POST "/account/alternate-email/verify" => verify_alternate,
    DELETE "/account/alternate-email" => remove_alternate,
}

/// Change requests per person per hour.
const CHANGES_PER_HOUR: u32 = 5;
/// How many times one link may start the second factor (a lost code, a closed tab).
const LINK_STARTS: u32 = 3;
/// How long a phone change waits for its code.
const PHONE_CHANGE_TTL: i64 = 900;

// ---------------------------------------------------------------------------------------
// The addresses.

#[derive(Serialize)]
struct Addresses {
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alternate_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alternate_email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_channel: Option<PhoneChannel>,
}

fn addresses(person: &Person, now: i64) -> Addresses {
    let pending = person.pending_email.as_ref().filter(|p| p.expires_at > now);
    Addresses {
        email: person.email.to_string(),
        pending_email: pending.map(|p| p.email.to_string()),
        pending_expires_at: pending.map(|p| p.expires_at),
        alternate_email: person.alternate_email.as_ref().map(|a| a.email.to_string()),
        alternate_email_verified: person.alternate_email.as_ref().map(|a| a.verified),
        phone_hint: person.phone.as_ref().map(|p| p.hint.clone()),
        phone_channel: person.phone.as_ref().map(|p| p.channel),
    }
}

/// The login email, the pending one if any, the alternate one and the second-factor phone.
async fn show(State(services): State<Services>, Authenticated(_, live): Authenticated) -> Result<Response> {
    Ok(json(StatusCode::OK, &addresses(&live.person, services.now())))
}

// ---------------------------------------------------------------------------------------
// A new login email.

/// A change request (`EMAILCHANGE#<id>`; removed a day after its link expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChangeRequest {
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
struct ChangeBody {
    new_email: String,
}

#[derive(Serialize)]
struct ChangeRequested {
    status: &'static str,
    pending_email: String,
    expires_at: i64,
}

/// Asks for a new login email. The link goes to the new address — or, when that address
/// is another person's, a notice goes to its owner and no link exists; the requester gets
/// the same answer and sees the same pending address either way.
async fn request_change(
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
struct LinkBody {
    token: String,
}

/// Follows the link, signed in as the person who asked: the second factor is asked.
async fn verify_link(
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
struct ConfirmBody {
    challenge_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
}

#[derive(Serialize)]
struct EmailChanged {
    status: &'static str,
    email: String,
}

/// The second factor; then the login email changes, in one transaction: the guard moves
/// from the old address to the new one, the person's email changes, the request and the
/// step are used up. Five wrong codes end the change.
async fn confirm_change(
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
async fn change_email_round(
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
async fn end_change(services: &Services, context: &RequestContext, change_id: &str) -> Result<()> {
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

// ---------------------------------------------------------------------------------------
// The second-factor phone and its SMS/voice choice.

/// A phone change waiting for its code (`PERSON#<id>` / `PHONECHANGE`, expires).
#[derive(Serialize, Deserialize)]
struct PhoneChange {
    session_id: String,
    phone: Sealed,
    hint: String,
    channel: PhoneChannel,
    code: SentCode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    phone: String,
    channel: PhoneChannel,
}

#[derive(Serialize)]
struct PhoneCodeSent {
    status: &'static str,
    phone_hint: String,
    channel: PhoneChannel,
    code_expires_at: i64,
}

/// A new second-factor phone, or another channel for the same one (needs a re-authentication
/// within five minutes): a code goes to the new number by the chosen channel. A few changes
/// an hour per person and per source address: one re-authentication cannot have Signet call
/// number after number.
async fn request_phone_change(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, live): Authenticated,
    ApiJson(body): ApiJson<PhoneBody>,
) -> Result<Response> {
    let limits = &services.config.limits;
    let phone = PhoneNumber::parse(&body.phone, &limits.phone_countries)?;
    let now = services.now();
    live.require_recent_authentication(now)?;
    let mut number = otp::Number::Unverified;
    if let Some(current) = &live.person.phone {
        let current_number =
            account::open_person_phone(services.keys.as_ref(), &live.person.id, &current.phone).await?;
        if current_number == phone && current.channel == body.channel {
            return Err(Error::new(ErrorCode::NoChange).field("phone"));
        }
        if current_number == phone {
            // Only the channel changes: the number is the verified one.
            number = otp::Number::Verified;
        }
    }
    if second_factor::person_exhausted(&live.person, now) {
        return Err(Error::new(ErrorCode::TooManyRequests).retry_after(3600));
    }
    let store = services.store.as_ref();
    throttle::enforce(
        store,
        "phone-change-person",
        &live.person.id,
        3600,
        limits.phone_changes_per_person_per_hour,
        now,
    )
    .await?;
    throttle::enforce(
        store,
        "phone-change-source",
        &context.source_ip,
        3600,
        limits.phone_changes_per_source_per_hour,
        now,
    )
    .await?;
    // A newer request replaces a pending one and inherits its wrong codes.
    let carried = match services.store.get(&keys::phone_change(&live.person.id)).await? {
        Some(item) => item.decode::<PhoneChange>()?.code.failed_attempts,
        None => 0,
    };
    if carried >= services.config.limits.code_max_attempts {
        return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
    }
    let sealed = services.keys.seal(phone.as_str().as_bytes(), &account::person_phone_context(&live.person.id)).await?;
    let id = services.new_id();
    let (mut code_challenge, code) =
        SentCode::issue("phone_change", &id, body.channel, now, &services.config.limits, services.random.as_ref());
    code_challenge.failed_attempts = carried;
    let change = PhoneChange {
        session_id: claims.sid.clone(),
        phone: sealed,
        hint: phone.hint(),
        channel: body.channel,
        code: code_challenge,
    };
    otp::limit_sending(&services, &context.source_ip, &phone, number).await?;
    // A newer request replaces a pending one.
    let item = Item::new(keys::phone_change(&live.person.id), &change)?.expires_at(now + PHONE_CHANGE_TTL);
    services.store.write(Write::Put { item, condition: Condition::None }).await?;
    otp::deliver(&services, &phone, body.channel, &code, live.person.locale).await?;
    Ok(json(
        StatusCode::OK,
        &PhoneCodeSent {
            status: "code_sent",
            phone_hint: change.hint,
            channel: body.channel,
            code_expires_at: change.code.expires_at,
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneConfirmBody {
    code: String,
}

#[derive(Serialize)]
struct PhoneChanged {
    status: &'static str,
    phone_hint: String,
    channel: PhoneChannel,
}

/// The code received on the new number: it becomes the second factor. Five wrong codes end
/// the change; each is stored before it is answered.
async fn confirm_phone_change(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, first): Authenticated,
    ApiJson(body): ApiJson<PhoneConfirmBody>,
) -> Result<Response> {
    let first = Some(first);
    let (services, context, claims, code) = (&services, &context, &claims, body.code.as_str());
    let (person, change) = retry::optimistic_from(step::COMMIT_ROUNDS, retry::busy, first, |read| async move {
        // After a lost race, the session and the person are read again.
        let live = match read {
            Some(live) => live,
            None => Live::load(services, claims).await?,
        };
        confirm_phone_round(services, context, claims, &live, code).await
    })
    .await?;
    services.notify_credential_change(&person, CredentialChange::PhoneChanged).await;
    Ok(json(
        StatusCode::OK,
        &PhoneChanged { status: "phone_changed", phone_hint: change.hint, channel: change.channel },
    ))
}

/// One round of a phone confirmation on the session and person as `live` holds them.
async fn confirm_phone_round(
    services: &Services,
    context: &RequestContext,
    claims: &signet_shared::domain::sessions::access_token::AccessClaims,
    live: &Live,
    code: &str,
) -> Result<Round<(Person, PhoneChange), Option<Live>>> {
    let limits = &services.config.limits;
    let now = services.now();
    let item = services
        .store
        .get(&keys::phone_change(&live.person.id))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::Conflict))?;
    let mut change: PhoneChange = item.decode()?;
    if change.session_id != claims.sid {
        return Err(Error::new(ErrorCode::Conflict));
    }
    if second_factor::person_exhausted(&live.person, now) {
        return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
    }
    let check = change.code.check(code, now, limits);
    let (writes, event, outcome) = if check == CodeCheck::Valid {
        let mut person = live.person.clone();
        person.phone =
            Some(PhoneFactor { phone: change.phone.clone(), hint: change.hint.clone(), channel: change.channel });
        let mut session = live.session.clone();
        session.reauthenticated_at = None;
        let event = audit(
            services,
            context,
            "credential.phone_changed",
            &person.id,
            serde_json::json!({"channel": change.channel}),
        );
        let writes = vec![
            Write::replace(live.person_item.next(&person)?),
            Write::replace(live.session_item.next(&session)?),
            Write::Delete { key: item.key.clone(), condition: Condition::Version(item.version) },
            event.write(&services.new_id())?,
        ];
        (writes, Some(event), Ok(person))
    } else {
        let error = check.error().unwrap_or_else(|| Error::new(ErrorCode::CodeInvalid));
        // Exhausted, the change stays (with its count) until it expires: asking again
        // cannot reset it.
        let mut writes = vec![Write::replace(item.next(&change)?)];
        if matches!(check, CodeCheck::Wrong { .. } | CodeCheck::Exhausted) {
            let mut person = live.person.clone();
            person.factor_failures.record(now);
            writes.push(Write::replace(live.person_item.next(&person)?));
        }
        (writes, None, Err(error))
    };
    Ok(match step::try_commit(services, Commit { writes, event, then: outcome }).await? {
        Round::Again(()) => Round::Again(None),
        Round::Done(outcome) => Round::Done((outcome?, change)),
    })
}

// ---------------------------------------------------------------------------------------
// The alternate email.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlternateBody {
    email: String,
}

#[derive(Serialize)]
struct AlternateRequested {
    status: &'static str,
    alternate_email: String,
    expires_at: i64,
}

/// Sets an alternate address (replacing any); a link to it verifies it.
async fn add_alternate(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<AlternateBody>,
) -> Result<Response> {
    let email = EmailAddress::parse(&body.email).map_err(|e| e.field("email"))?;
    let now = services.now();
    // The alternate address can receive signature recovery: setting it is a credential change.
    live.require_recent_authentication(now)?;
    if email == live.person.email
        || live.person.alternate_email.as_ref().is_some_and(|a| a.email == email && a.verified)
    {
        return Err(Error::new(ErrorCode::NoChange).field("email"));
    }
    throttle::enforce(services.store.as_ref(), "alternate-email", &live.person.id, 3600, CHANGES_PER_HOUR, now).await?;
    let id = services.new_id();
    let token = secret_token::issue(&id, services.random.as_ref());
    let expires_at = now + services.config.limits.link_ttl;
    let mut person = live.person.clone();
    person.alternate_email = Some(AlternateEmail {
        email: email.clone(),
        verified: false,
        token_id: Some(id),
        token_hash: Some(token.hash),
        expires_at,
    });
    let event = audit(&services, &context, "alternate_email.requested", &person.id, serde_json::json!({}));
    services
        .store
        .transact(vec![Write::replace(live.person_item.next(&person)?), event.write(&services.new_id())?])
        .await?;
    event.log();
    let link = services.portal_link(&format!("/account/alternate-email/verify?token={}", token.token));
    services
        .mailer
        .send(&messages::alternate_email_link(
            email.as_str(),
            &link,
            services.config.limits.link_ttl / 60,
            person.locale,
        ))
        .await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &AlternateRequested { status: "confirmation_sent", alternate_email: email.to_string(), expires_at },
    ))
}

#[derive(Serialize)]
struct AlternateVerified {
    status: &'static str,
    alternate_email: String,
}

/// Follows the alternate address's link, signed in as its person.
async fn verify_alternate(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<Response> {
    let invalid = || Error::new(ErrorCode::LinkInvalid).field("token");
    let presented = secret_token::parse(&body.token).ok_or_else(invalid)?;
    let mut person = live.person.clone();
    let alternate = person.alternate_email.as_mut().ok_or_else(invalid)?;
    let hash = alternate.token_hash.clone().filter(|_| alternate.token_id.as_deref() == Some(presented.id));
    if !hash.is_some_and(|h| presented.matches(&h)) {
        return Err(if alternate.verified { Error::new(ErrorCode::LinkUsed).field("token") } else { invalid() });
    }
    if services.now() >= alternate.expires_at {
        return Err(Error::new(ErrorCode::LinkExpired).field("token"));
    }
    alternate.verified = true;
    alternate.token_id = None;
    alternate.token_hash = None;
    let address = alternate.email.to_string();
    let event = audit(&services, &context, "alternate_email.verified", &person.id, serde_json::json!({}));
    services
        .store
        .transact(vec![Write::replace(live.person_item.next(&person)?), event.write(&services.new_id())?])
        .await?;
    event.log();
    services.notify_credential_change(&person, CredentialChange::AlternateEmailAdded).await;
    Ok(json(StatusCode::OK, &AlternateVerified { status: "alternate_email_verified", alternate_email: address }))
}

/// Removes the alternate address.
async fn remove_alternate(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
) -> Result<Response> {
    let mut person = live.person.clone();
    let Some(removed) = person.alternate_email.take() else { return Err(Error::new(ErrorCode::NotFound)) };
    let event = audit(&services, &context, "alternate_email.removed", &person.id, serde_json::json!({}));
    services
        .store
        .transact(vec![Write::replace(live.person_item.next(&person)?), event.write(&services.new_id())?])
        .await?;
    event.log();
    if removed.verified {
        services.notify_credential_change(&person, CredentialChange::AlternateEmailRemoved).await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
