//! A new password for a signed-in, re-authenticated person: every other session ends.

use crate::access_token;
use crate::commit_credential_change;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::messages::CredentialChange;
use signet_shared::domain::people::password::{self};
use signet_shared::domain::sessions::session::{self};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    new_password: String,
}

#[derive(Serialize)]
pub(crate) struct PasswordChanged {
    status: &'static str,
    token_type: &'static str,
    access_token: String,
    expires_in: i64,
    other_sessions_ended: usize,
    /// This device stays trusted with the new password (also set as a cookie).
    device_token: String,
}

/// A new password: the session epoch moves on, so every other session ends (their refresh
/// tokens fail); this session follows the new epoch and gets a new access token.
pub(crate) async fn change_password(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response> {
    let now = services.now();
    live.require_recent_authentication(now)?;
    password::check_policy(&body.new_password, Some(live.person.email.as_str()))
        .map_err(|e| e.field("new_password"))?;
    let hash = password::hash(body.new_password, services.config.argon2).await?;
    let mut person = live.person.clone();
    person.password_hash = hash;
    person.session_epoch += 1;
    // A new password: the old one's failures, and the devices trusted with it, are gone.
    person.login_failures = Default::default();
    person.device_failures.clear();
    let mut session = live.session.clone();
    session.epoch = person.session_epoch;
    let session =
        commit_credential_change(&services, &context, &live, &person, session, "credential.password_changed").await?;
    // Already ended by the epoch; marked revoked so that they leave the session list.
    let ended = session::revoke_all_except(&services, &person.id, Some(&session.id), "password_changed").await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "sessions not all marked revoked after a password change (their epoch ended them)");
        0
    });
    services.notify_credential_change(&person, CredentialChange::PasswordChanged).await;
    let (access_token, expires_in) = access_token(&services, &session, now).await?;
    let device_token =
        signet_shared::domain::sessions::devices::issue(&services, &person.id, person.session_epoch).await?;
    let mut response = json(
        StatusCode::OK,
        &PasswordChanged {
            status: "password_changed",
            token_type: "Bearer",
            access_token,
            expires_in,
            other_sessions_ended: ended,
            device_token: device_token.clone(),
        },
    );
    signet_shared::web::browser::set_device_cookie(&services, &mut response, &device_token);
    Ok(response)
}
