//! Where an organisation is registered and under which number (seed 003, step 3): a SIRET
//! in France, a VAT number in another member state of the European Union, a registration
//! number elsewhere. Each number is normalised (no spaces, dots or dashes, upper case) and
//! checked before anything is stored; the normalised form is the one uniqueness is kept on.

use crate::config::EU;
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

/// Where the entity is officially registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// France: a SIRET.
    France,
    /// Another member state of the European Union: an intra-community VAT number.
    EuropeanUnion,
    /// Elsewhere: the number of the local registry.
    Other,
}

/// A checked registration: the jurisdiction, the country and the normalised number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// France, the EU or elsewhere.
    pub jurisdiction: Jurisdiction,
    /// ISO 3166-1 alpha-2 country (`FR` in France).
    pub country: String,
    /// The SIRET (14 digits), the VAT number with its country prefix, or the registration
    /// number, normalised.
    pub number: String,
}

impl Registration {
    /// Checks a registration as typed. France takes a SIRET; the EU a VAT number whose
    /// prefix is the country's (Greece's is `EL`); elsewhere a number of 2 to 32 letters and
    /// digits in a country outside the EU.
    pub fn parse(jurisdiction: Jurisdiction, country: &str, number: &str) -> Result<Registration> {
        let country = country.trim().to_ascii_uppercase();
        let wrong_country = || Error::new(ErrorCode::InvalidCountry).field("country");
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(wrong_country());
        }
        let number = match jurisdiction {
            Jurisdiction::France => {
                if country != "FR" {
                    return Err(wrong_country());
                }
                parse_siret(number)?
            }
            Jurisdiction::EuropeanUnion => {
                if country == "FR" || !EU.contains(&country.as_str()) {
                    return Err(wrong_country());
                }
                parse_vat(&country, number)?
            }
            Jurisdiction::Other => {
                if EU.contains(&country.as_str()) {
                    return Err(wrong_country());
                }
                parse_other(number)?
            }
        };
        Ok(Registration { jurisdiction, country, number })
    }

    /// The key uniqueness is kept on: `FR-SIRET-…`, `EU-VAT-…`, `XX-REG-…`.
    pub fn unique_name(&self) -> String {
        match self.jurisdiction {
            Jurisdiction::France => format!("FR-SIRET-{}", self.number),
            Jurisdiction::EuropeanUnion => format!("EU-VAT-{}", self.number),
            Jurisdiction::Other => format!("{}-REG-{}", self.country, self.number),
        }
    }

    /// The SIREN (the legal unit), for a SIRET.
    pub fn siren(&self) -> Option<&str> {
        (self.jurisdiction == Jurisdiction::France).then(|| &self.number[..9])
    }
}

/// The SIREN of La Poste, whose establishments outnumber what the Luhn key can number: its
/// SIRETs are valid when the sum of their digits is a multiple of 5 (or, for the oldest,
/// when the Luhn key holds).
const LA_POSTE_SIREN: &str = "356000000";

/// A SIRET: 14 digits (SIREN 9 + NIC 5), typed without separators, Luhn-checked (La Poste's
/// by its own rule). Spaces are forgiven; dots, dashes and letters are not (the form says
/// "without any separator").
pub fn parse_siret(input: &str) -> Result<String> {
    let bad = |code| Error::new(code).field("registration_number");
    let siret: String = input.chars().filter(|c| *c != ' ').collect();
    if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(ErrorCode::InvalidSiret));
    }
    let valid = if siret.starts_with(LA_POSTE_SIREN) {
        // Its older establishments (the head office, 356 000 000 00048) kept a Luhn key.
        siret.bytes().map(|b| u32::from(b - b'0')).sum::<u32>().is_multiple_of(5) || luhn(&siret)
    } else {
        luhn(&siret) && luhn(&siret[..9])
    };
    if !valid {
        return Err(bad(ErrorCode::SiretChecksum));
    }
    Ok(siret)
}

/// The Luhn check of a string of digits.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The shape of each member state's VAT number after its prefix: a list of (kind, count)
/// runs, `d` a digit, `a` a letter, `x` either; alternatives separated.
fn vat_shapes(prefix: &str) -> &'static [&'static str] {
    match prefix {
        "AT" => &["Ud8"],
        "BE" => &["d10"],
        "BG" => &["d9", "d10"],
        "CY" => &["d8a1"],
        "CZ" => &["d8", "d9", "d10"],
        "DE" => &["d9"],
        "DK" => &["d8"],
        "EE" => &["d9"],
        "EL" => &["d9"],
        "ES" => &["x1d7x1"],
        "FI" => &["d8"],
        "HR" => &["d11"],
        "HU" => &["d8"],
        "IE" => &["d7a1", "d7a2", "d1x1d5a1"],
        "IT" => &["d11"],
        "LT" => &["d9", "d12"],
        "LU" => &["d8"],
        "LV" => &["d11"],
        "MT" => &["d8"],
        "NL" => &["d9Bd2"],
        "PL" => &["d10"],
        "PT" => &["d9"],
        "RO" => &["d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10"],
        "SE" => &["d12"],
        "SI" => &["d8"],
        "SK" => &["d10"],
        _ => &[],
    }
}

/// Whether `body` has `shape`: runs of `d<n>` digits, `a<n>` letters, `x<n>` letters or
/// digits, and literal upper-case letters.
fn has_shape(body: &str, shape: &str) -> bool {
    let mut rest = body.as_bytes();
    let mut spec = shape.as_bytes();
    while let Some((&kind, tail)) = spec.split_first() {
        let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
        if kind.is_ascii_uppercase() && digits == 0 {
            if rest.first() != Some(&kind) {
                return false;
            }
            rest = &rest[1..];
            spec = tail;
            continue;
        }
        let count: usize = std::str::from_utf8(&tail[..digits]).ok().and_then(|n| n.parse().ok()).unwrap_or(0);
        if rest.len() < count {
            return false;
        }
        let ok = rest[..count].iter().all(|b| match kind {
            b'd' => b.is_ascii_digit(),
            b'a' => b.is_ascii_uppercase(),
            _ => b.is_ascii_alphanumeric(),
        });
        if !ok {
            return false;
        }
        rest = &rest[count..];
        spec = &tail[digits..];
    }
    rest.is_empty()
}

/// An intra-community VAT number of `country`: its prefix (`EL` for Greece) and the member
/// state's format. Spaces, dots and dashes are dropped.
pub fn parse_vat(country: &str, input: &str) -> Result<String> {
    let cleaned: String =
        input.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).map(|c| c.to_ascii_uppercase()).collect();
    let prefix = if country == "GR" { "EL" } else { country };
    let bad = || Error::new(ErrorCode::InvalidVatNumber).field("registration_number");
    let body = cleaned.strip_prefix(prefix).ok_or_else(bad)?;
    if !vat_shapes(prefix).iter().any(|shape| has_shape(body, shape)) {
        return Err(bad());
    }
    Ok(cleaned)
}

/// A registration number elsewhere: 2 to 32 letters and digits once spaces, dots, dashes
/// and slashes are dropped.
fn parse_other(input: &str) -> Result<String> {
    let cleaned: String =
        input.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '/')).map(|c| c.to_ascii_uppercase()).collect();
    if !(2..=32).contains(&cleaned.len()) || !cleaned.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::new(ErrorCode::InvalidRegistrationNumber).field("registration_number"));
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_siret_is_fourteen_digits_with_a_luhn_key() {
        // SIREN 732 829 320, NIC 00074: a valid SIRET.
        assert_eq!(parse_siret("73282932000074").unwrap(), "73282932000074");
        assert_eq!(parse_siret("732 829 320 00074").unwrap(), "73282932000074");
        assert_eq!(parse_siret("73282932000075").unwrap_err().code, ErrorCode::SiretChecksum);
        assert_eq!(parse_siret("7328293200007").unwrap_err().code, ErrorCode::InvalidSiret);
        assert_eq!(parse_siret("732.829.320.00074").unwrap_err().code, ErrorCode::InvalidSiret);
        assert_eq!(parse_siret("7328293200007A").unwrap_err().code, ErrorCode::InvalidSiret);
    }

    #[test]
    fn la_poste_sirets_are_valid_when_their_digits_sum_to_a_multiple_of_five() {
        // 3+5+6 + 0… + 1+2+3+4 = 24: not a multiple of five; 3+5+6+0+…+1+2+3+5 = 25 is.
        assert_eq!(parse_siret("35600000001235").unwrap(), "35600000001235");
        assert_eq!(parse_siret("35600000001234").unwrap_err().code, ErrorCode::SiretChecksum);
        // La Poste's head office passes the Luhn check as well as its own rule.
        assert!(parse_siret("35600000000048").is_ok());
    }

    #[test]
    fn vat_numbers_follow_their_member_state() {
        assert_eq!(parse_vat("DE", "de 123 456 789").unwrap(), "DE123456789");
        assert_eq!(parse_vat("NL", "NL123456789B01").unwrap(), "NL123456789B01");
        assert_eq!(parse_vat("GR", "EL123456789").unwrap(), "EL123456789");
        assert_eq!(parse_vat("AT", "ATU12345678").unwrap(), "ATU12345678");
        assert_eq!(parse_vat("ES", "ESX1234567Z").unwrap(), "ESX1234567Z");
        for (country, bad) in [
            ("DE", "DE12345678"),
            ("DE", "FR123456789"),
            ("NL", "NL123456789X01"),
            ("GR", "GR123456789"),
            ("AT", "AT12345678"),
            ("BE", "BE12345"),
        ] {
            assert_eq!(parse_vat(country, bad).unwrap_err().code, ErrorCode::InvalidVatNumber, "{bad}");
        }
    }

    #[test]
    fn each_jurisdiction_takes_its_own_countries() {
        let france = Registration::parse(Jurisdiction::France, "fr", "73282932000074").unwrap();
        assert_eq!(france.unique_name(), "FR-SIRET-73282932000074");
        assert_eq!(france.siren(), Some("732829320"));
        let err = |j, c, n| Registration::parse(j, c, n).unwrap_err().code;
        assert_eq!(err(Jurisdiction::France, "BE", "73282932000074"), ErrorCode::InvalidCountry);
        assert_eq!(err(Jurisdiction::EuropeanUnion, "FR", "FR12345678901"), ErrorCode::InvalidCountry);
        assert_eq!(err(Jurisdiction::EuropeanUnion, "CA", "CA123"), ErrorCode::InvalidCountry);
        assert_eq!(err(Jurisdiction::Other, "DE", "HRB 1234"), ErrorCode::InvalidCountry);
        let other = Registration::parse(Jurisdiction::Other, "CA", "1234-5678 qc").unwrap();
        assert_eq!(other.unique_name(), "CA-REG-12345678QC");
        assert_eq!(err(Jurisdiction::Other, "CA", "#"), ErrorCode::InvalidRegistrationNumber);
    }
}
