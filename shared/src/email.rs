//! Email addresses: validation and the normal form used as a login and a uniqueness key.

use crate::{Error, ErrorCode};

/// A validated email address in normal form (trimmed, lower-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates and normalizes an address typed by a person.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let normal = input.trim().to_lowercase();
        let valid = normal.len() <= 254
            && email_address::EmailAddress::parse_with_options(&normal, email_address::Options::default().without_display_text())
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
        assert_eq!(EmailAddress::parse("  New.Subscriber@Example.COM ").unwrap().as_str(), "new.subscriber@example.com");
        for bad in ["", "subscriber", "subscriber@", "@example.com", "subscriber@localhost", "a b@example.com", "subscriber@[127.0.0.1]"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
