//! Browser sessions: the portal never sees a token. A request whose `Origin` is the portal's
//! gets the tokens a step issues as cookies (HttpOnly, SameSite=Strict, Secure unless the
//! portal is plain HTTP on loopback), and its answer without them; the refresh token's
//! cookie is sent only to the refresh path. An app (no `Origin`) keeps the bearer mode:
//! the tokens in the body. A page of another origin (another name of the portal's, say)
//! gets neither: its answers come without tokens, and no cookie is set.
//!
//! The paths are the browser's: the portal reaches the API under [`API_PREFIX`] (the local
//! server nests every router there; CloudFront's `/api/*` behaviour removes it).

use crate::config::origin_of;
use crate::domain::services::Services;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

/// The name of the browser's access-token cookie.
pub const ACCESS_COOKIE: &str = "signet_access";

/// Where the portal reaches the API.
pub const API_PREFIX: &str = "/api";

/// The refresh token's cookie, sent only to [`REFRESH_PATH`].
pub const REFRESH_COOKIE: &str = "signet_refresh";

/// The refresh step as the browser reaches it.
pub const REFRESH_PATH: &str = "/api/token/refresh";

/// The answer's fields that carry a credential: moved to cookies, never shown to a page.
const SECRET_FIELDS: [&str; 4] = ["access_token", "refresh_token", "device_token", "token_type"];

/// The value of the cookie `name` in a request's headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request comes from a portal page (its `Origin` is the portal's).
pub fn from_portal(headers: &HeaderMap, services: &Services) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    origin == Some(origin_of(&services.config.portal_url))
}

/// The refresh token a browser sent in its cookie.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, REFRESH_COOKIE).filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure unless the portal is plain HTTP
/// (on loopback only, see the configuration).
fn cookie(services: &Services, name: &str, value: &str, path: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if services.config.portal_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"))
        .ok()
}

/// Gives a browser its device token with `response` (see [`cookie`]).
pub fn set_device_cookie(services: &Services, response: &mut Response, token: &str) {
    use crate::domain::sessions::devices::{DEVICE_COOKIE, DEVICE_LIFETIME};
    if let Some(value) = cookie(services, DEVICE_COOKIE, token, "/", DEVICE_LIFETIME) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
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
    if !req.headers().contains_key(header::ORIGIN) {
        // An app: the tokens in the body.
        return next.run(req).await;
    }
    if !from_portal(req.headers(), &services) {
        // A browser on another origin (or another name of the portal's): no cookies, and no
        // token for its page either.
        let response = next.run(req).await;
        return without_tokens(&services, response, false).await;
    }
    let path = req.uri().path();
    let logout = req.method() == Method::POST && (path.ends_with("/logout") || path.ends_with("/logout/everywhere"));
    let refresh = path.ends_with("/token/refresh");
    let mut response = next.run(req).await;
    let status = response.status();
    if (logout && status == StatusCode::NO_CONTENT) || (refresh && status == StatusCode::UNAUTHORIZED) {
        clear(&services, response.headers_mut());
        return response;
    }
    without_tokens(&services, response, true).await
}

/// A successful JSON answer without the tokens it carries: given as cookies when `cookies`,
/// else to nobody.
async fn without_tokens(services: &Services, response: Response, cookies: bool) -> Response {
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !response.status().is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let mut map = match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Object(map)) if SECRET_FIELDS.iter().any(|f| map.contains_key(*f)) => map,
        _ => return Response::from_parts(parts, axum::body::Body::from(bytes)),
    };
    if cookies {
        let settings = &services.config.tokens;
        let access_age = map.get("expires_in").and_then(|v| v.as_i64()).unwrap_or(settings.access_ttl);
        let issued = [
            (ACCESS_COOKIE, "access_token", API_PREFIX, access_age),
            (REFRESH_COOKIE, "refresh_token", REFRESH_PATH, settings.session_max_lifetime),
        ];
        for (name, field, path, age) in issued {
            let token = map.get(field).and_then(|v| v.as_str());
            if let Some(value) = token.and_then(|token| cookie(services, name, token, path, age)) {
                parts.headers.append(header::SET_COOKIE, value);
            }
        }
    }
    for field in SECRET_FIELDS {
        map.remove(field);
    }
    let body = serde_json::to_vec(&map).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}
