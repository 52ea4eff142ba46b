//! The credential changes of a signed-in person. Each needs a fresh re-authentication in
//! the same session — the password and the second factor again — valid five minutes.
//! Every change is audited in its transaction and notified to the account's email.

use crate::login::FactorRequired;
use crate::{access_token, audit};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::messages::CredentialChange;
use signet_shared::domain::people::password::{self, Verified};
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::step::{self, Begun, Commit, Purpose};
use signet_shared::domain::second_factor::totp::{self, TotpCheck, TotpFactor};
use signet_shared::domain::second_factor::{self, Answer};
use signet_shared::domain::sessions::session::{self, Live, Session};
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

// ---------------------------------------------------------------------------------------
// Re-authentication.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReauthBody {
    password: String,
}

#[derive(Serialize)]
struct Reauthenticated {
    status: &'static str,
    valid_until: i64,
}

/// The password again; then the second factor (the same step as at login). Wrong
/// passwords count against this session's own allowance (the same growing delay and hourly
/// cap as at login), never against the account's: an attacker guessing at the login form
/// does not stop the owner confirming their identity in a session they hold. Each attempt is
/// counted before its password is checked; the tenth wrong one ends the session.
pub(crate) async fn reauth(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, live): Authenticated,
    ApiJson(body): ApiJson<ReauthBody>,
) -> Result<Response> {
    let now = services.now();
    let store = services.store.as_ref();
    let read = (live.session_item.clone(), live.session.clone());
    // The attempt is counted before the password is checked.
    let (item, mut session) = retry::optimistic_from(32, retry::busy, read, |(item, mut session)| async move {
        if let Some(seconds) = session.reauth_failures.wait(now) {
            return Err(Error::new(ErrorCode::TooManyRequests).retry_after(seconds));
        }
        session.reauth_failures.record(now);
        let next = item.next(&session)?;
        match store.write(Write::replace(next.clone())).await {
            Ok(()) => Ok(Round::Done((next, session))),
            Err(StoreError::ConditionFailed(_)) => {
                let item = store.get(&item.key).await?.ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
                let session: Session = item.decode()?;
                if session.revoked.is_some() {
                    return Err(Error::new(ErrorCode::TokenInvalid));
                }
                Ok(Round::Again((item, session)))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let stored = Some(live.person.password_hash.clone()).filter(|_| body.password.chars().count() <= 128);
    let verified = password::verify(body.password, stored, services.config.argon2).await?;
    let mut person = live.person.clone();
    if verified == Verified::No {
        return wrong_reauth_password(&services, &context, item, session).await;
    }
    let mut writes = Vec::new();
    if let Verified::YesRehashed(hash) = verified {
        person.password_hash = hash;
        writes.push(Write::replace(live.person_item.next(&person)?));
    }
    session.reauth_failures = Default::default();
    writes.push(Write::replace(item.next(&session)?));
    let Begun { token, challenge, view } = step::begin(
        &services,
        &context,
        &person,
        Purpose::Reauth { session_id: claims.sid.clone() },
        vec!["pwd".into()],
        writes,
    )
    .await?;
    if challenge.factor.is_passed() {
        return finish_reauth(&services, &context, &token, None, &claims.sid).await;
    }
    Ok(json(StatusCode::OK, &FactorRequired { status: "second_factor_required", login_token: token, factor: view }))
}

/// A wrong re-authentication password (already counted): audited, and the tenth of the
/// session ends it.
async fn wrong_reauth_password(
    services: &Services,
    context: &RequestContext,
    item: Item,
    session: Session,
) -> Result<Response> {
    retry::optimistic_from(32, retry::busy, (item, session), |(item, mut session)| async move {
        session.reauth_failures_total += 1;
        let ended = session.reauth_failures_total >= session::REAUTH_FAILURES_BEFORE_REVOCATION;
        let event = audit(
            services,
            context,
            "reauth.password_failed",
            &session.person_id,
            serde_json::json!({"session_id": session.id, "session_ended": ended}),
        );
        let write = if ended {
            session::revocation(&item, &mut session, "reauthentication_failures")?
        } else {
            Write::replace(item.next(&session)?)
        };
        match services.store.transact(vec![write, event.write(&services.new_id())?]).await {
            Ok(()) => {
                event.log();
                Err(if ended {
                    Error::new(ErrorCode::TokenInvalid)
                } else {
                    Error::new(ErrorCode::PasswordIncorrect).field("password")
                })
            }
            Err(StoreError::ConditionFailed(_)) => {
                let item = services.store.get(&item.key).await?.ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
                let session: Session = item.decode()?;
                Ok(Round::Again((item, session)))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReauthCodeBody {
    #[serde(alias = "login_token")]
    challenge_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
}

pub(crate) async fn reauth_code(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    ApiJson(body): ApiJson<ReauthCodeBody>,
) -> Result<Response> {
    let answer = Answer::from_fields(body.code.as_deref(), body.backup_code.as_deref())?;
    // Only the session that began the step may finish it.
    let (_, begun) = step::load(&services, &body.challenge_token, Some("reauth")).await?;
    if begun.purpose != (Purpose::Reauth { session_id: claims.sid.clone() }) || begun.person_id != claims.sub {
        return Err(Error::new(ErrorCode::LoginInvalid).field("challenge_token"));
    }
    finish_reauth(&services, &context, &body.challenge_token, Some(answer), &claims.sid).await
}

/// Checks the answer, then marks the session re-authenticated and the step used, in one
/// transaction (checked again on the fresh state when it loses a race).
async fn finish_reauth(
    services: &Services,
    context: &RequestContext,
    token: &str,
    answer: Option<Answer<'_>>,
    session_id: &str,
) -> Result<Response> {
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let mut passed = step::answer(services, context, token, "reauth", answer).await?;
        if answer.is_some() && !passed.fresh {
            return Err(Error::new(ErrorCode::Conflict));
        }
        let now = services.now();
        let item =
            services.store.get(&keys::session(session_id)).await?.ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
        let mut session: Session = item.decode()?;
        if session.revoked.is_some() || session.epoch != passed.person.session_epoch {
            return Err(Error::new(ErrorCode::TokenInvalid));
        }
        session.reauthenticated_at = Some(now);
        passed.challenge.completed = Some(session_id.to_owned());
        let event = audit(
            services,
            context,
            "reauth.succeeded",
            &passed.person.id,
            serde_json::json!({"session_id": session_id, "amr": passed.challenge.amr}),
        );
        let mut writes = passed.writes()?;
        writes.push(Write::replace(item.next(&session)?));
        writes.push(event.write(&services.new_id())?);
        let then = json(
            StatusCode::OK,
            &Reauthenticated { status: "reauthenticated", valid_until: now + session::REAUTHENTICATION_SECONDS },
        );
        step::try_commit(services, Commit { writes, event: Some(event), then }).await
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Password change.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    new_password: String,
}

#[derive(Serialize)]
struct PasswordChanged {
    status: &'static str,
    token_type: &'static str,
    access_token: String,
    expires_in: i64,
    other_sessions_ended: usize,
    /// This device stays trusted with the new password (also set as a cookie).
    device_token: String,
}

/// A new password: the session epoch moves on, so every other session ends (their refresh
/// tokens fail); this session follows the new epoch and gets a new access token.
pub(crate) async fn change_password(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response> {
    let now = services.now();
    live.require_recent_authentication(now)?;
    password::check_policy(&body.new_password, Some(live.person.email.as_str()))
        .map_err(|e| e.field("new_password"))?;
    let hash = password::hash(body.new_password, services.config.argon2).await?;
    let mut person = live.person.clone();
    person.password_hash = hash;
    person.session_epoch += 1;
    // A new password: the old one's failures, and the devices trusted with it, are gone.
    person.login_failures = Default::default();
    person.device_failures.clear();
    let mut session = live.session.clone();
    session.epoch = person.session_epoch;
    // A re-authentication serves one change.
    session.reauthenticated_at = None;
    let event = audit(
        &services,
        &context,
        "credential.password_changed",
        &person.id,
        serde_json::json!({"session_id": session.id}),
    );
    let writes = vec![
        Write::replace(live.person_item.next(&person)?),
        Write::replace(live.session_item.next(&session)?),
        event.write(&services.new_id())?,
    ];
    services.store.transact(writes).await?;
    event.log();
    // Already ended by the epoch; marked revoked so that they leave the session list.
    let ended = session::revoke_all_except(&services, &person.id, Some(&session.id), "password_changed").await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "sessions not all marked revoked after a password change (their epoch ended them)");
        0
    });
    services.notify_credential_change(&person, CredentialChange::PasswordChanged).await;
    let (access_token, expires_in) = access_token(&services, &session, now).await?;
    let device_token =
        signet_shared::domain::sessions::devices::issue(&services, &person.id, person.session_epoch).await?;
    let mut response = json(
        StatusCode::OK,
        &PasswordChanged {
            status: "password_changed",
            token_type: "Bearer",
            access_token,
            expires_in,
            other_sessions_ended: ended,
            device_token: device_token.clone(),
        },
    );
    signet_shared::web::auth::set_device_cookie(&services, &mut response, &device_token);
    Ok(response)
}

// ---------------------------------------------------------------------------------------
// Authenticator app.

/// How long an enrolment waits for its first code.
const ENROLMENT_TTL: i64 = 900;

/// An enrolment waiting for its first code (`PERSON#<id>` / `TOTP#PENDING`, expires).
#[derive(Serialize, Deserialize)]
struct PendingTotp {
    factor: TotpFactor,
    failed_attempts: u32,
    /// The session that began it: only it may confirm.
    session_id: String,
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
struct TotpEnabled {
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
async fn confirm_totp_round(
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
    Authenticated(claims, live): Authenticated,
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
    let mut session = live.session.clone();
    session.reauthenticated_at = None;
    let event = audit(
        &services,
        &context,
        "credential.totp_disabled",
        &person.id,
        serde_json::json!({"session_id": claims.sid}),
    );
    let writes = vec![
        Write::replace(live.person_item.next(&person)?),
        Write::replace(live.session_item.next(&session)?),
        event.write(&services.new_id())?,
    ];
    services.store.transact(writes).await?;
    event.log();
    services.notify_credential_change(&person, CredentialChange::TotpDisabled).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
