//! The alternate email: added, verified by its link, removed.

use crate::login_email::{LinkBody, CHANGES_PER_HOUR};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::person_event as audit;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::messages::{self, CredentialChange};
use signet_shared::domain::people::account::AlternateEmail;
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::secret_token;
use signet_shared::ports::store::Write;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{domain::throttle, Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlternateBody {
    email: String,
}

#[derive(Serialize)]
pub(crate) struct AlternateRequested {
    status: &'static str,
    alternate_email: String,
    expires_at: i64,
}

/// Sets an alternate address (replacing any); a link to it verifies it.
pub(crate) async fn add_alternate(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<AlternateBody>,
) -> Result<Response> {
    let email = EmailAddress::parse(&body.email).map_err(|e| e.field("email"))?;
    let now = services.now();
    // The alternate address can receive signature recovery: setting it is a credential change.
    live.require_recent_authentication(now)?;
    if email == live.person.email
        || live.person.alternate_email.as_ref().is_some_and(|a| a.email == email && a.verified)
    {
        return Err(Error::new(ErrorCode::NoChange).field("email"));
    }
    throttle::enforce(services.store.as_ref(), "alternate-email", &live.person.id, 3600, CHANGES_PER_HOUR, now).await?;
    let id = services.new_id();
    let token = secret_token::issue(&id, services.random.as_ref());
    let expires_at = now + services.config.limits.link_ttl;
    let mut person = live.person.clone();
    person.alternate_email = Some(AlternateEmail {
        email: email.clone(),
        verified: false,
        token_id: Some(id),
        token_hash: Some(token.hash),
        expires_at,
    });
    let event = audit(&services, &context, "alternate_email.requested", &person.id, serde_json::json!({}));
    services
        .store
        .transact(vec![Write::replace(live.person_item.next(&person)?), event.write(&services.new_id())?])
        .await?;
    event.log();
    let link = services.portal_link(&format!("/account/alternate-email/verify?token={}", token.token));
    services
        .mailer
        .send(&messages::alternate_email_link(
            email.as_str(),
            &link,
            services.config.limits.link_ttl / 60,
            person.locale,
        ))
        .await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &AlternateRequested { status: "confirmation_sent", alternate_email: email.to_string(), expires_at },
    ))
}

#[derive(Serialize)]
pub(crate) struct AlternateVerified {
    status: &'static str,
    alternate_email: String,
}

/// Follows the alternate address's link, signed in as its person.
pub(crate) async fn verify_alternate(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<Response> {
    let invalid = || Error::new(ErrorCode::LinkInvalid).field("token");
    let presented = secret_token::parse(&body.token).ok_or_else(invalid)?;
    let mut person = live.person.clone();
    let alternate = person.alternate_email.as_mut().ok_or_else(invalid)?;
    let hash = alternate.token_hash.clone().filter(|_| alternate.token_id.as_deref() == Some(presented.id));
    if !hash.is_some_and(|h| presented.matches(&h)) {
        return Err(if alternate.verified { Error::new(ErrorCode::LinkUsed).field("token") } else { invalid() });
    }
    if services.now() >= alternate.expires_at {
        return Err(Error::new(ErrorCode::LinkExpired).field("token"));
    }
    alternate.verified = true;
    alternate.token_id = None;
    alternate.token_hash = None;
    let address = alternate.email.to_string();
    let event = audit(&services, &context, "alternate_email.verified", &person.id, serde_json::json!({}));
    services
        .store
        .transact(vec![Write::replace(live.person_item.next(&person)?), event.write(&services.new_id())?])
        .await?;
    event.log();
    services.notify_credential_change(&person, CredentialChange::AlternateEmailAdded).await;
    Ok(json(StatusCode::OK, &AlternateVerified { status: "alternate_email_verified", alternate_email: address }))
}

/// Removes the alternate address.
pub(crate) async fn remove_alternate(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
) -> Result<Response> {
    let mut person = live.person.clone();
    let Some(removed) = person.alternate_email.take() else { return Err(Error::new(ErrorCode::NotFound)) };
    let event = audit(&services, &context, "alternate_email.removed", &person.id, serde_json::json!({}));
    services
        .store
        .transact(vec![Write::replace(live.person_item.next(&person)?), event.write(&services.new_id())?])
        .await?;
    event.log();
    if removed.verified {
        services.notify_credential_change(&person, CredentialChange::AlternateEmailRemoved).await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
