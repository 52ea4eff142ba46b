//! Password attempts, throttled per account first: each attempt is counted against the
//! allowance it is judged by (the account's, a trusted device's) before its password is
//! checked, and refused with "wait N seconds" — uncounted, unchecked, alike for every account
//! known or not — while the allowance says to wait. A source address's failures are counted
//! too: past a limit its wrong passwords wait, past a ceiling it waits before any check but
//! for its trusted devices.

use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Person};
use signet_shared::domain::people::password;
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::throttle;
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::{Error, ErrorCode, Result, Services};

/// Failed logins per source address per hour. Past it, the source's wrong passwords are
/// answered "wait"; a right one still goes on to the second factor (a whole company behind
/// one address is not locked out by one of its machines).
const FAILURES_PER_SOURCE_PER_HOUR: u32 = 300;
/// Past ten times that, a source is refused before any password is checked, but for its
/// trusted devices: it bounds the hashing one address can make Signet do.
const SOURCE_CEILING_PER_HOUR: u32 = 10 * FAILURES_PER_SOURCE_PER_HOUR;
/// The throttle scope of failed logins per source address.
const SOURCE_FAILURES: &str = "login-failures";

/// Counts a failed login against its source address.
pub(crate) async fn count_source_failure(services: &Services, context: &RequestContext) -> Result<()> {
    throttle::hit(services.store.as_ref(), SOURCE_FAILURES, &context.source_ip, 3600, u32::MAX, services.now()).await?;
    Ok(())
}

/// What a source address's failures this hour allow.
pub(crate) struct Source {
    /// Over the limit: wrong passwords wait this long (the rest of the hour).
    pub over: Option<u64>,
    /// Over the ceiling: nothing but trusted devices until the hour is over.
    pub closed: bool,
}

pub(crate) async fn source_state(services: &Services, context: &RequestContext) -> Result<Source> {
    let now = services.now();
    let failures = throttle::count(services.store.as_ref(), SOURCE_FAILURES, &context.source_ip, 3600, now).await?;
    let rest_of_hour = (3600 - now.rem_euclid(3600)) as u64;
    Ok(Source {
        over: (failures >= FAILURES_PER_SOURCE_PER_HOUR).then_some(rest_of_hour),
        closed: failures >= SOURCE_CEILING_PER_HOUR,
    })
}

/// A wrong password, or no such account: the two answer alike.
pub(crate) fn failed() -> Error {
    Error::new(ErrorCode::LoginFailed)
}

/// "Wait this long before trying again": the same for every account, known or not, and
/// whatever the password (it is not even checked), so it tells nothing.
pub(crate) fn wait(seconds: u64) -> Error {
    Error::new(ErrorCode::TooManyRequests).retry_after(seconds)
}

/// Counts an attempt against the allowance it is judged by, before its password is
/// checked; refused ("wait N seconds", uncounted) when the allowance says to wait. A write
/// that loses a race is made again on the fresh person, its wait checked again: parallel
/// attempts are each counted, and those past the allowance wait.
pub(crate) async fn count_attempt(
    services: &Services,
    item: Item,
    person: Person,
    device: Option<&str>,
) -> Result<(Item, Person)> {
    let store = services.store.as_ref();
    let now = services.now();
    retry::optimistic_from(32, retry::busy, (item, person), |(item, mut person)| async move {
        if let Some(seconds) = person.failures_of(device).wait(now) {
            return Err(wait(seconds));
        }
        person.record_login_failure(device, now);
        let next = item.next(&person)?;
        match store.write(Write::replace(next.clone())).await {
            Ok(()) => Ok(Round::Done((next, person))),
            Err(StoreError::ConditionFailed(_)) => {
                let item = store.get(&item.key).await?.ok_or_else(failed)?;
                let person: Person = item.decode()?;
                Ok(Round::Again((item, person)))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The failed login of a name without an account: its failures are kept under the name and
/// throttled as an account's are (the same waits, the attempt counted before the dummy hash
/// is checked, parallel attempts each counted), and the calls are those of a wrong password
/// for a real account.
pub(crate) async fn unknown_account(
    services: &Services,
    context: &RequestContext,
    login_name: &str,
    password: String,
    source: &Source,
) -> Result<axum::response::Response> {
    let store = services.store.as_ref();
    let now = services.now();
    if source.closed {
        return Err(wait(source.over.unwrap_or(1)));
    }
    let key = keys::login_failures(login_name);
    let key = &key;
    retry::optimistic(32, retry::busy, || async move {
        let current = store.get(key).await?;
        let mut failures: account::LoginFailures =
            current.as_ref().map(|i| i.decode()).transpose()?.unwrap_or_default();
        if let Some(seconds) = failures.wait(now) {
            return Err(wait(seconds));
        }
        failures.record(now);
        let write = match &current {
            Some(item) => Write::replace(item.next(&failures)?),
            None => Write::create(Item::new(key.clone(), &failures)?.expires_at(now + 3600)),
        };
        retry::settle(store.write(write).await, ())
    })
    .await?;
    let _ = password::verify(password, None, services.config.argon2).await?;
    // Recorded as a real account's failure is (the name itself is not: it may be anyone's
    // address).
    let event = AuditEvent::new(
        now,
        context,
        "login.password_failed",
        None,
        "login:unknown".into(),
        serde_json::json!({"account": false}),
    );
    store.write(event.write(&services.new_id())?).await?;
    event.log();
    count_source_failure(services, context).await?;
    Err(source.over.map_or_else(failed, wait))
}
