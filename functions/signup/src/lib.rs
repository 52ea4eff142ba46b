//! Individual sign-up (seed 001): an email → a single-use link → a profile prefilled from
//! the subscriber record → password, phone and SMS-or-voice choice → a code to that phone →
//! the account and its personal customer space are active and a confirmation email is sent.
//!
//! Every step reads the sign-up request with one key lookup and changes it with one
//! conditional write, so a step raced by itself has exactly one winner.

use axum::http::StatusCode;
use axum::{extract::State, response::Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, CustomerSpace, Person, PhoneFactor, SpaceKind, SubscriberRecord};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::phone::{PhoneChannel, PhoneNumber};
use signet_shared::domain::retry::{self, Round};
use signet_shared::domain::second_factor::otp::{self, Code, CodeCheck, SentCode};
use signet_shared::domain::secret_token::{self, PresentedToken};
use signet_shared::domain::throttle::{self, Throttled};
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::ports::Sealed;
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{
    domain::messages, domain::people::names, domain::people::password, Error, ErrorCode, Locale, Result, Services,
};

signet_shared::routes! {
    POST "/signup" => start,
    POST "/signup/verify" => verify_link,
    POST "/signup/profile" => submit_profile,
    POST "/signup/code" => resend_code,
    POST "/signup/confirm" => confirm,
}

/// Where a sign-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupStatus {
    /// The address already has an account: "you already have an account" was emailed
    /// instead of a link; the request only records the attempt.
    KnownAddress,
    /// The link was emailed.
    LinkSent,
    /// The link was followed; the profile is awaited.
    Verified,
    /// The profile was given and a code sent to the phone.
    CodeSent,
    /// The account is active.
    Completed,
    /// Ended (too many wrong codes, or the address was taken meanwhile).
    Ended,
}

/// A sign-up in progress (`SIGNUP#<id>`, expires with the sign-up lifetime).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignupRequest {
    /// Random id; the first part of the link and continuation tokens.
    pub id: String,
    /// The address the link was sent to.
    pub email: EmailAddress,
    /// Language of the messages.
    pub locale: Locale,
    /// The id the person will have (names the owner in encryption contexts).
    pub person_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Hash of the link secret.
    pub link_hash: String,
    /// When the link stops working.
    pub link_expires_at: i64,
    /// Hash of the continuation token given when the link was followed.
    pub continuation_hash: Option<String>,
    /// Where it stands.
    pub status: SignupStatus,
    /// The subscriber record the profile was prefilled from.
    pub subscriber_id: Option<String>,
    /// The profile, once given.
    pub profile: Option<PendingProfile>,
    /// The phone code.
    pub challenge: Option<SentCode>,
    /// Whether the confirmation email went out (a retried confirm sends it otherwise).
    pub confirmation_sent: bool,
    /// The created space, once completed.
    pub space_id: Option<String>,
}

/// The profile given at sign-up, kept until the code confirms the phone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingProfile {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The phone, sealed for the future person.
    pub phone: Sealed,
    /// Safe hint of the phone.
    pub phone_hint: String,
    /// SMS or voice.
    pub channel: PhoneChannel,
}

// ---------------------------------------------------------------------------------------
// Step 1: an email address.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    email: String,
    #[serde(default)]
    locale: Option<Locale>,
}

#[derive(Serialize)]
struct Accepted {
    status: &'static str,
    message: &'static str,
}

/// Answers the same whether or not the address has an account: a known address receives
/// an "you already have an account" email instead of a link.
async fn start(
    State(services): State<Services>,
    RequestLocale(header_locale): RequestLocale,
    context: RequestContext,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response> {
    let email = EmailAddress::parse(&body.email)?;
    let asked = body.locale.unwrap_or(header_locale);
    let now = services.now();
    let store = services.store.as_ref();
    let accepted = json(
        StatusCode::ACCEPTED,
        &Accepted {
            status: "email_sent",
            message: asked.pick(
                "Si cette adresse peut être utilisée, un courriel vient de lui être envoyé. Suivez le lien qu'il contient.",
                "If this address can be used, an email was just sent to it. Follow the link it contains.",
            ),
        },
    );
    limit_source(&services, &context, now).await?;
    // A silent limit: the answer stays the same, so it reveals nothing about the address.
    let limit = services.config.limits.signup_mails_per_hour;
    if throttle::hit(store, "signup-mail", email.as_str(), 3600, limit, now).await? != Throttled::Allowed {
        tracing::info!("sign-up email limit reached; nothing sent");
        return Ok(accepted);
    }
    // The guard and the subscriber record, read together (one call, whoever asks): the
    // emails speak the language on record, unless the form chose one. The answer keeps the
    // request's language, so it tells nothing of a record.
    let found = store.get_many(&[keys::email_guard(&email), keys::subscriber(&email)]).await?;
    let known = found[0].is_some();
    let on_record = found[1].as_ref().map(|i| i.decode::<SubscriberRecord>()).transpose()?.map(|r| r.locale);
    let locale = body.locale.or(on_record).unwrap_or(header_locale);
    // Both paths make the same calls (one request item, one email), so neither their
    // timing nor a store failure tells a known address from an unknown one. For a known
    // address the request only records the attempt: its link is never sent.
    let id = services.new_id();
    let link = secret_token::issue(&id, services.random.as_ref());
    let request = SignupRequest {
        id: id.clone(),
        email: email.clone(),
        locale,
        person_id: services.new_id(),
        created_at: now,
        link_hash: link.hash,
        link_expires_at: now + services.config.limits.link_ttl,
        continuation_hash: None,
        status: if known { SignupStatus::KnownAddress } else { SignupStatus::LinkSent },
        subscriber_id: None,
        profile: None,
        challenge: None,
        confirmation_sent: false,
        space_id: None,
    };
    let item = Item::new(keys::signup_request(&id), &request)?.expires_at(now + services.config.limits.signup_ttl);
    store.write(Write::create(item)).await?;
    let mail = if known {
        messages::signup_already_registered(
            email.as_str(),
            &services.portal_link("/login"),
            &services.portal_link("/password/forgot"),
            locale,
        )
    } else {
        let url = services.portal_link(&format!("/signup/verify?token={}", link.token));
        messages::signup_link(email.as_str(), &url, services.config.limits.link_ttl / 60, locale)
    };
    services.mailer.send(&mail).await?;
    Ok(accepted)
}

/// Sign-up starts and profiles per source address (a flood of links or codes from one place).
async fn limit_source(services: &Services, context: &RequestContext, now: i64) -> Result<()> {
    let limit = services.config.limits.signups_per_source_per_hour;
    throttle::enforce(services.store.as_ref(), "signup-source", &context.source_ip, 3600, limit, now).await
}

// ---------------------------------------------------------------------------------------
// Step 2: the emailed link.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    token: String,
}

#[derive(Serialize)]
struct Prefill {
    first_name: Option<String>,
    last_name: Option<String>,
    /// Only a hint: the number on file is a secret at rest; the person types it.
    phone_hint: Option<String>,
    locale: Locale,
}

#[derive(Serialize)]
struct Verified {
    status: &'static str,
    signup_token: String,
    email: EmailAddress,
    profile: Prefill,
    expires_at: i64,
}

/// Consumes the single-use link and hands out the continuation token of the next steps,
/// with the profile prefilled from the subscriber record when there is one.
async fn verify_link(State(services): State<Services>, ApiJson(body): ApiJson<VerifyBody>) -> Result<Response> {
    let invalid = || Error::new(ErrorCode::LinkInvalid).field("token");
    let presented = secret_token::parse(&body.token).ok_or_else(invalid)?;
    let now = services.now();
    let store = services.store.as_ref();
    let item = store.get(&keys::signup_request(presented.id)).await?.ok_or_else(invalid)?;
    let mut request: SignupRequest = item.decode()?;
    if !presented.matches(&request.link_hash) {
        return Err(invalid());
    }
    if request.continuation_hash.is_some() || request.status != SignupStatus::LinkSent {
        return Err(Error::new(ErrorCode::LinkUsed).field("token"));
    }
    if now >= request.link_expires_at {
        return Err(Error::new(ErrorCode::LinkExpired).field("token"));
    }
    let record = match store.get(&keys::subscriber(&request.email)).await? {
        Some(item) => Some(item.decode::<SubscriberRecord>()?).filter(|r| r.person_id.is_none()),
        None => None,
    };
    let continuation = secret_token::issue(&request.id, services.random.as_ref());
    request.continuation_hash = Some(continuation.hash.clone());
    request.status = SignupStatus::Verified;
    request.subscriber_id = record.as_ref().map(|r| r.id.clone());
    if let Some(r) = &record {
        request.locale = r.locale;
    }
    match store.write(Write::replace(item.next(&request)?)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed(_)) => {
            // Our own write may have landed before a retry of it failed its condition;
            // otherwise someone followed the same link at the same moment and won.
            let current: Option<SignupRequest> = store.get(&item.key).await?.map(|i| i.decode()).transpose()?;
            if current.and_then(|r| r.continuation_hash) != Some(continuation.hash) {
                return Err(Error::new(ErrorCode::LinkUsed).field("token"));
            }
        }
        Err(e) => return Err(e.into()),
    }
    let profile = match record {
        Some(r) => Prefill {
            first_name: Some(r.first_name),
            last_name: Some(r.last_name),
            phone_hint: r.phone.map(|p| p.hint),
            locale: r.locale,
        },
        None => Prefill { first_name: None, last_name: None, phone_hint: None, locale: request.locale },
    };
    Ok(json(
        StatusCode::OK,
        &Verified {
            status: "verified",
            signup_token: continuation.token,
            email: request.email,
            profile,
            expires_at: item.expires_at.unwrap_or(now),
        },
    ))
}

/// Loads the sign-up named by a continuation token.
async fn load(services: &Services, token: &str) -> Result<(Item, SignupRequest)> {
    let invalid = || Error::new(ErrorCode::SignupInvalid).field("signup_token");
    let presented: PresentedToken<'_> = secret_token::parse(token).ok_or_else(invalid)?;
    let item = services
        .store
        .get(&keys::signup_request(presented.id))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::SignupExpired))?;
    let request: SignupRequest = item.decode()?;
    match &request.continuation_hash {
        Some(hash) if presented.matches(hash) => {}
        _ => return Err(invalid()),
    }
    if request.status == SignupStatus::Ended {
        return Err(Error::new(ErrorCode::SignupExpired));
    }
    Ok((item, request))
}

// ---------------------------------------------------------------------------------------
// Step 3: password, phone and channel; a code goes to the phone.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    signup_token: String,
    first_name: String,
    last_name: String,
    password: String,
    phone: String,
    channel: PhoneChannel,
    #[serde(default)]
    locale: Option<Locale>,
}

#[derive(Serialize)]
struct CodeSent {
    status: &'static str,
    channel: PhoneChannel,
    phone_hint: String,
    code_expires_at: i64,
    resend_after: i64,
}

async fn submit_profile(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<Response> {
    let (item, mut request) = load(&services, &body.signup_token).await?;
    if !matches!(request.status, SignupStatus::Verified | SignupStatus::CodeSent) {
        return Err(Error::new(ErrorCode::SignupWrongStep));
    }
    let first_name = names::person_name(&body.first_name, "first_name")?;
    let last_name = names::person_name(&body.last_name, "last_name")?;
    password::check_policy(&body.password, Some(request.email.as_str()))?;
    let phone = PhoneNumber::parse(&body.phone, &services.config.limits.phone_countries)?;
    let now = services.now();
    limit_source(&services, &context, now).await?;
    let limits = &services.config.limits;
    // Giving the profile again (a mistyped phone) is a resend: the same throttle applies.
    let code = match &mut request.challenge {
        Some(challenge) => challenge.reissue(body.channel, now, limits, services.random.as_ref())?,
        None => {
            let (challenge, code) =
                SentCode::issue("signup", &request.id, body.channel, now, limits, services.random.as_ref());
            request.challenge = Some(challenge);
            code
        }
    };
    let password_hash = password::hash(body.password, services.config.argon2).await?;
    let sealed =
        services.keys.seal(phone.as_str().as_bytes(), &account::person_phone_context(&request.person_id)).await?;
    if let Some(locale) = body.locale {
        request.locale = locale;
    }
    request.profile = Some(PendingProfile {
        first_name,
        last_name,
        password_hash,
        phone: sealed,
        phone_hint: phone.hint(),
        channel: body.channel,
    });
    request.status = SignupStatus::CodeSent;
    send_code(&services, &item, request, &phone, code, &context).await
}

/// Stores the request with its new code, then delivers the code. A failed delivery is
/// recorded so that the person can retry at once.
async fn send_code(
    services: &Services,
    item: &Item,
    mut request: SignupRequest,
    phone: &PhoneNumber,
    code: Code,
    context: &RequestContext,
) -> Result<Response> {
    let store = services.store.as_ref();
    // The number is not verified yet: its codes count apart from those its owner's logins
    // need (a stranger may type anyone's number here).
    otp::limit_sending(services, &context.source_ip, phone, otp::Number::Unverified).await?;
    let next = item.next(&request)?;
    let channel = request.challenge.as_ref().map(|c| c.channel);
    let audit = audit_event(services, context, "signup.code_sent", &request, serde_json::json!({"channel": channel}));
    store.transact(vec![Write::replace(next.clone()), audit.write(&services.new_id())?]).await?;
    audit.log();
    let challenge = request.challenge.clone().ok_or_else(|| Error::internal("code without challenge"))?;
    let delivered = otp::deliver(services, phone, challenge.channel, &code, request.locale).await;
    if let Err(e) = delivered {
        if let Some(c) = request.challenge.as_mut() {
            c.send_failed();
        }
        // Best effort: if this write fails too, the resend waits for the interval.
        let failed = audit_event(
            services,
            context,
            "signup.code_delivery_failed",
            &request,
            serde_json::json!({"channel": channel}),
        );
        if store.transact(vec![Write::replace(next.next(&request)?), failed.write(&services.new_id())?]).await.is_ok() {
            failed.log();
        }
        return Err(e.into());
    }
    let hint = request.profile.as_ref().map(|p| p.phone_hint.clone()).unwrap_or_default();
    Ok(json(
        StatusCode::OK,
        &CodeSent {
            status: "code_sent",
            channel: challenge.channel,
            phone_hint: hint,
            code_expires_at: challenge.expires_at,
            resend_after: services.now() + services.config.limits.code_resend_interval,
        },
    ))
}

fn audit_event(
    services: &Services,
    context: &RequestContext,
    action: &str,
    request: &SignupRequest,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent::new(services.now(), context, action, None, format!("signup:{}", request.id), detail)
}

// ---------------------------------------------------------------------------------------
// "Send a new code", by SMS or by voice.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendBody {
    signup_token: String,
    #[serde(default)]
    channel: Option<PhoneChannel>,
}

async fn resend_code(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<ResendBody>,
) -> Result<Response> {
    let (item, mut request) = load(&services, &body.signup_token).await?;
    if request.status != SignupStatus::CodeSent {
        return Err(Error::new(ErrorCode::SignupWrongStep));
    }
    let profile = request.profile.clone().ok_or_else(|| Error::internal("code sent without profile"))?;
    let channel = body.channel.unwrap_or(profile.channel);
    let now = services.now();
    let challenge = request.challenge.as_mut().ok_or_else(|| Error::internal("code sent without challenge"))?;
    let code = challenge.reissue(channel, now, &services.config.limits, services.random.as_ref())?;
    let phone = account::open_person_phone(services.keys.as_ref(), &request.person_id, &profile.phone).await?;
    // A one-off choice for this code: the channel chosen in the profile stays the account's.
    send_code(&services, &item, request, &phone, code, &context).await
}

// ---------------------------------------------------------------------------------------
// Step 4: the code confirms the phone; the account becomes active.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    signup_token: String,
    code: String,
}

#[derive(Serialize)]
struct Completed {
    status: &'static str,
    person_id: String,
    space_id: String,
    email: EmailAddress,
    message: &'static str,
}

async fn confirm(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response> {
    let store = services.store.as_ref();
    let (item, mut request) = match check_code(&services, &context, &body.signup_token, &body.code).await? {
        Checked::Valid(item, request) => (item, request),
        Checked::Completed(response) => return Ok(response),
    };

    let now = services.now();
    let profile = request.profile.clone().ok_or_else(|| Error::internal("code sent without profile"))?;
    let mut person = Person::new(
        request.person_id.clone(),
        request.email.clone(),
        profile.first_name.clone(),
        profile.last_name.clone(),
        request.locale,
        profile.password_hash.clone(),
        Some(PhoneFactor { phone: profile.phone.clone(), hint: profile.phone_hint.clone(), channel: profile.channel }),
        now,
    );
    person.subscriber_id = request.subscriber_id.clone();
    let space = CustomerSpace {
        id: services.new_id(),
        kind: SpaceKind::Individual,
        name: format!("{} {}", person.first_name, person.last_name),
        created_at: now,
        billing: None,
    };
    request.status = SignupStatus::Completed;
    request.space_id = Some(space.id.clone());
    let next = item.next(&request)?;
    let mut writes = account::individual_account_writes(&person, &space)?;
    let guard_index = 0;
    writes.push(Write::replace(next.clone()));
    if let Some(subscriber_id) = &request.subscriber_id {
        if let Some(record_item) = store.get(&keys::subscriber(&request.email)).await? {
            let mut record: SubscriberRecord = record_item.decode()?;
            if record.id == *subscriber_id && record.person_id.is_none() {
                record.person_id = Some(person.id.clone());
                writes.push(Write::replace(record_item.next(&record)?));
            }
        }
    }
    let audit = AuditEvent {
        actor: Some(person.id.clone()),
        ..audit_event(
            &services,
            &context,
            "signup.completed",
            &request,
            serde_json::json!({"space_id": space.id, "channel": profile.channel}),
        )
    };
    writes.push(audit.write(&services.new_id())?);
    match store.transact(writes).await {
        Ok(()) => audit.log(),
        Err(StoreError::ConditionFailed(failed)) => {
            // Lost a race. Against a confirm of this same sign-up: answer from what won.
            let current = store.get(&item.key).await?.ok_or_else(|| Error::new(ErrorCode::SignupExpired))?;
            let current_request: SignupRequest = current.decode()?;
            if current_request.status == SignupStatus::Completed {
                return completed(&services, &current, current_request).await;
            }
            if failed == Some(guard_index) {
                // Against another sign-up for this address: one address, one account.
                let mut ended = current_request;
                ended.status = SignupStatus::Ended;
                let _ = store.write(Write::replace(current.next(&ended)?)).await;
                return Err(Error::new(ErrorCode::AccountExists));
            }
            return Err(Error::new(ErrorCode::Conflict));
        }
        Err(e) => return Err(e.into()),
    }
    completed(&services, &next, request).await
}

/// A code checked: right (the request to complete), or the sign-up already completed (a
/// retry after success gets the same answer).
enum Checked {
    Valid(Item, SignupRequest),
    Completed(Response),
}

/// Checks the code. Every guess is stored before it is answered: a guess that loses a race
/// with another one is checked again on the fresh state, so parallel guesses all count
/// (five wrong ones end the sign-up, so the rounds are few).
async fn check_code(services: &Services, context: &RequestContext, token: &str, code: &str) -> Result<Checked> {
    let store = services.store.as_ref();
    retry::optimistic(32, retry::busy, || async move {
        let (item, mut request) = load(services, token).await?;
        if request.status == SignupStatus::Completed {
            // A retry after success (a lost answer, a failed confirmation email): same answer.
            return Ok(Round::Done(Checked::Completed(completed(services, &item, request).await?)));
        }
        if request.status != SignupStatus::CodeSent {
            return Err(Error::new(ErrorCode::SignupWrongStep));
        }
        let challenge = request.challenge.as_mut().ok_or_else(|| Error::internal("code sent without challenge"))?;
        let outcome = challenge.check(code, services.now(), &services.config.limits);
        if outcome == CodeCheck::Valid {
            return Ok(Round::Done(Checked::Valid(item, request)));
        }
        if outcome == CodeCheck::Exhausted {
            request.status = SignupStatus::Ended;
        }
        let action = if outcome == CodeCheck::Exhausted { "signup.ended_too_many_codes" } else { "signup.code_failed" };
        let audit =
            audit_event(services, context, action, &request, serde_json::json!({"outcome": format!("{outcome:?}")}));
        match store.transact(vec![Write::replace(item.next(&request)?), audit.write(&services.new_id())?]).await {
            Ok(()) => {
                audit.log();
                Err(outcome.error().unwrap_or_else(|| Error::new(ErrorCode::CodeInvalid)))
            }
            Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(())),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The answer of a completed sign-up. Sends the confirmation email if it has not gone
/// out: the send is claimed first by a conditional write, so racing confirms send it once.
async fn completed(services: &Services, item: &Item, mut request: SignupRequest) -> Result<Response> {
    let space_id = request.space_id.clone().unwrap_or_default();
    if !request.confirmation_sent {
        request.confirmation_sent = true;
        let claimed = item.next(&request)?;
        if services.store.write(Write::replace(claimed.clone())).await.is_ok() {
            let first_name = request.profile.as_ref().map(|p| p.first_name.clone()).unwrap_or_default();
            let mail = messages::signup_confirmed(
                request.email.as_str(),
                &first_name,
                &services.portal_link("/login"),
                request.locale,
            );
            if let Err(e) = services.mailer.send(&mail).await {
                // The account is active; give the email back to a retry of this step.
                tracing::warn!(error = %e, "confirmation email not sent");
                request.confirmation_sent = false;
                let _ = services.store.write(Write::replace(claimed.next(&request)?)).await;
            }
        }
    }
    Ok(json(
        StatusCode::CREATED,
        &Completed {
            status: "active",
            person_id: request.person_id,
            space_id,
            email: request.email,
            message: request.locale.pick(
                "La création de votre compte est complétée. Un courriel de confirmation vous a été envoyé.",
                "Your account is created. A confirmation email was sent to you.",
            ),
        },
    ))
}
