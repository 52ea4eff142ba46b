//! The PIN of a cloud signature (seed 003, step 12): chosen at activation, 4 to 8 digits,
//! kept as an argon2id hash in the subscription's partition; it will authorise each use of
//! the signature. A forgotten PIN is reset with a second-factor session and the answers to
//! the person's security questions (see [`crate::domain::people::security_questions`]).

use crate::config::Argon2Params;
use crate::domain::keys;
use crate::domain::people::password;
use crate::ports::store::Write;
use crate::{error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};

/// A signature's PIN at rest (`SUB#<id>` / `PIN`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PinRecord {
    /// argon2id PHC string of the PIN.
    pub hash: String,
    /// When it was set (unix seconds).
    pub set_at: i64,
}

/// Checks a PIN: 4 to 8 digits, not all the same, not a run up or down (`1234`, `8765`).
pub fn check(pin: &str) -> Result<()> {
    let digits: Vec<u8> = pin.bytes().collect();
    let invalid = || Error::new(ErrorCode::PinInvalid).field("pin");
    if !(4..=8).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let steps: Vec<i16> = digits.windows(2).map(|w| i16::from(w[1]) - i16::from(w[0])).collect();
    if steps.iter().all(|s| *s == 0) || steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1) {
        return Err(invalid());
    }
    Ok(())
}

/// The write that sets a signature's PIN (checked first), hashed with argon2id.
pub async fn set_write(subscription_id: &str, pin: &str, params: Argon2Params, now: i64) -> Result<Write> {
    check(pin)?;
    let hash = password::hash(pin.to_owned(), params).await?;
    let item =
        crate::ports::store::Item::new(keys::subscription_pin(subscription_id), &PinRecord { hash, set_at: now })?;
    Ok(Write::Put { item, condition: crate::ports::store::Condition::None })
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn pins_are_four_to_eight_digits_and_not_trivial() {
        for ok in ["2580", "13579", "90210", "12340000", "1243"] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in ["123", "123456789", "12a4", "0000", "1234", "98765", "", " 2580", "２５８０"] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
