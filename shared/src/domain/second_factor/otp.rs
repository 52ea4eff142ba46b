//! One-time codes sent by SMS or voice: 6 digits from the CSPRNG, stored hashed and bound
//! to one purpose and one request, single use, short-lived, at most a few wrong tries,
//! compared in constant time, resend throttled.
//!
//! A [`SentCode`] is a value kept inside the item of the operation it protects
//! (a sign-up, an email change…), so checking a code costs no extra store call and its
//! state changes in the same conditional write as the operation.

use crate::config::Limits;
use crate::domain::crypto;
use crate::domain::people::phone::PhoneChannel;
use crate::ports::Random;
use crate::{error::Error, error::ErrorCode};
use serde::{Deserialize, Serialize};

/// The state of the code of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCode {
    /// What the code is for (`signup`, `email_change`…); part of the hash.
    pub purpose: String,
    /// The operation it belongs to; part of the hash.
    pub subject: String,
    /// Per-code random salt (hex).
    pub salt: String,
    /// SHA-256 of purpose, subject, salt and code (hex).
    pub code_hash: String,
    /// When the current code stops working.
    pub expires_at: i64,
    /// When the current code was sent (None while no send succeeded).
    pub last_sent_at: Option<i64>,
    /// Codes sent so far for this operation.
    pub sends: u32,
    /// Wrong codes so far for this operation (all sends together).
    pub failed_attempts: u32,
    /// How the current code is delivered.
    pub channel: PhoneChannel,
    /// Set once the right code was given: a code works once.
    pub used: bool,
}

/// A code to deliver, never stored in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// The six digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(******)")
    }
}

fn new_code(random: &dyn Random) -> Code {
    // Rejection sampling keeps the six digits uniform.
    loop {
        let n = u32::from_be_bytes(crypto::random_bytes::<4>(random));
        if n < 4_294_000_000 {
            return Code(format!("{:06}", n % 1_000_000));
        }
    }
}

impl SentCode {
    /// A new challenge and its first code.
    pub fn issue(
        purpose: &str,
        subject: &str,
        channel: PhoneChannel,
        now: i64,
        limits: &Limits,
        random: &dyn Random,
    ) -> (Self, Code) {
        let mut challenge = SentCode {
            purpose: purpose.to_owned(),
            subject: subject.to_owned(),
            salt: String::new(),
            code_hash: String::new(),
            expires_at: 0,
            last_sent_at: None,
            sends: 0,
            failed_attempts: 0,
            channel,
            used: false,
        };
        let code = challenge.rotate(channel, now, limits, random);
        (challenge, code)
    }

    fn rotate(&mut self, channel: PhoneChannel, now: i64, limits: &Limits, random: &dyn Random) -> Code {
        let code = new_code(random);
        self.salt = crypto::hex(&crypto::random_bytes::<16>(random));
        self.code_hash = self.hash(code.digits());
        self.expires_at = now + limits.code_ttl;
        self.last_sent_at = Some(now);
        self.sends += 1;
        self.channel = channel;
        code
    }

    fn hash(&self, digits: &str) -> String {
        crypto::digest_hex(&[self.purpose.as_bytes(), self.subject.as_bytes(), self.salt.as_bytes(), digits.as_bytes()])
    }

    /// A new code replacing the current one ("send a new code"), if the throttle allows:
    /// not sooner than the resend interval after the last successful send, and not more
    /// than the maximum number of sends for the operation.
    pub fn reissue(
        &mut self,
        channel: PhoneChannel,
        now: i64,
        limits: &Limits,
        random: &dyn Random,
    ) -> Result<Code, Error> {
        if self.used {
            return Err(Error::new(ErrorCode::SignupWrongStep));
        }
        if self.failed_attempts >= limits.code_max_attempts {
            return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
        }
        if self.sends >= limits.code_max_sends {
            return Err(Error::new(ErrorCode::TooManyRequests));
        }
        if let Some(last) = self.last_sent_at {
            let wait = last + limits.code_resend_interval - now;
            if wait > 0 {
                return Err(Error::new(ErrorCode::CodeResendTooSoon).retry_after(wait as u64));
            }
        }
        Ok(self.rotate(channel, now, limits, random))
    }

    /// Records that the last send failed, so that a retry is not throttled by it.
    pub fn send_failed(&mut self) {
        self.last_sent_at = None;
        self.sends = self.sends.saturating_sub(1);
    }

    /// Checks a code typed by a person (spaces and dashes are ignored). Updates the
    /// attempt counter: the caller must store the challenge whatever the outcome.
    pub fn check(&mut self, input: &str, now: i64, limits: &Limits) -> CodeCheck {
        if self.used {
            return CodeCheck::AlreadyUsed;
        }
        if self.failed_attempts >= limits.code_max_attempts {
            return CodeCheck::Exhausted;
        }
        if now >= self.expires_at || self.last_sent_at.is_none() {
            return CodeCheck::Expired;
        }
        let typed: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        let candidate = self.hash(&typed);
        if typed.len() == 6 && crypto::constant_time_eq(candidate.as_bytes(), self.code_hash.as_bytes()) {
            self.used = true;
            return CodeCheck::Valid;
        }
        self.failed_attempts += 1;
        if self.failed_attempts >= limits.code_max_attempts {
            CodeCheck::Exhausted
        } else {
            CodeCheck::Wrong { remaining: limits.code_max_attempts - self.failed_attempts }
        }
    }
}

/// Whether a code goes to an account's verified second-factor number, or to a number that
/// a code is about to verify (a sign-up in progress, a phone change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    /// The second factor of an account.
    Verified,
    /// Not verified yet: anyone may type it.
    Unverified,
}

/// Counts a code about to be sent from `source` to `phone` and refuses it past the hourly
/// limits: per source address, all steps together; and per number, kept apart for verified
/// and unverified numbers, so that strangers starting sign-ups with someone's number never
/// use up the codes that person's own logins need. Bounds SMS and call flooding (and toll
/// fraud) whoever asks.
pub async fn limit_sending(
    services: &crate::domain::services::Services,
    source: &str,
    phone: &crate::domain::people::phone::PhoneNumber,
    number: Number,
) -> Result<(), Error> {
    let (store, limits, now) = (services.store.as_ref(), &services.config.limits, services.now());
    crate::domain::throttle::enforce(store, "code-source", source, 3600, limits.codes_per_source_per_hour, now).await?;
    let scope = match number {
        Number::Verified => "code-phone",
        Number::Unverified => "code-phone-unverified",
    };
    crate::domain::throttle::enforce(store, scope, phone.as_str(), 3600, limits.codes_per_phone_per_hour, now).await
}

/// Sends a code to a phone by text message or voice call, in the person's language.
pub async fn deliver(
    services: &crate::domain::services::Services,
    phone: &crate::domain::people::phone::PhoneNumber,
    channel: PhoneChannel,
    code: &Code,
    locale: crate::locale::Locale,
) -> Result<(), crate::ports::DeliveryError> {
    use crate::domain::messages;
    match channel {
        PhoneChannel::Sms => {
            services
                .sms
                .send(phone.as_str(), &messages::code_sms(code.digits(), services.config.limits.code_ttl / 60, locale))
                .await
        }
        PhoneChannel::Voice => {
            services
                .voice
                .call(phone.as_str(), &messages::code_voice(code.digits(), locale), messages::voice_language(locale))
                .await
        }
    }
}

/// The outcome of [`SentCode::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The right code; the challenge is now used.
    Valid,
    /// A wrong code; `remaining` tries left.
    Wrong {
        /// Tries left.
        remaining: u32,
    },
    /// The last allowed wrong code, or tries were already exhausted.
    Exhausted,
    /// The code expired (or no code was delivered).
    Expired,
    /// The code was already used.
    AlreadyUsed,
}

impl CodeCheck {
    /// The client error of a failed check.
    pub fn error(self) -> Option<Error> {
        match self {
            CodeCheck::Valid => None,
            CodeCheck::Wrong { remaining } => {
                Some(Error::new(ErrorCode::CodeInvalid).field("code").remaining_attempts(remaining))
            }
            CodeCheck::Exhausted => Some(Error::new(ErrorCode::CodeAttemptsExceeded)),
            CodeCheck::Expired => Some(Error::new(ErrorCode::CodeExpired)),
            CodeCheck::AlreadyUsed => Some(Error::new(ErrorCode::SignupWrongStep)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::ports::OsRandom;

    #[test]
    fn a_code_works_once_within_its_lifetime() {
        let limits = Config::defaults().limits;
        let (mut c, code) = SentCode::issue("signup", "s1", PhoneChannel::Sms, 1000, &limits, &OsRandom);
        assert_eq!(code.digits().len(), 6);
        assert!(!c.code_hash.contains(code.digits()));
        let spaced = format!(" {} {} ", &code.digits()[..3], &code.digits()[3..]);
        assert_eq!(c.check(&spaced, 1001, &limits), CodeCheck::Valid);
        assert_eq!(c.check(code.digits(), 1002, &limits), CodeCheck::AlreadyUsed);
    }

    #[test]
    fn an_expired_code_fails() {
        let limits = Config::defaults().limits;
        let (mut c, code) = SentCode::issue("signup", "s1", PhoneChannel::Sms, 1000, &limits, &OsRandom);
        assert_eq!(c.check(code.digits(), 1000 + limits.code_ttl, &limits), CodeCheck::Expired);
    }

    #[test]
    fn the_fifth_wrong_code_ends_the_challenge_even_after_a_resend() {
        let limits = Config::defaults().limits;
        let (mut c, code) = SentCode::issue("signup", "s1", PhoneChannel::Sms, 1000, &limits, &OsRandom);
        let wrong = if code.digits() == "000000" { "000001" } else { "000000" };
        for remaining in (2..=4).rev() {
            assert_eq!(c.check(wrong, 1001, &limits), CodeCheck::Wrong { remaining });
        }
        let code = c.reissue(PhoneChannel::Voice, 1000 + limits.code_resend_interval, &limits, &OsRandom).unwrap();
        assert_eq!(c.check(wrong, 1100, &limits), CodeCheck::Wrong { remaining: 1 });
        assert_eq!(c.check(wrong, 1100, &limits), CodeCheck::Exhausted);
        assert_eq!(c.check(code.digits(), 1100, &limits), CodeCheck::Exhausted);
    }

    #[test]
    fn a_code_is_bound_to_its_purpose_and_subject() {
        let limits = Config::defaults().limits;
        let (a, code) = SentCode::issue("signup", "s1", PhoneChannel::Sms, 1000, &limits, &OsRandom);
        let mut other_subject = a.clone();
        other_subject.subject = "s2".into();
        assert_eq!(other_subject.check(code.digits(), 1001, &limits), CodeCheck::Wrong { remaining: 4 });
        let mut other_purpose = a.clone();
        other_purpose.purpose = "email_change".into();
        assert_eq!(other_purpose.check(code.digits(), 1001, &limits), CodeCheck::Wrong { remaining: 4 });
        let mut same = a;
        assert_eq!(same.check(code.digits(), 1001, &limits), CodeCheck::Valid);
    }

    #[test]
    fn resend_is_throttled_by_interval_and_count() {
        let limits = Config::defaults().limits;
        let (mut c, _) = SentCode::issue("signup", "s1", PhoneChannel::Sms, 1000, &limits, &OsRandom);
        let e = c.reissue(PhoneChannel::Sms, 1001, &limits, &OsRandom).unwrap_err();
        assert_eq!(e.code, ErrorCode::CodeResendTooSoon);
        assert_eq!(e.retry_after, Some(limits.code_resend_interval as u64 - 1));
        let mut now = 1000;
        for _ in 1..limits.code_max_sends {
            now += limits.code_resend_interval;
            c.reissue(PhoneChannel::Sms, now, &limits, &OsRandom).unwrap();
        }
        now += limits.code_resend_interval;
        assert_eq!(c.reissue(PhoneChannel::Sms, now, &limits, &OsRandom).unwrap_err().code, ErrorCode::TooManyRequests);
    }

    #[test]
    fn codes_are_uniform_digits() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let c = new_code(&OsRandom);
            assert!(c.digits().chars().all(|d| d.is_ascii_digit()));
            seen.insert(c.digits().to_owned());
        }
        assert!(seen.len() > 190);
    }
}
