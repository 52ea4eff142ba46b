//! Step 1: an email address. The answer is the same whether or not the address has an
//! account.

use crate::{SignupRequest, SignupStatus};
use axum::http::StatusCode;
use axum::{extract::State, response::Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::SubscriberRecord;
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::secret_token::{self};
use signet_shared::domain::throttle::{self, Throttled};
use signet_shared::ports::store::{Item, Write};
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{domain::messages, Locale, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    email: String,
    #[serde(default)]
    locale: Option<Locale>,
}

#[derive(Serialize)]
pub(crate) struct Accepted {
    status: &'static str,
    message: &'static str,
}

/// Answers the same whether or not the address has an account: a known address receives
/// an "you already have an account" email instead of a link.
pub(crate) async fn start(
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
pub(crate) async fn limit_source(services: &Services, context: &RequestContext, now: i64) -> Result<()> {
    let limit = services.config.limits.signups_per_source_per_hour;
    throttle::enforce(services.store.as_ref(), "signup-source", &context.source_ip, 3600, limit, now).await
}
