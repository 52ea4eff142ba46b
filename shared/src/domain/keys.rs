//! Every partition and sort key of the single table, in one place. The shapes are part of
//! the stored data: changing one makes what is stored unreadable, and the test below pins
//! each byte for byte.
//!
//! A partition groups what one step reads together (a person's profile, memberships and
//! session index; a subscription and its renewal lock); guards (`EMAIL#…`, `IDENT#…`) make
//! a value unique by being created on condition that they do not exist.

use crate::domain::people::email::EmailAddress;
use crate::ports::store::Key;

// People.

/// The partition of a person: profile, memberships, phone change, pending app, and the
/// index of their sessions.
pub fn person_partition(person_id: &str) -> String {
    format!("PERSON#{person_id}")
}

/// A person's profile.
pub fn person(person_id: &str) -> Key {
    Key::new(person_partition(person_id), "PROFILE")
}

/// The sort-key prefix of a person's memberships.
pub const MEMBERSHIP_PREFIX: &str = "MEMBER#";

/// A person's membership of a space (in the person's partition; indexed under the space).
pub fn membership(person_id: &str, space_id: &str) -> Key {
    Key::new(person_partition(person_id), format!("{MEMBERSHIP_PREFIX}{space_id}"))
}

/// The index entry of a membership under its space.
pub fn space_member_index(space_id: &str, person_id: &str) -> Key {
    Key::new(space_partition(space_id), format!("{MEMBERSHIP_PREFIX}{person_id}"))
}

/// The guard that makes a login email unique.
pub fn email_guard(email: &EmailAddress) -> Key {
    Key::new(format!("EMAIL#{email}"), "GUARD")
}

/// The guard that makes an organisation identifier unique.
pub fn identifier_guard(identifier: &str) -> Key {
    Key::new(format!("IDENT#{identifier}"), "GUARD")
}

/// The record of a subscriber known before their account (the language of the first mail).
pub fn subscriber(email: &EmailAddress) -> Key {
    Key::new(format!("SUBSCRIBER#{email}"), "RECORD")
}

/// The partition of a space: the space and the index of its members and subscriptions.
pub fn space_partition(space_id: &str) -> String {
    format!("SPACE#{space_id}")
}

/// A space (a person's own, or an organisation).
pub fn space(space_id: &str) -> Key {
    Key::new(space_partition(space_id), "SPACE")
}

/// An organisation's details (in its space's partition: every change of its members is
/// written on condition of this item's version, so that they happen one at a time).
pub fn organisation(space_id: &str) -> Key {
    Key::new(space_partition(space_id), "ORGANISATION")
}

/// The guard that makes a registration (a SIRET, a VAT number…) have one space.
pub fn registration_guard(unique_name: &str) -> Key {
    Key::new(format!("REGISTRATION#{unique_name}"), "GUARD")
}

/// The sort-key prefix of a space's pending invitations.
pub const INVITATION_PREFIX: &str = "INVITE#";

/// The pending invitation of an address to a space (one per address and space).
pub fn invitation(space_id: &str, email: &EmailAddress) -> Key {
    Key::new(space_partition(space_id), format!("{INVITATION_PREFIX}{email}"))
}

/// Where an invitation's link leads: its space and address.
pub fn invitation_link(id: &str) -> Key {
    Key::new(format!("INVITATION#{id}"), "LINK")
}

/// A sign-up request (from the first email to the confirmed account).
pub fn signup_request(id: &str) -> Key {
    Key::new(format!("SIGNUP#{id}"), "REQUEST")
}

/// A login email change request.
pub fn email_change(id: &str) -> Key {
    Key::new(format!("EMAILCHANGE#{id}"), "REQUEST")
}

/// A person's phone change in progress.
pub fn phone_change(person_id: &str) -> Key {
    Key::new(person_partition(person_id), "PHONECHANGE")
}

/// A password reset link.
pub fn password_reset(id: &str) -> Key {
    Key::new(format!("RESET#{id}"), "LINK")
}

/// The failed password attempts counted for a login name.
pub fn login_failures(login_name: &str) -> Key {
    Key::new(format!("LOGINFAIL#{login_name}"), "FAILURES")
}

// Second factor and sessions.

/// A second-factor step (login, re-authentication, reset, email change, activation).
pub fn second_factor_step(id: &str) -> Key {
    Key::new(format!("LOGIN#{id}"), "CHALLENGE")
}

/// A second-factor phone being enrolled at the first sign-in, until its code confirms it.
pub fn setup_phone(person_id: &str) -> Key {
    Key::new(person_partition(person_id), "SETUP#PHONE")
}

/// An authenticator app being enrolled, until its first code confirms it.
pub fn pending_app(person_id: &str) -> Key {
    Key::new(person_partition(person_id), "TOTP#PENDING")
}

/// The sort-key prefix of sessions in a person's index.
pub const SESSION_PREFIX: &str = "SESSION#";

/// A session.
pub fn session(id: &str) -> Key {
    Key::new(format!("{SESSION_PREFIX}{id}"), "SESSION")
}

/// The index entry of a session under its person (oldest first).
pub fn person_session_index(person_id: &str, created_at: i64, id: &str) -> Key {
    Key::new(person_partition(person_id), format!("{SESSION_PREFIX}{created_at:012}#{id}"))
}

/// The partition of the access-token signing keys.
pub const SIGNING_KEYS: &str = "SIGNINGKEYS";

/// The sort-key prefix of the signing keys.
pub const SIGNING_KEY_PREFIX: &str = "KEY#";

/// One signing key, by the time it was made.
pub fn signing_key(created_at: i64, kid: &str) -> Key {
    Key::new(SIGNING_KEYS, format!("{SIGNING_KEY_PREFIX}{created_at:012}#{kid}"))
}

// Signatures.

/// The sort-key prefix of subscriptions under a space and a day.
pub const SUBSCRIPTION_PREFIX: &str = "SUB#";

/// The partition of a subscription: the subscription and its renewal lock.
pub fn subscription_partition(id: &str) -> String {
    format!("{SUBSCRIPTION_PREFIX}{id}")
}

/// A subscription.
pub fn subscription(id: &str) -> Key {
    Key::new(subscription_partition(id), "SUBSCRIPTION")
}

/// The index entry of a subscription under its space.
pub fn space_subscription_index(space_id: &str, id: &str) -> Key {
    Key::new(space_partition(space_id), format!("{SUBSCRIPTION_PREFIX}{id}"))
}

/// The partition of the subscriptions ending on a UTC day (`YYYY-MM-DD`).
pub fn expiry_partition(day: &str) -> String {
    format!("EXPIRY#{day}")
}

/// The entry of a subscription under the day its term ends.
pub fn expiry_index(day: &str, id: &str) -> Key {
    Key::new(expiry_partition(day), format!("{SUBSCRIPTION_PREFIX}{id}"))
}

/// The PIN of a cloud signature (in the subscription's partition).
pub fn subscription_pin(subscription_id: &str) -> Key {
    Key::new(subscription_partition(subscription_id), "PIN")
}

/// A person's security questions (for resetting a forgotten PIN only).
pub fn security_questions(person_id: &str) -> Key {
    Key::new(person_partition(person_id), "SECURITYQUESTIONS")
}

/// A recovery (its reference number).
pub fn recovery(reference: &str) -> Key {
    Key::new(format!("RECOVERY#{reference}"), "RECOVERY")
}

/// The certificate authority of a key.
pub fn authority(key_id: &str) -> Key {
    Key::new(format!("CA#{key_id}"), "AUTHORITY")
}

/// A certificate's status record (lowercase hex serial).
pub fn certificate(serial: &str) -> Key {
    Key::new(format!("CERT#{serial}"), "STATUS")
}

// Billing.

/// A renewal.
pub fn renewal(id: &str) -> Key {
    Key::new(format!("RENEWAL#{id}"), "RENEWAL")
}

/// The lock that keeps one card checkout open per subscription (in its partition).
pub fn renewal_lock(subscription_id: &str) -> Key {
    Key::new(subscription_partition(subscription_id), "RENEWALLOCK")
}

/// The partition of the renewals whose notices are not all sent.
pub const PENDING_NOTICES: &str = "NOTICEPENDING";

/// The index entry of a renewal whose notices are not all sent.
pub fn pending_notice(renewal_id: &str) -> Key {
    Key::new(PENDING_NOTICES, renewal_id)
}

/// An invoice.
pub fn invoice(number: &str) -> Key {
    Key::new(format!("INVOICE#{number}"), "INVOICE")
}

/// The sort-key prefix of the invoices issued to a space (in its `gsi1` index).
pub const INVOICE_PREFIX: &str = "INVOICE#";

/// The index entry of an invoice under the space it is issued to (`gsi1`).
pub fn space_invoice_index(space_id: &str, number: &str) -> Key {
    Key::new(space_partition(space_id), format!("{INVOICE_PREFIX}{number}"))
}

/// The counter of an invoice series (a year).
pub fn invoice_counter(series: &str) -> Key {
    Key::new(format!("INVOICESERIES#{series}"), "COUNTER")
}

/// The claim of a reminder: one per subscription, term end and days before it.
pub fn reminder_claim(subscription_id: &str, term_end: i64, days: i64) -> Key {
    Key::new(format!("REMINDER#{subscription_id}"), format!("{term_end}#{days}"))
}

/// A session of the local hosted payment page.
pub fn local_payment_session(id: &str) -> Key {
    Key::new(format!("PAYSESSION#{id}"), "SESSION")
}

// Shared pieces.

/// The window of a throttle: events counted for `key` in `scope` since `start`.
pub fn throttle_window(scope: &str, key: &str, start: i64) -> Key {
    Key::new(format!("THROTTLE#{scope}#{key}"), format!("W#{start}"))
}

/// An audit event of a subject, in time order.
pub fn audit_event(subject: &str, at: i64, event_id: &str) -> Key {
    Key::new(format!("AUDIT#{subject}"), format!("{at:012}#{event_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(key: Key) -> (String, String) {
        (key.pk, key.sk)
    }

    /// The key shapes of the data stored before the keys met in this file, byte for byte:
    /// a database written by an earlier build stays readable.
    #[test]
    fn every_key_keeps_its_stored_shape() {
        let email = EmailAddress::parse("a@example.com").unwrap();
        let cases = [
            (person("p1"), ("PERSON#p1", "PROFILE")),
            (membership("p1", "s1"), ("PERSON#p1", "MEMBER#s1")),
            (space_member_index("s1", "p1"), ("SPACE#s1", "MEMBER#p1")),
            (email_guard(&email), ("EMAIL#a@example.com", "GUARD")),
            (identifier_guard("EK700962"), ("IDENT#EK700962", "GUARD")),
            (subscriber(&email), ("SUBSCRIBER#a@example.com", "RECORD")),
            (space("s1"), ("SPACE#s1", "SPACE")),
            (organisation("s1"), ("SPACE#s1", "ORGANISATION")),
            (registration_guard("FR-SIRET-73282932000074"), ("REGISTRATION#FR-SIRET-73282932000074", "GUARD")),
            (invitation("s1", &email), ("SPACE#s1", "INVITE#a@example.com")),
            (invitation_link("i1"), ("INVITATION#i1", "LINK")),
            (signup_request("r1"), ("SIGNUP#r1", "REQUEST")),
            (email_change("c1"), ("EMAILCHANGE#c1", "REQUEST")),
            (phone_change("p1"), ("PERSON#p1", "PHONECHANGE")),
            (password_reset("l1"), ("RESET#l1", "LINK")),
            (login_failures("a@example.com"), ("LOGINFAIL#a@example.com", "FAILURES")),
            (second_factor_step("c1"), ("LOGIN#c1", "CHALLENGE")),
            (pending_app("p1"), ("PERSON#p1", "TOTP#PENDING")),
            (setup_phone("p1"), ("PERSON#p1", "SETUP#PHONE")),
            (session("x1"), ("SESSION#x1", "SESSION")),
            (person_session_index("p1", 1_795_000_000, "x1"), ("PERSON#p1", "SESSION#001795000000#x1")),
            (signing_key(1_795_000_000, "k1"), ("SIGNINGKEYS", "KEY#001795000000#k1")),
            (subscription("u1"), ("SUB#u1", "SUBSCRIPTION")),
            (space_subscription_index("s1", "u1"), ("SPACE#s1", "SUB#u1")),
            (expiry_index("2026-12-03", "u1"), ("EXPIRY#2026-12-03", "SUB#u1")),
            (recovery("R1"), ("RECOVERY#R1", "RECOVERY")),
            (subscription_pin("u1"), ("SUB#u1", "PIN")),
            (security_questions("p1"), ("PERSON#p1", "SECURITYQUESTIONS")),
            (authority("local"), ("CA#local", "AUTHORITY")),
            (certificate("0a1b"), ("CERT#0a1b", "STATUS")),
            (renewal("r1"), ("RENEWAL#r1", "RENEWAL")),
            (renewal_lock("u1"), ("SUB#u1", "RENEWALLOCK")),
            (pending_notice("r1"), ("NOTICEPENDING", "r1")),
            (invoice("2026-000042"), ("INVOICE#2026-000042", "INVOICE")),
            (invoice_counter("2026"), ("INVOICESERIES#2026", "COUNTER")),
            (space_invoice_index("s1", "2026-000042"), ("SPACE#s1", "INVOICE#2026-000042")),
            (reminder_claim("u1", 1_795_000_000, 30), ("REMINDER#u1", "1795000000#30")),
            (local_payment_session("cs_local_1"), ("PAYSESSION#cs_local_1", "SESSION")),
            (throttle_window("code", "+15555550100", 1_794_999_600), ("THROTTLE#code#+15555550100", "W#1794999600")),
            (audit_event("p1", 1_795_000_000, "e1"), ("AUDIT#p1", "001795000000#e1")),
        ];
        for (key, (pk, sk)) in cases {
            assert_eq!(shape(key), (pk.to_owned(), sk.to_owned()));
        }
        assert_eq!(person_partition("p1"), "PERSON#p1");
        assert_eq!(space_partition("s1"), "SPACE#s1");
        assert_eq!(subscription_partition("u1"), "SUB#u1");
        assert_eq!(expiry_partition("2026-12-03"), "EXPIRY#2026-12-03");
    }
}
