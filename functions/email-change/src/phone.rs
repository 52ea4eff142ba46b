//! The second-factor phone and its SMS/voice choice: a code to the new number confirms it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::person_event as audit;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::messages::CredentialChange;
use signet_shared::domain::people::account::{self, Person, PhoneFactor};
use signet_shared::domain::people::phone::{PhoneChannel, PhoneNumber};
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::otp::{self, CodeCheck, SentCode};
use signet_shared::domain::second_factor::step::{self, Commit};
use signet_shared::domain::second_factor::{self};
use signet_shared::domain::sessions::session::Live;
use signet_shared::ports::store::{Condition, Item, Write};
use signet_shared::ports::Sealed;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::throttle, Error, ErrorCode, Result, Services};

/// How long a phone change waits for its code.
pub(crate) const PHONE_CHANGE_TTL: i64 = 900;

/// A phone change waiting for its code (`PERSON#<id>` / `PHONECHANGE`, expires).
#[derive(Serialize, Deserialize)]
pub(crate) struct PhoneChange {
    session_id: String,
    phone: Sealed,
    hint: String,
    channel: PhoneChannel,
    code: SentCode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneBody {
    phone: String,
    channel: PhoneChannel,
}

#[derive(Serialize)]
pub(crate) struct PhoneCodeSent {
    status: &'static str,
    phone_hint: String,
    channel: PhoneChannel,
    code_expires_at: i64,
}

/// A new second-factor phone, or another channel for the same one (needs a re-authentication
/// within five minutes): a code goes to the new number by the chosen channel. A few changes
/// an hour per person and per source address: one re-authentication cannot have Signet call
/// number after number.
pub(crate) async fn request_phone_change(
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
pub(crate) struct PhoneConfirmBody {
    code: String,
}

#[derive(Serialize)]
pub(crate) struct PhoneChanged {
    status: &'static str,
    phone_hint: String,
    channel: PhoneChannel,
}

/// The code received on the new number: it becomes the second factor. Five wrong codes end
/// the change; each is stored before it is answered.
pub(crate) async fn confirm_phone_change(
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
pub(crate) async fn confirm_phone_round(
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
