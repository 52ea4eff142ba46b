//! Email addresses: validation and the normal form used as a login and a uniqueness key.
//!
//! Only what every mail system and a certificate's email field (an IA5String) can carry is
//! accepted: a local part in ASCII, unquoted (RFC 5322's dot-atom), and the domain in its
//! ASCII form — an internationalised domain is turned into punycode (`例子.广告` becomes
//! `xn--fsqu00a.xn--4rr70v`), fullwidth letters into their ASCII twins. The whole address
//! is compared in lower case. So `"member"@example.com`, `mеmber@example.com` (a Cyrillic
//! `е`), `ｍｅｍｂｅｒ@example.com` or `用户@例子.广告` never become accounts of their own.

use crate::{error::Error, error::ErrorCode};

/// A validated email address in normal form (trimmed, lower-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates and normalizes an address typed by a person.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let invalid = || Error::new(ErrorCode::InvalidEmail).field("email");
        let (local, domain) = input.trim().rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || !local.is_ascii() || local.contains('"') || domain.is_empty() {
            return Err(invalid());
        }
        // UTS #46 processing: lower case, fullwidth forms mapped, then punycode.
        let domain = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
        let normal = format!("{}@{domain}", local.to_ascii_lowercase());
        let valid = normal.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                &normal,
                email_address::Options::default().without_display_text(),
            )
            .is_ok_and(|a| a.domain().contains('.') && !a.domain().starts_with('['));
        if valid {
            Ok(EmailAddress(normal))
        } else {
            Err(Error::new(ErrorCode::InvalidEmail).field("email"))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or("")
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a configured sender (`name <addr>` or `addr`) holds a valid address.
pub fn is_valid_sender(sender: &str) -> bool {
    let addr = match (sender.find('<'), sender.rfind('>')) {
        (Some(start), Some(end)) if start < end => &sender[start + 1..end],
        _ => sender,
    };
    EmailAddress::parse(addr).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalized_and_validated() {
        assert_eq!(
            EmailAddress::parse("  New.Subscriber@Example.COM ").unwrap().as_str(),
            "new.subscriber@example.com"
        );
        for bad in [
            "",
            "subscriber",
            "subscriber@",
            "@example.com",
            "subscriber@localhost",
            "a b@example.com",
            "subscriber@[127.0.0.1]",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn only_an_ascii_unquoted_local_part_and_an_ascii_domain_are_kept() {
        for refused in [
            "\"member\"@example.com",
            "\"a b\"@example.com",
            "m\u{435}mber@example.com",
            "\u{FF4D}\u{FF45}\u{FF4D}\u{FF42}\u{FF45}\u{FF52}@example.com",
            "用户@例子.广告",
            "émilie@example.com",
        ] {
            assert!(EmailAddress::parse(refused).is_err(), "{refused}");
        }
        assert_eq!(EmailAddress::parse("member@例子.广告").unwrap().as_str(), "member@xn--fsqu00a.xn--4rr70v");
        assert_eq!(
            EmailAddress::parse("member@\u{FF45}xample.com").unwrap().as_str(),
            "member@example.com",
            "a fullwidth domain letter"
        );
        assert_eq!(EmailAddress::parse("Member@BÜCHER.example").unwrap().as_str(), "member@xn--bcher-kva.example");
        assert_eq!(EmailAddress::parse("first.last+tag@example.org").unwrap().as_str(), "first.last+tag@example.org");
    }
}
