//! Security questions (seed 003, step 12): at least three, chosen from a list, answered;
//! answers normalised (case, accents, spaces) and hashed with argon2id. They serve one thing
//! only: resetting a forgotten signature PIN, together with a second-factor session. They
//! never authenticate anyone anywhere else (ASVS 6.4.2): no login, recovery or reset of a
//! password or a second factor asks them.
//!
//! Three wrong answers within a day lock the PIN reset for a day, and the person is emailed.
//! Replacing the questions takes the current answers (counted like any); defining them emails
//! the person, and they reset no PIN before three days.

use crate::config::Argon2Params;
use crate::domain::keys;
use crate::domain::people::password::{self, Verified};
use crate::locale::Locale;
use crate::ports::store::{Item, Write};
use crate::{error::Error, error::ErrorCode, error::Result};
use icu_properties::props::GeneralCategory;
use icu_properties::CodePointMapData;
use serde::{Deserialize, Serialize};

/// The questions one may choose, by stable id, in French and English.
pub const QUESTIONS: [(&str, &str, &str); 8] = [
    ("first_pet", "Quel était le nom de votre premier animal de compagnie ?", "What was the name of your first pet?"),
    ("birth_city", "Dans quelle ville êtes-vous né(e) ?", "In which city were you born?"),
    ("first_school", "Quel était le nom de votre première école ?", "What was the name of your first school?"),
    (
        "childhood_friend",
        "Quel est le prénom de votre ami(e) d'enfance ?",
        "What is the first name of your childhood friend?",
    ),
    ("first_car", "Quelle était la marque de votre première voiture ?", "What was the make of your first car?"),
    ("parents_city", "Dans quelle ville vos parents se sont-ils rencontrés ?", "In which city did your parents meet?"),
    (
        "favourite_teacher",
        "Quel est le nom de votre professeur préféré ?",
        "What is the name of your favourite teacher?",
    ),
    ("first_job", "Quel était votre premier emploi ?", "What was your first job?"),
];

/// At least this many questions.
pub const MINIMUM: usize = 3;

/// How long after the questions are defined (or changed) a PIN may be reset with them: a
/// session taken over cannot define answers and use them at once (the owner is emailed).
pub const SETTLING_SECONDS: i64 = 3 * 86400;

/// Wrong answers, within a day, that lock the reset for a day.
pub const WRONG_ANSWERS_BEFORE_LOCK: u32 = 3;

/// One question and its answer, as typed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answered {
    /// The question's id.
    pub question: String,
    /// The answer.
    pub answer: String,
}

/// A question and its hashed answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredAnswer {
    /// The question's id.
    pub question: String,
    /// argon2id of the normalised answer.
    pub hash: String,
}

/// A person's questions (`PERSON#<id>` / `SECURITYQUESTIONS`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityQuestions {
    /// The questions and their hashed answers.
    pub answers: Vec<StoredAnswer>,
    /// Wrong answers in the current day.
    pub failures: u32,
    /// Start of that day (unix seconds).
    pub window_start: i64,
    /// Until when the reset is locked.
    pub locked_until: Option<i64>,
    /// When they were defined.
    pub set_at: i64,
}

/// An answer normalised: lower case, without accents, spaces collapsed.
pub fn normalise(answer: &str) -> String {
    let decomposed = icu_normalizer::DecomposingNormalizerBorrowed::new_nfkd().normalize(answer);
    let categories = CodePointMapData::<GeneralCategory>::new();
    let kept: String = decomposed
        .chars()
        .filter(|c| !matches!(categories.get(*c), GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark))
        .flat_map(char::to_lowercase)
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The question text of an id in a language.
pub fn text(id: &str, locale: Locale) -> Option<&'static str> {
    QUESTIONS.iter().find(|(q, _, _)| *q == id).map(|(_, fr, en)| locale.pick(fr, en))
}

/// Checks and hashes a set of answers: at least three different questions of the list, each
/// answer 2 to 100 characters once normalised.
pub async fn define(answers: &[Answered], params: Argon2Params, now: i64) -> Result<SecurityQuestions> {
    let invalid = || Error::new(ErrorCode::SecurityQuestionsInvalid).field("answers");
    let mut seen: Vec<&str> = Vec::new();
    for a in answers {
        let length = normalise(&a.answer).chars().count();
        if text(&a.question, Locale::En).is_none()
            || seen.contains(&a.question.as_str())
            || !(2..=100).contains(&length)
        {
            return Err(invalid());
        }
        seen.push(&a.question);
    }
    if seen.len() < MINIMUM || answers.len() > QUESTIONS.len() {
        return Err(invalid());
    }
    let mut stored = Vec::with_capacity(answers.len());
    for a in answers {
        let hash = password::hash(normalise(&a.answer), params).await?;
        stored.push(StoredAnswer { question: a.question.clone(), hash });
    }
    Ok(SecurityQuestions { answers: stored, failures: 0, window_start: now, locked_until: None, set_at: now })
}

/// What a reset attempt came to.
pub enum Checked {
    /// Every defined question answered rightly: the failures cleared.
    Right,
    /// A wrong answer (counted); `locked` when it locked the reset.
    Wrong {
        /// Tries left before the lock.
        remaining: u32,
        /// Whether this answer locked the reset.
        locked: bool,
    },
}

impl SecurityQuestions {
    /// `pin_reset_locked` (with the wait) while locked.
    pub fn ensure_unlocked(&self, now: i64) -> Result<()> {
        match self.locked_until {
            Some(until) if now < until => {
                Err(Error::new(ErrorCode::PinResetLocked).retry_after((until - now).max(1) as u64))
            }
            _ => Ok(()),
        }
    }

    /// `security_questions_recent` (with the wait) while they are too new to reset a PIN.
    pub fn ensure_settled(&self, now: i64) -> Result<()> {
        let ready = self.set_at + SETTLING_SECONDS;
        if now < ready {
            return Err(Error::new(ErrorCode::SecurityQuestionsRecent).retry_after((ready - now).max(1) as u64));
        }
        Ok(())
    }

    /// Checks answers to every defined question (all are asked; which one was wrong is not
    /// said) and counts a failure on `self`; the caller stores `self` before answering.
    pub async fn check(&mut self, given: &[Answered], params: Argon2Params, now: i64) -> Result<Checked> {
        let mut right = given.len() == self.answers.len();
        for stored in &self.answers {
            let answer = given.iter().find(|g| g.question == stored.question).map(|g| normalise(&g.answer));
            // Every stored answer is checked, answered or not, so time says nothing.
            let verified =
                password::verify(answer.clone().unwrap_or_default(), Some(stored.hash.clone()), params).await?;
            right &= answer.is_some() && verified != Verified::No;
        }
        if right {
            self.failures = 0;
            self.locked_until = None;
            return Ok(Checked::Right);
        }
        if now - self.window_start >= 86400 {
            self.failures = 0;
            self.window_start = now;
        }
        self.failures += 1;
        let locked = self.failures >= WRONG_ANSWERS_BEFORE_LOCK;
        if locked {
            self.locked_until = Some(now + 86400);
            self.failures = 0;
            self.window_start = now;
        }
        Ok(Checked::Wrong { remaining: WRONG_ANSWERS_BEFORE_LOCK.saturating_sub(self.failures), locked })
    }

    /// The write of the questions as they are now, on condition of the item read (`None`:
    /// created, on condition that there were none).
    pub fn write(&self, person_id: &str, read: Option<&Item>) -> Result<Write> {
        Ok(match read {
            Some(item) => Write::replace(item.next(self)?),
            None => Write::create(Item::new(keys::security_questions(person_id), self)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_compared_without_case_accents_or_extra_spaces() {
        assert_eq!(normalise("  Élodie   MARÇAIS "), "elodie marcais");
        assert_eq!(normalise("São\tPaulo"), "sao paulo");
        assert_eq!(normalise("ＡＢＣ"), "abc");
    }

    #[test]
    fn every_question_has_both_languages() {
        for (id, fr, en) in QUESTIONS {
            assert!(!id.is_empty() && fr.ends_with('?') && en.ends_with('?'));
        }
    }
}
