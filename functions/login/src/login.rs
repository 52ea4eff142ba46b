//! Signing in: a password (by email or organisation identifier) or a Google identity, then
//! the second factor, then the customer space when the person has several.
//!
//! A password login costs one argon2id hash, three key lookups (the source's failures, the
//! guard, the person), the attempt counted (see [`crate::attempts`]) and the write of the
//! login step; unknown accounts and wrong passwords answer alike (unknown ones hash a dummy,
//! so they take as long), and a throttled one is told to wait, whoever it is.

use crate::attempts::{count_attempt, count_source_failure, failed, source_state, unknown_account, wait};
use crate::audit;
use crate::second_step::after_second_factor;
use crate::second_step::FactorRequired;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Person};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::password::{self, Verified};
use signet_shared::domain::second_factor::step::{self, Begun, Purpose};
use signet_shared::domain::sessions::devices;
use signet_shared::ports::store::{Key, Write};
use signet_shared::web::browser::cookie_value;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    identifier: Option<String>,
    password: String,
    #[serde(default)]
    device: Option<String>,
    /// The device token of an app that signed in before (browsers send their cookie).
    #[serde(default)]
    device_token: Option<String>,
}

pub(crate) fn device(label: Option<String>) -> String {
    label.unwrap_or_else(|| "unknown device".into()).chars().take(120).collect()
}

/// The guard key of what the person typed: an email, or an organisation identifier.
fn guard_key(body: &LoginBody) -> Result<(Key, String)> {
    match (&body.email, &body.identifier) {
        (Some(email), None) => {
            // An identifier typed in the email field is accepted too.
            if let Some(identifier) = account::parse_identifier(email) {
                return Ok((keys::identifier_guard(&identifier), identifier));
            }
            let email = EmailAddress::parse(email)?;
            Ok((keys::email_guard(&email), email.to_string()))
        }
        (None, Some(identifier)) => {
            let identifier = account::parse_identifier(identifier).ok_or_else(|| Error::new(ErrorCode::LoginFailed))?;
            Ok((keys::identifier_guard(&identifier), identifier))
        }
        _ => Err(Error::new(ErrorCode::InvalidRequest).field("email")),
    }
}

/// A password login. Failures are throttled per account first: a growing delay after the
/// third, at most 100 an hour, during which every attempt is answered "wait N seconds"
/// without being checked or counted. A trusted device (one that signed in before, see
/// [`signet_shared::domain::sessions::devices`]) is judged by its own failures instead of everyone else's.
///
/// Each attempt is counted before its password is checked (and the count cleared when it is
/// right): concurrent guesses are counted one by one against the allowance, never all
/// checked against the same count.
pub(crate) async fn login(
    State(services): State<Services>,
    context: RequestContext,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response> {
    let (guard, login_name) = guard_key(&body)?;
    if body.password.chars().count() > 128 {
        return Err(failed());
    }
    let store = services.store.as_ref();
    let source = source_state(&services, &context).await?;
    let person = match store.get(&guard).await? {
        Some(guard) => {
            let guard: account::EmailGuard = guard.decode()?;
            store.get(&keys::person(&guard.person_id)).await?
        }
        // An unknown address makes the same calls as a known one with a wrong password:
        // one more read, the attempt counted, its failure recorded.
        None => return unknown_account(&services, &context, &login_name, body.password, &source).await,
    };
    let decoded: Option<Person> = person.as_ref().map(|i| i.decode()).transpose()?;
    let (Some(item), Some(person)) = (person, decoded) else {
        // A guard without its person: treated as unknown.
        let _ = password::verify(body.password, None, services.config.argon2).await?;
        count_source_failure(&services, &context).await?;
        return Err(failed());
    };
    let presented = body.device_token.as_deref().or_else(|| cookie_value(&headers, devices::DEVICE_COOKIE));
    let device_id = devices::trusted(&services, presented, &person).await?;
    let device_id = device_id.as_deref();
    if source.closed && device_id.is_none() {
        return Err(wait(source.over.unwrap_or(1)));
    }
    let (item, mut person) = count_attempt(&services, item, person, device_id).await?;
    let verified = password::verify(body.password, Some(person.password_hash.clone()), services.config.argon2).await?;
    if verified == Verified::No {
        let event = audit(
            &services,
            &context,
            "login.password_failed",
            &person.id,
            serde_json::json!({"trusted_device": device_id.is_some(), "failures": person.failures_of(device_id).count}),
        );
        services.store.write(event.write(&services.new_id())?).await?;
        event.log();
        count_source_failure(&services, &context).await?;
        // A trusted device is not held back by its source's other clients.
        return Err(match source.over.filter(|_| device_id.is_none()) {
            Some(seconds) => wait(seconds),
            None => failed(),
        });
    }
    if let Verified::YesRehashed(new_hash) = verified {
        person.password_hash = new_hash;
    }
    person.clear_login_failures(device_id);
    let writes = vec![Write::replace(item.next(&person)?)];
    second_factor(&services, &context, &person, vec!["pwd".into()], device(body.device), writes).await
}

/// After the first factor: begins the login step; a person without a second factor is
/// signed in (or offered their spaces) at once.
pub(crate) async fn second_factor(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    amr: Vec<String>,
    device: String,
    writes: Vec<Write>,
) -> Result<Response> {
    if let Some(until) = person.temporary_password_until {
        if services.now() >= until {
            // The right temporary password, too late: "forgot password" gives a new start.
            services.store.transact(writes).await?;
            return Err(Error::new(ErrorCode::TemporaryPasswordExpired));
        }
    }
    let Begun { token, challenge, view } =
        step::begin(services, context, person, Purpose::Login { device }, amr, writes).await?;
    if person.needs_setup() {
        return Ok(crate::setup::setup_required(&token, person));
    }
    if challenge.factor.is_passed() {
        return after_second_factor(services, context, &token, None).await;
    }
    Ok(json(StatusCode::OK, &FactorRequired { status: "second_factor_required", login_token: token, factor: view }))
}
