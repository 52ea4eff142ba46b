//! The authenticator app: enrolled, confirmed by a first code (it becomes the second
//! factor), removed.

use crate::audit;
use crate::commit_credential_change;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::messages::CredentialChange;
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::step::{self, Commit};
use signet_shared::domain::second_factor::totp::{self, TotpCheck, TotpFactor};
use signet_shared::domain::second_factor::{self};
use signet_shared::domain::sessions::session::Live;
use signet_shared::ports::store::{Item, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

/// How long an enrolment waits for its first code.
pub(crate) const ENROLMENT_TTL: i64 = 900;

/// An enrolment waiting for its first code (`PERSON#<id>` / `TOTP#PENDING`, expires).
#[derive(Serialize, Deserialize)]
pub(crate) struct PendingTotp {
    pub(crate) factor: TotpFactor,
    pub(crate) failed_attempts: u32,
    /// The session that began it (or, at a first sign-in, the login step): only it may confirm.
    pub(crate) session_id: String,
}

/// Starts an enrolment: a new seed (sealed under the key service), its `otpauth://` URI and
/// QR code, and ten backup codes, shown once. A newer enrolment replaces a pending one; an
/// enrolled app keeps working until the new one is confirmed.
pub(crate) async fn enrol_totp(
    State(services): State<Services>,
    Authenticated(claims, live): Authenticated,
) -> Result<Response> {
    let now = services.now();
    live.require_recent_authentication(now)?;
    let (seed, enrolment, hashes, salt) = totp::enrol(live.person.email.as_str(), services.random.as_ref())?;
    let sealed = services.keys.seal(&seed, &totp::seed_context(&live.person.id)).await?;
    let pending = PendingTotp {
        factor: TotpFactor { seed: sealed, confirmed: false, last_step: 0, backup_codes: hashes, backup_salt: salt },
        failed_attempts: 0,
        session_id: claims.sid.clone(),
    };
    let item = Item::new(keys::pending_app(&live.person.id), &pending)?.expires_at(now + ENROLMENT_TTL);
    services.store.write(Write::Put { item, condition: signet_shared::ports::store::Condition::None }).await?;
    let mut response = json(StatusCode::CREATED, &enrolment);
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfirmBody {
    code: String,
}

#[derive(Serialize)]
pub(crate) struct TotpEnabled {
    status: &'static str,
    backup_codes_remaining: usize,
}

/// Confirms an enrolment with a first code of the app: the app becomes the second factor.
/// Wrong codes count against the enrolment (five end it) and the person's hourly cap, each
/// stored before it is answered.
pub(crate) async fn confirm_totp(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, first): Authenticated,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response> {
    let first = Some(first);
    let (services, context, claims, code) = (&services, &context, &claims, body.code.as_str());
    let (person, remaining) = retry::optimistic_from(step::COMMIT_ROUNDS, retry::busy, first, |read| async move {
        // After a lost race, the session and the person are read again.
        let live = match read {
            Some(live) => live,
            None => Live::load(services, claims).await?,
        };
        confirm_totp_round(services, context, claims, &live, code).await
    })
    .await?;
    services.notify_credential_change(&person, CredentialChange::TotpEnabled).await;
    Ok(json(StatusCode::OK, &TotpEnabled { status: "totp_enabled", backup_codes_remaining: remaining }))
}

/// One round of an enrolment's confirmation on the session and person as `live` holds them.
pub(crate) async fn confirm_totp_round(
    services: &Services,
    context: &RequestContext,
    claims: &signet_shared::domain::sessions::access_token::AccessClaims,
    live: &Live,
    code: &str,
) -> Result<Round<(signet_shared::domain::people::account::Person, usize), Option<Live>>> {
    let limits = &services.config.limits;
    let now = services.now();
    let item = services
        .store
        .get(&keys::pending_app(&live.person.id))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::Conflict))?;
    let mut pending: PendingTotp = item.decode()?;
    if pending.session_id != claims.sid {
        return Err(Error::new(ErrorCode::Conflict));
    }
    if second_factor::person_exhausted(&live.person, now) {
        return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
    }
    let mut person = live.person.clone();
    let seed = services.keys.open(&pending.factor.seed, &totp::seed_context(&person.id)).await?;
    let pending_delete = Write::Delete {
        key: item.key.clone(),
        condition: signet_shared::ports::store::Condition::Version(item.version),
    };
    let (writes, event, outcome) = match pending.factor.check(&seed, code, now)? {
        TotpCheck::Valid(_) => {
            let remaining = pending.factor.backup_codes.len();
            person.totp = Some(pending.factor);
            let event = audit(
                services,
                context,
                "credential.totp_enabled",
                &person.id,
                serde_json::json!({"session_id": claims.sid}),
            );
            let writes =
                vec![Write::replace(live.person_item.next(&person)?), pending_delete, event.write(&services.new_id())?];
            (writes, Some(event), Ok(remaining))
        }
        TotpCheck::Wrong | TotpCheck::Replayed => {
            pending.failed_attempts += 1;
            person.factor_failures.record(now);
            let ended =
                pending.failed_attempts >= limits.code_max_attempts || second_factor::person_exhausted(&person, now);
            let (pending_write, error) = if ended {
                (pending_delete, Error::new(ErrorCode::CodeAttemptsExceeded))
            } else {
                let remaining = limits.code_max_attempts - pending.failed_attempts;
                (
                    Write::replace(item.next(&pending)?),
                    Error::new(ErrorCode::CodeInvalid).field("code").remaining_attempts(remaining),
                )
            };
            (vec![pending_write, Write::replace(live.person_item.next(&person)?)], None, Err(error))
        }
    };
    Ok(match step::try_commit(services, Commit { writes, event, then: outcome }).await? {
        Round::Again(()) => Round::Again(None),
        Round::Done(outcome) => Round::Done((person, outcome?)),
    })
}

/// Removes the authenticator app; the phone becomes the second factor again. Refused when
/// the person has no phone (they would be left without a second factor).
pub(crate) async fn remove_totp(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_claims, live): Authenticated,
) -> Result<Response> {
    live.require_recent_authentication(services.now())?;
    if live.person.totp.is_none() {
        return Err(Error::new(ErrorCode::NotFound));
    }
    if live.person.phone.is_none() {
        return Err(Error::new(ErrorCode::Conflict));
    }
    let mut person = live.person.clone();
    person.totp = None;
    commit_credential_change(&services, &context, &live, &person, live.session.clone(), "credential.totp_disabled")
        .await?;
    services.notify_credential_change(&person, CredentialChange::TotpDisabled).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
