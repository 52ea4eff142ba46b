//! A step between "who are you" (a password, a Google identity, an emailed link) and what
//! it unlocks (a session, a re-authentication, a new password): the second factor, kept in
//! one item (`LOGIN#<id>`, expires) named by a bearer token `<id>.<secret>`.

use crate::domain::audit::AuditEvent;
use crate::domain::audit::RequestContext;
use crate::domain::keys;
use crate::domain::people::account::{self, Person};
use crate::domain::retry::{self, Round};
use crate::domain::second_factor::otp;
use crate::domain::second_factor::{self, Answer, Checked, FactorState, FactorView};
use crate::domain::secret_token;
use crate::ports::store::{Item, StoreError, Write};
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};

/// How long a challenge lives.
pub const CHALLENGE_TTL: i64 = 900;

/// What a passed challenge unlocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// A new session on a device.
    Login {
        /// Device label for the session list.
        device: String,
    },
    /// A fresh proof of identity within a session, before a credential change.
    Reauth {
        /// The session.
        session_id: String,
    },
    /// A new password, after an emailed link.
    PasswordReset {
        /// The reset link's record.
        reset_id: String,
        /// When the link expires: the reset must end by then.
        link_expires_at: i64,
    },
    /// A signature activation, after its reference was given.
    Activation {
        /// The recovery's reference.
        reference: String,
    },
    /// A new login email, after the link sent to it was opened.
    EmailChange {
        /// The change request.
        change_id: String,
        /// The session that opened the link (only it may finish).
        session_id: String,
    },
}

impl Purpose {
    /// The purpose's name (`login`, `reauth`, `password_reset`, `email_change`).
    pub fn name(&self) -> &'static str {
        match self {
            Purpose::Login { .. } => "login",
            Purpose::Reauth { .. } => "reauth",
            Purpose::PasswordReset { .. } => "password_reset",
            Purpose::EmailChange { .. } => "email_change",
            Purpose::Activation { .. } => "activation",
        }
    }
}

/// The stored step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// Random id; the first part of the token.
    pub id: String,
    /// Hash of the token's secret.
    pub token_hash: String,
    /// The person.
    pub person_id: String,
    /// The person's session epoch when the step began (a password change in between ends it).
    pub epoch: u64,
    /// What it unlocks.
    pub purpose: Purpose,
    /// The second factor.
    pub factor: FactorState,
    /// Methods passed so far (`pwd`, `google`, then `sms`, `tel`, `otp` or `backup_code`).
    pub amr: Vec<String>,
    /// Set once what it unlocks was done (a session opened, a password set): used up.
    pub completed: Option<String>,
}

/// A step that began: its token and what to tell the client.
pub struct Begun {
    /// The bearer token of the step.
    pub token: String,
    /// The step.
    pub challenge: Step,
    /// The second factor asked.
    pub view: FactorView,
}

/// Begins a step for a person: stores it (with `writes`, in one transaction) and sends the
/// phone code when the person's factor is a phone. The per-person cap on wrong answers is
/// checked first (one read).
pub async fn begin(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    purpose: Purpose,
    amr: Vec<String>,
    writes: Vec<Write>,
) -> Result<Begun> {
    begin_as(services, context, person, &services.new_id(), purpose, amr, writes, 0).await
}

/// Like [`begin`], with the step's id chosen by the caller (who may name it in its own
/// writes) and the wrong answers of an earlier step it replaces carried over, so that
/// starting again never buys more tries.
#[allow(clippy::too_many_arguments)]
pub async fn begin_as(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    id: &str,
    purpose: Purpose,
    amr: Vec<String>,
    mut writes: Vec<Write>,
    carried_failures: u32,
) -> Result<Begun> {
    let now = services.now();
    second_factor::ensure_person_may_try(person, now)?;
    let id = id.to_owned();
    let token = secret_token::issue(&id, services.random.as_ref());
    let (mut factor, code) =
        FactorState::start(purpose.name(), &id, person, now, &services.config.limits, services.random.as_ref());
    factor.carry_failures(carried_failures);
    let challenge = Step {
        id: id.clone(),
        token_hash: token.hash,
        person_id: person.id.clone(),
        epoch: person.session_epoch,
        purpose,
        factor,
        amr,
        completed: None,
    };
    let phone = match &code {
        Some(_) => Some(second_factor::open_phone(services, &context.source_ip, person).await?),
        None => None,
    };
    writes.push(Write::create(Item::new(keys::second_factor_step(&id), &challenge)?.expires_at(now + CHALLENGE_TTL)));
    services.store.transact(writes).await?;
    if let (Some(code), Some(phone)) = (code, phone) {
        // A failed delivery leaves an unusable step behind (it expires): the person starts again.
        let channel = challenge
            .factor
            .code
            .as_ref()
            .map(|c| c.channel)
            .ok_or_else(|| Error::internal("a code without its challenge"))?;
        otp::deliver(services, &phone, channel, &code, person.locale).await?;
    }
    let view = FactorView::of(&challenge.factor, person, &services.config.limits);
    Ok(Begun { token: token.token, challenge, view })
}

/// A new step that replaces an earlier one of the same journey (a link opened again, an
/// activation started again): its id (for the journey's own writes), the wrong answers it
/// inherits, and the write that marks the earlier step superseded. Too many wrong answers
/// already: `code_attempts_exceeded`, starting again never buys more tries.
pub struct Replacement {
    /// The new step's id.
    pub id: String,
    /// Wrong answers carried over.
    pub carried: u32,
    /// Writes for the caller's transaction (the earlier step, superseded).
    pub writes: Vec<Write>,
}

/// Prepares a step replacing `previous` (see [`Replacement`]); then [`begin_as`] with it.
pub async fn replacing(services: &Services, previous: Option<&str>) -> Result<Replacement> {
    let mut replacement = Replacement { id: services.new_id(), carried: 0, writes: Vec::new() };
    let Some((item, mut step)) = (match previous {
        Some(id) => by_id(services, id).await?,
        None => None,
    }) else {
        return Ok(replacement);
    };
    replacement.carried = step.factor.failures();
    if replacement.carried >= services.config.limits.code_max_attempts {
        return Err(Error::new(ErrorCode::CodeAttemptsExceeded));
    }
    if step.completed.is_none() {
        step.completed = Some("superseded".into());
        replacement.writes.push(Write::replace(item.next(&step)?));
    }
    Ok(replacement)
}

/// What a journey answers when its step asks for the second factor.
#[derive(Debug, Serialize)]
pub struct FactorAsked {
    /// `second_factor_required`.
    pub status: &'static str,
    /// The step's token, for the next call.
    pub challenge_token: String,
    /// How to prove it.
    #[serde(flatten)]
    pub factor: FactorView,
}

/// Begins the step prepared by [`replacing`] (with the journey's own `writes`), for a
/// journey that needs a second factor: an account without one is refused.
pub async fn begin_replacement(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    replacement: Replacement,
    purpose: Purpose,
    writes: Vec<Write>,
) -> Result<FactorAsked> {
    let mut all = replacement.writes;
    all.extend(writes);
    let Begun { token, challenge, view } =
        begin_as(services, context, person, &replacement.id, purpose, Vec::new(), all, replacement.carried).await?;
    if challenge.factor.is_passed() {
        return Err(Error::new(ErrorCode::SecondFactorMissing));
    }
    Ok(FactorAsked { status: "second_factor_required", challenge_token: token, factor: view })
}

/// A step by its id (not by its token: for the journey that owns it), if it still exists.
pub async fn by_id(services: &Services, id: &str) -> Result<Option<(Item, Step)>> {
    match services.store.get(&keys::second_factor_step(id)).await? {
        Some(item) => {
            let challenge = item.decode()?;
            Ok(Some((item, challenge)))
        }
        None => Ok(None),
    }
}

/// Loads the step named by a token, if it serves `purpose_kind`, is not used up, and the
/// person's password did not change since it began.
pub async fn load(services: &Services, token: &str, purpose_kind: Option<&str>) -> Result<(Item, Step)> {
    let invalid = || Error::new(ErrorCode::LoginInvalid).field("challenge_token");
    let presented = secret_token::parse(token).ok_or_else(invalid)?;
    let item = services.store.get(&keys::second_factor_step(presented.id)).await?.ok_or_else(invalid)?;
    let challenge: Step = item.decode()?;
    if !presented.matches(&challenge.token_hash)
        || challenge.completed.is_some()
        || purpose_kind.is_some_and(|k| k != challenge.purpose.name())
    {
        return Err(invalid());
    }
    Ok((item, challenge))
}

/// A step whose second factor just passed: what the caller writes, with its own writes, in
/// one transaction (a lost race there is a `conflict`: one winner).
pub struct Passed {
    /// The step's item as read.
    pub item: Item,
    /// The step, second factor passed.
    pub challenge: Step,
    /// The person's item as read.
    pub person_item: Item,
    /// The person (an authenticator step or a backup code may be used up).
    pub person: Person,
    /// Whether the person changed.
    pub person_changed: bool,
    /// Whether this answer passed the factor (not an earlier one, nor the step's start).
    pub fresh: bool,
    /// The person's memberships (read with the person).
    pub memberships: Vec<account::Membership>,
}

impl Passed {
    /// The writes of the step and, if changed, the person.
    pub fn writes(&self) -> Result<Vec<Write>> {
        let mut writes = vec![Write::replace(self.item.next(&self.challenge)?)];
        if self.person_changed {
            writes.push(Write::replace(self.person_item.next(&self.person)?));
        }
        Ok(writes)
    }
}

/// Checks an answer to a step's second factor. A wrong answer is stored (with an audit
/// event) before it is answered; concurrent answers are each checked on the fresh step.
/// A step whose factor already passed (a person without a factor, or a space still to
/// choose) passes again without an answer.
pub async fn answer(
    services: &Services,
    context: &RequestContext,
    token: &str,
    purpose_kind: &str,
    answer: Option<Answer<'_>>,
) -> Result<Passed> {
    let store = services.store.as_ref();
    retry::optimistic(32, retry::busy, || async move {
        let (item, mut challenge) = load(services, token, Some(purpose_kind)).await?;
        let account::PersonWithSpaces { item: person_item, mut person, memberships } =
            account::person_with_spaces(store, &challenge.person_id)
                .await?
                .ok_or_else(|| Error::new(ErrorCode::LoginInvalid))?;
        if person.session_epoch != challenge.epoch {
            return Err(Error::new(ErrorCode::LoginInvalid));
        }
        if challenge.factor.is_passed() {
            return Ok(Round::Done(Passed {
                item,
                challenge,
                person_item,
                person,
                person_changed: false,
                fresh: false,
                memberships,
            }));
        }
        let answer = answer.ok_or_else(|| Error::new(ErrorCode::InvalidRequest).field("code"))?;
        match challenge.factor.answer(services, &mut person, answer).await? {
            Checked::Passed { person_changed } => {
                if let Some(method) = challenge.factor.amr() {
                    challenge.amr.push(method.to_owned());
                }
                Ok(Round::Done(Passed {
                    item,
                    challenge,
                    person_item,
                    person,
                    person_changed,
                    fresh: true,
                    memberships,
                }))
            }
            Checked::Failed { error, person_changed } => {
                let event = AuditEvent::new(
                    services.now(),
                    context,
                    &format!("{purpose_kind}.second_factor_failed"),
                    Some(&challenge.person_id),
                    format!("person:{}", challenge.person_id),
                    serde_json::json!({"error": error.code.as_str(), "method": challenge.factor.method}),
                );
                let mut writes = vec![Write::replace(item.next(&challenge)?), event.write(&services.new_id())?];
                if person_changed {
                    writes.push(Write::replace(person_item.next(&person)?));
                }
                match store.transact(writes).await {
                    Ok(()) => {
                        event.log();
                        Err(error)
                    }
                    Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(())),
                    Err(e) => Err(e.into()),
                }
            }
        }
    })
    .await
}

/// What a caller commits once a step's factor passed: its writes (with [`Passed::writes`]),
/// the audit event to log after the commit, and what to answer.
pub struct Commit<T> {
    /// The writes, in one transaction.
    pub writes: Vec<Write>,
    /// Logged once committed.
    pub event: Option<AuditEvent>,
    /// The answer.
    pub then: T,
}

/// Commits what a passed step unlocks. `None` when the commit lost a race (another answer
/// to the same step, the same authenticator step used by another login, any change of the
/// person): the caller then checks the answer again on the fresh state, so a right answer is
/// never told apart from a wrong one by a conflict, and concurrent guesses are counted one by
/// one against the caps before any is answered. Callers run at most [`COMMIT_ROUNDS`] rounds
/// (with [`retry::optimistic`]).
pub async fn try_commit<T>(services: &Services, commit: Commit<T>) -> Result<Round<T>> {
    match services.store.transact(commit.writes).await {
        Ok(()) => {
            if let Some(event) = commit.event {
                event.log();
            }
            Ok(Round::Done(commit.then))
        }
        Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(())),
        Err(e) => Err(e.into()),
    }
}

/// How many rounds a step's answer and commit get against lost races.
pub const COMMIT_ROUNDS: u32 = 32;

/// "Send a new code" for any step (also: a code on the phone instead of the authenticator).
pub async fn send_new_code(
    services: &Services,
    context: &RequestContext,
    token: &str,
    channel: Option<crate::domain::people::phone::PhoneChannel>,
) -> Result<(String, FactorView)> {
    let (item, mut challenge) = load(services, token, None).await?;
    let now = services.now();
    let person: Person = services
        .store
        .get(&keys::person(&challenge.person_id))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::LoginInvalid))?
        .decode()?;
    if person.session_epoch != challenge.epoch {
        // The password changed since the step began: it is dead.
        return Err(Error::new(ErrorCode::LoginInvalid).field("challenge_token"));
    }
    let (code, channel) =
        challenge.factor.send_new_code(&person, channel, now, &services.config.limits, services.random.as_ref())?;
    let phone = second_factor::open_phone(services, &context.source_ip, &person).await?;
    let next = item.next(&challenge)?;
    services.store.write(Write::replace(next.clone())).await?;
    if let Err(e) = otp::deliver(services, &phone, channel, &code, person.locale).await {
        challenge.factor.send_failed();
        let _ = services.store.write(Write::replace(next.next(&challenge)?)).await;
        return Err(e.into());
    }
    Ok((token.to_owned(), FactorView::of(&challenge.factor, &person, &services.config.limits)))
}
