//! Individual sign-up (seed 001): an email → a single-use link → a profile prefilled from
//! the subscriber record → password, phone and SMS-or-voice choice → a code to that phone →
//! the account and its personal customer space are active and a confirmation email is sent.
//!
//! Every step reads the sign-up request with one key lookup and changes it with one
//! conditional write, so a step raced by itself has exactly one winner.
//!
//! The routes are declared once below; one file per step: `start.rs`, `link.rs`,
//! `profile.rs` (and its new code), `confirm.rs`.

mod confirm;
mod link;
mod profile;
mod start;

use crate::confirm::confirm;
use crate::link::verify_link;
use crate::profile::{resend_code, submit_profile};
use crate::start::start;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::phone::PhoneChannel;
use signet_shared::domain::second_factor::otp::SentCode;
use signet_shared::domain::secret_token::{self, PresentedToken};
use signet_shared::ports::store::Item;
use signet_shared::ports::Sealed;
use signet_shared::{Error, ErrorCode, Locale, Result, Services};

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

fn audit_event(
    services: &Services,
    context: &RequestContext,
    action: &str,
    request: &SignupRequest,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent::new(services.now(), context, action, None, format!("signup:{}", request.id), detail)
}
