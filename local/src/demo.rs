//! A small demo data set (`--demo`): subscriber records to prefill sign-ups from, and one
//! existing account, so that every sign-up path can be tried at once. Loading twice
//! changes nothing.

use signet_shared::domain::keys;
use signet_shared::domain::people::account::{
    self, BillingProfile, CustomerSpace, Membership, Person, Role, SealedPhone, SpaceKind, SubscriberRecord,
};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::phone::PhoneNumber;
use signet_shared::domain::signatures::subscription::{self, Product, Subscription, SubscriptionStatus};
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::{domain::people::password, Locale, Services};

/// The password of the demo account (demo data only; printed by the server at start).
pub const DEMO_PASSWORD: &str = "demo portal password 2026";

/// What the demo data set holds, for the start-up banner.
pub const SUMMARY: &str =
    "demo data: subscriber records subscriber@example.com (fr) and legacy.subscriber@example.org (en) \
    prefill a sign-up; member@example.com already has an account, with a personal space and an organisation's, \
    a cloud signature that needs to be updated (GET /subscriptions, then recover and activate it) and one ending in \
    30 days (its reminder is in the outbox) to renew by card (local payment page) or by invoice to Example Organisation, whose administrator \
    (admin@example.org, identifier DA100001) and billing contact (billing@example.org) have accounts too; \
    the company registry knows SIRET 12345678200010 (registers a new organisation)";

/// Loads the demo data set.
pub async fn load(services: &Services) -> Result<(), signet_shared::Error> {
    subscriber_records(services).await?;
    member(services).await
}

/// The subscriber records that prefill a sign-up.
async fn subscriber_records(services: &Services) -> Result<(), signet_shared::Error> {
    let records = [
        ("S-100001", "subscriber@example.com", "Demo", "Subscriber", Some("+1 514 555 0100"), Locale::Fr),
        ("S-100002", "legacy.subscriber@example.org", "Legacy", "Subscriber", None, Locale::En),
    ];
    for (id, email, first, last, phone, locale) in records {
        let email = EmailAddress::parse(email)?;
        let phone = match phone {
            Some(p) => {
                let number = PhoneNumber::parse(p, &services.config.limits.phone_countries)?;
                let sealed =
                    services.keys.seal(number.as_str().as_bytes(), &account::subscriber_phone_context(id)).await?;
                Some(SealedPhone { sealed, hint: number.hint() })
            }
            None => None,
        };
        let record = SubscriberRecord {
            id: id.into(),
            email: email.clone(),
            first_name: first.into(),
            last_name: last.into(),
            phone,
            locale,
            person_id: None,
        };
        ignore_existing(services.store.write(Write::create(Item::new(keys::subscriber(&email), &record)?)).await)?;
    }
    Ok(())
}

/// The demo member: a personal space in Québec, an organisation's space, a signature to
/// update and one to renew.
async fn member(services: &Services) -> Result<(), signet_shared::Error> {
    let email = EmailAddress::parse("member@example.com")?;
    if services.store.get(&keys::email_guard(&email)).await?.is_some() {
        return Ok(());
    }
    let hash = password::hash(DEMO_PASSWORD.into(), services.config.argon2).await?;
    let person =
        crate::demo_organisation::person(services, email.as_str(), ("Demo", "Member"), "+1 514 555 0101", &hash)
            .await?;
    let space = CustomerSpace {
        id: services.new_id(),
        kind: SpaceKind::Individual,
        name: "Demo Member".into(),
        created_at: services.now(),
        // In Québec: a renewal's draft invoice shows GST and QST.
        billing: Some(BillingProfile {
            name: "Demo Member".into(),
            country: "CA".into(),
            region: Some("QC".into()),
            vat_number: None,
            invoicing_enabled: false,
            billing_contact: None,
            terms: Default::default(),
        }),
    };
    // The member also belongs to an organisation's space (a user there): a login then offers
    // the choice, and a renewal may be billed to it (enabled for invoicing; its invoices go to
    // its billing contact, billing@example.org, who has an account; its administrator is
    // admin@example.org: see `demo_organisation`).
    let organisation = CustomerSpace {
        id: services.new_id(),
        kind: SpaceKind::Organisation,
        name: "Example Organisation".into(),
        created_at: services.now(),
        billing: Some(BillingProfile {
            name: "Example Organisation Inc.".into(),
            country: "CA".into(),
            region: Some("ON".into()),
            vat_number: None,
            invoicing_enabled: true,
            billing_contact: Some(EmailAddress::parse("billing@example.org")?),
            terms: Default::default(),
        }),
    };
    let mut writes = account::individual_account_writes(&person, &space)?;
    writes.extend(organisation_writes(&person, &organisation)?);
    writes.extend(signature_writes(services, &person, &space)?);
    writes.extend(crate::demo_organisation::writes(services, &organisation, &person.password_hash).await?);
    ignore_existing(services.store.transact(writes).await)
}

/// The organisation's space and the member's membership of it.
fn organisation_writes(person: &Person, organisation: &CustomerSpace) -> Result<Vec<Write>, signet_shared::Error> {
    let membership = Membership {
        person_id: person.id.clone(),
        space_id: organisation.id.clone(),
        roles: vec![Role::User],
        space_name: organisation.name.clone(),
        space_kind: organisation.kind,
    };
    Ok(vec![
        Write::create(Item::new(keys::space(&organisation.id), organisation)?),
        account::membership_write(&membership)?,
    ])
}

/// The member's two cloud signatures.
fn signature_writes(
    services: &Services,
    person: &Person,
    space: &CustomerSpace,
) -> Result<Vec<Write>, signet_shared::Error> {
    let mut writes = vec![];
    // A cloud signature that "needs to be updated", in the member's own space: the recovery
    // and activation journeys (seed 002) start from it.
    let now = services.now();
    let signature = Subscription {
        id: services.new_id(),
        space_id: space.id.clone(),
        holder_id: person.id.clone(),
        product: Product::CloudSignature,
        status: SubscriptionStatus::NeedsUpdate,
        term_start: now - 300 * 86400,
        term_end: now + 730 * 86400,
        certificate: None,
        recovery: None,
    };
    writes.extend(subscription::creation_writes(&signature)?);
    // A cloud signature whose term ends in 30 days: the renewal journey (seed 000, step 3)
    // starts from it, and the first reminders run (at start-up) emails its 30-day reminder.
    let ending = Subscription {
        id: services.new_id(),
        space_id: space.id.clone(),
        holder_id: person.id.clone(),
        product: Product::CloudSignature,
        status: SubscriptionStatus::Functional,
        term_start: now - 340 * 86400,
        term_end: now + 30 * 86400,
        certificate: None,
        recovery: None,
    };
    writes.extend(subscription::creation_writes(&ending)?);
    Ok(writes)
}

fn ignore_existing(result: Result<(), StoreError>) -> Result<(), signet_shared::Error> {
    match result {
        Ok(()) | Err(StoreError::ConditionFailed(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
