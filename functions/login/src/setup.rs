//! The first sign-in of an account that is not set up (seed 003, step 9; seed 004): one
//! with a temporary password, or without a second factor (a new member, or one whose factor
//! an administrator reset). The login step it gets can only choose a new password, then
//! enrol a second factor (a phone, confirmed by a code sent by SMS or voice call, or an
//! authenticator app, confirmed by its first code); only then does it open a session. A
//! person without a second factor never gets a session on a password alone.
//!
//! The phone's code is sent by the email-change function (`POST /login/setup/phone`: it
//! parses phone numbers, which this function does not carry); the rest is here, with what
//! both share in [`signet_shared::domain::second_factor::enrolment`].

use crate::audit;
use crate::second_step::after_second_factor;
use crate::totp::{PendingTotp, ENROLMENT_TTL};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{Person, PhoneFactor};
use signet_shared::domain::people::password::{self, Verified};
use signet_shared::domain::people::phone::PhoneChannel;
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::enrolment::{self, PendingPhone, Setup};
use signet_shared::domain::second_factor::otp::CodeCheck;
use signet_shared::domain::second_factor::step::{self, Commit};
use signet_shared::domain::second_factor::totp::{self, TotpCheck, TotpFactor};
use signet_shared::domain::second_factor::{self};
use signet_shared::ports::store::{Condition, Item, Write};
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

/// What a login answers when the account must be set up first.
#[derive(Serialize)]
pub(crate) struct SetupRequired {
    status: &'static str,
    login_token: String,
    password_change_required: bool,
    second_factor_required: bool,
    /// After a reset: the enrolment needs the token of the link emailed with it.
    enrolment_link_required: bool,
}

/// The answer that asks for the set-up still missing.
pub(crate) fn setup_required(token: &str, person: &Person) -> Response {
    json(
        StatusCode::OK,
        &SetupRequired {
            status: "setup_required",
            login_token: token.to_owned(),
            password_change_required: person.temporary_password_until.is_some(),
            second_factor_required: person.phone.is_none() && person.confirmed_totp().is_none(),
            enrolment_link_required: person.enrolment_link.is_some(),
        },
    )
}

/// After a set-up step: what is still missing, or the session (or the choice of space).
async fn next(services: &Services, context: &RequestContext, token: &str, person: &Person) -> Result<Response> {
    if person.needs_setup() {
        return Ok(setup_required(token, person));
    }
    after_second_factor(services, context, token, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    login_token: String,
    password: String,
}

/// The new password in place of the temporary one (the usual policy; not the temporary one).
pub(crate) async fn set_password(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response> {
    let Setup { person_item, mut person, .. } = enrolment::load(&services, &body.login_token).await?;
    let Some(until) = person.temporary_password_until else { return Err(Error::new(ErrorCode::Conflict)) };
    if services.now() >= until {
        return Err(Error::new(ErrorCode::TemporaryPasswordExpired));
    }
    password::check_policy(&body.password, Some(person.email.as_str()))?;
    let same =
        password::verify(body.password.clone(), Some(person.password_hash.clone()), services.config.argon2).await?;
    if same != Verified::No {
        return Err(Error::new(ErrorCode::NoChange).field("password"));
    }
    person.password_hash = password::hash(body.password, services.config.argon2).await?;
    person.temporary_password_until = None;
    let event = audit(&services, &context, "account.setup_password_set", &person.id, serde_json::json!({}));
    let writes = vec![Write::replace(person_item.next(&person)?), event.write(&services.new_id())?];
    retry::or_conflict(services.store.transact(writes).await)?;
    event.log();
    next(&services, &context, &body.login_token, &person).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    login_token: String,
    code: String,
}

/// The code received on the phone: it becomes the second factor, and the sign-in goes on.
/// Wrong codes count like any (five end the enrolment), each stored before it is answered.
pub(crate) async fn confirm_phone(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response> {
    let (services, context, body) = (&services, &context, &body);
    let person = retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let (s, item, mut pending) =
            enrolment::awaited::<PendingPhone>(services, &body.login_token, keys::setup_phone, |p| &p.step_id).await?;
        let now = services.now();
        let check = pending.code.check(&body.code, now, &services.config.limits);
        let mut person = s.person.clone();
        let delete = Write::Delete { key: item.key.clone(), condition: Condition::Version(item.version) };
        if check == CodeCheck::Valid {
            let amr = if pending.channel == PhoneChannel::Sms { "sms" } else { "tel" };
            person.phone = Some(PhoneFactor { phone: pending.phone, hint: pending.hint, channel: pending.channel });
            return enrolled(services, context, s, person, delete, amr).await;
        }
        person.factor_failures.record(now);
        let pending_write = match check {
            CodeCheck::Wrong { .. } => Write::replace(item.next(&pending)?),
            _ => delete,
        };
        let writes = vec![pending_write, Write::replace(s.person_item.next(&person)?)];
        let error = check.error().unwrap_or_else(|| Error::new(ErrorCode::CodeInvalid));
        step::try_commit(services, Commit { writes, event: None, then: Err(error) }).await
    })
    .await??;
    next(services, context, &body.login_token, &person).await
}

/// Commits an enrolled factor: the person, the step's methods (the factor's proof joins the
/// password's), the pending enrolment deleted, the audit event.
async fn enrolled(
    services: &Services,
    context: &RequestContext,
    s: Setup,
    person: Person,
    pending_delete: Write,
    amr: &str,
) -> Result<Round<Result<Person>>> {
    let mut step = s.step;
    step.amr.push(amr.to_owned());
    // The reset's link is used up with the enrolment.
    let mut person = person;
    person.enrolment_link = None;
    let event =
        audit(services, context, "account.setup_factor_enrolled", &person.id, serde_json::json!({"method": amr}));
    let writes = vec![
        Write::replace(s.person_item.next(&person)?),
        Write::replace(s.step_item.next(&step)?),
        pending_delete,
        event.write(&services.new_id())?,
    ];
    step::try_commit(services, Commit { writes, event: Some(event), then: Ok(person) }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenBody {
    login_token: String,
    #[serde(default)]
    enrolment_token: Option<String>,
}

/// An authenticator app to enrol: its seed (sealed), `otpauth://` URI, QR code and backup
/// codes, shown once.
pub(crate) async fn enrol_app(State(services): State<Services>, ApiJson(body): ApiJson<TokenBody>) -> Result<Response> {
    let Setup { step, person, .. } = enrolment::load(&services, &body.login_token).await?;
    enrolment::require_factor_step(&person)?;
    enrolment::require_enrolment_link(&person, body.enrolment_token.as_deref(), services.now())?;
    let (seed, enrolment, hashes, salt) = totp::enrol(person.email.as_str(), services.random.as_ref())?;
    let sealed = services.keys.seal(&seed, &totp::seed_context(&person.id)).await?;
    let pending = PendingTotp {
        factor: TotpFactor { seed: sealed, confirmed: false, last_step: 0, backup_codes: hashes, backup_salt: salt },
        failed_attempts: 0,
        session_id: step.id,
    };
    let item = Item::new(keys::pending_app(&person.id), &pending)?.expires_at(services.now() + ENROLMENT_TTL);
    services.store.write(Write::Put { item, condition: Condition::None }).await?;
    let mut response = json(StatusCode::CREATED, &enrolment);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The app's first code: it becomes the second factor, and the sign-in goes on.
pub(crate) async fn confirm_app(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response> {
    let (services, context, body) = (&services, &context, &body);
    let person = retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let (s, item, mut pending) =
            enrolment::awaited::<PendingTotp>(services, &body.login_token, keys::pending_app, |p| &p.session_id)
                .await?;
        let now = services.now();
        let seed = services.keys.open(&pending.factor.seed, &totp::seed_context(&s.person.id)).await?;
        let delete = Write::Delete { key: item.key.clone(), condition: Condition::Version(item.version) };
        let mut person = s.person.clone();
        if let TotpCheck::Valid(_) = pending.factor.check(&seed, &body.code, now)? {
            person.totp = Some(pending.factor);
            return enrolled(services, context, s, person, delete, "otp").await;
        }
        pending.failed_attempts += 1;
        person.factor_failures.record(now);
        let limit = services.config.limits.code_max_attempts;
        let ended = pending.failed_attempts >= limit || second_factor::person_exhausted(&person, now);
        let (pending_write, error) = if ended {
            (delete, Error::new(ErrorCode::CodeAttemptsExceeded))
        } else {
            let remaining = limit - pending.failed_attempts;
            (
                Write::replace(item.next(&pending)?),
                Error::new(ErrorCode::CodeInvalid).field("code").remaining_attempts(remaining),
            )
        };
        let writes = vec![pending_write, Write::replace(s.person_item.next(&person)?)];
        step::try_commit(services, Commit { writes, event: None, then: Err(error) }).await
    })
    .await??;
    next(services, context, &body.login_token, &person).await
}
