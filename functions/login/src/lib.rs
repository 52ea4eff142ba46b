//! Login (seed 004): email and password, then the second factor (a code by SMS or voice
//! call), then the customer space when the person has several; sessions with rotating
//! refresh tokens, logout, the list of my sessions, and the public keys of the tokens.
//!
//! A password login costs one argon2id hash and three key lookups (source throttle, email
//! guard, person) plus the write of the login challenge; unknown accounts, wrong passwords
//! and locked accounts answer alike, and hash a dummy so they take as long.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use signet_shared::account::{self, Membership, Person, SpaceKind};
use signet_shared::audit::AuditEvent;
use signet_shared::auth::Authenticated;
use signet_shared::email::EmailAddress;
use signet_shared::email_link;
use signet_shared::http::{json, ApiJson, RequestContext};
use signet_shared::otp::{self, CodeChallenge, CodeCheck};
use signet_shared::password::{self, Verified};
use signet_shared::phone::PhoneChannel;
use signet_shared::sessions;
use signet_shared::store::{Item, Key, StoreError, Write};
use signet_shared::throttle;
use signet_shared::tokens::AccessClaims;
use signet_shared::{Error, ErrorCode, Result, Services};

/// Every route of this function (method, path).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/login"),
    ("POST", "/login/code"),
    ("POST", "/login/code/resend"),
    ("POST", "/login/space"),
    ("POST", "/token/refresh"),
    ("POST", "/logout"),
    ("POST", "/session/space"),
    ("GET", "/sessions"),
    ("DELETE", "/sessions/{id}"),
    ("GET", "/.well-known/jwks.json"),
];

/// The routes of the login function.
pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/login/code", post(verify_code))
        .route("/login/code/resend", post(resend_code))
        .route("/login/space", post(choose_space))
        .route("/token/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/session/space", post(switch_space))
        .route("/sessions", get(list_sessions))
        .route("/sessions/{id}", delete(revoke_session))
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(services)
}

/// How long a login challenge lives (password given, second factor awaited).
const CHALLENGE_TTL: i64 = 900;
/// How long an unused session lives (each refresh extends it): mobile apps stay signed in
/// until the password changes, or until they go unused this long.
const SESSION_LIFETIME: i64 = 90 * 86400;
/// Failed logins per source address per hour.
const FAILURES_PER_SOURCE_PER_HOUR: u32 = 300;
/// The throttle scope of failed logins per source address.
const SOURCE_FAILURES: &str = "login-failures";

/// Counts a failed login against its source address (checked at the next attempt).
async fn count_source_failure(store: &dyn signet_shared::store::Store, context: &RequestContext, now: i64) -> Result<()> {
    throttle::hit(store, SOURCE_FAILURES, &context.source_ip, 3600, u32::MAX, now).await?;
    Ok(())
}

/// A login between the password and the session (`LOGIN#<id>`, expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginChallenge {
    /// Random id; the first part of the login token.
    pub id: String,
    /// Hash of the login token's secret.
    pub token_hash: String,
    /// The person.
    pub person_id: String,
    /// The person's session epoch when the password was checked.
    pub epoch: u64,
    /// The phone code.
    pub challenge: CodeChallenge,
    /// Methods passed so far (`pwd`, then `sms` or `voice`).
    pub amr: Vec<String>,
    /// Set once the second factor passed: only a space choice remains.
    pub second_factor_passed: bool,
    /// Set once a session was opened from this login.
    pub session_id: Option<String>,
    /// Device label for the session list.
    pub device: String,
}

fn challenge_key(id: &str) -> Key {
    Key::new(format!("LOGIN#{id}"), "CHALLENGE")
}

fn failed() -> Error {
    Error::new(ErrorCode::LoginFailed)
}

fn audit(services: &Services, context: &RequestContext, action: &str, person_id: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent::new(services.now(), context, action, Some(person_id), format!("person:{person_id}"), detail)
}

// ---------------------------------------------------------------------------------------
// Email and password.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    device: Option<String>,
}

#[derive(Serialize)]
struct SecondFactorRequired {
    status: &'static str,
    login_token: String,
    channel: PhoneChannel,
    phone_hint: String,
    code_expires_at: i64,
    resend_after: i64,
}

async fn login(State(services): State<Services>, context: RequestContext, ApiJson(body): ApiJson<LoginBody>) -> Result<Response> {
    let email = EmailAddress::parse(&body.email)?;
    if body.password.chars().count() > 128 {
        return Err(failed());
    }
    let now = services.now();
    let store = services.store.as_ref();
    if throttle::count(store, SOURCE_FAILURES, &context.source_ip, 3600, now).await? >= FAILURES_PER_SOURCE_PER_HOUR {
        return Err(Error::new(ErrorCode::TooManyRequests).retry_after((3600 - now.rem_euclid(3600)) as u64));
    }
    let person = match store.get(&account::email_guard_key(&email)).await? {
        Some(guard) => {
            let guard: account::EmailGuard = guard.decode()?;
            store.get(&account::person_key(&guard.person_id)).await?
        }
        // An unknown address makes the same calls as a known one with a wrong password:
        // one more read, one transaction (its failures are counted too: credential stuffing).
        None => return unknown_account(&services, &context, &email, body.password, now).await,
    };
    let decoded: Option<Person> = person.as_ref().map(|i| i.decode()).transpose()?;
    let allowed = decoded.as_ref().is_some_and(|p| p.login_failures.allows(now));
    // Unknown, locked and known accounts all pay one hash: they answer alike, as slowly.
    let stored_hash = decoded.as_ref().filter(|_| allowed).map(|p| p.password_hash.clone());
    let verified = password::verify(body.password, stored_hash, services.config.argon2).await?;
    let (Some(item), Some(mut person)) = (person, decoded) else {
        // A guard without its person: treated as unknown.
        count_source_failure(store, &context, now).await?;
        return Err(failed());
    };
    if verified == Verified::No {
        count_source_failure(store, &context, now).await?;
        record_failure(&services, &context, item, person, allowed, now).await?;
        return Err(failed());
    }
    let mut writes = Vec::new();
    let rehashed = matches!(verified, Verified::YesRehashed(_));
    if let Verified::YesRehashed(new_hash) = verified {
        person.password_hash = new_hash;
    }
    if person.login_failures.count > 0 || rehashed {
        person.login_failures = Default::default();
        writes.push(Write::replace(item.next(&person)?));
    }
    let id = services.new_id();
    let token = email_link::issue(&id, services.random.as_ref());
    let channel = person.second_factor.channel;
    let (challenge, code) = CodeChallenge::issue("login", &id, channel, now, &services.config.limits, services.random.as_ref());
    let login = LoginChallenge {
        id: id.clone(),
        token_hash: token.hash,
        person_id: person.id.clone(),
        epoch: person.session_epoch,
        challenge,
        amr: vec!["pwd".into()],
        second_factor_passed: false,
        session_id: None,
        device: body.device.unwrap_or_else(|| "unknown device".into()).chars().take(120).collect(),
    };
    writes.push(Write::create(Item::new(challenge_key(&id), &login)?.expires_at(now + CHALLENGE_TTL)));
    let phone = account::open_person_phone(services.keys.as_ref(), &person.id, &person.second_factor.phone).await?;
    // Each password login sends a code: the per-phone limit applies.
    otp::limit_destination(&services, &phone).await?;
    store.transact(writes).await?;
    otp::deliver(&services, &phone, channel, &code, person.locale).await?;
    Ok(json(
        StatusCode::OK,
        &SecondFactorRequired {
            status: "second_factor_required",
            login_token: token.token,
            channel,
            phone_hint: person.second_factor.hint.clone(),
            code_expires_at: login.challenge.expires_at,
            resend_after: now + services.config.limits.code_resend_interval,
        },
    ))
}

/// Counts a wrong password against the account. Parallel guesses all count: a write that
/// loses a race is made again on the fresh person.
async fn record_failure(services: &Services, context: &RequestContext, mut item: Item, mut person: Person, allowed: bool, now: i64) -> Result<()> {
    let store = services.store.as_ref();
    for _ in 0..32 {
        person.login_failures.record(now);
        let event = audit(services, context, "login.password_failed", &person.id, serde_json::json!({"locked": !allowed}));
        match store.transact(vec![Write::replace(item.next(&person)?), event.write(&services.new_id())?]).await {
            Ok(()) => {
                event.log();
                return Ok(());
            }
            Err(StoreError::ConditionFailed(_)) => {
                item = store.get(&item.key).await?.ok_or_else(failed)?;
                person = item.decode()?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(ErrorCode::ServiceUnavailable).retry_after(1))
}

/// The failed login of an address without an account: a dummy hash, the failure counted
/// under the address, the same store calls as a wrong password for a real account.
async fn unknown_account(services: &Services, context: &RequestContext, email: &EmailAddress, password: String, now: i64) -> Result<Response> {
    let store = services.store.as_ref();
    let key = Key::new(format!("LOGINFAIL#{email}"), "FAILURES");
    let current = store.get(&key).await?;
    let _ = password::verify(password, None, services.config.argon2).await?;
    let mut failures: account::LoginFailures = current.as_ref().map(|i| i.decode()).transpose()?.unwrap_or_default();
    failures.record(now);
    let write = match &current {
        Some(item) => Write::replace(item.next(&failures)?),
        None => Write::create(Item::new(key, &failures)?.expires_at(now + 3600)),
    };
    // A lost race only loses one count of an address that has no account.
    let _ = store.transact(vec![write]).await;
    count_source_failure(store, context, now).await?;
    Err(failed())
}

/// Loads the login named by a login token.
async fn load(services: &Services, token: &str) -> Result<(Item, LoginChallenge)> {
    let invalid = || Error::new(ErrorCode::LoginInvalid).field("login_token");
    let presented = email_link::parse(token).ok_or_else(invalid)?;
    let item = services.store.get(&challenge_key(presented.id)).await?.ok_or_else(invalid)?;
    let login: LoginChallenge = item.decode()?;
    if !presented.matches(&login.token_hash) || login.session_id.is_some() {
        return Err(invalid());
    }
    Ok((item, login))
}

// ---------------------------------------------------------------------------------------
// The second factor, then the space.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    login_token: String,
    code: String,
}

#[derive(Serialize)]
struct SpaceView {
    id: String,
    name: String,
    kind: SpaceKind,
    roles: Vec<account::Role>,
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
}

async fn verify_code(State(services): State<Services>, context: RequestContext, ApiJson(body): ApiJson<CodeBody>) -> Result<Response> {
    let store = services.store.as_ref();
    // Every guess is stored before it is answered (a lost race is checked again).
    let (item, login) = loop {
        let (item, mut login) = load(&services, &body.login_token).await?;
        if login.second_factor_passed {
            return Err(Error::new(ErrorCode::Conflict));
        }
        let outcome = login.challenge.check(&body.code, services.now(), &services.config.limits);
        if outcome == CodeCheck::Valid {
            login.second_factor_passed = true;
            let method = match login.challenge.channel {
                PhoneChannel::Sms => "sms",
                PhoneChannel::Voice => "voice",
            };
            login.amr.push(method.into());
            break (item, login);
        }
        let event = audit(&services, &context, "login.code_failed", &login.person_id, serde_json::json!({"outcome": format!("{outcome:?}")}));
        match store.transact(vec![Write::replace(item.next(&login)?), event.write(&services.new_id())?]).await {
            Ok(()) => {
                event.log();
                return Err(outcome.error().unwrap_or_else(|| Error::new(ErrorCode::CodeInvalid)));
            }
            Err(StoreError::ConditionFailed(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let memberships = memberships(&services, &login.person_id).await?;
    if let [only] = memberships.as_slice() {
        return sign_in(&services, &context, &item, login, only.clone()).await;
    }
    // Several spaces: the person picks one with the same login token.
    store.write(Write::replace(item.next(&login)?)).await?;
    let spaces = memberships.into_iter().map(view).collect();
    Ok(json(StatusCode::OK, &ChooseSpace { status: "choose_space", login_token: body.login_token, spaces }))
}

fn view(m: Membership) -> SpaceView {
    SpaceView { id: m.space_id, name: m.space_name, kind: m.space_kind, roles: m.roles }
}

async fn memberships(services: &Services, person_id: &str) -> Result<Vec<Membership>> {
    let items = services.store.query(&format!("PERSON#{person_id}"), "MEMBER#", 100).await?;
    items.iter().map(|i| i.decode().map_err(Error::from)).collect()
}

/// Opens the session and marks the login used, in one transaction; answers with tokens.
async fn sign_in(services: &Services, context: &RequestContext, item: &Item, mut login: LoginChallenge, membership: Membership) -> Result<Response> {
    let now = services.now();
    let prepared = sessions::prepare(services, &login.person_id, &membership.space_id, login.amr.clone(), login.epoch, &login.device, SESSION_LIFETIME)?;
    login.session_id = Some(prepared.issued.session.id.clone());
    let event = audit(services, context, "login.succeeded", &login.person_id, serde_json::json!({"space_id": membership.space_id, "amr": login.amr, "session_id": prepared.issued.session.id}));
    let writes = vec![Write::replace(item.next(&login)?), prepared.write.clone(), event.write(&services.new_id())?];
    services.store.transact(writes).await?;
    event.log();
    let issued = prepared.issued;
    let access_token = access_token(services, &issued.session, now).await?;
    Ok(json(
        StatusCode::OK,
        &SignedIn {
            status: "signed_in",
            token_type: "Bearer",
            access_token,
            expires_in: services.config.tokens.access_ttl,
            refresh_token: issued.refresh_token.clone(),
            session_id: issued.session.id.clone(),
            space: view(membership),
        },
    ))
}

async fn access_token(services: &Services, session: &sessions::Session, now: i64) -> Result<String> {
    let settings = &services.config.tokens;
    let claims = AccessClaims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: session.person_id.clone(),
        space: session.space_id.clone(),
        amr: session.amr.clone(),
        sid: session.id.clone(),
        epoch: session.epoch,
        iat: now,
        exp: now + settings.access_ttl,
        jti: services.new_id(),
    };
    services.tokens.ring(services).await?.sign(&claims)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceBody {
    login_token: String,
    space_id: String,
}

async fn choose_space(State(services): State<Services>, context: RequestContext, ApiJson(body): ApiJson<SpaceBody>) -> Result<Response> {
    let (item, login) = load(&services, &body.login_token).await?;
    if !login.second_factor_passed {
        return Err(Error::new(ErrorCode::Conflict));
    }
    let membership = services
        .store
        .get(&account::membership_key(&login.person_id, &body.space_id))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound).field("space_id"))?
        .decode::<Membership>()?;
    sign_in(&services, &context, &item, login, membership).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendBody {
    login_token: String,
    #[serde(default)]
    channel: Option<PhoneChannel>,
}

async fn resend_code(State(services): State<Services>, ApiJson(body): ApiJson<ResendBody>) -> Result<Response> {
    let (item, mut login) = load(&services, &body.login_token).await?;
    if login.second_factor_passed {
        return Err(Error::new(ErrorCode::Conflict));
    }
    let now = services.now();
    let channel = body.channel.unwrap_or(login.challenge.channel);
    let code = login.challenge.reissue(channel, now, &services.config.limits, services.random.as_ref())?;
    let person: Person = services.store.get(&account::person_key(&login.person_id)).await?.ok_or_else(|| Error::new(ErrorCode::LoginInvalid))?.decode()?;
    let phone = account::open_person_phone(services.keys.as_ref(), &person.id, &person.second_factor.phone).await?;
    otp::limit_destination(&services, &phone).await?;
    let next = item.next(&login)?;
    services.store.write(Write::replace(next.clone())).await?;
    if let Err(e) = otp::deliver(&services, &phone, channel, &code, person.locale).await {
        login.challenge.send_failed();
        let _ = services.store.write(Write::replace(next.next(&login)?)).await;
        return Err(e.into());
    }
    Ok(json(
        StatusCode::OK,
        &SecondFactorRequired {
            status: "code_sent",
            login_token: body.login_token,
            channel,
            phone_hint: person.second_factor.hint,
            code_expires_at: login.challenge.expires_at,
            resend_after: now + services.config.limits.code_resend_interval,
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Sessions.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(Serialize)]
struct Refreshed {
    status: &'static str,
    token_type: &'static str,
    access_token: String,
    expires_in: i64,
    refresh_token: String,
    session_id: String,
}

async fn refresh(State(services): State<Services>, ApiJson(body): ApiJson<RefreshBody>) -> Result<Response> {
    let issued = sessions::refresh(&services, &body.refresh_token, SESSION_LIFETIME).await?;
    let access_token = access_token(&services, &issued.session, services.now()).await?;
    Ok(json(
        StatusCode::OK,
        &Refreshed {
            status: "refreshed",
            token_type: "Bearer",
            access_token,
            expires_in: services.config.tokens.access_ttl,
            refresh_token: issued.refresh_token,
            session_id: issued.session.id,
        },
    ))
}

async fn logout(State(services): State<Services>, Authenticated(claims): Authenticated) -> Result<Response> {
    sessions::revoke(&services, &claims.sub, &claims.sid, "logout").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchBody {
    space_id: String,
}

#[derive(Serialize)]
struct Switched {
    status: &'static str,
    token_type: &'static str,
    access_token: String,
    expires_in: i64,
    session_id: String,
    space: SpaceView,
}

/// A signed-in person acts for another of their spaces, without typing the password again:
/// the session moves, and a new access token names the space.
async fn switch_space(State(services): State<Services>, Authenticated(claims): Authenticated, ApiJson(body): ApiJson<SwitchBody>) -> Result<Response> {
    let membership: Membership = services
        .store
        .get(&account::membership_key(&claims.sub, &body.space_id))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound).field("space_id"))?
        .decode()?;
    let session = sessions::switch_space(&services, &claims.sub, &claims.sid, &membership.space_id).await?;
    let access_token = access_token(&services, &session, services.now()).await?;
    Ok(json(
        StatusCode::OK,
        &Switched {
            status: "switched",
            token_type: "Bearer",
            access_token,
            expires_in: services.config.tokens.access_ttl,
            session_id: session.id,
            space: view(membership),
        },
    ))
}

#[derive(Serialize)]
struct SessionView {
    id: String,
    device: String,
    created_at: i64,
    last_used_at: i64,
    current: bool,
}

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<SessionView>,
}

async fn list_sessions(State(services): State<Services>, Authenticated(claims): Authenticated) -> Result<Response> {
    let sessions = sessions::list(&services, &claims.sub)
        .await?
        .into_iter()
        .map(|s| SessionView { current: s.id == claims.sid, id: s.id, device: s.device, created_at: s.created_at, last_used_at: s.last_used_at })
        .collect();
    Ok(json(StatusCode::OK, &SessionList { sessions }))
}

async fn revoke_session(State(services): State<Services>, Authenticated(claims): Authenticated, Path(id): Path<String>) -> Result<Response> {
    sessions::revoke(&services, &claims.sub, &id, "revoked_by_owner").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn jwks(State(services): State<Services>) -> Result<Response> {
    let ring = services.tokens.ring(&services).await?;
    let mut response = axum::Json(ring.jwks()).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}
