//! Registering an organisation (seed 003, steps 2–4), without an account: the entity, where
//! it is registered, its administrator. Then two separate emails to the administrator: the
//! identifier, and a temporary password that only lets them choose their own.
//!
//! The company registry decides the entity's details for a SIRET: an active establishment's
//! name and address are the registry's (whatever was typed); a closed one is refused, and so
//! is a SIRET the registry does not know. When the registry cannot be reached (or none is
//! configured) the details are taken as typed and the organisation is marked unchecked, for
//! the provider's operators to verify: a registry outage never stops a registration.
//!
//! One space per registration number: its guard is created with the space, in one
//! transaction, so racing registrations give one space; the others, like any later one,
//! are told to contact the administrators, who are emailed. Nothing else is disclosed.

use super::registration::{Jurisdiction, Registration};
use super::{contact_number, new_identifier, new_temporary_password, EntityType, Organisation};
use crate::domain::audit::{AuditEvent, RequestContext};
use crate::domain::keys;
use crate::domain::people::account::{
    self, BillingProfile, CustomerSpace, EmailGuard, Membership, OrganisationTerms, Person, Role, SpaceKind,
};
use crate::domain::people::email::EmailAddress;
use crate::domain::people::{names, password};
use crate::domain::retry::{self, Round};
use crate::domain::{calendar, messages, throttle};
use crate::locale::Locale;
use crate::ports::store::{Condition, Item, StoreError, Write};
use crate::ports::RegistryAnswer;
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};

/// Registrations per administrator address per hour.
const REGISTRATIONS_PER_ADDRESS_PER_HOUR: u32 = 3;

/// The registration form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationForm {
    /// France, European Union, other.
    pub jurisdiction: Jurisdiction,
    /// ISO country (`FR` for France).
    pub country: String,
    /// SIRET, VAT number or registration number.
    pub registration_number: String,
    /// Company, administration, association.
    pub entity_type: EntityType,
    /// Name (France: replaced by the registry's when it answers).
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Department (France).
    #[serde(default)]
    pub department: Option<String>,
    /// Phone.
    pub phone: String,
    /// Fax.
    #[serde(default)]
    pub fax: Option<String>,
    /// The administrator of the space.
    pub administrator: AdministratorForm,
    /// The administrator's language (else the request's).
    #[serde(default)]
    pub locale: Option<Locale>,
}

/// The administrator part of the form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdministratorForm {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// The same email, typed again.
    pub email_confirmation: String,
    /// Direct phone.
    pub phone: String,
}

/// What a registration guard holds.
#[derive(Serialize, Deserialize)]
struct RegistrationGuard {
    space_id: String,
}

/// A registration done.
#[derive(Debug, Serialize)]
pub struct Registered {
    /// `registered`.
    pub status: &'static str,
    /// Whether the company registry confirmed the entity's details.
    pub registry_checked: bool,
}

/// The form, checked.
struct Checked {
    locale: Locale,
    organisation: Organisation,
    admin: (String, String, EmailAddress),
    admin_phone: String,
}

fn check(form: RegistrationForm, locale: Locale, now: i64) -> Result<Checked> {
    let registration = Registration::parse(form.jurisdiction, &form.country, &form.registration_number)?;
    let email = EmailAddress::parse(&form.administrator.email).map_err(|e| e.field("administrator.email"))?;
    let confirmation = EmailAddress::parse(&form.administrator.email_confirmation)
        .map_err(|e| e.field("administrator.email_confirmation"))?;
    if email != confirmation {
        return Err(Error::new(ErrorCode::EmailMismatch).field("administrator.email_confirmation"));
    }
    let department = match (registration.jurisdiction, form.department) {
        (Jurisdiction::France, None) => return Err(Error::new(ErrorCode::InvalidRequest).field("department")),
        (_, Some(d)) => Some(names::checked(&d, "department", 64)?),
        (_, None) => None,
    };
    let organisation = Organisation {
        space_id: String::new(),
        entity_type: form.entity_type,
        name: names::checked(&form.name, "name", 200)?,
        address: names::checked(&form.address, "address", 200)?,
        postal_code: names::checked(&form.postal_code, "postal_code", 16)?,
        city: names::checked(&form.city, "city", 100)?,
        department,
        phone: contact_number(&form.phone, "phone")?,
        fax: form.fax.as_deref().filter(|f| !f.trim().is_empty()).map(|f| contact_number(f, "fax")).transpose()?,
        registry_checked: false,
        administrator_phone: None,
        created_at: now,
        changes: 0,
        member_count: Some(1),
        registration,
    };
    let first = names::person_name(&form.administrator.first_name, "administrator.first_name")?;
    let last = names::person_name(&form.administrator.last_name, "administrator.last_name")?;
    let admin_phone = contact_number(&form.administrator.phone, "administrator.phone")?;
    Ok(Checked { locale, organisation, admin: (first, last, email), admin_phone })
}

/// Fills a French entity's details from the registry (see the module's documentation).
async fn consult_registry(services: &Services, organisation: &mut Organisation) -> Result<()> {
    let Some(siret) = organisation.registration.siren().map(|_| organisation.registration.number.clone()) else {
        return Ok(());
    };
    match services.registry.establishment(&siret).await {
        Ok(RegistryAnswer::Found(e)) if !e.active => {
            Err(Error::new(ErrorCode::EstablishmentClosed).field("registration_number"))
        }
        Ok(RegistryAnswer::Found(e)) => {
            organisation.name = e.name;
            organisation.address = e.address;
            organisation.postal_code = e.postal_code;
            organisation.city = e.city;
            organisation.registry_checked = true;
            Ok(())
        }
        Ok(RegistryAnswer::Unknown) => Err(Error::new(ErrorCode::SiretUnknown).field("registration_number")),
        Err(e) => {
            tracing::warn!(error = %e, "company registry unreachable; the details are taken as typed");
            Ok(())
        }
    }
}

/// Registers an organisation; see the module's documentation.
pub async fn register(
    services: &Services,
    context: &RequestContext,
    form: RegistrationForm,
    request_locale: Locale,
) -> Result<Registered> {
    let now = services.now();
    let locale = form.locale.unwrap_or(request_locale);
    let mut checked = check(form, locale, now)?;
    let settings = &services.config.organisations;
    let store = services.store.as_ref();
    throttle::enforce(store, "org-source", &context.source_ip, 3600, settings.registrations_per_source_per_hour, now)
        .await?;
    let email = checked.admin.2.clone();
    throttle::enforce(store, "org-admin", email.as_str(), 3600, REGISTRATIONS_PER_ADDRESS_PER_HOUR, now).await?;
    consult_registry(services, &mut checked.organisation).await?;
    let guard = keys::registration_guard(&checked.organisation.registration.unique_name());
    if let Some(existing) = store.get(&guard).await? {
        return Err(already_registered(services, existing).await);
    }
    let temporary = new_temporary_password(services.random.as_ref());
    let hash = password::hash(temporary.clone(), services.config.argon2).await?;
    let space_id = services.new_id();
    checked.organisation.space_id = space_id.clone();
    let sealed_phone = services.keys.seal(checked.admin_phone.as_bytes(), &admin_phone_context(&space_id)).await?;
    let (checked, guard, hash, sealed_phone) = (&checked, &guard, &hash, &sealed_phone);
    let created = retry::optimistic(8, retry::busy, || async move {
        let admin = match store.get(&keys::email_guard(&checked.admin.2)).await? {
            Some(item) => {
                let person_id = item.decode::<EmailGuard>()?.person_id;
                let id = services.new_id();
                let token = crate::domain::secret_token::issue(&id, services.random.as_ref());
                Admin::Existing { person_id, invitation_id: id, token }
            }
            None => Admin::New(new_identifier(services.random.as_ref())),
        };
        let writes = registration_writes(services, context, checked, &admin, hash, sealed_phone, guard)?;
        match store.transact(writes.writes).await {
            Ok(()) => Ok(Round::Done((admin, writes.created, writes.event))),
            Err(StoreError::ConditionFailed(_)) => match store.get(guard).await? {
                Some(existing) => Err(already_registered(services, existing).await),
                // The address got an account, or the identifier was taken: again.
                None => Ok(Round::Again(())),
            },
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let (admin, keys_created, event) = created;
    event.log();
    if let Err(e) = send_credentials(services, checked, &admin, &temporary, locale).await {
        // Nothing half done: the space goes, the registration may be made again.
        let deletes = keys_created.into_iter().map(|key| Write::Delete { key, condition: Condition::None }).collect();
        if let Err(undo) = store.transact(deletes).await {
            tracing::error!(error = %undo, "registration not undone after its emails failed");
        }
        return Err(e);
    }
    Ok(Registered { status: "registered", registry_checked: checked.organisation.registry_checked })
}

/// The administrator: a person who already has an account, or a new one (with the
/// identifier drawn for them).
enum Admin {
    /// An account already has the address: it is invited to the space (with every role of
    /// the administrator) and joins it once signed in — no one gets roles without consent.
    Existing {
        /// The person.
        person_id: String,
        /// The invitation's id.
        invitation_id: String,
        /// Its link's token.
        token: crate::domain::secret_token::IssuedToken,
    },
    /// A new account, with the identifier drawn for it.
    New(String),
}

/// The encryption context of an administrator's direct phone, given at registration.
pub fn admin_phone_context(space_id: &str) -> crate::ports::EncryptionContext {
    crate::ports::EncryptionContext::from([
        ("purpose".to_owned(), "contact_phone".to_owned()),
        ("space".to_owned(), space_id.to_owned()),
    ])
}

struct RegistrationWrites {
    writes: Vec<Write>,
    created: Vec<crate::ports::store::Key>,
    event: AuditEvent,
}

/// The space of a new organisation: its billing details name the administrator as the billing
/// contact until they appoint one; not invoiced; its terms to accept.
fn space_of(organisation: &Organisation, administrator: &EmailAddress, now: i64) -> CustomerSpace {
    CustomerSpace {
        id: organisation.space_id.clone(),
        kind: SpaceKind::Organisation,
        name: organisation.name.clone(),
        created_at: now,
        billing: Some(BillingProfile {
            name: organisation.name.clone(),
            country: organisation.registration.country.clone(),
            region: None,
            vat_number: (organisation.registration.jurisdiction == Jurisdiction::EuropeanUnion)
                .then(|| organisation.registration.number.clone()),
            invoicing_enabled: false,
            billing_contact: Some(administrator.clone()),
            terms: OrganisationTerms::Pending,
        }),
    }
}

/// The transaction of a registration: the guard, the space and its organisation, the
/// administrator's membership (all roles until they appoint others) and, for a new person,
/// the person with their email and identifier guards; the audit event.
fn registration_writes(
    services: &Services,
    context: &RequestContext,
    checked: &Checked,
    admin: &Admin,
    hash: &str,
    sealed_phone: &crate::ports::Sealed,
    guard: &crate::ports::store::Key,
) -> Result<RegistrationWrites> {
    let now = services.now();
    let mut organisation = checked.organisation.clone();
    organisation.administrator_phone = Some(sealed_phone.clone());
    let organisation = &organisation;
    let space_id = &organisation.space_id;
    let (first, last, email) = &checked.admin;
    let space = space_of(organisation, email, now);
    let mut writes = vec![
        Write::create(Item::new(guard.clone(), &RegistrationGuard { space_id: space_id.clone() })?),
        Write::create(Item::new(keys::space(space_id), &space)?),
    ];
    let roles = vec![Role::Administrator, Role::LegalRepresentative, Role::BillingContact];
    let person_id = match admin {
        Admin::Existing { person_id, invitation_id, token } => {
            let mut organisation = organisation.clone();
            organisation.member_count = Some(0);
            writes.push(Write::create(Item::new(keys::organisation(space_id), &organisation)?));
            let invitation = super::invitations::Invitation {
                id: invitation_id.clone(),
                space_id: space_id.clone(),
                email: email.clone(),
                roles: roles.clone(),
                invited_by: super::invitations::REGISTRATION.into(),
                token_hash: token.hash.clone(),
                expires_at: now + services.config.organisations.invitation_ttl,
                locale: checked.locale,
            };
            writes.extend(super::invitations::creation_writes(&invitation)?);
            person_id.clone()
        }
        Admin::New(identifier) => {
            writes.push(Write::create(Item::new(keys::organisation(space_id), &organisation)?));
            let mut person = Person::new(
                services.new_id(),
                email.clone(),
                first.clone(),
                last.clone(),
                checked.locale,
                hash.into(),
                None,
                now,
            );
            person.identifier = Some(identifier.clone());
            person.temporary_password_until = Some(now + services.config.organisations.temporary_password_ttl);
            let guard = EmailGuard { person_id: person.id.clone() };
            writes.push(Write::create(Item::new(keys::email_guard(email), &guard)?));
            writes.push(Write::create(Item::new(keys::identifier_guard(identifier), &guard)?));
            writes.push(Write::create(Item::new(keys::person(&person.id), &person)?));
            person.id
        }
    };
    if let Admin::New(_) = admin {
        let membership = Membership {
            person_id: person_id.clone(),
            space_id: space_id.clone(),
            roles,
            space_name: space.name.clone(),
            space_kind: SpaceKind::Organisation,
        };
        writes.push(account::membership_write(&membership)?);
    }
    let event = AuditEvent::new(
        now,
        context,
        "organisation.registered",
        None,
        format!("space:{space_id}"),
        serde_json::json!({
            "registration": organisation.registration.unique_name(),
            "registry_checked": organisation.registry_checked,
            "administrator": person_id,
            "new_account": matches!(admin, Admin::New(_)),
        }),
    );
    writes.push(event.write(&services.new_id())?);
    let created = writes.iter().filter(|w| !w.key().pk.starts_with("AUDIT#")).map(|w| w.key().clone()).collect();
    Ok(RegistrationWrites { writes, created, event })
}

/// The two emails of a new administrator (the identifier, then the temporary password), or
/// the one of an administrator who already had an account.
async fn send_credentials(
    services: &Services,
    checked: &Checked,
    admin: &Admin,
    temporary: &str,
    locale: Locale,
) -> Result<()> {
    let to = checked.admin.2.as_str();
    let name = &checked.organisation.name;
    let login = services.portal_link("/login");
    let mail = services.mailer.as_ref();
    match admin {
        Admin::Existing { token, .. } => {
            let link = services.portal_link(&format!("/invitation?token={}", token.token));
            mail.send(&messages::organisation_created_for_member(to, name, &link, locale)).await?
        }
        Admin::New(identifier) => {
            mail.send(&messages::organisation_identifier(to, name, identifier, &login, locale)).await?;
            let until = calendar::utc(services.now() + services.config.organisations.temporary_password_ttl);
            mail.send(&messages::organisation_temporary_password(to, temporary, &until, &login, locale)).await?;
        }
    }
    Ok(())
}

/// A registration of an entity that has a space: its administrators are told (a notice:
/// a failure is logged), the registrant is answered `organisation_exists`.
async fn already_registered(services: &Services, guard: Item) -> Error {
    let outcome: Result<()> = async {
        let space_id = guard.decode::<RegistrationGuard>()?.space_id;
        // One notice a day per space: repeated attempts cannot flood its administrators.
        let store = services.store.as_ref();
        let notice = throttle::hit(store, "registration-notice", &space_id, 86400, 1, services.now()).await?;
        if matches!(notice, throttle::Throttled::Limited(_)) {
            return Ok(());
        }
        let loaded = super::load(services, &space_id).await?;
        for admin in super::members::administrators(services, &space_id).await? {
            let email =
                messages::organisation_registration_attempt(admin.email.as_str(), &loaded.space.name, admin.locale);
            services.send_notice(&email, "registration attempt").await;
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "administrators of an existing organisation not told");
    }
    Error::new(ErrorCode::OrganisationExists).field("registration_number")
}
