//! Signing in: a password (by email or organisation identifier) or a Google identity, then
//! the second factor, then the customer space when the person has several.
//!
//! A password login costs one argon2id hash, three key lookups (the source's failures, the
//! guard, the person), the attempt counted (see [`crate::attempts`]) and the write of the
//! login step; unknown accounts and wrong passwords answer alike (unknown ones hash a dummy,
//! so they take as long), and a throttled one is told to wait, whoever it is.

use crate::attempts::{count_attempt, count_source_failure, failed, source_state, unknown_account, wait};
use crate::{access_token, audit, view, SpaceView};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Membership, Person};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::people::password::{self, Verified};
use signet_shared::domain::people::phone::PhoneChannel;
use signet_shared::domain::retry;
use signet_shared::domain::second_factor::step::{self, Begun, Commit, Purpose};
use signet_shared::domain::second_factor::{Answer, FactorView};
use signet_shared::domain::sessions::devices;
use signet_shared::domain::sessions::google;
use signet_shared::domain::sessions::session;
use signet_shared::ports::store::{Key, Write};
use signet_shared::web::auth::cookie_value;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    identifier: Option<String>,
    password: String,
    #[serde(default)]
    device: Option<String>,
    /// The device token of an app that signed in before (browsers send their cookie).
    #[serde(default)]
    device_token: Option<String>,
}

/// What a step answers while its second factor is awaited.
#[derive(Serialize)]
pub(crate) struct FactorRequired {
    pub status: &'static str,
    pub login_token: String,
    #[serde(flatten)]
    pub factor: FactorView,
}

fn device(label: Option<String>) -> String {
    label.unwrap_or_else(|| "unknown device".into()).chars().take(120).collect()
}

/// The guard key of what the person typed: an email, or an organisation identifier.
fn guard_key(body: &LoginBody) -> Result<(Key, String)> {
    match (&body.email, &body.identifier) {
        (Some(email), None) => {
            // An identifier typed in the email field is accepted too.
            if let Some(identifier) = account::parse_identifier(email) {
                return Ok((keys::identifier_guard(&identifier), identifier));
            }
            let email = EmailAddress::parse(email)?;
            Ok((keys::email_guard(&email), email.to_string()))
        }
        (None, Some(identifier)) => {
            let identifier = account::parse_identifier(identifier).ok_or_else(|| Error::new(ErrorCode::LoginFailed))?;
            Ok((keys::identifier_guard(&identifier), identifier))
        }
        _ => Err(Error::new(ErrorCode::InvalidRequest).field("email")),
    }
}

/// A password login. Failures are throttled per account first: a growing delay after the
/// third, at most 100 an hour, during which every attempt is answered "wait N seconds"
/// without being checked or counted. A trusted device (one that signed in before, see
/// [`signet_shared::domain::sessions::devices`]) is judged by its own failures instead of everyone else's.
///
/// Each attempt is counted before its password is checked (and the count cleared when it is
/// right): concurrent guesses are counted one by one against the allowance, never all
/// checked against the same count.
pub(crate) async fn login(
    State(services): State<Services>,
    context: RequestContext,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response> {
    let (guard, login_name) = guard_key(&body)?;
    if body.password.chars().count() > 128 {
        return Err(failed());
    }
    let store = services.store.as_ref();
    let source = source_state(&services, &context).await?;
    let person = match store.get(&guard).await? {
        Some(guard) => {
            let guard: account::EmailGuard = guard.decode()?;
            store.get(&keys::person(&guard.person_id)).await?
        }
        // An unknown address makes the same calls as a known one with a wrong password:
        // one more read, the attempt counted, its failure recorded.
        None => return unknown_account(&services, &context, &login_name, body.password, &source).await,
    };
    let decoded: Option<Person> = person.as_ref().map(|i| i.decode()).transpose()?;
    let (Some(item), Some(person)) = (person, decoded) else {
        // A guard without its person: treated as unknown.
        let _ = password::verify(body.password, None, services.config.argon2).await?;
        count_source_failure(&services, &context).await?;
        return Err(failed());
    };
    let presented = body.device_token.as_deref().or_else(|| cookie_value(&headers, devices::DEVICE_COOKIE));
    let device_id = devices::trusted(&services, presented, &person).await?;
    let device_id = device_id.as_deref();
    if source.closed && device_id.is_none() {
        return Err(wait(source.over.unwrap_or(1)));
    }
    let (item, mut person) = count_attempt(&services, item, person, device_id).await?;
    let verified = password::verify(body.password, Some(person.password_hash.clone()), services.config.argon2).await?;
    if verified == Verified::No {
        let event = audit(
            &services,
            &context,
            "login.password_failed",
            &person.id,
            serde_json::json!({"trusted_device": device_id.is_some(), "failures": person.failures_of(device_id).count}),
        );
        services.store.write(event.write(&services.new_id())?).await?;
        event.log();
        count_source_failure(&services, &context).await?;
        // A trusted device is not held back by its source's other clients.
        return Err(match source.over.filter(|_| device_id.is_none()) {
            Some(seconds) => wait(seconds),
            None => failed(),
        });
    }
    if let Verified::YesRehashed(new_hash) = verified {
        person.password_hash = new_hash;
    }
    person.clear_login_failures(device_id);
    let writes = vec![Write::replace(item.next(&person)?)];
    second_factor(&services, &context, &person, vec!["pwd".into()], device(body.device), writes).await
}

/// After the first factor: begins the login step; a person without a second factor is
/// signed in (or offered their spaces) at once.
async fn second_factor(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    amr: Vec<String>,
    device: String,
    writes: Vec<Write>,
) -> Result<Response> {
    let Begun { token, challenge, view } =
        step::begin(services, context, person, Purpose::Login { device }, amr, writes).await?;
    if challenge.factor.is_passed() {
        return after_second_factor(services, context, &token, None).await;
    }
    Ok(json(StatusCode::OK, &FactorRequired { status: "second_factor_required", login_token: token, factor: view }))
}

// ---------------------------------------------------------------------------------------
// Google.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoogleBody {
    id_token: String,
    #[serde(default)]
    device: Option<String>,
}

/// Sign in with Google: the ID token names a verified email; the person with that login
/// email then proves their second factor as after a password.
pub(crate) async fn google(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<GoogleBody>,
) -> Result<Response> {
    let settings = services.config.google.as_ref().ok_or_else(|| Error::new(ErrorCode::NotFound))?;
    let identity = match google::verify(services.documents.as_ref(), settings, &body.id_token, services.now()).await {
        Ok(identity) => identity,
        Err(e) if e.code == ErrorCode::ExternalTokenInvalid => {
            count_source_failure(&services, &context).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let store = services.store.as_ref();
    let person = match store.get(&keys::email_guard(&identity.email)).await? {
        Some(guard) => store.get(&keys::person(&guard.decode::<account::EmailGuard>()?.person_id)).await?,
        None => None,
    };
    // A Google account without a Signet account, or another Google account than the one
    // linked: the same answer as a refused token.
    let decoded = person.as_ref().map(|i| i.decode::<Person>()).transpose()?;
    let (Some(item), Some(mut person)) = (person, decoded) else {
        count_source_failure(&services, &context).await?;
        return Err(Error::new(ErrorCode::ExternalTokenInvalid));
    };
    // A Google identity is no password guess: the password's throttle does not hold it back.
    if person.google_subject.as_ref().is_some_and(|linked| *linked != identity.subject) {
        count_source_failure(&services, &context).await?;
        return Err(Error::new(ErrorCode::ExternalTokenInvalid));
    }
    // The first Google sign-in links that Google account, in the step's transaction.
    let mut writes = Vec::new();
    if person.google_subject.is_none() {
        person.google_subject = Some(identity.subject.clone());
        writes.push(Write::replace(item.next(&person)?));
    }
    second_factor(&services, &context, &person, vec!["google".into()], device(body.device), writes).await
}

// ---------------------------------------------------------------------------------------
// The second factor, then the space.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    login_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
}

#[derive(Serialize)]
struct ChooseSpace {
    status: &'static str,
    login_token: String,
    spaces: Vec<SpaceView>,
}

#[derive(Serialize)]
struct SignedIn {
    status: &'static str,
    token_type: &'static str,
    access_token: String,
    expires_in: i64,
    refresh_token: String,
    session_id: String,
    space: SpaceView,
    /// This device's token (also set as an HttpOnly cookie): a later login from it is
    /// judged by its own failures, never locked out by someone else's.
    device_token: String,
}

pub(crate) async fn verify_code(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response> {
    let answer = Answer::from_fields(body.code.as_deref(), body.backup_code.as_deref())?;
    after_second_factor(&services, &context, &body.login_token, Some(answer)).await
}

/// Checks the answer (if the factor is still awaited), then signs in, or offers the spaces.
async fn after_second_factor(
    services: &Services,
    context: &RequestContext,
    token: &str,
    answer: Option<Answer<'_>>,
) -> Result<Response> {
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let passed = step::answer(services, context, token, "login", answer).await?;
        if answer.is_some() && !passed.fresh {
            // Already passed: only a space choice remains.
            return Err(Error::new(ErrorCode::Conflict));
        }
        let commit = if let [only] = passed.memberships.as_slice() {
            let only = only.clone();
            sign_in(services, context, passed, only).await?
        } else {
            // Several spaces: the person picks one with the same login token.
            let spaces = passed.memberships.iter().cloned().map(view).collect();
            let then =
                json(StatusCode::OK, &ChooseSpace { status: "choose_space", login_token: token.to_owned(), spaces });
            Commit { writes: passed.writes()?, event: None, then }
        };
        step::try_commit(services, commit).await
    })
    .await
}

/// Opens the session and marks the login used (one transaction, committed by the caller);
/// the access token is signed first, so a signing failure uses nothing up.
async fn sign_in(
    services: &Services,
    context: &RequestContext,
    mut passed: step::Passed,
    membership: Membership,
) -> Result<Commit<Response>> {
    let now = services.now();
    let challenge = &mut passed.challenge;
    let Purpose::Login { device } = &challenge.purpose else { return Err(Error::new(ErrorCode::LoginInvalid)) };
    let prepared = session::prepare(
        services,
        &challenge.person_id,
        &membership.space_id,
        challenge.amr.clone(),
        challenge.epoch,
        device,
    )?;
    challenge.completed = Some(prepared.issued.session.id.clone());
    let event = audit(
        services,
        context,
        "login.succeeded",
        &challenge.person_id,
        serde_json::json!({"space_id": membership.space_id, "amr": challenge.amr, "session_id": prepared.issued.session.id}),
    );
    let (access_token, expires_in) = access_token(services, &prepared.issued.session, now).await?;
    let device_token = devices::issue(services, &challenge.person_id, challenge.epoch).await?;
    let mut writes = passed.writes()?;
    writes.push(prepared.write.clone());
    writes.push(event.write(&services.new_id())?);
    let issued = prepared.issued;
    let mut then = json(
        StatusCode::OK,
        &SignedIn {
            status: "signed_in",
            token_type: "Bearer",
            access_token,
            expires_in,
            refresh_token: issued.refresh_token.clone(),
            session_id: issued.session.id.clone(),
            space: view(membership),
            device_token: device_token.clone(),
        },
    );
    signet_shared::web::auth::set_device_cookie(services, &mut then, &device_token);
    Ok(Commit { writes, event: Some(event), then })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpaceBody {
    login_token: String,
    space_id: String,
}

pub(crate) async fn choose_space(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<SpaceBody>,
) -> Result<Response> {
    let (services, context, body) = (&services, &context, &body);
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let passed = step::answer(services, context, &body.login_token, "login", None).await.map_err(|e| {
            // The factor is still awaited: the space comes after it.
            if e.code == ErrorCode::InvalidRequest {
                Error::new(ErrorCode::Conflict)
            } else {
                e
            }
        })?;
        let membership = passed
            .memberships
            .iter()
            .find(|m| m.space_id == body.space_id)
            .cloned()
            .ok_or_else(|| Error::new(ErrorCode::NotFound).field("space_id"))?;
        step::try_commit(services, sign_in(services, context, passed, membership).await?).await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResendBody {
    #[serde(alias = "challenge_token")]
    login_token: String,
    #[serde(default)]
    channel: Option<PhoneChannel>,
}

/// "Send a new code", for any step (login, re-authentication, password reset); also how a
/// person whose authenticator app is not at hand gets a code on their phone instead.
pub(crate) async fn resend_code(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<ResendBody>,
) -> Result<Response> {
    let (token, factor) = step::send_new_code(&services, &context, &body.login_token, body.channel).await?;
    Ok(json(StatusCode::OK, &FactorRequired { status: "code_sent", login_token: token, factor }))
}
