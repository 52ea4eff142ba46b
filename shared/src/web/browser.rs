//! Browser sessions: the portal never sees a token. A request whose `Origin` is the portal's
//! gets the tokens a step issues as cookies (HttpOnly, SameSite=Strict, Secure unless the
//! portal is plain HTTP on loopback), and its answer without them; the refresh token's
//! cookie is sent only to the refresh path. An app (no `Origin`) keeps the bearer mode:
//! the tokens in the body.
//!
//! The paths are the browser's: the portal reaches the API under [`API_PREFIX`] (the local
//! server nests every router there; CloudFront's `/api/*` behaviour removes it).

use crate::domain::services::Services;
use crate::web::auth::{cookie_value, origin_of, ACCESS_COOKIE};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

/// Where the portal reaches the API.
pub const API_PREFIX: &str = "/api";

/// The refresh token's cookie, sent only to [`REFRESH_PATH`].
pub const REFRESH_COOKIE: &str = "signet_refresh";

/// The refresh step as the browser reaches it.
pub const REFRESH_PATH: &str = "/api/token/refresh";

/// The answer's fields that carry a credential: moved to cookies, never shown to a page.
const SECRET_FIELDS: [&str; 4] = ["access_token", "refresh_token", "device_token", "token_type"];

/// Whether the request comes from a portal page (its `Origin` is the portal's).
pub fn from_portal(headers: &HeaderMap, services: &Services) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    origin == Some(origin_of(&services.config.portal_url))
}

/// The refresh token a browser sent in its cookie.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, REFRESH_COOKIE).filter(|v| !v.is_empty())
}

fn cookie(services: &Services, name: &str, value: &str, path: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if services.config.portal_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"))
        .ok()
}

/// Ends the browser's session cookies (logout, a refused refresh).
fn clear(services: &Services, headers: &mut HeaderMap) {
    for (name, path) in [(ACCESS_COOKIE, API_PREFIX), (REFRESH_COOKIE, REFRESH_PATH)] {
        if let Some(value) = cookie(services, name, "", path, 0) {
            headers.append(header::SET_COOKIE, value);
        }
    }
}

/// The layer every function's router carries (see [`crate::routes`]).
pub async fn sessions(State(services): State<Services>, req: Request, next: Next) -> Response {
    if !from_portal(req.headers(), &services) {
        return next.run(req).await;
    }
    let logout = req.method() == Method::POST && req.uri().path().ends_with("/logout");
    let refresh = req.uri().path().ends_with("/token/refresh");
    let response = next.run(req).await;
    let status = response.status();
    if (logout && status == StatusCode::NO_CONTENT) || (refresh && status == StatusCode::UNAUTHORIZED) {
        let mut response = response;
        clear(&services, response.headers_mut());
        return response;
    }
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !status.is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let mut value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Object(map)) if map.contains_key("access_token") => serde_json::Value::Object(map),
        _ => return Response::from_parts(parts, axum::body::Body::from(bytes)),
    };
    let settings = &services.config.tokens;
    let access_age = value["expires_in"].as_i64().unwrap_or(settings.access_ttl);
    if let Some(token) = value["access_token"].as_str() {
        if let Some(v) = cookie(&services, ACCESS_COOKIE, token, API_PREFIX, access_age) {
            parts.headers.append(header::SET_COOKIE, v);
        }
    }
    if let Some(token) = value["refresh_token"].as_str() {
        if let Some(v) = cookie(&services, REFRESH_COOKIE, token, REFRESH_PATH, settings.session_max_lifetime) {
            parts.headers.append(header::SET_COOKIE, v);
        }
    }
    if let Some(map) = value.as_object_mut() {
        for field in SECRET_FIELDS {
            map.remove(field);
        }
    }
    let body = serde_json::to_vec(&value).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}
