//! Step 2: the emailed link, consumed once; the profile prefilled from the subscriber
//! record.

use crate::{SignupRequest, SignupStatus};
use axum::http::StatusCode;
use axum::{extract::State, response::Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::SubscriberRecord;
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::secret_token::{self};
use signet_shared::ports::store::{StoreError, Write};
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Locale, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyBody {
    token: String,
}

#[derive(Serialize)]
pub(crate) struct Prefill {
    first_name: Option<String>,
    last_name: Option<String>,
    /// Only a hint: the number on file is a secret at rest; the person types it.
    phone_hint: Option<String>,
    locale: Locale,
}

#[derive(Serialize)]
pub(crate) struct Verified {
    status: &'static str,
    signup_token: String,
    email: EmailAddress,
    profile: Prefill,
    expires_at: i64,
}

/// Consumes the single-use link and hands out the continuation token of the next steps,
/// with the profile prefilled from the subscriber record when there is one.
pub(crate) async fn verify_link(
    State(services): State<Services>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response> {
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
