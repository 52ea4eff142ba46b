//! Security questions and the reset of a forgotten PIN (seed 003, step 12). The questions
//! are defined (at least three, after a re-authentication) and serve one thing: with a
//! second-factor session, resetting a signature's PIN. Three wrong answers within a day lock
//! the reset for a day and email the person; each wrong answer is stored before it is
//! answered, so concurrent guesses are counted one by one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::{person_event as audit, RequestContext};
use signet_shared::domain::keys;
use signet_shared::domain::people::security_questions::{self, Answered, Checked, SecurityQuestions};
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::signatures::pin;
use signet_shared::domain::signatures::subscription::Subscription;
use signet_shared::domain::{calendar, messages};
use signet_shared::ports::store::{Item, StoreError};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Serialize)]
struct Question {
    id: &'static str,
    text: &'static str,
}

#[derive(Serialize)]
struct QuestionList {
    questions: Vec<Question>,
}

/// The questions one may choose, in the request's language.
pub(crate) async fn list(RequestLocale(locale): RequestLocale) -> Result<Response> {
    let questions =
        security_questions::QUESTIONS.iter().map(|(id, fr, en)| Question { id, text: locale.pick(fr, en) }).collect();
    Ok(json(StatusCode::OK, &QuestionList { questions }))
}

#[derive(Serialize)]
struct Defined {
    questions: Vec<String>,
    locked_until: Option<i64>,
}

async fn stored(services: &Services, person_id: &str) -> Result<Option<(Item, SecurityQuestions)>> {
    match services.store.get(&keys::security_questions(person_id)).await? {
        Some(item) => {
            let questions = item.decode()?;
            Ok(Some((item, questions)))
        }
        None => Ok(None),
    }
}

/// The questions I defined (never the answers).
pub(crate) async fn show(State(services): State<Services>, Authenticated(_, live): Authenticated) -> Result<Response> {
    let defined = stored(&services, &live.person.id).await?;
    let (questions, locked_until) = match defined {
        Some((_, q)) => (q.answers.into_iter().map(|a| a.question).collect(), q.locked_until),
        None => (vec![], None),
    };
    Ok(json(StatusCode::OK, &Defined { questions, locked_until }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DefineBody {
    answers: Vec<Answered>,
    /// To replace defined questions: the current answers (all of them).
    #[serde(default)]
    current_answers: Vec<Answered>,
}

/// Defines my questions after a re-authentication within five minutes; replacing them also
/// takes the current answers (counted like a PIN reset's: three wrong ones lock both for a
/// day). A lock in force stays. I am emailed, and no PIN is reset with them for three days.
pub(crate) async fn define(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<DefineBody>,
) -> Result<Response> {
    let now = services.now();
    live.require_recent_authentication(now)?;
    let person = &live.person;
    let mut questions = security_questions::define(&body.answers, services.config.argon2, now).await?;
    let previous = stored(&services, &person.id).await?;
    if let Some((item, mut old)) = previous.clone() {
        old.ensure_unlocked(now)?;
        if let Some(error) = check_current(&services, &context, person, item, &mut old, &body.current_answers).await? {
            return Err(error);
        }
        questions.locked_until = old.locked_until.filter(|until| *until > now);
    }
    let detail = serde_json::json!({"count": questions.answers.len(), "replaced": previous.is_some()});
    let event = audit(&services, &context, "security_questions.defined", &person.id, detail);
    let read = previous.as_ref().map(|(i, _)| i);
    let writes = vec![questions.write(&person.id, read)?, event.write(&services.new_id())?];
    retry::or_conflict(services.store.transact(writes).await)?;
    event.log();
    let email = messages::security_questions_changed(person.email.as_str(), &calendar::utc(now), person.locale);
    services.send_notice(&email, "security questions defined").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Checks the current answers before a replacement; a wrong one is stored (counted, perhaps
/// locking) before it is answered: `Some(error)` then.
async fn check_current(
    services: &Services,
    context: &RequestContext,
    person: &signet_shared::domain::people::account::Person,
    item: signet_shared::ports::store::Item,
    old: &mut SecurityQuestions,
    current: &[Answered],
) -> Result<Option<Error>> {
    let now = services.now();
    if current.is_empty() {
        return Err(Error::new(ErrorCode::InvalidRequest).field("current_answers"));
    }
    let error = match old.check(current, services.config.argon2, now).await? {
        Checked::Right => return Ok(None),
        Checked::Wrong { locked: true, .. } => Error::new(ErrorCode::PinResetLocked).retry_after(86400),
        Checked::Wrong { remaining, .. } => {
            Error::new(ErrorCode::SecurityAnswersWrong).field("current_answers").remaining_attempts(remaining)
        }
    };
    let event = audit(services, context, "security_questions.replace_failed", &person.id, serde_json::json!({}));
    let writes = vec![old.write(&person.id, Some(&item))?, event.write(&services.new_id())?];
    retry::or_conflict(services.store.transact(writes).await)?;
    event.log();
    if let Some(until) = old.locked_until.filter(|_| error.code == ErrorCode::PinResetLocked) {
        let email = messages::pin_reset_locked(person.email.as_str(), &calendar::utc(until), person.locale);
        services.send_notice(&email, "pin reset locked").await;
    }
    Ok(Some(error))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetBody {
    answers: Vec<Answered>,
    pin: String,
}

/// Resets a forgotten PIN of a signature I hold: a second-factor session and the answers to
/// all my questions.
pub(crate) async fn reset(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, live): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Response> {
    if !claims.amr.iter().any(|m| matches!(m.as_str(), "sms" | "tel" | "otp" | "backup_code")) {
        return Err(Error::new(ErrorCode::SecondFactorMissing));
    }
    pin::check(&body.pin)?;
    let not_found = || Error::new(ErrorCode::NotFound).field("id");
    if !signet_shared::domain::crypto::is_random_id(&id) {
        return Err(not_found());
    }
    let sub: Subscription = services.store.get(&keys::subscription(&id)).await?.ok_or_else(not_found)?.decode()?;
    if sub.holder_id != live.person.id {
        return Err(not_found());
    }
    let (services, context, person, body, id) = (&services, &context, &live.person, &body, id.as_str());
    let now = services.now();
    let outcome = retry::optimistic(16, retry::busy, || async move {
        let (item, mut questions) =
            stored(services, &person.id).await?.ok_or_else(|| Error::new(ErrorCode::SecurityQuestionsMissing))?;
        questions.ensure_unlocked(now)?;
        questions.ensure_settled(now)?;
        let checked = questions.check(&body.answers, services.config.argon2, now).await?;
        let mut writes = vec![questions.write(&person.id, Some(&item))?];
        let (action, outcome) = match checked {
            Checked::Right => {
                writes.push(pin::set_write(id, &body.pin, services.config.argon2, now).await?);
                ("signature.pin_reset", Ok(()))
            }
            Checked::Wrong { locked: true, .. } => {
                ("signature.pin_reset_locked", Err(Error::new(ErrorCode::PinResetLocked).retry_after(86400)))
            }
            Checked::Wrong { remaining, .. } => (
                "signature.pin_reset_failed",
                Err(Error::new(ErrorCode::SecurityAnswersWrong).field("answers").remaining_attempts(remaining)),
            ),
        };
        let event = audit(services, context, action, &person.id, serde_json::json!({"subscription_id": id}));
        writes.push(event.write(&services.new_id())?);
        match services.store.transact(writes).await {
            Ok(()) => {
                event.log();
                Ok(Round::Done((outcome, questions.locked_until)))
            }
            Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(())),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let email = match (&outcome.0, outcome.1) {
        (Ok(()), _) => messages::pin_reset(person.email.as_str(), &calendar::utc(now), person.locale),
        (Err(e), Some(until)) if e.code == ErrorCode::PinResetLocked => {
            messages::pin_reset_locked(person.email.as_str(), &calendar::utc(until), person.locale)
        }
        (Err(_), _) => return outcome.0.map(|()| StatusCode::NO_CONTENT.into_response()),
    };
    services.send_notice(&email, "pin reset").await;
    outcome.0.map(|()| StatusCode::NO_CONTENT.into_response())
}
