//! Re-authentication: the password and the second factor again, in the same session, valid
//! five minutes for the credential changes that need it.

use crate::audit;
use crate::second_step::FactorRequired;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::password::{self, Verified};
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::step::{self, Begun, Commit, Purpose};
use signet_shared::domain::second_factor::Answer;
use signet_shared::domain::sessions::session::{self, Session};
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReauthBody {
    password: String,
}

#[derive(Serialize)]
pub(crate) struct Reauthenticated {
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
pub(crate) async fn wrong_reauth_password(
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
pub(crate) async fn finish_reauth(
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
