//! Phone numbers for the second factor: international numbers only, kept in E.164.

use crate::{Error, ErrorCode};
use serde::{Deserialize, Serialize};

/// How codes reach the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneChannel {
    /// A text message.
    Sms,
    /// A voice call that reads the code.
    Voice,
}

/// A validated phone number in E.164 form (`+14155550134`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Validates a number typed by a person (`+1 415 555 0134`, `+33 6 12 34 56 78`).
    /// A number must start with `+` and its country code, and be a valid number of that
    /// country's plan.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let input = input.trim();
        let invalid = || Error::new(ErrorCode::InvalidPhone).field("phone");
        if !input.starts_with('+') || input.len() > 32 {
            return Err(invalid());
        }
        let number = phonenumber::parse(None, input).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(PhoneNumber(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// Wraps a number already in E.164 form (read back from storage).
    pub fn from_e164(e164: String) -> Self {
        PhoneNumber(e164)
    }

    /// The E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A hint safe to show and log: the country code and the last two digits.
    pub fn hint(&self) -> String {
        let digits = &self.0[1..];
        let tail = &digits[digits.len().saturating_sub(2)..];
        let head = if digits.starts_with('1') { "+1" } else { &self.0[..3.min(self.0.len())] };
        format!("{head} ••• ••{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_numbers_are_kept_in_e164() {
        assert_eq!(PhoneNumber::parse("+1 415 555 0134").unwrap().as_str(), "+14155550134");
        assert_eq!(PhoneNumber::parse("+33 6 12 34 56 78").unwrap().as_str(), "+33612345678");
        assert_eq!(PhoneNumber::parse("+1 415 555 0134").unwrap().hint(), "+1 ••• ••34");
    }

    #[test]
    fn national_or_impossible_numbers_are_refused() {
        for bad in ["", "4155550134", "+1 555", "+999 1234567", "phone", "+1 415 555 0134 0000 0000 0000 0000 00"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
