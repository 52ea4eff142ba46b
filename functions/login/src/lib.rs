//! Login (seed 004): a password (by email or organisation identifier) or a Google identity,
//! then the second factor (a code by SMS or voice call, an authenticator app, or a backup
//! code), then the customer space when the person has several; sessions with rotating
//! refresh tokens, logout, the list of my sessions, and the public keys of the tokens; the
//! credential changes of a signed-in person (re-authentication, password, authenticator
//! app); "forgot password" and "forgot identifier".
//!
//! The routes are declared once below; one file per operation or small group: `login.rs`
//! (password), `google.rs`, `second_step.rs` (factor, new code, space), `attempts.rs`,
//! `no_access.rs` ("no access to the app"), `setup.rs` (the first sign-in's new password and second factor), `sessions.rs`, `reauth.rs`, `password.rs`, `totp.rs`, `password_reset.rs`,
//! `forgot_identifier.rs`.

mod attempts;
mod forgot_identifier;
mod google;
mod login;
mod no_access;
mod password;
mod password_reset;
mod reauth;
mod second_step;
mod sessions;
mod setup;
mod totp;

use serde::Serialize;
use signet_shared::domain::audit::person_event as audit;
use signet_shared::domain::people::account::{self, Membership, SpaceKind};
use signet_shared::domain::sessions::access_token::AccessClaims;
use signet_shared::domain::sessions::session;
use signet_shared::ports::store::Write;
use signet_shared::{Result, Services};

signet_shared::routes! {
    POST "/login" => login::login,
    POST "/login/google" => google::google,
    POST "/login/code" => second_step::verify_code,
    POST "/login/code/resend" => second_step::resend_code,
    POST "/login/space" => second_step::choose_space,
    POST "/login/no-access" => no_access::no_access,
    POST "/login/setup/password" => setup::set_password,
    POST "/login/setup/phone/confirm" => setup::confirm_phone,
    POST "/login/setup/app" => setup::enrol_app,
    POST "/login/setup/app/confirm" => setup::confirm_app,
    POST "/token/refresh" => sessions::refresh,
    POST "/logout" => sessions::logout,
    POST "/logout/everywhere" => sessions::logout_everywhere,
    POST "/session/space" => sessions::switch_space,
    GET "/sessions" => sessions::list_sessions,
    DELETE "/sessions/{id}" => sessions::revoke_session,
    GET "/.well-known/jwks.json" => sessions::jwks,
    POST "/reauth" => reauth::reauth,
    POST "/reauth/code" => reauth::reauth_code,
    POST "/account/password" => password::change_password,
    POST "/account/totp" => totp::enrol_totp,
    POST "/account/totp/confirm" => totp::confirm_totp,
    DELETE "/account/totp" => totp::remove_totp,
    POST "/password/forgot" => password_reset::forgot_password,
    POST "/password/reset/start" => password_reset::start_reset,
    POST "/password/reset" => password_reset::reset_password,
    POST "/identifier/forgot" => forgot_identifier::forgot_identifier,
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

/// Commits a credential change of a signed-in person: the person, the session (its
/// re-authentication used up: it serves one change) and the audit event, in one
/// transaction; then logs the event.
async fn commit_credential_change(
    services: &Services,
    context: &signet_shared::domain::audit::RequestContext,
    live: &session::Live,
    person: &account::Person,
    mut session: session::Session,
    action: &str,
) -> Result<session::Session> {
    session.reauthenticated_at = None;
    let event = audit(services, context, action, &person.id, serde_json::json!({"session_id": session.id}));
    let writes = vec![
        Write::replace(live.person_item.next(person)?),
        Write::replace(live.session_item.next(&session)?),
        event.write(&services.new_id())?,
    ];
    services.store.transact(writes).await?;
    event.log();
    Ok(session)
}
