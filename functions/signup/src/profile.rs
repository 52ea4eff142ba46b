//! Step 3: password, phone and channel; a code goes to the phone. And "send a new code",
//! by SMS or by voice.

use crate::start::limit_source;
use crate::{audit_event, load, PendingProfile, SignupRequest, SignupStatus};
use axum::http::StatusCode;
use axum::{extract::State, response::Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::people::account::{self};
use signet_shared::domain::people::phone::{PhoneChannel, PhoneNumber};
use signet_shared::domain::second_factor::otp::{self, Code, SentCode};
use signet_shared::ports::store::{Item, Write};
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::people::names, domain::people::password, Error, ErrorCode, Locale, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileBody {
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
pub(crate) struct CodeSent {
    status: &'static str,
    channel: PhoneChannel,
    phone_hint: String,
    code_expires_at: i64,
    resend_after: i64,
}

pub(crate) async fn submit_profile(
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
pub(crate) async fn send_code(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResendBody {
    signup_token: String,
    #[serde(default)]
    channel: Option<PhoneChannel>,
}

pub(crate) async fn resend_code(
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
