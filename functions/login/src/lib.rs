//! Login (seed 004): a password (by email or organisation identifier) or a Google identity,
//! then the second factor (a code by SMS or voice call, an authenticator app, or a backup
//! code), then the customer space when the person has several; sessions with rotating
//! refresh tokens, logout, the list of my sessions, and the public keys of the tokens; the
//! credential changes of a signed-in person (re-authentication, password, authenticator
//! app); "forgot password" and "forgot identifier".

mod attempts;
mod credentials;
mod login;
mod password_reset;
mod session_routes;

use axum::routing::{delete, get, post};
use axum::Router;
use serde::Serialize;
use signet_shared::domain::audit::person_event as audit;
use signet_shared::domain::people::account::{self, Membership, SpaceKind};
use signet_shared::domain::sessions::access_token::AccessClaims;
use signet_shared::domain::sessions::session;
use signet_shared::{Result, Services};

/// Every route of this function (method, path).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/login"),
    ("POST", "/login/google"),
    ("POST", "/login/code"),
    ("POST", "/login/code/resend"),
    ("POST", "/login/space"),
    ("POST", "/token/refresh"),
    ("POST", "/logout"),
    ("POST", "/session/space"),
    ("GET", "/sessions"),
    ("DELETE", "/sessions/{id}"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/reauth"),
    ("POST", "/reauth/code"),
    ("POST", "/account/password"),
    ("POST", "/account/totp"),
    ("POST", "/account/totp/confirm"),
    ("DELETE", "/account/totp"),
    ("POST", "/password/forgot"),
    ("POST", "/password/reset/start"),
    ("POST", "/password/reset"),
    ("POST", "/identifier/forgot"),
];

/// The routes of the login function.
pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/login", post(login::login))
        .route("/login/google", post(login::google))
        .route("/login/code", post(login::verify_code))
        .route("/login/code/resend", post(login::resend_code))
        .route("/login/space", post(login::choose_space))
        .route("/token/refresh", post(session_routes::refresh))
        .route("/logout", post(session_routes::logout))
        .route("/session/space", post(session_routes::switch_space))
        .route("/sessions", get(session_routes::list_sessions))
        .route("/sessions/{id}", delete(session_routes::revoke_session))
        .route("/.well-known/jwks.json", get(session_routes::jwks))
        .route("/reauth", post(credentials::reauth))
        .route("/reauth/code", post(credentials::reauth_code))
        .route("/account/password", post(credentials::change_password))
        .route("/account/totp", post(credentials::enrol_totp).delete(credentials::remove_totp))
        .route("/account/totp/confirm", post(credentials::confirm_totp))
        .route("/password/forgot", post(password_reset::forgot_password))
        .route("/password/reset/start", post(password_reset::start_reset))
        .route("/password/reset", post(password_reset::reset_password))
        .route("/identifier/forgot", post(password_reset::forgot_identifier))
        .with_state(services)
}

/// A customer space as the client sees it.
#[derive(Serialize)]
struct SpaceView {
    id: String,
    name: String,
    kind: SpaceKind,
    roles: Vec<account::Role>,
}

fn view(m: Membership) -> SpaceView {
    SpaceView { id: m.space_id, name: m.space_name, kind: m.space_kind, roles: m.roles }
}

/// A signed access token for a session and how long it lives (seconds): never past the
/// session's absolute lifetime. Every caller checked that the session is live and of its
/// person's current epoch.
async fn access_token(services: &Services, session: &session::Session, now: i64) -> Result<(String, i64)> {
    let settings = &services.config.tokens;
    let exp = (now + settings.access_ttl).min(session.ends_at(settings));
    let claims = AccessClaims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: session.person_id.clone(),
        space: session.space_id.clone(),
        amr: session.amr.clone(),
        sid: session.id.clone(),
        epoch: session.epoch,
        iat: now,
        exp,
        jti: services.new_id(),
    };
    Ok((services.tokens.ring(services).await?.sign(&claims)?, exp - now))
}
