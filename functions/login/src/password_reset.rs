//! "Forgot password": an emailed link, then the second factor, then a new password. The
//! answer is the same for addresses with and without an account (as for "forgot
//! identifier"): the address itself is told which.

use crate::audit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::messages::{self, CredentialChange};
use signet_shared::domain::people::account::{self, Person};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::password;
use signet_shared::domain::retry::{self};
use signet_shared::domain::second_factor::step::{self, Begun, Commit, Purpose};
use signet_shared::domain::second_factor::Answer;
use signet_shared::domain::secret_token;
use signet_shared::domain::sessions::session;
use signet_shared::domain::throttle::{self, Throttled};
use signet_shared::ports::store::{Condition, Item, Write};
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{Error, ErrorCode, Locale, Result, Services};

/// Emails of one kind to one address per hour (beyond: silently not sent).
const MAILS_PER_ADDRESS_PER_HOUR: u32 = 5;

/// How many times one reset link may start the second factor (a lost code, a closed tab).
const RESET_LINK_STARTS: u32 = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailBody {
    pub(crate) email: String,
}

#[derive(Serialize)]
struct Accepted {
    status: &'static str,
    message: &'static str,
}

pub(crate) fn accepted(locale: Locale) -> Response {
    json(
        StatusCode::ACCEPTED,
        &Accepted {
            status: "email_sent",
            message: locale.pick(
                "Si cette adresse est valide, un courriel vient de lui être envoyé avec la marche à suivre.",
                "If this address is valid, an email with what to do next was just sent to it.",
            ),
        },
    )
}

/// The common start of both journeys: limits (per source: refused; per address: silently
/// nothing sent), then the id of the person whose login email it is, if any. `None` when the
/// address had its emails for the hour.
pub(crate) async fn person_id_of(
    services: &Services,
    context: &RequestContext,
    scope: &str,
    email: &EmailAddress,
) -> Result<Option<Option<String>>> {
    let store = services.store.as_ref();
    let now = services.now();
    throttle::enforce(
        store,
        &format!("{scope}-source"),
        &context.source_ip,
        3600,
        services.config.limits.signups_per_source_per_hour,
        now,
    )
    .await?;
    if let Throttled::Limited(_) =
        throttle::hit(store, &format!("{scope}-mail"), email.as_str(), 3600, MAILS_PER_ADDRESS_PER_HOUR, now).await?
    {
        return Ok(None);
    }
    let guard = store.get(&keys::email_guard(email)).await?;
    Ok(Some(guard.map(|g| g.decode::<account::EmailGuard>().map(|g| g.person_id)).transpose()?))
}

/// A person id that never exists: unknown addresses read it, so that they make the same
/// calls as known ones.
pub(crate) const NOBODY: &str = "-";

/// A reset link (`RESET#<id>`, expires with the link).
#[derive(Serialize, Deserialize)]
struct ResetLink {
    token_hash: String,
    person_id: String,
    epoch: u64,
    expires_at: i64,
    starts: u32,
}

pub(crate) async fn forgot_password(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Response> {
    let email = EmailAddress::parse(&body.email)?;
    let Some(person_id) = person_id_of(&services, &context, "reset", &email).await? else {
        return Ok(accepted(locale));
    };
    let now = services.now();
    // Known or not, the same calls: a person read, a link written (an unknown address's
    // link names nobody, and its token is never sent).
    let person: Option<Person> = services
        .store
        .get(&keys::person(person_id.as_deref().unwrap_or(NOBODY)))
        .await?
        .map(|i| i.decode())
        .transpose()?;
    let id = services.new_id();
    let token = secret_token::issue(&id, services.random.as_ref());
    let expires_at = now + services.config.limits.link_ttl;
    let link = ResetLink {
        token_hash: token.hash,
        person_id: person.as_ref().map_or_else(String::new, |p| p.id.clone()),
        epoch: person.as_ref().map_or(0, |p| p.session_epoch),
        expires_at,
        starts: 0,
    };
    services.store.write(Write::create(Item::new(keys::password_reset(&id), &link)?.expires_at(expires_at))).await?;
    let message = match person {
        Some(person) => {
            let url = services.portal_link(&format!("/password/reset?token={}", token.token));
            messages::password_reset_link(email.as_str(), &url, services.config.limits.link_ttl / 60, person.locale)
        }
        None => messages::no_account(email.as_str(), &services.portal_link("/signup"), locale),
    };
    services.mailer.send(&message).await?;
    Ok(accepted(locale))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    token: String,
}

#[derive(Serialize)]
struct ResetStarted {
    status: &'static str,
    challenge_token: String,
    #[serde(flatten)]
    factor: signet_shared::domain::second_factor::FactorView,
}

/// Follows the emailed link: the second factor is asked (a code is sent to the phone).
pub(crate) async fn start_reset(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response> {
    let invalid = || Error::new(ErrorCode::LinkInvalid).field("token");
    let presented = secret_token::parse(&body.token).ok_or_else(invalid)?;
    let store = services.store.as_ref();
    let now = services.now();
    let item = store.get(&keys::password_reset(presented.id)).await?.ok_or_else(invalid)?;
    let mut link: ResetLink = item.decode()?;
    if !presented.matches(&link.token_hash) {
        return Err(invalid());
    }
    if now >= link.expires_at {
        return Err(Error::new(ErrorCode::LinkExpired).field("token"));
    }
    if link.starts >= RESET_LINK_STARTS {
        return Err(Error::new(ErrorCode::LinkUsed).field("token"));
    }
    let person: Person = store.get(&keys::person(&link.person_id)).await?.ok_or_else(invalid)?.decode()?;
    if person.session_epoch != link.epoch {
        // The password changed since the link was sent.
        return Err(Error::new(ErrorCode::LinkUsed).field("token"));
    }
    link.starts += 1;
    let purpose = Purpose::PasswordReset { reset_id: presented.id.to_owned(), link_expires_at: link.expires_at };
    let Begun { token, challenge, view } = step::begin(
        &services,
        &context,
        &person,
        purpose,
        vec!["email".into()],
        vec![Write::replace(item.next(&link)?)],
    )
    .await?;
    let status = if challenge.factor.is_passed() { "choose_password" } else { "second_factor_required" };
    Ok(json(StatusCode::OK, &ResetStarted { status, challenge_token: token, factor: view }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetBody {
    challenge_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
    new_password: String,
}

#[derive(Serialize)]
struct ResetDone {
    status: &'static str,
    /// A reset proves the mailbox and the second factor: this device becomes trusted (also
    /// set as a cookie), so an attack on the account's logins does not lock it out.
    device_token: String,
}

/// The code and the new password, in one step. Nothing is written unless both are right:
/// a password refused by the policy does not use up the code.
pub(crate) async fn reset_password(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Response> {
    let answer = match (&body.code, &body.backup_code) {
        (None, None) => None,
        _ => Some(Answer::from_fields(body.code.as_deref(), body.backup_code.as_deref())?),
    };
    let person = loop_reset(&services, &context, &body.challenge_token, answer, &body.new_password).await?;
    if let Err(e) = session::revoke_all_except(&services, &person.id, None, "password_reset").await {
        tracing::warn!(error = %e, "sessions not all marked revoked after a reset (their epoch ended them)");
    }
    services.notify_credential_change(&person, CredentialChange::PasswordReset).await;
    let device_token =
        signet_shared::domain::sessions::devices::issue(&services, &person.id, person.session_epoch).await?;
    let mut response =
        json(StatusCode::OK, &ResetDone { status: "password_reset", device_token: device_token.clone() });
    signet_shared::web::browser::set_device_cookie(&services, &mut response, &device_token);
    Ok(response)
}

/// Checks the answer, then sets the password, ends every session (the epoch moves on) and
/// uses up the step and the link, in one transaction (checked again when it loses a race).
async fn loop_reset(
    services: &Services,
    context: &RequestContext,
    token: &str,
    answer: Option<Answer<'_>>,
    new_password: &str,
) -> Result<Person> {
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let mut passed = step::answer(services, context, token, "password_reset", answer).await?;
        let Purpose::PasswordReset { reset_id, link_expires_at } = passed.challenge.purpose.clone() else {
            return Err(Error::new(ErrorCode::LoginInvalid));
        };
        if services.now() >= link_expires_at {
            return Err(Error::new(ErrorCode::LinkExpired));
        }
        password::check_policy(new_password, Some(passed.person.email.as_str()))
            .map_err(|e| e.field("new_password"))?;
        let hash = password::hash(new_password.to_owned(), services.config.argon2).await?;
        passed.challenge.completed = Some("password_reset".into());
        let person = &mut passed.person;
        person.password_hash = hash;
        // A temporary password (expired, or lost) is replaced by the person's own.
        person.temporary_password_until = None;
        person.session_epoch += 1;
        // A new password: the old one's failures, and the devices trusted with it, are gone.
        person.login_failures = Default::default();
        person.device_failures.clear();
        let event = audit(
            services,
            context,
            "credential.password_reset",
            &person.id,
            serde_json::json!({"amr": passed.challenge.amr}),
        );
        let writes = vec![
            Write::replace(passed.item.next(&passed.challenge)?),
            Write::replace(passed.person_item.next(&passed.person)?),
            Write::Delete { key: keys::password_reset(&reset_id), condition: Condition::None },
            event.write(&services.new_id())?,
        ];
        step::try_commit(services, Commit { writes, event: Some(event), then: passed.person.clone() }).await
    })
    .await
}
