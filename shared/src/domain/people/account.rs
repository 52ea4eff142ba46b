//! People, customer spaces and memberships: the nouns every journey after sign-up uses,
//! their keys in the single table, and the writes that create an individual account.

use crate::domain::keys;
use crate::domain::people::email::EmailAddress;
use crate::domain::people::phone::PhoneChannel;
use crate::locale::Locale;
use crate::ports::store::{Item, StoreError, Write};
use crate::ports::{EncryptionContext, Sealed};
use serde::{Deserialize, Serialize};

/// Someone who logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Random id.
    pub id: String,
    /// Login email (unique, verified).
    pub email: EmailAddress,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Preferred language.
    pub locale: Locale,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The second-factor phone, if any (an administrator may reset it; then the person
    /// enrols again).
    #[serde(default, alias = "second_factor")]
    pub phone: Option<PhoneFactor>,
    /// The authenticator app, if enrolled (preferred over the phone once confirmed).
    #[serde(default)]
    pub totp: Option<crate::domain::second_factor::totp::TotpFactor>,
    /// For organisation users: the identifier they log in with (two letters, six digits).
    #[serde(default)]
    pub identifier: Option<String>,
    /// Until when the password (set by Signet and emailed) is temporary: it then only lets
    /// its owner choose a new one. `None` once they chose their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary_password_until: Option<i64>,
    /// After a reset of the second factor: the emailed link without which no new factor is
    /// enrolled (a password alone does not choose the next second factor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_link: Option<EnrolmentLink>,
    /// The Google account (`sub`) linked at the first Google sign-in; later ones must match.
    #[serde(default)]
    pub google_subject: Option<String>,
    /// A change of login email waiting for its link and second factor (the newest only).
    #[serde(default)]
    pub pending_email: Option<PendingEmail>,
    /// A second address, used by signature recovery once verified.
    #[serde(default)]
    pub alternate_email: Option<AlternateEmail>,
    /// Bumped by a password change: sessions of an older epoch end.
    pub session_epoch: u64,
    /// The subscriber record this person was created from, if any.
    pub subscriber_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Recent failed logins, for the per-account throttle.
    #[serde(default)]
    pub login_failures: LoginFailures,
    /// Recent wrong second-factor answers, all steps together (see [`crate::domain::second_factor`]).
    #[serde(default)]
    pub factor_failures: LoginFailures,
    /// The failed logins of trusted devices (browsers and apps that signed in before, see
    /// [`crate::domain::sessions::access_token::DeviceClaims`]): each device has its own allowance, so guesses from
    /// elsewhere never lock it out. The most recent few only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_failures: Vec<DeviceFailures>,
}

/// The failed logins of one trusted device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFailures {
    /// The device token's id.
    pub device: String,
    /// Its failures.
    pub failures: LoginFailures,
}

/// How many trusted devices' failures a person's item keeps (the oldest go first).
const DEVICES_REMEMBERED: usize = 10;

impl Person {
    /// A new person with a password and, usually, a second-factor phone.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        email: EmailAddress,
        first_name: String,
        last_name: String,
        locale: Locale,
        password_hash: String,
        phone: Option<PhoneFactor>,
        now: i64,
    ) -> Person {
        Person {
            id,
            email,
            first_name,
            last_name,
            locale,
            password_hash,
            phone,
            totp: None,
            identifier: None,
            temporary_password_until: None,
            enrolment_link: None,
            google_subject: None,
            pending_email: None,
            alternate_email: None,
            session_epoch: 0,
            subscriber_id: None,
            created_at: now,
            login_failures: LoginFailures::default(),
            factor_failures: LoginFailures::default(),
            device_failures: Vec::new(),
        }
    }

    /// The failed logins a password attempt is judged by: the device's own when it comes
    /// from a trusted device, else those of every other client together.
    pub fn failures_of(&self, device: Option<&str>) -> LoginFailures {
        match device {
            Some(id) => {
                self.device_failures.iter().find(|d| d.device == id).map(|d| d.failures.clone()).unwrap_or_default()
            }
            None => self.login_failures.clone(),
        }
    }

    /// Records a failed password attempt at `now` against the allowance it was judged by.
    pub fn record_login_failure(&mut self, device: Option<&str>, now: i64) {
        let Some(id) = device else {
            self.login_failures.record(now);
            return;
        };
        let mut entry = match self.device_failures.iter().position(|d| d.device == id) {
            Some(i) => self.device_failures.remove(i),
            None => DeviceFailures { device: id.to_owned(), failures: LoginFailures::default() },
        };
        entry.failures.record(now);
        self.device_failures.push(entry);
        let excess = self.device_failures.len().saturating_sub(DEVICES_REMEMBERED);
        self.device_failures.drain(..excess);
    }

    /// Clears the allowance a right password was judged by.
    pub fn clear_login_failures(&mut self, device: Option<&str>) {
        match device {
            Some(id) => self.device_failures.retain(|d| d.device != id),
            None => self.login_failures = LoginFailures::default(),
        }
    }

    /// The confirmed authenticator app, if any.
    pub fn confirmed_totp(&self) -> Option<&crate::domain::second_factor::totp::TotpFactor> {
        self.totp.as_ref().filter(|t| t.confirmed)
    }

    /// Whether the person must first set up their account (choose their own password in
    /// place of a temporary one, enrol a second factor) before any session: a person without
    /// a factor never gets one on a password alone.
    pub fn needs_setup(&self) -> bool {
        self.temporary_password_until.is_some() || (self.phone.is_none() && self.confirmed_totp().is_none())
    }
}

/// A login-email change in progress: until it completes, the old address stays the login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEmail {
    /// The change request (`EMAILCHANGE#<id>`).
    pub change_id: String,
    /// The address asked for.
    pub email: EmailAddress,
    /// When its link stops working.
    pub expires_at: i64,
}

/// The emailed link that allows enrolling a second factor after a reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentLink {
    /// The hash of the link's secret.
    pub token_hash: String,
    /// When the link stops working.
    pub expires_at: i64,
}

/// A person's alternate email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlternateEmail {
    /// The address.
    pub email: EmailAddress,
    /// Whether its link was followed.
    pub verified: bool,
    /// The id of the verification link's token, while unverified.
    pub token_id: Option<String>,
    /// The hash of its secret, while unverified.
    pub token_hash: Option<String>,
    /// When the link stops working.
    pub expires_at: i64,
}

/// An organisation identifier as typed (`ek 700-962` → `EK700962`), if it is one.
pub fn parse_identifier(input: &str) -> Option<String> {
    let cleaned: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    let bytes = cleaned.as_bytes();
    let ok =
        bytes.len() == 8 && bytes[..2].iter().all(u8::is_ascii_uppercase) && bytes[2..].iter().all(u8::is_ascii_digit);
    ok.then_some(cleaned)
}

/// Failed logins of one account in the current hour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailures {
    /// Failures in the window.
    pub count: u32,
    /// Start of the one-hour window (unix seconds).
    pub window_start: i64,
    /// The last failure (unix seconds).
    pub last_at: i64,
}

impl LoginFailures {
    /// At most this many failures an hour; then the allowance refuses every password until
    /// the hour is over.
    pub const MAX_PER_HOUR: u32 = 100;

    /// How long to wait before a password may be tried at `now`, if at all: none under
    /// three failures, then a delay that doubles with each failure (at most five minutes),
    /// and the rest of the hour past the hourly cap.
    pub fn wait(&self, now: i64) -> Option<u64> {
        if now - self.window_start >= 3600 {
            return None;
        }
        if self.count >= Self::MAX_PER_HOUR {
            return Some((self.window_start + 3600 - now) as u64);
        }
        let delay = if self.count < 3 { 0 } else { (1i64 << (self.count - 3).min(9)).min(300) };
        let ready = self.last_at + delay;
        (now < ready).then(|| (ready - now) as u64)
    }

    /// Whether a password may be tried at `now` (see [`Self::wait`]).
    pub fn allows(&self, now: i64) -> bool {
        self.wait(now).is_none()
    }

    /// Failures in the current one-hour window at `now`.
    pub fn in_window(&self, now: i64) -> u32 {
        if now - self.window_start >= 3600 {
            0
        } else {
            self.count
        }
    }

    /// Records a failure at `now`.
    pub fn record(&mut self, now: i64) {
        if now - self.window_start >= 3600 {
            *self = LoginFailures { count: 0, window_start: now, last_at: now };
        }
        self.count += 1;
        self.last_at = now;
    }
}

/// A phone used as second factor; the number is sealed under the key service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneFactor {
    /// The E.164 number, encrypted (context: `purpose=phone`, `person=<id>`).
    pub phone: Sealed,
    /// A safe hint (`+1 ••• ••34`).
    pub hint: String,
    /// SMS or voice.
    pub channel: PhoneChannel,
}

/// What kind of customer space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceKind {
    /// An individual's own space.
    Individual,
    /// An organisation's space.
    Organisation,
}

/// A customer space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSpace {
    /// Random id.
    pub id: String,
    /// Individual or organisation.
    pub kind: SpaceKind,
    /// Display name.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Billing details: the address that sets the taxes, and for an organisation whether
    /// it may be invoiced and who receives its invoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<BillingProfile>,
}

/// A space's billing details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingProfile {
    /// Name on invoices (the organisation's legal name, or the person's).
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Region (a Canadian province: `QC`, `ON`…), when the country has regional taxes.
    #[serde(default)]
    pub region: Option<String>,
    /// EU VAT number, for a business.
    #[serde(default)]
    pub vat_number: Option<String>,
    /// Whether the organisation may be invoiced (pay on terms) by its members.
    #[serde(default)]
    pub invoicing_enabled: bool,
    /// Who receives the organisation's invoices.
    #[serde(default)]
    pub billing_contact: Option<EmailAddress>,
    /// The terms of sale for an organisation's invoices.
    #[serde(default)]
    pub terms: OrganisationTerms,
}

/// Whether an organisation accepted the terms of sale its invoices are issued under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum OrganisationTerms {
    /// Contracted outside the portal (an organisation imported from the provider's records).
    #[default]
    Contracted,
    /// Registered on the portal: its legal representative has not accepted them yet.
    Pending,
    /// Accepted by its legal representative.
    Accepted {
        /// The version accepted.
        version: String,
        /// The legal representative who accepted.
        by: String,
        /// Unix seconds.
        at: i64,
    },
}

impl BillingProfile {
    /// Whether members may bill the organisation: invoicing enabled by the provider, a
    /// billing contact, and the current terms accepted (or contracted).
    pub fn invoicing_open(&self, terms_version: &str) -> bool {
        let terms = match &self.terms {
            OrganisationTerms::Contracted => true,
            OrganisationTerms::Pending => false,
            OrganisationTerms::Accepted { version, .. } => version == terms_version,
        };
        self.invoicing_enabled && self.billing_contact.is_some() && terms
    }
}

/// A role in a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the space.
    Administrator,
    /// Legal representative.
    LegalRepresentative,
    /// Receives invoices.
    BillingContact,
    /// Agent (mandataire).
    Agent,
    /// Contact for server certificates.
    ServerCertificateContact,
    /// A user.
    User,
}

/// A person's membership of a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The person.
    pub person_id: String,
    /// The space.
    pub space_id: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// The space's name, copied here so that a login lists spaces with one query.
    #[serde(default)]
    pub space_name: String,
    /// The space's kind, copied likewise.
    #[serde(default = "individual")]
    pub space_kind: SpaceKind,
}

fn individual() -> SpaceKind {
    SpaceKind::Individual
}

/// What the provider knew of a subscriber before the portal (imported from the legacy system).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberRecord {
    /// Legacy subscriber number.
    pub id: String,
    /// Professional email on file.
    pub email: EmailAddress,
    /// First name on file.
    pub first_name: String,
    /// Last name on file.
    pub last_name: String,
    /// Phone on file, if any: sealed (context: `purpose=phone`, `subscriber=<id>`), with a hint.
    pub phone: Option<SealedPhone>,
    /// Language on file.
    pub locale: Locale,
    /// The person created from this record, once linked.
    pub person_id: Option<String>,
}

/// A phone number at rest: sealed under the key service, with a hint safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedPhone {
    /// The E.164 number, encrypted.
    pub sealed: Sealed,
    /// `+1 ••• ••34`.
    pub hint: String,
}

/// The encryption context of a person's phone.
pub fn person_phone_context(person_id: &str) -> EncryptionContext {
    EncryptionContext::from([("purpose".to_owned(), "phone".to_owned()), ("person".to_owned(), person_id.to_owned())])
}

/// The encryption context of a subscriber record's phone.
pub fn subscriber_phone_context(subscriber_id: &str) -> EncryptionContext {
    EncryptionContext::from([
        ("purpose".to_owned(), "phone".to_owned()),
        ("subscriber".to_owned(), subscriber_id.to_owned()),
    ])
}

/// Opens a person's sealed phone number (one key-service call).
pub async fn open_person_phone(
    keys: &dyn crate::ports::Keys,
    person_id: &str,
    sealed: &Sealed,
) -> crate::error::Result<crate::domain::people::phone::PhoneNumber> {
    let bytes = keys.open(sealed, &person_phone_context(person_id)).await?;
    let text = String::from_utf8(bytes).map_err(crate::error::Error::internal)?;
    Ok(crate::domain::people::phone::PhoneNumber::from_e164(text))
}

/// A person and their memberships, read together: they share the person's partition
/// (one query instead of two reads).
pub struct PersonWithSpaces {
    /// The person's item.
    pub item: Item,
    /// The person.
    pub person: Person,
    /// Their memberships.
    pub memberships: Vec<Membership>,
}

/// Reads a person and their memberships in one query; `None` when there is no such person.
pub async fn person_with_spaces(
    store: &dyn crate::ports::store::Store,
    person_id: &str,
) -> Result<Option<PersonWithSpaces>, StoreError> {
    let items = store.query(&keys::person_partition(person_id), "", 200).await?;
    let mut person = None;
    let mut memberships = Vec::new();
    for item in items {
        if item.key.sk == "PROFILE" {
            let decoded: Person = item.decode()?;
            person = Some((item, decoded));
        } else if item.key.sk.starts_with(keys::MEMBERSHIP_PREFIX) {
            memberships.push(item.decode()?);
        }
    }
    Ok(person.map(|(item, person)| PersonWithSpaces { item, person, memberships }))
}

/// The guard item's body: which person holds the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailGuard {
    /// The person.
    pub person_id: String,
}

/// The writes that create a person with a personal space, all conditional on absence:
/// in one transaction, two racing sign-ups for one email end in one account.
pub fn individual_account_writes(person: &Person, space: &CustomerSpace) -> Result<Vec<Write>, StoreError> {
    let membership = Membership {
        person_id: person.id.clone(),
        space_id: space.id.clone(),
        roles: vec![Role::Administrator],
        space_name: space.name.clone(),
        space_kind: space.kind,
    };
    Ok(vec![
        Write::create(Item::new(keys::email_guard(&person.email), &EmailGuard { person_id: person.id.clone() })?),
        Write::create(Item::new(keys::person(&person.id), person)?),
        Write::create(Item::new(keys::space(&space.id), space)?),
        membership_write(&membership)?,
    ])
}

/// The write that creates a membership, indexed under its space (`gsi1`).
pub fn membership_write(membership: &Membership) -> Result<Write, StoreError> {
    let index = keys::space_member_index(&membership.space_id, &membership.person_id);
    Ok(Write::create(Item::new(keys::membership(&membership.person_id, &membership.space_id), membership)?.gsi1(index)))
}

#[cfg(test)]
mod tests {
    use super::LoginFailures;

    #[test]
    fn failures_add_a_growing_delay_and_cap_at_one_hundred_an_hour() {
        let mut f = LoginFailures::default();
        let start = 10_000;
        for i in 0..3 {
            assert!(f.allows(start + i));
            f.record(start + i);
        }
        assert!(!f.allows(start + 2), "a delay after the third failure");
        assert!(f.allows(start + 3));
        let mut now = start + 3;
        while f.count < LoginFailures::MAX_PER_HOUR {
            now += 300;
            if now - f.window_start >= 3600 {
                break;
            }
            assert!(f.allows(now));
            f.record(now);
        }
        let mut capped = LoginFailures { count: 100, window_start: start, last_at: start };
        assert!(!capped.allows(start + 3599), "capped for the hour");
        assert!(capped.allows(start + 3600), "a new hour");
        capped.record(start + 3600);
        assert_eq!(capped.count, 1);
    }
}
