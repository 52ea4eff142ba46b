//! The second factor of a step — a login, a re-authentication, a password reset, and later
//! an email change or a signature activation: a code sent to the person's phone by text or
//! voice call, the person's authenticator app, or one of their backup codes.
//!
//! A [`FactorState`] lives inside the item of the step it protects. Every wrong answer,
//! whatever its kind, counts against the step (five end it) and against the person (at most
//! [`WRONG_ANSWERS_PER_PERSON_PER_HOUR`] over all their steps: a password alone cannot buy an
//! endless supply of guesses by starting login after login). The person's count lives in
//! the person's item, which every step reads anyway: it costs no extra call.

pub mod enrolment;
pub mod otp;
pub mod step;
pub mod totp;

use crate::config::Limits;
use crate::domain::people::account::Person;
use crate::domain::people::phone::PhoneChannel;
use crate::ports::store::Item;
use crate::ports::Random;
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use otp::{Code, CodeCheck, SentCode};
use serde::{Deserialize, Serialize};
use totp::TotpCheck;

/// Wrong second-factor answers one person may give per hour, all steps together.
pub const WRONG_ANSWERS_PER_PERSON_PER_HOUR: u32 = 20;

/// How the person proves the second factor for this step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A code sent by text message.
    Sms,
    /// A code read by a voice call.
    Voice,
    /// A code of the authenticator app.
    Totp,
    /// The person has no second factor: the step needs none.
    None,
}

impl From<PhoneChannel> for Method {
    fn from(channel: PhoneChannel) -> Self {
        match channel {
            PhoneChannel::Sms => Method::Sms,
            PhoneChannel::Voice => Method::Voice,
        }
    }
}

/// What the person answered.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    /// A six-digit code (phone or authenticator app, per the step's method).
    Code(&'a str),
    /// One of the backup codes given at the authenticator-app enrolment.
    BackupCode(&'a str),
}

impl<'a> Answer<'a> {
    /// The answer of a request body with `code` or `backup_code` (exactly one).
    pub fn from_fields(code: Option<&'a str>, backup_code: Option<&'a str>) -> Result<Self> {
        match (code, backup_code) {
            (Some(code), None) => Ok(Answer::Code(code)),
            (None, Some(backup)) => Ok(Answer::BackupCode(backup)),
            _ => Err(Error::new(ErrorCode::InvalidRequest).field("code")),
        }
    }
}

/// The second-factor state of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorState {
    /// The current method.
    pub method: Method,
    /// The phone code, once one was issued.
    pub code: Option<SentCode>,
    /// Wrong authenticator or backup codes.
    pub failed_attempts: u32,
    /// The `amr` value of the method that passed, once passed.
    pub passed: Option<String>,
    /// What the code is for and which step it belongs to (bound into phone-code hashes).
    pub purpose: String,
    /// The step's id.
    pub subject: String,
}

/// The outcome of [`FactorState::answer`].
#[derive(Debug)]
pub enum Checked {
    /// Passed; when the person changed (an authenticator step or a backup code was used),
    /// their item must be written with the step's item, in one transaction.
    Passed {
        /// The person to write, if changed.
        person_changed: bool,
    },
    /// Failed: store the step's item (the attempt counts) and, when `person_changed`, the
    /// person (their count of wrong answers), then answer `error`.
    Failed {
        /// The client error.
        error: Error,
        /// Whether the person's item changed.
        person_changed: bool,
    },
}

fn failed(error: Error) -> Result<Checked> {
    Ok(Checked::Failed { error, person_changed: false })
}

impl FactorState {
    /// Starts the second factor of a step for a person: the authenticator app when one is
    /// enrolled, else the phone (and the code to send), else nothing to prove.
    pub fn start(
        purpose: &str,
        subject: &str,
        person: &Person,
        now: i64,
        limits: &Limits,
        random: &dyn Random,
    ) -> (Self, Option<Code>) {
        let mut challenge = FactorState {
            method: Method::None,
            code: None,
            failed_attempts: 0,
            passed: None,
            purpose: purpose.to_owned(),
            subject: subject.to_owned(),
        };
        if person.confirmed_totp().is_some() {
            challenge.method = Method::Totp;
            return (challenge, None);
        }
        match &person.phone {
            Some(phone) => {
                let (code_challenge, code) = SentCode::issue(purpose, subject, phone.channel, now, limits, random);
                challenge.method = phone.channel.into();
                challenge.code = Some(code_challenge);
                (challenge, Some(code))
            }
            None => {
                challenge.passed = Some("none".into());
                (challenge, None)
            }
        }
    }

    /// Wrong answers so far, of every kind.
    pub fn failures(&self) -> u32 {
        self.failed_attempts + self.code.as_ref().map_or(0, |c| c.failed_attempts)
    }

    /// Counts wrong answers given to an earlier step this one replaces.
    pub fn carry_failures(&mut self, n: u32) {
        match &mut self.code {
            Some(code) => code.failed_attempts += n,
            None => self.failed_attempts += n,
        }
    }

    /// Whether the step's second factor is proven.
    pub fn is_passed(&self) -> bool {
        self.passed.is_some()
    }

    /// "Send a new code" (also how a person with an authenticator app who does not have it
    /// at hand asks for a code on their phone instead): throttled per step.
    pub fn send_new_code(
        &mut self,
        person: &Person,
        channel: Option<PhoneChannel>,
        now: i64,
        limits: &Limits,
        random: &dyn Random,
    ) -> Result<(Code, PhoneChannel)> {
        if self.is_passed() {
            return Err(Error::new(ErrorCode::Conflict));
        }
        let phone = person.phone.as_ref().ok_or_else(|| Error::new(ErrorCode::Conflict).field("channel"))?;
        let channel = channel.unwrap_or(phone.channel);
        let code = match &mut self.code {
            Some(existing) => {
                if self.failed_attempts + existing.failed_attempts >= limits.code_max_attempts {
                    return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
                }
                existing.reissue(channel, now, limits, random)?
            }
            None => {
                let (mut issued, code) = SentCode::issue(&self.purpose, &self.subject, channel, now, limits, random);
                // Wrong authenticator codes given so far still count.
                issued.failed_attempts = self.failed_attempts;
                self.failed_attempts = 0;
                self.code = Some(issued);
                code
            }
        };
        self.method = channel.into();
        Ok((code, channel))
    }

    /// Records that the last code could not be delivered (so that a retry is not throttled).
    pub fn send_failed(&mut self) {
        if let Some(code) = &mut self.code {
            code.send_failed();
        }
    }

    /// Checks an answer. The authenticator seed is opened through the key service; a
    /// passing authenticator code or backup code changes the person (the step or the code
    /// is used up), which the caller writes with the step.
    pub async fn answer(&mut self, services: &Services, person: &mut Person, answer: Answer<'_>) -> Result<Checked> {
        let limits = &services.config.limits;
        let now = services.now();
        if self.is_passed() {
            return failed(Error::new(ErrorCode::Conflict));
        }
        let failed_before = self.failed_attempts + self.code.as_ref().map_or(0, |c| c.failed_attempts);
        if failed_before >= limits.code_max_attempts || person_exhausted(person, now) {
            return failed(Error::new(ErrorCode::CodeAttemptsExceeded));
        }
        let passed = match (answer, self.method) {
            (Answer::Code(code), Method::Sms | Method::Voice) => {
                let challenge = self.code.as_mut().ok_or_else(|| Error::internal("phone method without a code"))?;
                match challenge.check(code, now, limits) {
                    CodeCheck::Valid => Some((if self.method == Method::Sms { "sms" } else { "tel" }, false)),
                    // Expiry and reuse do not count as guesses.
                    check @ (CodeCheck::Expired | CodeCheck::AlreadyUsed) => {
                        return failed(check.error().unwrap_or_else(|| Error::new(ErrorCode::CodeInvalid)))
                    }
                    _ => None,
                }
            }
            (Answer::Code(code), Method::Totp) => {
                let factor =
                    person.totp.as_mut().filter(|t| t.confirmed).ok_or_else(|| Error::new(ErrorCode::Conflict))?;
                let seed = services.keys.open(&factor.seed, &totp::seed_context(&person.id)).await?;
                match factor.check(&seed, code, now)? {
                    TotpCheck::Valid(_) => Some(("otp", true)),
                    TotpCheck::Wrong | TotpCheck::Replayed => None,
                }
            }
            (Answer::BackupCode(code), _) => {
                let used =
                    person.totp.as_mut().filter(|t| t.confirmed).is_some_and(|factor| factor.use_backup_code(code));
                used.then_some(("backup_code", true))
            }
            (Answer::Code(_), Method::None) => return failed(Error::new(ErrorCode::Conflict)),
        };
        if let Some((amr, person_changed)) = passed {
            self.passed = Some(amr.to_owned());
            return Ok(Checked::Passed { person_changed });
        }
        // A wrong answer: counted against the step (a phone code counted itself) and the person.
        if !matches!((answer, self.method), (Answer::Code(_), Method::Sms | Method::Voice)) {
            self.failed_attempts += 1;
        }
        let failed = self.failed_attempts + self.code.as_ref().map_or(0, |c| c.failed_attempts);
        person.factor_failures.record(now);
        let person_limited = person_exhausted(person, now);
        let error = if failed >= limits.code_max_attempts || person_limited {
            self.failed_attempts = limits.code_max_attempts;
            Error::new(ErrorCode::CodeAttemptsExceeded)
        } else {
            Error::new(ErrorCode::CodeInvalid).field("code").remaining_attempts(limits.code_max_attempts - failed)
        };
        Ok(Checked::Failed { error, person_changed: true })
    }

    /// The `amr` values to add for this step once passed (none when the person has no factor).
    pub fn amr(&self) -> Option<&str> {
        self.passed.as_deref().filter(|m| *m != "none")
    }
}

/// Whether the person used up their wrong second-factor answers for the hour.
pub fn person_exhausted(person: &Person, now: i64) -> bool {
    person.factor_failures.in_window(now) >= WRONG_ANSWERS_PER_PERSON_PER_HOUR
}

/// Refuses a new step when the person used up their wrong answers for the hour.
pub fn ensure_person_may_try(person: &Person, now: i64) -> Result<()> {
    if person_exhausted(person, now) {
        return Err(Error::new(ErrorCode::TooManyRequests)
            .retry_after((person.factor_failures.window_start + 3600 - now).max(1) as u64));
    }
    Ok(())
}

/// Opens the person's phone number (one key-service call) for a step's code asked from
/// `source`; the hourly limits per source and per number apply (see [`otp::limit_sending`]).
pub async fn open_phone(
    services: &Services,
    source: &str,
    person: &Person,
) -> Result<crate::domain::people::phone::PhoneNumber> {
    let phone = person.phone.as_ref().ok_or_else(|| Error::internal("a code for a person without a phone"))?;
    let number =
        crate::domain::people::account::open_person_phone(services.keys.as_ref(), &person.id, &phone.phone).await?;
    otp::limit_sending(services, source, &number, otp::Number::Verified).await?;
    Ok(number)
}

/// What the client is told of a step's second factor.
#[derive(Debug, Clone, Serialize)]
pub struct FactorView {
    /// `sms`, `voice`, `totp` or `none`.
    pub method: Method,
    /// The phone hint when a code was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_hint: Option<String>,
    /// When the code expires (phone codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_expires_at: Option<i64>,
    /// When "send a new code" is allowed (phone codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_after: Option<i64>,
    /// Whether a code can be sent to a phone instead.
    pub phone_available: bool,
    /// Whether backup codes are accepted.
    pub backup_codes_accepted: bool,
}

impl FactorView {
    /// The view of a step's factor for a person.
    pub fn of(challenge: &FactorState, person: &Person, limits: &Limits) -> FactorView {
        let phone_code = matches!(challenge.method, Method::Sms | Method::Voice);
        let code = challenge.code.as_ref().filter(|_| phone_code);
        FactorView {
            method: challenge.method,
            phone_hint: person.phone.as_ref().filter(|_| phone_code).map(|p| p.hint.clone()),
            code_expires_at: code.map(|c| c.expires_at),
            resend_after: code.and_then(|c| c.last_sent_at).map(|t| t + limits.code_resend_interval),
            phone_available: person.phone.is_some(),
            backup_codes_accepted: person.confirmed_totp().is_some_and(|t| !t.backup_codes.is_empty()),
        }
    }
}

/// Writes the person changed by a passing answer (authenticator step or backup code used),
/// as the next version of their item.
pub fn person_write(item: &Item, person: &Person) -> Result<crate::ports::store::Write> {
    Ok(crate::ports::store::Write::replace(item.next(person)?))
}
