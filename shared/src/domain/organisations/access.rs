//! "No access to the app" (seed 004): a member who lost their second factor asks from the
//! login screen; their organisations' administrators are emailed; an administrator (after
//! their own re-authentication) or a provider's operator resets it. The person is told by
//! email, with a single-use link: every session of theirs ends (the session epoch moves), and
//! their next sign-in enrols a new factor before anything else (see the login's set-up step)
//! — only with that link, so that a stolen password alone never chooses the next factor.
//! Each step is audited.

use super::members;
use super::permissions::{self, Permission};
use crate::domain::audit::{AuditEvent, RequestContext};
use crate::domain::keys;
use crate::domain::people::account::{EnrolmentLink, Membership, Person, SpaceKind};
use crate::domain::{calendar, messages, throttle};
use crate::ports::store::{StoreError, Write};
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};

/// Requests a person may make per day.
const REQUESTS_PER_DAY: u32 = 3;

/// How long the emailed enrolment link of a reset works.
pub const ENROLMENT_LINK_TTL: i64 = 7 * 86400;

/// Resets by administrators one person may undergo a day.
const RESETS_PER_PERSON_PER_DAY: u32 = 3;

/// Who resets: an administrator of one of the person's organisations, or an operator.
pub enum ResetBy<'a> {
    /// An administrator, by their membership of the space.
    Administrator(&'a Membership),
    /// A provider's operator, by their identity (an IAM principal, or the local operator).
    Operator(&'a str),
}

/// Emails the administrators of every organisation the person belongs to; the number of
/// organisations told. A few requests a day per person: it cannot flood administrators.
pub async fn ask_administrators(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    memberships: &[Membership],
) -> Result<usize> {
    throttle::enforce(services.store.as_ref(), "no-access", &person.id, 86400, REQUESTS_PER_DAY, services.now())
        .await?;
    let mut told = 0;
    for m in memberships.iter().filter(|m| m.space_kind == SpaceKind::Organisation) {
        let admins = members::administrators(services, &m.space_id).await?;
        let admins: Vec<&Person> = admins.iter().filter(|a| a.id != person.id).collect();
        if admins.is_empty() {
            continue;
        }
        told += 1;
        let name = format!("{} {}", person.first_name, person.last_name);
        let link = services.portal_link("/organisation/members");
        for admin in admins {
            let email = messages::no_access_request(
                admin.email.as_str(),
                &name,
                person.email.as_str(),
                &m.space_name,
                &link,
                admin.locale,
            );
            services.send_notice(&email, "no access request").await;
        }
    }
    let event = AuditEvent::new(
        services.now(),
        context,
        "second_factor.help_requested",
        Some(&person.id),
        format!("person:{}", person.id),
        serde_json::json!({"organisations_told": told}),
    );
    services.store.write(event.write(&services.new_id())?).await?;
    event.log();
    Ok(told)
}

/// Resets a person's second factor: phone and app removed, every session ended, the person
/// told. An administrator must hold `ManageMembers` in a space the person belongs to.
pub async fn reset_second_factor(
    services: &Services,
    context: &RequestContext,
    by: ResetBy<'_>,
    person_id: &str,
) -> Result<()> {
    let (actor, who, space) = match &by {
        ResetBy::Administrator(m) => {
            permissions::require(m, Permission::ManageMembers)?;
            if super::membership(services, person_id, &m.space_id).await?.is_none() {
                return Err(Error::new(ErrorCode::NotFound).field("person_id"));
            }
            // A few a day per person: an administrator cannot keep a member signed out.
            let store = services.store.as_ref();
            throttle::enforce(store, "factor-reset", person_id, 86400, RESETS_PER_PERSON_PER_DAY, services.now())
                .await?;
            (m.person_id.clone(), m.space_name.clone(), Some(m.space_id.clone()))
        }
        ResetBy::Operator(identity) => (format!("operator:{identity}"), "Signet".to_owned(), None),
    };
    let token = crate::domain::secret_token::issue(&services.new_id(), services.random.as_ref());
    let link = EnrolmentLink { token_hash: token.hash.clone(), expires_at: services.now() + ENROLMENT_LINK_TTL };
    let (person, event) = change_person(services, context, person_id, &actor, "second_factor.reset", |p| {
        // A reset whose email was lost may be made again (a new link replaces the old).
        if p.phone.is_none() && p.totp.is_none() && p.enrolment_link.is_none() {
            return Err(Error::new(ErrorCode::NoChange));
        }
        p.phone = None;
        p.totp = None;
        p.enrolment_link = Some(link.clone());
        Ok(serde_json::json!({"space_id": space}))
    })
    .await?;
    event.log();
    let by_whom = match by {
        ResetBy::Administrator(_) => {
            person.locale.pick("un administrateur de ", "an administrator of ").to_owned() + &who
        }
        ResetBy::Operator(_) => person.locale.pick("le support Signet", "Signet's support").to_owned(),
    };
    let enrol = services.portal_link(&format!("/login/enrol?token={}", token.token));
    let when = calendar::utc(services.now());
    let email = messages::second_factor_reset(person.email.as_str(), &by_whom, &when, &enrol, person.locale);
    // The link is in this email: its failure is the caller's to see (a reset may be made again).
    services.mailer.send(&email).await?;
    Ok(())
}

/// Ends every session of a person (an operator's action): the person is told.
pub async fn end_sessions(
    services: &Services,
    context: &RequestContext,
    operator: &str,
    person_id: &str,
) -> Result<()> {
    let actor = format!("operator:{operator}");
    let (person, event) = change_person(services, context, person_id, &actor, "sessions.ended_by_operator", |_| {
        Ok(serde_json::json!({}))
    })
    .await?;
    event.log();
    let email = messages::sessions_ended(person.email.as_str(), &calendar::utc(services.now()), person.locale);
    services.send_notice(&email, "sessions ended").await;
    Ok(())
}

/// Changes a person with `change`, moves their session epoch (every session ends) and
/// writes the audit event, in one transaction on condition of the person's version.
async fn change_person(
    services: &Services,
    context: &RequestContext,
    person_id: &str,
    actor: &str,
    action: &str,
    change: impl Fn(&mut Person) -> Result<serde_json::Value>,
) -> Result<(Person, AuditEvent)> {
    let change = &change;
    crate::domain::retry::optimistic(8, crate::domain::retry::busy, || async move {
        let not_found = || Error::new(ErrorCode::NotFound).field("person_id");
        if !crate::domain::crypto::is_random_id(person_id) {
            return Err(not_found());
        }
        let item = services.store.get(&keys::person(person_id)).await?.ok_or_else(not_found)?;
        let mut person: Person = item.decode()?;
        let detail = change(&mut person)?;
        person.session_epoch += 1;
        let event =
            AuditEvent::new(services.now(), context, action, Some(actor), format!("person:{person_id}"), detail);
        let writes = vec![Write::replace(item.next(&person)?), event.write(&services.new_id())?];
        match services.store.transact(writes).await {
            Ok(()) => Ok(crate::domain::retry::Round::Done((person, event))),
            Err(StoreError::ConditionFailed(_)) => Ok(crate::domain::retry::Round::Again(())),
            Err(e) => Err(e.into()),
        }
    })
    .await
}
