//! Phone numbers for the second factor: international numbers only, kept in E.164; mobile
//! or fixed lines of the allowed countries only. Premium-rate, shared-cost, toll-free,
//! internet (VoIP), personal, pager and other numbers are refused: a code sent there could
//! earn someone money (SMS and call pumping), or reach nobody in particular.

use crate::{error::Error, error::ErrorCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How codes reach the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneChannel {
    /// A text message.
    Sms,
    /// A voice call that reads the code.
    Voice,
}

/// A validated phone number in E.164 form (`+15145550134`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Validates a number typed by a person (`+1 514 555 0134`, `+33 6 12 34 56 78`) to
    /// receive codes. A number must start with `+` and its country code, be a valid number
    /// of that country's plan (`invalid_phone`), a mobile or fixed line
    /// (`phone_type_not_allowed`), of one of the `allowed` countries
    /// (`phone_country_not_allowed`; ISO 3166-1 alpha-2 codes, see [`countries`]).
    pub fn parse(input: &str, allowed: &BTreeSet<String>) -> Result<Self, Error> {
        let input = input.trim();
        let invalid = || Error::new(ErrorCode::InvalidPhone).field("phone");
        if !input.starts_with('+') || input.len() > 32 {
            return Err(invalid());
        }
        let number = phonenumber::parse(None, input).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        use phonenumber::Type;
        if !matches!(
            number.number_type(&phonenumber::metadata::DATABASE),
            Type::Mobile | Type::FixedLine | Type::FixedLineOrMobile
        ) {
            return Err(Error::new(ErrorCode::PhoneTypeNotAllowed).field("phone"));
        }
        let country = number.country().id().map(|id| format!("{id:?}"));
        if !country.is_some_and(|c| allowed.contains(&c)) {
            return Err(Error::new(ErrorCode::PhoneCountryNotAllowed).field("phone"));
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
    use crate::config::{countries, EU};

    fn markets() -> BTreeSet<String> {
        countries("FR,CA,EU").unwrap()
    }

    fn refused(input: &str) -> ErrorCode {
        PhoneNumber::parse(input, &markets()).unwrap_err().code
    }

    #[test]
    fn international_numbers_are_kept_in_e164() {
        assert_eq!(PhoneNumber::parse("+1 514 555 0134", &markets()).unwrap().as_str(), "+15145550134");
        assert_eq!(PhoneNumber::parse("+33 6 12 34 56 78", &markets()).unwrap().as_str(), "+33612345678");
        assert_eq!(PhoneNumber::parse("+33 1 23 45 67 89", &markets()).unwrap().as_str(), "+33123456789");
        assert_eq!(PhoneNumber::parse("+49 1512 3456789", &markets()).unwrap().as_str(), "+4915123456789");
        assert_eq!(
            PhoneNumber::parse("+590 690 00 11 22", &markets()).unwrap().as_str(),
            "+590690001122",
            "Guadeloupe is in the EU"
        );
        assert_eq!(PhoneNumber::parse("+1 514 555 0134", &markets()).unwrap().hint(), "+1 ••• ••34");
    }

    #[test]
    fn national_or_impossible_numbers_are_refused() {
        for bad in ["", "4155550134", "+1 555", "+999 1234567", "phone", "+1 415 555 0134 0000 0000 0000 0000 00"] {
            assert_eq!(refused(bad), ErrorCode::InvalidPhone, "{bad}");
        }
    }

    #[test]
    fn premium_shared_cost_toll_free_and_internet_numbers_are_refused() {
        for bad in ["+1 900 555 0100", "+33 8 99 12 34 56", "+33 8 10 12 34 56", "+1 800 555 0100", "+33 9 70 12 34 56"]
        {
            assert_eq!(refused(bad), ErrorCode::PhoneTypeNotAllowed, "{bad}");
        }
    }

    #[test]
    fn numbers_outside_the_allowed_countries_are_refused() {
        assert_eq!(refused("+1 415 555 0134"), ErrorCode::PhoneCountryNotAllowed, "the United States");
        assert!(PhoneNumber::parse("+1 415 555 0134", &countries("us").unwrap()).is_ok());
        assert_eq!(countries("FR, eu").unwrap().len(), EU.len());
        assert!(countries("France").is_none() && countries("").is_none());
    }
}
