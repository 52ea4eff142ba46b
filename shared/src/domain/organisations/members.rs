//! An organisation's members and their roles: the list, a change of roles, a removal.
//!
//! The rules: always at least one administrator; exactly one legal representative and one
//! billing contact. Giving one of these two roles to someone takes it from whoever held it;
//! taking it from its holder without giving it to another, removing its holder or the last
//! administrator, is refused (`role_still_needed`). Each change writes the organisation's
//! item on condition of its version (see [`super`]): concurrent changes are one at a time,
//! and each one is checked against the members as the previous one left them.

use super::permissions::{self, Permission};
use super::{Loaded, SINGLE_HOLDER_ROLES};
use crate::domain::audit::{AuditEvent, RequestContext};
use crate::domain::keys;
use crate::domain::people::account::{Membership, Person, Role};
use crate::domain::people::email::EmailAddress;
use crate::domain::retry::{self, Round};
use crate::ports::store::{Condition, Item, Write};
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use serde::Serialize;

/// Roles in a stable order, without repeats; at least one.
pub fn normalise_roles(mut roles: Vec<Role>) -> Result<Vec<Role>> {
    let order = |r: &Role| {
        [
            Role::Administrator,
            Role::LegalRepresentative,
            Role::BillingContact,
            Role::Agent,
            Role::ServerCertificateContact,
            Role::User,
        ]
        .iter()
        .position(|x| x == r)
    };
    roles.sort_by_key(order);
    roles.dedup();
    if roles.is_empty() || roles.len() > 6 {
        return Err(Error::new(ErrorCode::InvalidRequest).field("roles"));
    }
    Ok(roles)
}

/// The memberships after `person_id` holds `roles` (a new member when absent): the
/// single-holder roles they take are taken from their previous holders. Returns the
/// memberships that changed (new ones included), or `role_still_needed` when a rule breaks.
pub fn reassign(members: &[Membership], target: Membership) -> Result<Vec<Membership>> {
    let mut after: Vec<Membership> = members.iter().filter(|m| m.person_id != target.person_id).cloned().collect();
    for role in SINGLE_HOLDER_ROLES {
        if target.roles.contains(&role) {
            for m in &mut after {
                m.roles.retain(|r| *r != role);
            }
        }
    }
    // A member left without any role stays a user.
    for m in &mut after {
        if m.roles.is_empty() {
            m.roles.push(Role::User);
        }
    }
    after.push(target);
    check_rules(&after)?;
    let changed =
        after.into_iter().filter(|m| members.iter().find(|old| old.person_id == m.person_id) != Some(m)).collect();
    Ok(changed)
}

/// The rules of an organisation's memberships.
pub fn check_rules(members: &[Membership]) -> Result<()> {
    let holders = |role: Role| members.iter().filter(|m| m.roles.contains(&role)).count();
    if holders(Role::Administrator) == 0 || SINGLE_HOLDER_ROLES.iter().any(|r| holders(*r) != 1) {
        return Err(Error::new(ErrorCode::RoleStillNeeded).field("roles"));
    }
    Ok(())
}

/// The most members a space has: the whole list is read in one query (one page of the index,
/// under 1 MB), which the role rules are judged on.
pub const MAX_MEMBERS: usize = 500;

/// Every membership of a space with its item (one query of the space's index).
pub async fn memberships(services: &Services, space_id: &str) -> Result<Vec<(Item, Membership)>> {
    // One more than the cap: a list that long says the cap was passed (never by this code).
    let items =
        services.store.query_gsi1(&keys::space_partition(space_id), keys::MEMBERSHIP_PREFIX, MAX_MEMBERS + 1).await?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let membership = item.decode()?;
        out.push((item, membership));
    }
    Ok(out)
}

/// The people behind memberships (one batch read).
pub async fn people(services: &Services, members: &[Membership]) -> Result<Vec<Person>> {
    let keys: Vec<_> = members.iter().map(|m| keys::person(&m.person_id)).collect();
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        for item in services.store.get_many(chunk).await?.into_iter().flatten() {
            out.push(item.decode()?);
        }
    }
    Ok(out)
}

/// The administrators of a space, as people.
pub async fn administrators(services: &Services, space_id: &str) -> Result<Vec<Person>> {
    let admins: Vec<Membership> = memberships(services, space_id)
        .await?
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.roles.contains(&Role::Administrator))
        .collect();
    people(services, &admins).await
}

/// A member as the administrators see them.
#[derive(Debug, Serialize)]
pub struct MemberView {
    /// Person id.
    pub person_id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Login email.
    pub email: EmailAddress,
    /// Login identifier, if any.
    pub identifier: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Whether they still have to set up their account (password, second factor).
    pub setup_pending: bool,
}

/// The members of a space (for those who may see them).
pub async fn list(services: &Services, actor: &Membership) -> Result<Vec<MemberView>> {
    permissions::require(actor, Permission::SeeMembers)?;
    let members: Vec<Membership> = memberships(services, &actor.space_id).await?.into_iter().map(|(_, m)| m).collect();
    let people = people(services, &members).await?;
    let mut out: Vec<MemberView> = members
        .into_iter()
        .filter_map(|m| {
            let p = people.iter().find(|p| p.id == m.person_id)?;
            Some(MemberView {
                person_id: p.id.clone(),
                first_name: p.first_name.clone(),
                last_name: p.last_name.clone(),
                email: p.email.clone(),
                identifier: p.identifier.clone(),
                setup_pending: p.needs_setup(),
                roles: m.roles,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.last_name, &a.first_name).cmp(&(&b.last_name, &b.first_name)));
    Ok(out)
}

/// The memberships of an organisation as of its item's version, or `None` when the space's
/// index has not caught up with it yet (fewer or more members than the item counts): the
/// caller reads again.
pub async fn current(services: &Services, loaded: &Loaded) -> Result<Option<Vec<(Item, Membership)>>> {
    let items = memberships(services, &loaded.organisation.space_id).await?;
    let fresh = loaded.organisation.member_count.is_none_or(|n| n as usize == items.len());
    Ok(fresh.then_some(items))
}

/// The actor's membership as the current list has it (not as it was when the request
/// began): `role_required` when it no longer grants `permission`.
pub fn still_allowed<'a>(
    items: &'a [(Item, Membership)],
    actor: &Membership,
    permission: Permission,
) -> Result<&'a Membership> {
    let me = items.iter().map(|(_, m)| m).find(|m| m.person_id == actor.person_id);
    let me = me.ok_or_else(|| Error::new(ErrorCode::RoleRequired))?;
    permissions::require(me, permission)?;
    Ok(me)
}

/// A change of memberships, as [`change_writes`] commits it.
pub struct Change<'a> {
    /// The memberships that change (new ones are created).
    pub changed: &'a [Membership],
    /// The member removed, if any.
    pub removed: Option<&'a str>,
    /// Who acts (their membership must not have changed since it was read).
    pub actor: Option<&'a str>,
}

/// The writes of a change of memberships: the organisation's item (its version is the lock,
/// its member count moves), each changed membership (new ones created), and a check that
/// every membership the rules were judged on — the holders of the administrator's, the legal
/// representative's and the billing contact's roles — and the actor's are as they were read
/// (a stale index entry fails the transaction, which is then read again); the audit event.
pub fn change_writes(
    services: &Services,
    loaded: &Loaded,
    items: &[(Item, Membership)],
    change: Change<'_>,
    event: &AuditEvent,
) -> Result<Vec<Write>> {
    let mut organisation = loaded.organisation.clone();
    organisation.changes += 1;
    let created = change.changed.iter().filter(|m| !items.iter().any(|(_, old)| old.person_id == m.person_id)).count();
    let count = items.len() + created - usize::from(change.removed.is_some());
    organisation.member_count = Some(u32::try_from(count).map_err(Error::internal)?);
    let mut writes = vec![Write::replace(loaded.item.next(&organisation)?)];
    for m in change.changed {
        match items.iter().find(|(_, old)| old.person_id == m.person_id) {
            Some((item, _)) => writes.push(Write::replace(item.next(m)?)),
            None => writes.push(crate::domain::people::account::membership_write(m)?),
        }
    }
    let ruled = |m: &Membership| {
        m.roles.iter().any(|r| *r == Role::Administrator || SINGLE_HOLDER_ROLES.contains(r))
            || change.actor == Some(m.person_id.as_str())
    };
    for (item, m) in items {
        let written = change.changed.iter().any(|c| c.person_id == m.person_id) || change.removed == Some(&m.person_id);
        if ruled(m) && !written {
            writes.push(Write::Check { key: item.key.clone(), condition: Condition::Version(item.version) });
        }
    }
    writes.push(event.write(&services.new_id())?);
    Ok(writes)
}

/// The space's billing contact after a change, when it moved to someone else: the space is
/// rewritten with their address (invoices are sent there).
pub async fn billing_contact_write(
    services: &Services,
    loaded: &Loaded,
    changed: &[Membership],
    new_person: Option<(&str, &EmailAddress)>,
) -> Result<Option<Write>> {
    let Some(new_holder) = changed.iter().find(|m| m.roles.contains(&Role::BillingContact)) else { return Ok(None) };
    let email = match new_person {
        Some((id, email)) if id == new_holder.person_id => email.clone(),
        _ => match services.store.get(&keys::person(&new_holder.person_id)).await? {
            Some(item) => item.decode::<Person>()?.email,
            None => return Ok(None),
        },
    };
    let mut space = loaded.space.clone();
    let billing = space.billing.get_or_insert_with(|| loaded.new_billing());
    if billing.billing_contact.as_ref() == Some(&email) {
        return Ok(None);
    }
    billing.billing_contact = Some(email);
    Ok(Some(Write::replace(loaded.space_item.next(&space)?)))
}

/// Commits a change and logs its event; a lost race is another round.
pub async fn commit<T>(services: &Services, writes: Vec<Write>, event: &AuditEvent, value: T) -> Result<Round<T>> {
    let round = retry::settle::<T, Error>(services.store.transact(writes).await, value)?;
    if matches!(round, Round::Done(_)) {
        event.log();
    }
    Ok(round)
}

/// Gives a member new roles (administrators only).
pub async fn change_roles(
    services: &Services,
    context: &RequestContext,
    actor: &Membership,
    person_id: &str,
    roles: Vec<Role>,
) -> Result<Vec<Role>> {
    permissions::require(actor, Permission::ManageMembers)?;
    let roles = normalise_roles(roles)?;
    let space_id = &actor.space_id;
    retry::optimistic(16, retry::busy, || async {
        let loaded = super::load(services, space_id).await?;
        let Some(items) = current(services, &loaded).await? else { return Ok(Round::Again(())) };
        still_allowed(&items, actor, Permission::ManageMembers)?;
        let members: Vec<Membership> = items.iter().map(|(_, m)| m.clone()).collect();
        let current = members
            .iter()
            .find(|m| m.person_id == person_id)
            .ok_or_else(|| Error::new(ErrorCode::NotFound).field("person_id"))?;
        if current.roles == roles {
            return Err(Error::new(ErrorCode::NoChange).field("roles"));
        }
        let changed = reassign(&members, Membership { roles: roles.clone(), ..current.clone() })?;
        let event = AuditEvent::new(
            services.now(),
            context,
            "organisation.roles_changed",
            Some(&actor.person_id),
            format!("space:{space_id}"),
            serde_json::json!({"member": person_id, "roles": roles, "changed": changed.len()}),
        );
        let change = Change { changed: &changed, removed: None, actor: Some(&actor.person_id) };
        let mut writes = change_writes(services, &loaded, &items, change, &event)?;
        writes.extend(billing_contact_write(services, &loaded, &changed, None).await?);
        commit(services, writes, &event, roles.clone()).await
    })
    .await
}

/// Removes a member (administrators only; not the holder of a role the organisation needs).
pub async fn remove(services: &Services, context: &RequestContext, actor: &Membership, person_id: &str) -> Result<()> {
    permissions::require(actor, Permission::ManageMembers)?;
    let space_id = &actor.space_id;
    retry::optimistic(16, retry::busy, || async {
        let loaded = super::load(services, space_id).await?;
        let Some(items) = current(services, &loaded).await? else { return Ok(Round::Again(())) };
        still_allowed(&items, actor, Permission::ManageMembers)?;
        let (item, _) = items
            .iter()
            .find(|(_, m)| m.person_id == person_id)
            .ok_or_else(|| Error::new(ErrorCode::NotFound).field("person_id"))?;
        let rest: Vec<Membership> =
            items.iter().filter(|(_, m)| m.person_id != person_id).map(|(_, m)| m.clone()).collect();
        check_rules(&rest)?;
        let event = AuditEvent::new(
            services.now(),
            context,
            "organisation.member_removed",
            Some(&actor.person_id),
            format!("space:{space_id}"),
            serde_json::json!({"member": person_id}),
        );
        let change = Change { changed: &[], removed: Some(person_id), actor: Some(&actor.person_id) };
        let mut writes = change_writes(services, &loaded, &items, change, &event)?;
        writes.push(Write::Delete { key: item.key.clone(), condition: Condition::Version(item.version) });
        commit(services, writes, &event, ()).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::people::account::SpaceKind;

    fn m(person: &str, roles: &[Role]) -> Membership {
        Membership {
            person_id: person.into(),
            space_id: "s".into(),
            roles: roles.to_vec(),
            space_name: "S".into(),
            space_kind: SpaceKind::Organisation,
        }
    }

    #[test]
    fn a_single_holder_role_moves_from_its_holder() {
        let members = [m("a", &[Role::Administrator, Role::LegalRepresentative, Role::BillingContact])];
        let changed = reassign(&members, m("b", &[Role::LegalRepresentative])).unwrap();
        assert_eq!(changed.len(), 2);
        assert_eq!(changed[0].roles, vec![Role::Administrator, Role::BillingContact]);
        assert_eq!(changed[1].roles, vec![Role::LegalRepresentative]);
    }

    #[test]
    fn the_last_administrator_and_single_holders_stay() {
        let members =
            [m("a", &[Role::Administrator, Role::LegalRepresentative, Role::BillingContact]), m("b", &[Role::User])];
        let demote = reassign(&members, m("a", &[Role::LegalRepresentative, Role::BillingContact]));
        assert_eq!(demote.unwrap_err().code, ErrorCode::RoleStillNeeded);
        let drop_legal = reassign(&members, m("a", &[Role::Administrator, Role::BillingContact]));
        assert_eq!(drop_legal.unwrap_err().code, ErrorCode::RoleStillNeeded);
        assert_eq!(check_rules(&members[1..]).unwrap_err().code, ErrorCode::RoleStillNeeded);
        // With a second administrator, the first may step down.
        let members = [members[0].clone(), m("b", &[Role::Administrator])];
        assert!(reassign(&members, m("a", &[Role::LegalRepresentative, Role::BillingContact])).is_ok());
    }

    #[test]
    fn roles_are_sorted_without_repeats() {
        let roles = normalise_roles(vec![Role::User, Role::Administrator, Role::User]).unwrap();
        assert_eq!(roles, vec![Role::Administrator, Role::User]);
        assert!(normalise_roles(vec![]).is_err());
    }
}
