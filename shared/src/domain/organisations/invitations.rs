//! Invitations to an organisation's space (seed 003, steps 10–11): an administrator invites
//! an address with roles; the link leads to creating an account (a password now, the second
//! factor at the first sign-in) or, for an address that has one, to joining with it.
//!
//! One pending invitation per address and space (its key is the address): concurrent
//! invitations of one address give one. Accepting deletes the invitation on condition of
//! its version, with the membership created and the organisation's item written in the
//! same transaction: of concurrent acceptances one wins, the others find it gone.

use super::members::{self, normalise_roles, reassign};
use super::permissions::{self, Permission};
use crate::domain::audit::{AuditEvent, RequestContext};
use crate::domain::keys;
use crate::domain::people::account::{EmailGuard, Membership, Person, Role, SpaceKind};
use crate::domain::people::email::EmailAddress;
use crate::domain::people::{names, password};
use crate::domain::retry::{self, Round};
use crate::domain::{calendar, messages, secret_token, throttle};
use crate::locale::Locale;
use crate::ports::store::{Condition, Item, StoreError, Write};
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};

/// The inviter of the invitation a registration makes for an administrator who already has
/// an account (they accept it with that account).
pub const REGISTRATION: &str = "registration";

/// A pending invitation (`SPACE#<id>` / `INVITE#<email>`, expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    /// Random id (the first part of the link's token).
    pub id: String,
    /// The space.
    pub space_id: String,
    /// The invited address.
    pub email: EmailAddress,
    /// The roles it gives.
    pub roles: Vec<Role>,
    /// Who invited.
    pub invited_by: String,
    /// The hash of the link's secret.
    pub token_hash: String,
    /// When the link stops working.
    pub expires_at: i64,
    /// The language of its emails.
    pub locale: Locale,
}

/// Where a link leads (`INVITATION#<id>` / `LINK`, expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct InvitationLink {
    space_id: String,
    email: EmailAddress,
}

/// An invitation as administrators see it.
#[derive(Debug, Serialize)]
pub struct InvitationView {
    /// Its id.
    pub id: String,
    /// The address.
    pub email: EmailAddress,
    /// Roles.
    pub roles: Vec<Role>,
    /// Expiry.
    pub expires_at: i64,
}

/// The pending invitations of the actor's space.
pub async fn list(services: &Services, actor: &Membership) -> Result<Vec<InvitationView>> {
    permissions::require(actor, Permission::ManageMembers)?;
    let now = services.now();
    let items = services.store.query(&keys::space_partition(&actor.space_id), keys::INVITATION_PREFIX, 500).await?;
    let mut out = Vec::new();
    for item in items.into_iter().filter(|i| !i.is_expired(now)) {
        let i: Invitation = item.decode()?;
        out.push(InvitationView { id: i.id, email: i.email, roles: i.roles, expires_at: i.expires_at });
    }
    Ok(out)
}

/// Invitation emails a space may send a day, all addresses together.
const INVITATIONS_PER_SPACE_PER_DAY: u32 = 100;

/// Invitation emails one address may receive a day, from every space.
const INVITATIONS_PER_ADDRESS_PER_DAY: u32 = 5;

/// Counts an invitation email (sent or sent again): a space cannot have Signet mail the world,
/// nor one address be flooded with invitations.
async fn limit_emails(services: &Services, space_id: &str, email: &EmailAddress, now: i64) -> Result<()> {
    let store = services.store.as_ref();
    throttle::enforce(store, "invite-space", space_id, 86400, INVITATIONS_PER_SPACE_PER_DAY, now).await?;
    throttle::enforce(store, "invite-address", email.as_str(), 86400, INVITATIONS_PER_ADDRESS_PER_DAY, now).await
}

/// The writes that create an invitation and its link, on condition that the address has no
/// pending invitation to the space.
pub fn creation_writes(invitation: &Invitation) -> Result<Vec<Write>> {
    let link = InvitationLink { space_id: invitation.space_id.clone(), email: invitation.email.clone() };
    let key = keys::invitation(&invitation.space_id, &invitation.email);
    Ok(vec![
        Write::create(Item::new(key, invitation)?.expires_at(invitation.expires_at)),
        Write::create(Item::new(keys::invitation_link(&invitation.id), &link)?.expires_at(invitation.expires_at)),
    ])
}

/// Invites an address (administrators only): `already_member` when it is a member or
/// already invited.
pub async fn invite(
    services: &Services,
    context: &RequestContext,
    actor: &Membership,
    email: &str,
    roles: Vec<Role>,
    locale: Locale,
) -> Result<InvitationView> {
    permissions::require(actor, Permission::ManageMembers)?;
    invite_as(services, context, &actor.space_id, &actor.person_id, email, roles, locale).await
}

/// The prefix of an invitation's `invited_by` when a provider's operator made it.
pub const OPERATOR_PREFIX: &str = "operator:";

/// A provider's operator invites an address to a space (an administrator for an organisation
/// whose registrant was not entitled to it, say: the new administrator then manages the
/// members). The invitation holds whatever the space's own administrators do.
pub async fn invite_by_operator(
    services: &Services,
    context: &RequestContext,
    operator: &str,
    space_id: &str,
    email: &str,
    roles: Vec<Role>,
) -> Result<InvitationView> {
    if !crate::domain::crypto::is_random_id(space_id) {
        return Err(Error::new(ErrorCode::NotFound).field("space_id"));
    }
    let inviter = format!("{OPERATOR_PREFIX}{operator}");
    invite_as(services, context, space_id, &inviter, email, roles, Locale::Fr).await
}

/// An invitation made by `inviter` (a member's person id, or an operator's identity).
async fn invite_as(
    services: &Services,
    context: &RequestContext,
    space_id: &str,
    inviter: &str,
    email: &str,
    roles: Vec<Role>,
    locale: Locale,
) -> Result<InvitationView> {
    let email = EmailAddress::parse(email)?;
    let roles = normalise_roles(roles)?;
    let store = services.store.as_ref();
    if let Some(guard) = store.get(&keys::email_guard(&email)).await? {
        let person_id = guard.decode::<EmailGuard>()?.person_id;
        if store.get(&keys::membership(&person_id, space_id)).await?.is_some() {
            return Err(Error::new(ErrorCode::AlreadyMember).field("email"));
        }
    }
    let loaded = super::load(services, space_id).await?;
    let now = services.now();
    let id = services.new_id();
    let token = secret_token::issue(&id, services.random.as_ref());
    let invitation = Invitation {
        id: id.clone(),
        space_id: space_id.to_owned(),
        email: email.clone(),
        roles,
        invited_by: inviter.to_owned(),
        token_hash: token.hash,
        expires_at: now + services.config.organisations.invitation_ttl,
        locale,
    };
    let event = event(services, context, inviter, "organisation.invited", &invitation);
    let mut writes = creation_writes(&invitation)?;
    writes.push(event.write(&services.new_id())?);
    match store.transact(writes).await {
        Ok(()) => event.log(),
        Err(StoreError::ConditionFailed(_)) => return Err(Error::new(ErrorCode::AlreadyMember).field("email")),
        Err(e) => return Err(e.into()),
    }
    // Only invitations made count against the daily allowances (a duplicate is refused above).
    let sent = match limit_emails(services, space_id, &email, now).await {
        Ok(()) => send(services, &loaded.space.name, &invitation, &token.token).await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        // Nothing half done: without its email, the invitation goes; inviting again works.
        let undo = vec![
            Write::Delete { key: keys::invitation(space_id, &email), condition: Condition::None },
            Write::Delete { key: keys::invitation_link(&id), condition: Condition::None },
        ];
        if let Err(undo) = store.transact(undo).await {
            tracing::error!(error = %undo, "invitation not undone after its email failed");
        }
        return Err(e);
    }
    Ok(InvitationView { id, email, roles: invitation.roles, expires_at: invitation.expires_at })
}

fn event(services: &Services, context: &RequestContext, actor: &str, action: &str, i: &Invitation) -> AuditEvent {
    AuditEvent::new(
        services.now(),
        context,
        action,
        Some(actor),
        format!("space:{}", i.space_id),
        serde_json::json!({"invitation": i.id, "roles": i.roles}),
    )
}

async fn send(services: &Services, organisation: &str, i: &Invitation, token: &str) -> Result<()> {
    let roles = i.roles.iter().map(|r| role_name(*r, i.locale)).collect::<Vec<_>>().join(", ");
    let link = services.portal_link(&format!("/invitation?token={token}"));
    let until = calendar::utc(i.expires_at);
    let email = messages::organisation_invitation(i.email.as_str(), organisation, &roles, &link, &until, i.locale);
    services.mailer.send(&email).await?;
    Ok(())
}

/// A role's name in emails.
pub fn role_name(role: Role, locale: Locale) -> &'static str {
    match role {
        Role::Administrator => locale.pick("administrateur", "administrator"),
        Role::LegalRepresentative => locale.pick("responsable légal", "legal representative"),
        Role::BillingContact => locale.pick("contact facturation", "billing contact"),
        Role::Agent => locale.pick("mandataire", "agent"),
        Role::ServerCertificateContact => locale.pick("contact certificats serveur", "server certificate contact"),
        Role::User => locale.pick("utilisateur", "user"),
    }
}

/// The pending invitation `id` of the actor's space, with its item.
async fn pending(services: &Services, actor: &Membership, id: &str) -> Result<(Item, Invitation)> {
    let not_found = || Error::new(ErrorCode::NotFound).field("id");
    if !crate::domain::crypto::is_random_id(id) {
        return Err(not_found());
    }
    let link = services.store.get(&keys::invitation_link(id)).await?.ok_or_else(not_found)?;
    let link: InvitationLink = link.decode()?;
    if link.space_id != actor.space_id {
        return Err(not_found());
    }
    let item = services.store.get(&keys::invitation(&link.space_id, &link.email)).await?.ok_or_else(not_found)?;
    let invitation: Invitation = item.decode()?;
    if invitation.id != id || item.is_expired(services.now()) {
        return Err(not_found());
    }
    Ok((item, invitation))
}

/// Sends an invitation again with a new link (the old one stops working) and a new expiry.
pub async fn resend(
    services: &Services,
    context: &RequestContext,
    actor: &Membership,
    id: &str,
) -> Result<InvitationView> {
    permissions::require(actor, Permission::ManageMembers)?;
    let (item, mut invitation) = pending(services, actor, id).await?;
    let loaded = super::load(services, &actor.space_id).await?;
    limit_emails(services, &actor.space_id, &invitation.email, services.now()).await?;
    let token = secret_token::issue(id, services.random.as_ref());
    invitation.token_hash = token.hash;
    invitation.expires_at = services.now() + services.config.organisations.invitation_ttl;
    let event = event(services, context, &actor.person_id, "organisation.invitation_resent", &invitation);
    let link = InvitationLink { space_id: actor.space_id.clone(), email: invitation.email.clone() };
    let writes = vec![
        Write::replace(item.next(&invitation)?.expires_at(invitation.expires_at)),
        Write::Put {
            item: Item::new(keys::invitation_link(id), &link)?.expires_at(invitation.expires_at),
            condition: Condition::None,
        },
        event.write(&services.new_id())?,
    ];
    retry::or_conflict(services.store.transact(writes).await)?;
    event.log();
    send(services, &loaded.space.name, &invitation, &token.token).await?;
    Ok(InvitationView {
        id: id.into(),
        email: invitation.email,
        roles: invitation.roles,
        expires_at: invitation.expires_at,
    })
}

/// Cancels a pending invitation: its link stops working.
pub async fn cancel(services: &Services, context: &RequestContext, actor: &Membership, id: &str) -> Result<()> {
    permissions::require(actor, Permission::ManageMembers)?;
    let (item, invitation) = pending(services, actor, id).await?;
    let event = event(services, context, &actor.person_id, "organisation.invitation_cancelled", &invitation);
    let writes = vec![
        Write::Delete { key: item.key.clone(), condition: Condition::Version(item.version) },
        Write::Delete { key: keys::invitation_link(id), condition: Condition::None },
        event.write(&services.new_id())?,
    ];
    services.store.transact(writes).await.map_err(|e| match e {
        StoreError::ConditionFailed(_) => Error::new(ErrorCode::InvitationUnavailable),
        e => e.into(),
    })?;
    event.log();
    Ok(())
}

/// Who accepts: a new account (its names and password), or the signed-in person.
pub enum Acceptor {
    /// A new account for the invited address.
    NewAccount {
        /// First name.
        first_name: String,
        /// Last name.
        last_name: String,
        /// The password they chose.
        password: String,
        /// Their language.
        locale: Locale,
    },
    /// The signed-in person, whose login email must be the invited address.
    Existing(Box<Person>),
}

/// An invitation accepted.
#[derive(Debug, Serialize)]
pub struct Accepted {
    /// `accepted`.
    pub status: &'static str,
    /// The space joined.
    pub space_id: String,
    /// Its name.
    pub space_name: String,
    /// The roles held.
    pub roles: Vec<Role>,
    /// The login identifier of a new account (also emailed).
    pub identifier: Option<String>,
}

/// The invitation of a link, checked: the link, its invitation (with its item).
async fn by_token(services: &Services, token: &str) -> Result<(Item, Invitation)> {
    let invalid = || Error::new(ErrorCode::InvitationInvalid).field("token");
    let presented = secret_token::parse(token).ok_or_else(invalid)?;
    let link = services.store.get(&keys::invitation_link(presented.id)).await?;
    // A link whose record is gone was used, cancelled or expired (records expire with it).
    let link: InvitationLink =
        link.ok_or_else(|| Error::new(ErrorCode::InvitationUnavailable).field("token"))?.decode()?;
    let item = services
        .store
        .get(&keys::invitation(&link.space_id, &link.email))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::InvitationUnavailable).field("token"))?;
    let invitation: Invitation = item.decode()?;
    if invitation.id != presented.id || !presented.matches(&invitation.token_hash) {
        return Err(invalid());
    }
    if item.is_expired(services.now()) || services.now() >= invitation.expires_at {
        return Err(Error::new(ErrorCode::InvitationUnavailable).field("token"));
    }
    Ok((item, invitation))
}

/// Accepts an invitation; see the module's documentation.
pub async fn accept(
    services: &Services,
    context: &RequestContext,
    token: &str,
    acceptor: Acceptor,
) -> Result<Accepted> {
    // The invitation read here serves the first round; a lost race reads it again.
    let first = by_token(services, token).await?;
    // A new account's password is checked and hashed once, before any round.
    let new_account = match &acceptor {
        Acceptor::NewAccount { first_name, last_name, password: chosen, locale } => {
            password::check_policy(chosen, Some(first.1.email.as_str()))?;
            let first_name = names::person_name(first_name, "first_name")?;
            let last = names::person_name(last_name, "last_name")?;
            let hash = password::hash(chosen.clone(), services.config.argon2).await?;
            Some((first_name, last, hash, *locale))
        }
        Acceptor::Existing(_) => None,
    };
    let (acceptor, new_account) = (&acceptor, &new_account);
    let accepted = retry::optimistic_from(16, retry::busy, Some(first), |known| async move {
        let (item, invitation) = match known {
            Some(read) => read,
            None => by_token(services, token).await?,
        };
        accept_round(services, context, item, invitation, acceptor, new_account.as_ref()).await
    })
    .await?;
    if let (Some(identifier), Some((_, _, _, locale))) = (&accepted.0.identifier, new_account) {
        let login = services.portal_link("/login");
        let email =
            messages::member_identifier(accepted.1.as_str(), &accepted.0.space_name, identifier, &login, *locale);
        services.send_notice(&email, "member identifier").await;
    }
    Ok(accepted.0)
}

type NewAccount = (String, String, String, Locale);

/// Who accepts, checked: the signed-in person (whose address must be the invited one, not
/// yet a member), or a new account for the invited address (which must have none): the
/// writes that create it, the person's id, and the new account's identifier.
async fn acceptor_writes(
    services: &Services,
    invitation: &Invitation,
    existing: &[Membership],
    acceptor: &Acceptor,
    new_account: Option<&NewAccount>,
) -> Result<(Vec<Write>, String, Option<String>)> {
    match (acceptor, new_account) {
        (Acceptor::Existing(person), _) => {
            if person.email != invitation.email {
                return Err(Error::new(ErrorCode::InvitationForAnotherPerson));
            }
            if existing.iter().any(|m| m.person_id == person.id) {
                return Err(Error::new(ErrorCode::AlreadyMember));
            }
            Ok((Vec::new(), person.id.clone(), None))
        }
        (Acceptor::NewAccount { .. }, Some((first, last, hash, locale))) => {
            if services.store.get(&keys::email_guard(&invitation.email)).await?.is_some() {
                return Err(Error::new(ErrorCode::SignInToAccept));
            }
            let identifier = super::new_identifier(services.random.as_ref());
            let email = invitation.email.clone();
            let mut person = Person::new(
                services.new_id(),
                email,
                first.clone(),
                last.clone(),
                *locale,
                hash.clone(),
                None,
                services.now(),
            );
            person.identifier = Some(identifier.clone());
            let guard = EmailGuard { person_id: person.id.clone() };
            let writes = vec![
                Write::create(Item::new(keys::email_guard(&person.email), &guard)?),
                Write::create(Item::new(keys::identifier_guard(&identifier), &guard)?),
                Write::create(Item::new(keys::person(&person.id), &person)?),
            ];
            Ok((writes, person.id, Some(identifier)))
        }
        (Acceptor::NewAccount { .. }, None) => Err(Error::internal("new account without its details")),
    }
}

/// One round of an acceptance on the invitation as read.
async fn accept_round(
    services: &Services,
    context: &RequestContext,
    item: Item,
    invitation: Invitation,
    acceptor: &Acceptor,
    new_account: Option<&NewAccount>,
) -> Result<Round<(Accepted, EmailAddress), Option<(Item, Invitation)>>> {
    let space_id = &invitation.space_id;
    let loaded = super::load(services, space_id).await?;
    let Some(items) = members::current(services, &loaded).await? else { return Ok(Round::Again(None)) };
    let existing: Vec<Membership> = items.iter().map(|(_, m)| m.clone()).collect();
    // An invitation lapses with its inviter's right to invite (a removed administrator's
    // pending invitations do not bring them back).
    let inviter = existing.iter().find(|m| m.person_id == invitation.invited_by);
    let by_provider = invitation.invited_by == REGISTRATION || invitation.invited_by.starts_with(OPERATOR_PREFIX);
    if !by_provider && !inviter.is_some_and(|m| permissions::allows(&m.roles, Permission::ManageMembers)) {
        return Err(Error::new(ErrorCode::InvitationUnavailable).field("token"));
    }
    let (mut writes, person_id, identifier) =
        acceptor_writes(services, &invitation, &existing, acceptor, new_account).await?;
    let membership = Membership {
        person_id: person_id.clone(),
        space_id: space_id.clone(),
        roles: invitation.roles.clone(),
        space_name: loaded.space.name.clone(),
        space_kind: SpaceKind::Organisation,
    };
    if existing.len() >= members::MAX_MEMBERS {
        return Err(Error::new(ErrorCode::OrganisationFull));
    }
    let changed = reassign(&existing, membership)?;
    let event = AuditEvent::new(
        services.now(),
        context,
        "organisation.invitation_accepted",
        Some(&person_id),
        format!("space:{space_id}"),
        serde_json::json!({"invitation": invitation.id, "roles": invitation.roles, "new_account": identifier.is_some()}),
    );
    let inviter = (!by_provider).then_some(invitation.invited_by.as_str());
    let change = members::Change { changed: &changed, removed: None, actor: inviter };
    writes.extend(members::change_writes(services, &loaded, &items, change, &event)?);
    writes.extend(
        members::billing_contact_write(services, &loaded, &changed, Some((&person_id, &invitation.email))).await?,
    );
    writes.push(Write::Delete { key: item.key.clone(), condition: Condition::Version(item.version) });
    writes.push(Write::Delete { key: keys::invitation_link(&invitation.id), condition: Condition::None });
    let accepted = Accepted {
        status: "accepted",
        space_id: space_id.clone(),
        space_name: loaded.space.name.clone(),
        roles: invitation.roles.clone(),
        identifier,
    };
    Ok(match members::commit(services, writes, &event, (accepted, invitation.email.clone())).await? {
        Round::Done(done) => Round::Done(done),
        Round::Again(()) => Round::Again(None),
    })
}
