//! The demo organisation's people: Example Organisation (registered in Canada) has an
//! administrator who is also its legal representative (admin@example.org) and a billing
//! contact (billing@example.org), who sign in with the demo password and the SMS code on the
//! outbox page; the demo member is one of its users. Its terms were contracted outside the
//! portal, and invoicing is enabled: its members may bill it.

use signet_shared::domain::keys;
use signet_shared::domain::organisations::registration::{Jurisdiction, Registration};
use signet_shared::domain::organisations::{EntityType, Organisation};
use signet_shared::domain::people::account::{self, CustomerSpace, Membership, Person, PhoneFactor, Role};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::phone::{PhoneChannel, PhoneNumber};
use signet_shared::ports::store::{Item, Write};
use signet_shared::{Locale, Services};

/// A demo person of the organisation: email, first and last name, phone, identifier, roles.
type DemoPerson = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static [Role]);

/// The organisation's people besides the demo member.
const PEOPLE: [DemoPerson; 2] = [
    (
        "admin@example.org",
        "Demo",
        "Administrator",
        "+1 514 555 0102",
        "DA100001",
        &[Role::Administrator, Role::LegalRepresentative],
    ),
    ("billing@example.org", "Demo", "Billing", "+1 514 555 0103", "DB100002", &[Role::BillingContact]),
];

/// A person of the demo data with the demo password and an SMS phone.
pub async fn person(
    services: &Services,
    email: &str,
    name: (&str, &str),
    phone: &str,
    hash: &str,
) -> Result<Person, signet_shared::Error> {
    let person_id = services.new_id();
    let phone = PhoneNumber::parse(phone, &services.config.limits.phone_countries)?;
    let context = account::person_phone_context(&person_id);
    let phone = PhoneFactor {
        phone: services.keys.seal(phone.as_str().as_bytes(), &context).await?,
        hint: phone.hint(),
        channel: PhoneChannel::Sms,
    };
    let email = EmailAddress::parse(email)?;
    Ok(Person::new(
        person_id,
        email,
        name.0.into(),
        name.1.into(),
        Locale::En,
        hash.into(),
        Some(phone),
        services.now(),
    ))
}

/// The organisation's details and its administrator and billing contact (with the demo
/// password's `hash`), with their memberships (one transaction).
pub async fn writes(
    services: &Services,
    organisation: &CustomerSpace,
    hash: &str,
) -> Result<Vec<Write>, signet_shared::Error> {
    let details = Organisation {
        space_id: organisation.id.clone(),
        registration: Registration::parse(Jurisdiction::Other, "CA", "1234-5678")?,
        entity_type: EntityType::Company,
        name: organisation.name.clone(),
        address: "100 Example Street".into(),
        postal_code: "K1A 0A1".into(),
        city: "Ottawa".into(),
        department: None,
        phone: "+1 555 010 0100".into(),
        fax: None,
        registry_checked: false,
        administrator_phone: None,
        created_at: services.now(),
        changes: 0,
        member_count: Some(3),
    };
    let registration = keys::registration_guard(&details.registration.unique_name());
    let mut writes = vec![
        Write::create(Item::new(keys::organisation(&organisation.id), &details)?),
        Write::create(Item::new(registration, &serde_json::json!({"space_id": organisation.id}))?),
    ];
    for (email, first, last, phone, identifier, roles) in PEOPLE {
        let mut person = person(services, email, (first, last), phone, hash).await?;
        person.identifier = Some(identifier.into());
        let guard = account::EmailGuard { person_id: person.id.clone() };
        writes.push(Write::create(Item::new(keys::email_guard(&person.email), &guard)?));
        writes.push(Write::create(Item::new(keys::identifier_guard(identifier), &guard)?));
        writes.push(Write::create(Item::new(keys::person(&person.id), &person)?));
        writes.push(account::membership_write(&Membership {
            person_id: person.id.clone(),
            space_id: organisation.id.clone(),
            roles: roles.to_vec(),
            space_name: organisation.name.clone(),
            space_kind: organisation.kind,
        })?);
    }
    Ok(writes)
}
