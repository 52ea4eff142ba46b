//! Organisations' customer spaces (seed 003): the entity and where it is registered, its
//! administrator's first credentials, its members and their roles, invitations.
//!
//! An organisation is a [`CustomerSpace`] of kind `organisation` (name and billing, as every
//! space) plus its [`Organisation`] item in the same partition. Every change of its members
//! (roles, invitations accepted, removals) writes that item on condition of its version: the
//! changes of one organisation happen one at a time, so its rules — always an administrator,
//! exactly one legal representative and one billing contact — hold under any concurrency.

pub mod access;
pub mod invitations;
pub mod members;
pub mod permissions;
pub mod register;
pub mod registration;

use crate::domain::keys;
use crate::domain::people::account::{CustomerSpace, Membership, Role, SpaceKind};
use crate::ports::store::Item;
use crate::ports::Random;
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use registration::Registration;
use serde::{Deserialize, Serialize};

/// The kind of entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    /// A company.
    Company,
    /// A public administration.
    Administration,
    /// An association.
    Association,
}

/// An organisation's details (`SPACE#<id>` / `ORGANISATION`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// The space's id.
    pub space_id: String,
    /// Where and under which number it is registered.
    pub registration: Registration,
    /// Company, administration or association.
    pub entity_type: EntityType,
    /// Legal name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// French department (France only).
    #[serde(default)]
    pub department: Option<String>,
    /// Switchboard phone, as typed.
    pub phone: String,
    /// Fax, as typed.
    #[serde(default)]
    pub fax: Option<String>,
    /// Whether the company registry confirmed the details (it may have been unreachable).
    pub registry_checked: bool,
    /// The administrator's direct phone given at registration, sealed (context:
    /// `purpose=contact_phone`, `space=<id>`).
    #[serde(default)]
    pub administrator_phone: Option<crate::ports::Sealed>,
    /// Unix seconds.
    pub created_at: i64,
    /// Bumped by every change of its members (the item's version does the locking; this
    /// counts changes for the audit trail).
    #[serde(default)]
    pub changes: u64,
    /// How many members the space has, as of this version: a list of members read from the
    /// space's index (eventually consistent) that does not have this many is stale and is
    /// read again.
    #[serde(default)]
    pub member_count: Option<u32>,
}

/// The roles an organisation always has exactly one holder of.
pub const SINGLE_HOLDER_ROLES: [Role; 2] = [Role::LegalRepresentative, Role::BillingContact];

/// An organisation with its space, as read for a change (both items, for their versions).
pub struct Loaded {
    /// The space's item.
    pub space_item: Item,
    /// The space.
    pub space: CustomerSpace,
    /// The organisation's item.
    pub item: Item,
    /// The organisation.
    pub organisation: Organisation,
}

impl Loaded {
    /// Billing details for an organisation's space that has none yet: its registered name and
    /// country, not invoiced, its terms of sale still to accept.
    pub fn new_billing(&self) -> crate::domain::people::account::BillingProfile {
        crate::domain::people::account::BillingProfile {
            name: self.organisation.name.clone(),
            country: self.organisation.registration.country.clone(),
            region: None,
            vat_number: None,
            invoicing_enabled: false,
            billing_contact: None,
            terms: crate::domain::people::account::OrganisationTerms::Pending,
        }
    }
}

/// Reads an organisation's space and details (one batch read); `not_found` when the space
/// is not an organisation.
pub async fn load(services: &Services, space_id: &str) -> Result<Loaded> {
    let found = services.store.get_many(&[keys::space(space_id), keys::organisation(space_id)]).await?;
    let mut found = found.into_iter();
    let not_found = || Error::new(ErrorCode::NotFound).field("space_id");
    let (space_item, item) =
        (found.next().flatten().ok_or_else(not_found)?, found.next().flatten().ok_or_else(not_found)?);
    let space: CustomerSpace = space_item.decode()?;
    if space.kind != SpaceKind::Organisation {
        return Err(not_found());
    }
    let organisation = item.decode()?;
    Ok(Loaded { space_item, space, item, organisation })
}

/// The membership of `person_id` in `space_id`, if any.
pub async fn membership(services: &Services, person_id: &str, space_id: &str) -> Result<Option<Membership>> {
    Ok(services.store.get(&keys::membership(person_id, space_id)).await?.map(|i| i.decode()).transpose()?)
}

/// Enables or disables invoicing for an organisation (a provider's operator): its members
/// may then choose "bill my organisation". The billing contact is told.
pub async fn set_invoicing(
    services: &Services,
    context: &crate::domain::audit::RequestContext,
    operator: &str,
    space_id: &str,
    enabled: bool,
) -> Result<CustomerSpace> {
    if !crate::domain::crypto::is_random_id(space_id) {
        return Err(Error::new(ErrorCode::NotFound).field("space_id"));
    }
    let space = crate::domain::retry::optimistic(8, crate::domain::retry::busy, || async move {
        let loaded = load(services, space_id).await?;
        let mut space = loaded.space.clone();
        let billing = space.billing.get_or_insert_with(|| loaded.new_billing());
        if billing.invoicing_enabled == enabled {
            return Err(Error::new(ErrorCode::NoChange).field("enabled"));
        }
        billing.invoicing_enabled = enabled;
        let event = crate::domain::audit::AuditEvent::new(
            services.now(),
            context,
            if enabled { "organisation.invoicing_enabled" } else { "organisation.invoicing_disabled" },
            Some(&format!("operator:{operator}")),
            format!("space:{space_id}"),
            serde_json::json!({}),
        );
        let writes = vec![
            crate::ports::store::Write::replace(loaded.space_item.next(&space)?),
            event.write(&services.new_id())?,
        ];
        members::commit(services, writes, &event, space).await
    })
    .await?;
    if let Some(contact) = space.billing.as_ref().and_then(|b| b.billing_contact.clone()) {
        let locale = match services.store.get(&keys::email_guard(&contact)).await? {
            Some(guard) => {
                let id = guard.decode::<crate::domain::people::account::EmailGuard>()?.person_id;
                let person = services.store.get(&keys::person(&id)).await?;
                person.map(|p| p.decode::<crate::domain::people::account::Person>()).transpose()?.map(|p| p.locale)
            }
            None => None,
        };
        let email = crate::domain::messages::invoicing_changed(
            contact.as_str(),
            &space.name,
            enabled,
            locale.unwrap_or(crate::locale::Locale::Fr),
        );
        services.send_notice(&email, "invoicing changed").await;
    }
    Ok(space)
}

/// The legal representative accepts the current terms of sale for the organisation (its
/// invoices are issued under them).
pub async fn accept_terms(
    services: &Services,
    context: &crate::domain::audit::RequestContext,
    actor: &Membership,
    version: &str,
) -> Result<()> {
    permissions::require(actor, permissions::Permission::AcceptTerms)?;
    let current = &services.config.payments.terms_version;
    if version != current {
        return Err(Error::new(ErrorCode::TermsNotAccepted).field("version"));
    }
    crate::domain::retry::optimistic(8, crate::domain::retry::busy, || async move {
        let loaded = load(services, &actor.space_id).await?;
        let mut space = loaded.space.clone();
        let billing = space.billing.as_mut().ok_or_else(|| Error::new(ErrorCode::BillingAddressRequired))?;
        if matches!(&billing.terms, crate::domain::people::account::OrganisationTerms::Accepted { version: v, .. } if v == current)
        {
            return Err(Error::new(ErrorCode::NoChange).field("version"));
        }
        billing.terms = crate::domain::people::account::OrganisationTerms::Accepted {
            version: current.clone(),
            by: actor.person_id.clone(),
            at: services.now(),
        };
        let event = crate::domain::audit::AuditEvent::new(
            services.now(),
            context,
            "organisation.terms_accepted",
            Some(&actor.person_id),
            format!("space:{}", actor.space_id),
            serde_json::json!({"version": current}),
        );
        let writes =
            vec![crate::ports::store::Write::replace(loaded.space_item.next(&space)?), event.write(&services.new_id())?];
        members::commit(services, writes, &event, ()).await
    })
    .await
}

/// Whether a person sees and acts for every subscription of a space, not only the ones they
/// hold: the owner of a personal space, or an organisation's agent.
pub async fn acts_for_subscriptions(services: &Services, person_id: &str, space_id: &str) -> Result<bool> {
    Ok(membership(services, person_id, space_id).await?.is_some_and(|m| match m.space_kind {
        SpaceKind::Individual => true,
        SpaceKind::Organisation => permissions::allows(&m.roles, permissions::Permission::ActForSubscriptions),
    }))
}

/// Letters of identifiers: no I, O or Q (read as 1, 0).
const IDENTIFIER_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// A random login identifier: two letters and six digits (`EK700962`).
pub fn new_identifier(random: &dyn Random) -> String {
    let bytes = crate::domain::crypto::random_bytes::<16>(random);
    let mut out = String::with_capacity(8);
    for b in &bytes[..2] {
        out.push(IDENTIFIER_LETTERS[usize::from(*b) % IDENTIFIER_LETTERS.len()] as char);
    }
    let number = u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]) % 1_000_000;
    out.push_str(&format!("{number:06}"));
    out
}

/// Characters of temporary passwords: no look-alikes (0/O, 1/l/I).
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random temporary password: 20 characters (about 115 bits), in groups of five.
pub fn new_temporary_password(random: &dyn Random) -> String {
    let bytes = crate::domain::crypto::random_bytes::<32>(random);
    let mut out = String::with_capacity(23);
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % PASSWORD_ALPHABET.len();
    let mut chars =
        bytes.iter().filter(|b| usize::from(**b) < limit).map(|b| usize::from(*b) % PASSWORD_ALPHABET.len());
    let mut refill = Vec::new();
    for i in 0..20usize {
        if i > 0 && i.is_multiple_of(5) {
            out.push('-');
        }
        let index = match chars.next() {
            Some(index) => index,
            None => {
                // Rarely, 32 bytes do not give 20 characters: draw more.
                if refill.is_empty() {
                    refill = crate::domain::crypto::random_bytes::<32>(random)
                        .iter()
                        .filter(|b| usize::from(**b) < limit)
                        .map(|b| usize::from(*b) % PASSWORD_ALPHABET.len())
                        .collect();
                }
                refill.pop().unwrap_or(0)
            }
        };
        out.push(PASSWORD_ALPHABET[index] as char);
    }
    out
}

/// Checks a phone or fax as typed on the form: digits, spaces, dots, dashes, parentheses and
/// a leading `+`; 6 to 20 digits.
pub fn contact_number(input: &str, field: &str) -> Result<String> {
    let trimmed = input.trim();
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    let allowed = trimmed
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')') || (c == '+' && i == 0));
    if !allowed || !(6..=20).contains(&digits) {
        return Err(Error::new(ErrorCode::InvalidPhone).field(field));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::OsRandom;

    #[test]
    fn identifiers_are_two_unambiguous_letters_and_six_digits() {
        for _ in 0..200 {
            let id = new_identifier(&OsRandom);
            assert_eq!(crate::domain::people::account::parse_identifier(&id).as_deref(), Some(id.as_str()));
            assert!(!id[..2].contains(['I', 'O', 'Q']), "{id}");
        }
    }

    #[test]
    fn temporary_passwords_are_long_and_pass_the_policy() {
        let a = new_temporary_password(&OsRandom);
        assert_eq!(a.len(), 23);
        assert!(crate::domain::people::password::check_policy(&a, None).is_ok());
        assert_ne!(a, new_temporary_password(&OsRandom));
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }

    #[test]
    fn contact_numbers_are_digits_with_common_separators() {
        assert_eq!(contact_number(" 03 20 20 20 20 ", "phone").unwrap(), "03 20 20 20 20");
        assert!(contact_number("+1 555 010 0199", "phone").is_ok());
        assert!(contact_number("12345", "phone").is_err());
        assert!(contact_number("03 20 <script>", "phone").is_err());
        assert!(contact_number("03+20202020", "phone").is_err());
    }
}
