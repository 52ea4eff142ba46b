//! The first sign-in of an account that is not set up (seed 003, step 9; seed 004): one
//! with a temporary password, or without a second factor (a new member, or one whose factor
//! an administrator reset). The login step it gets can only choose a new password, then
//! enrol a second factor (a phone, confirmed by a code sent by SMS or voice call, or an
//! authenticator app, confirmed by its first code); only then does it open a session. A
//! person without a second factor never gets a session on a password alone.

use crate::audit;
use crate::second_step::after_second_factor;
use crate::totp::{PendingTotp, ENROLMENT_TTL};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Person, PhoneFactor};
use signet_shared::domain::people::password::{self, Verified};
use signet_shared::domain::people::phone::{PhoneChannel, PhoneNumber};
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::otp::{self, CodeCheck, SentCode};
use signet_shared::domain::second_factor::step::{self, Commit, Step};
use signet_shared::domain::second_factor::totp::{self, TotpCheck, TotpFactor};
use signet_shared::domain::second_factor::{self};
use signet_shared::domain::secret_token;
use signet_shared::ports::store::{Condition, Item, Write};
use signet_shared::ports::Sealed;
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::throttle, Error, ErrorCode, Result, Services};

/// How long a phone enrolment waits for its code.
const PHONE_TTL: i64 = 900;

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

/// The login step of a set-up token and its person (with their items), as stored.
struct SetupState {
    step_item: Item,
    step: Step,
    person_item: Item,
    person: Person,
}

async fn state(services: &Services, token: &str) -> Result<SetupState> {
    let (step_item, step) = step::load(services, token, Some("login")).await?;
    let invalid = || Error::new(ErrorCode::LoginInvalid).field("login_token");
    let person_item = services.store.get(&keys::person(&step.person_id)).await?.ok_or_else(invalid)?;
    let person: Person = person_item.decode()?;
    if person.session_epoch != step.epoch {
        return Err(invalid());
    }
    Ok(SetupState { step_item, step, person_item, person })
}

/// After a set-up step: what is still missing, or the session (or the choice of space).
async fn next(services: &Services, context: &RequestContext, token: &str, person: &Person) -> Result<Response> {
    if person.needs_setup() {
        return Ok(setup_required(token, person));
    }
    after_second_factor(services, context, token, None).await
}

/// After a reset of the second factor, the token of the link emailed with it: without it a
/// password alone would choose the next second factor.
fn require_enrolment_link(person: &Person, token: Option<&str>, now: i64) -> Result<()> {
    let Some(link) = &person.enrolment_link else { return Ok(()) };
    let presented = token.and_then(secret_token::parse);
    if !presented.is_some_and(|t| t.matches(&link.token_hash)) {
        return Err(Error::new(ErrorCode::LinkInvalid).field("enrolment_token"));
    }
    if now >= link.expires_at {
        return Err(Error::new(ErrorCode::LinkExpired).field("enrolment_token"));
    }
    Ok(())
}

/// A set-up step that needs the temporary password replaced first, and no factor yet.
fn require_factor_step(person: &Person) -> Result<()> {
    if person.temporary_password_until.is_some() {
        return Err(Error::new(ErrorCode::SetupRequired).field("password"));
    }
    if person.phone.is_some() || person.confirmed_totp().is_some() {
        return Err(Error::new(ErrorCode::Conflict));
    }
    Ok(())
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
    let SetupState { person_item, mut person, .. } = state(&services, &body.login_token).await?;
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
    services.store.transact(writes).await.map_err(|e| match e {
        signet_shared::ports::store::StoreError::ConditionFailed(_) => retry::conflict(),
        e => e.into(),
    })?;
    event.log();
    next(&services, &context, &body.login_token, &person).await
}

/// A phone being enrolled (`PERSON#<id>` / `SETUP#PHONE`, expires).
#[derive(Serialize, Deserialize)]
struct PendingPhone {
    step_id: String,
    phone: Sealed,
    hint: String,
    channel: PhoneChannel,
    code: SentCode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneBody {
    login_token: String,
    phone: String,
    channel: PhoneChannel,
    #[serde(default)]
    enrolment_token: Option<String>,
}

#[derive(Serialize)]
struct CodeSent {
    status: &'static str,
    login_token: String,
    phone_hint: String,
    channel: PhoneChannel,
    code_expires_at: i64,
}

/// The phone to enrol: a code goes to it by the chosen channel. Bounded like a phone change
/// (per person and per source address, and per number): a set-up step cannot have Signet
/// call number after number.
pub(crate) async fn request_phone(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<PhoneBody>,
) -> Result<Response> {
    let SetupState { step, person, .. } = state(&services, &body.login_token).await?;
    require_factor_step(&person)?;
    require_enrolment_link(&person, body.enrolment_token.as_deref(), services.now())?;
    let limits = &services.config.limits;
    let phone = PhoneNumber::parse(&body.phone, &limits.phone_countries)?;
    let now = services.now();
    second_factor::ensure_person_may_try(&person, now)?;
    let store = services.store.as_ref();
    let per_hour = limits.phone_changes_per_person_per_hour;
    throttle::enforce(store, "phone-change-person", &person.id, 3600, per_hour, now).await?;
    let per_source = limits.phone_changes_per_source_per_hour;
    throttle::enforce(store, "phone-change-source", &context.source_ip, 3600, per_source, now).await?;
    // A newer request replaces a pending one and inherits its wrong codes.
    let carried = match store.get(&keys::setup_phone(&person.id)).await? {
        Some(item) => item.decode::<PendingPhone>()?.code.failed_attempts,
        None => 0,
    };
    if carried >= limits.code_max_attempts {
        return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
    }
    let sealed = services.keys.seal(phone.as_str().as_bytes(), &account::person_phone_context(&person.id)).await?;
    let (mut code_challenge, code) =
        SentCode::issue("setup_phone", &step.id, body.channel, now, limits, services.random.as_ref());
    code_challenge.failed_attempts = carried;
    let pending = PendingPhone {
        step_id: step.id,
        phone: sealed,
        hint: phone.hint(),
        channel: body.channel,
        code: code_challenge,
    };
    otp::limit_sending(&services, &context.source_ip, &phone, otp::Number::Unverified).await?;
    let item = Item::new(keys::setup_phone(&person.id), &pending)?.expires_at(now + PHONE_TTL);
    store.write(Write::Put { item, condition: Condition::None }).await?;
    otp::deliver(&services, &phone, body.channel, &code, person.locale).await?;
    let sent = CodeSent {
        status: "code_sent",
        login_token: body.login_token,
        phone_hint: pending.hint,
        channel: body.channel,
        code_expires_at: pending.code.expires_at,
    };
    Ok(json(StatusCode::OK, &sent))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    login_token: String,
    code: String,
}

/// The set-up step of a token and the enrolment it awaits a code for (its item, and the
/// enrolment): `conflict` when none is waiting for this step; no more tries once the person
/// has given too many wrong answers this hour.
async fn awaited<T: serde::de::DeserializeOwned>(
    services: &Services,
    token: &str,
    key: fn(&str) -> signet_shared::ports::store::Key,
    step_of: fn(&T) -> &String,
) -> Result<(SetupState, Item, T)> {
    let s = state(services, token).await?;
    require_factor_step(&s.person)?;
    let conflict = || Error::new(ErrorCode::Conflict);
    let item = services.store.get(&key(&s.person.id)).await?.ok_or_else(conflict)?;
    let pending: T = item.decode()?;
    if *step_of(&pending) != s.step.id {
        return Err(conflict());
    }
    if second_factor::person_exhausted(&s.person, services.now()) {
        return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
    }
    Ok((s, item, pending))
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
            awaited::<PendingPhone>(services, &body.login_token, keys::setup_phone, |p| &p.step_id).await?;
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
    s: SetupState,
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
    let SetupState { step, person, .. } = state(&services, &body.login_token).await?;
    require_factor_step(&person)?;
    require_enrolment_link(&person, body.enrolment_token.as_deref(), services.now())?;
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
            awaited::<PendingTotp>(services, &body.login_token, keys::pending_app, |p| &p.session_id).await?;
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
