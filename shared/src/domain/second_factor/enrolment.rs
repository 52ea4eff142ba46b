//! The enrolment of a second factor at a first sign-in (or after a reset): what the login's
//! set-up steps share. A set-up is a login step whose person must first choose a new password
//! (in place of a temporary one) and enrol a factor: a phone, confirmed by a code, or an
//! authenticator app. The phone's code is sent by the function that parses phone numbers
//! (the account's, email-change); the login confirms it and opens the session.

use crate::domain::audit::RequestContext;
use crate::domain::keys;
use crate::domain::people::account::{self, Person};
use crate::domain::people::phone::{PhoneChannel, PhoneNumber};
use crate::domain::second_factor::otp::{self, SentCode};
use crate::domain::second_factor::step::{self, Step};
use crate::domain::{second_factor, secret_token, throttle};
use crate::ports::store::{Condition, Item, Write};
use crate::ports::Sealed;
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};

/// How long a phone enrolment waits for its code.
pub const PHONE_TTL: i64 = 900;

/// The login step of a set-up token and its person (with their items), as stored.
pub struct Setup {
    /// The step's item.
    pub step_item: Item,
    /// The login step.
    pub step: Step,
    /// The person's item.
    pub person_item: Item,
    /// The person.
    pub person: Person,
}

/// The set-up of a login token: its step and person; `login_invalid` when the token is not a
/// live login step, or the person's password changed since it began.
pub async fn load(services: &Services, token: &str) -> Result<Setup> {
    let (step_item, step) = step::load(services, token, Some("login")).await?;
    let invalid = || Error::new(ErrorCode::LoginInvalid).field("login_token");
    let person_item = services.store.get(&keys::person(&step.person_id)).await?.ok_or_else(invalid)?;
    let person: Person = person_item.decode()?;
    if person.session_epoch != step.epoch {
        return Err(invalid());
    }
    Ok(Setup { step_item, step, person_item, person })
}

/// After a reset of the second factor, the token of the link emailed with it: without it a
/// password alone would choose the next second factor.
pub fn require_enrolment_link(person: &Person, token: Option<&str>, now: i64) -> Result<()> {
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
pub fn require_factor_step(person: &Person) -> Result<()> {
    if person.temporary_password_until.is_some() {
        return Err(Error::new(ErrorCode::SetupRequired).field("password"));
    }
    if person.phone.is_some() || person.confirmed_totp().is_some() {
        return Err(Error::new(ErrorCode::Conflict));
    }
    Ok(())
}

/// A phone being enrolled (`PERSON#<id>` / `SETUP#PHONE`, expires).
#[derive(Serialize, Deserialize)]
pub struct PendingPhone {
    /// The login step it belongs to.
    pub step_id: String,
    /// The number, sealed (context: `purpose=phone`, `person=<id>`).
    pub phone: Sealed,
    /// Its hint.
    pub hint: String,
    /// SMS or voice.
    pub channel: PhoneChannel,
    /// The code sent.
    pub code: SentCode,
}

/// A code sent to the phone being enrolled.
#[derive(Serialize)]
pub struct CodeSent {
    /// `code_sent`.
    pub status: &'static str,
    /// The login token (unchanged).
    pub login_token: String,
    /// The number's hint.
    pub phone_hint: String,
    /// SMS or voice.
    pub channel: PhoneChannel,
    /// When the code expires.
    pub code_expires_at: i64,
}

/// The phone to enrol: a code goes to it by the chosen channel. Bounded like a phone change
/// (per person and per source address, and per number): a set-up step cannot have Signet
/// call number after number.
pub async fn request_phone(
    services: &Services,
    context: &RequestContext,
    token: &str,
    (typed, channel): (&str, PhoneChannel),
    enrolment_token: Option<&str>,
) -> Result<CodeSent> {
    let Setup { step, person, .. } = load(services, token).await?;
    require_factor_step(&person)?;
    let now = services.now();
    require_enrolment_link(&person, enrolment_token, now)?;
    let limits = &services.config.limits;
    let phone = PhoneNumber::parse(typed, &limits.phone_countries)?;
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
        SentCode::issue("setup_phone", &step.id, channel, now, limits, services.random.as_ref());
    code_challenge.failed_attempts = carried;
    let pending = PendingPhone { step_id: step.id, phone: sealed, hint: phone.hint(), channel, code: code_challenge };
    otp::limit_sending(services, &context.source_ip, &phone, otp::Number::Unverified).await?;
    let item = Item::new(keys::setup_phone(&person.id), &pending)?.expires_at(now + PHONE_TTL);
    store.write(Write::Put { item, condition: Condition::None }).await?;
    otp::deliver(services, &phone, channel, &code, person.locale).await?;
    Ok(CodeSent {
        status: "code_sent",
        login_token: token.to_owned(),
        phone_hint: pending.hint,
        channel,
        code_expires_at: pending.code.expires_at,
    })
}

/// The set-up of a token and the enrolment it awaits a code for (its item, and the
/// enrolment): `conflict` when none is waiting for this step; no more tries once the person
/// has given too many wrong answers this hour.
pub async fn awaited<T: serde::de::DeserializeOwned>(
    services: &Services,
    token: &str,
    key: fn(&str) -> crate::ports::store::Key,
    step_of: fn(&T) -> &String,
) -> Result<(Setup, Item, T)> {
    let s = load(services, token).await?;
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
