//! Sessions: refresh, logout, switching space, the list of my sessions, the token keys.

use crate::{access_token, view, SpaceView};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::Membership;
use signet_shared::domain::sessions::session;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::browser;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshBody {
    /// An app sends it; a browser sends `{}` and its refresh cookie.
    #[serde(default)]
    refresh_token: Option<String>,
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

pub(crate) async fn refresh(
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Response> {
    let token = match &body.refresh_token {
        Some(token) => token.as_str(),
        // The browser's cookie, only from a portal page (a cross-site form cannot send JSON
        // with this Origin).
        None if browser::from_portal(&headers, &services) => {
            browser::refresh_cookie(&headers).ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?
        }
        // Neither: no refresh token, as an ended session's.
        None => return Err(Error::new(ErrorCode::TokenInvalid)),
    };
    let issued = session::refresh(&services, token).await?;
    let (access_token, expires_in) = access_token(&services, &issued.session, services.now()).await?;
    Ok(json(
        StatusCode::OK,
        &Refreshed {
            status: "refreshed",
            token_type: "Bearer",
            access_token,
            expires_in,
            refresh_token: issued.refresh_token,
            session_id: issued.session.id,
        },
    ))
}

pub(crate) async fn logout(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    session::revoke(&services, &claims.sub, &claims.sid, "logout").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// "Sign out everywhere": every session of the person ends, this one included.
pub(crate) async fn logout_everywhere(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let ended = session::revoke_all_except(&services, &claims.sub, None, "logout_everywhere").await?;
    tracing::info!(ended, "signed out everywhere");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SwitchBody {
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
pub(crate) async fn switch_space(
    State(services): State<Services>,
    Authenticated(claims, live): Authenticated,
    ApiJson(body): ApiJson<SwitchBody>,
) -> Result<Response> {
    let membership: Membership = services
        .store
        .get(&keys::membership(&claims.sub, &body.space_id))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound).field("space_id"))?
        .decode()?;
    let session = session::switch_space(&services, &live, &membership.space_id).await?;
    let (access_token, expires_in) = access_token(&services, &session, services.now()).await?;
    Ok(json(
        StatusCode::OK,
        &Switched {
            status: "switched",
            token_type: "Bearer",
            access_token,
            expires_in,
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

pub(crate) async fn list_sessions(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let sessions = session::list(&services, &claims.sub)
        .await?
        .into_iter()
        .filter(|s| s.epoch == claims.epoch)
        .map(|s| SessionView {
            current: s.id == claims.sid,
            id: s.id,
            device: s.device,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
        })
        .collect();
    Ok(json(StatusCode::OK, &SessionList { sessions }))
}

pub(crate) async fn revoke_session(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    session::revoke(&services, &claims.sub, &id, "revoked_by_owner").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn jwks(State(services): State<Services>) -> Result<Response> {
    let ring = services.tokens.ring(&services).await?;
    let mut response = axum::Json(ring.jwks()).into_response();
    response
        .headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}
