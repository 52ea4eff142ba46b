//! What every function's HTTP surface shares: the JSON body extractor that turns bad
//! input into problem+json, the request context (language, source address, request id),
//! and [`finish`], which adds the fallbacks, the body limit and the layer that renders
//! errors in the request's language, logs the request and records its outcome metric.
//! [`auth`] says who calls (a bearer token, a browser's cookie, an operator); [`browser`]
//! keeps a browser's session in cookies; [`problem`] renders errors; [`metrics`] counts.

pub mod auth;
pub mod browser;
pub mod metrics;
pub mod problem;

use crate::domain::audit::RequestContext;
use crate::locale::Locale;
use crate::{error::Error, error::ErrorCode};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::request::Parts;
use http::{header, HeaderValue};
use serde::de::DeserializeOwned;
use std::time::Instant;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body; bad input becomes a problem+json error (415, 400, 413 or 422).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(Error::new(ErrorCode::UnsupportedMediaType));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(ErrorCode::PayloadTooLarge)
            } else {
                Error::new(ErrorCode::MalformedJson)
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body into `T`, telling malformed JSON (400) from a well-formed body with
/// a missing, unknown or mistyped field (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => Error::new(ErrorCode::MalformedJson),
            Category::Data => {
                let message = e.to_string();
                let field = message.split('`').nth(1).map(str::to_owned);
                let detail = message.split(" at line").next().unwrap_or("").to_owned();
                let error = Error::new(ErrorCode::InvalidRequest).detail(detail);
                match field {
                    Some(f) if message.starts_with("missing field") || message.starts_with("unknown field") => {
                        error.field(f)
                    }
                    _ => error,
                }
            }
        }
    })
}

/// The language of the request (`Accept-Language`, else English).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLocale(pub Locale);

impl<S: Send + Sync> FromRequestParts<S> for RequestLocale {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestLocale(locale_of(&parts.headers)))
    }
}

/// The language a request asks for (`Accept-Language`, else English).
pub fn locale_of(headers: &http::HeaderMap) -> Locale {
    Locale::from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())).unwrap_or_default()
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(|| RequestContext { source_ip: "unknown".into(), request_id: "unknown".into() }))
    }
}

/// Answers routes that do not exist.
async fn not_found() -> Error {
    Error::new(ErrorCode::NotFound)
}

/// Answers known routes with the wrong method.
async fn method_not_allowed() -> Error {
    Error::new(ErrorCode::MethodNotAllowed)
}

/// Completes a router of one or more functions: fallbacks, body limit, and the layer
/// that localizes problems, adds safe headers, logs and records metrics.
/// `function` names the metric dimension (`signup`, or `local` for the local server).
pub fn finish(router: Router, function: &'static str, metrics: bool) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| respond(req, next, function, metrics)))
}

async fn respond(req: Request, next: Next, function: &'static str, metrics: bool) -> Response {
    let started = Instant::now();
    let locale = locale_of(req.headers());
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let request_id = req.extensions().get::<RequestContext>().map(|c| c.request_id.clone()).unwrap_or_default();
    let mut response = next.run(req).await;
    // An extractor's own rejection (a path that is not UTF-8, a raw body over the limit)
    // comes as plain text: it becomes the matching problem too.
    if response.extensions().get::<Error>().is_none() && response.status().is_client_error() && is_plain_text(&response)
    {
        let code = match response.status().as_u16() {
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            _ => ErrorCode::InvalidRequest,
        };
        response.extensions_mut().insert(Error::new(code));
    }
    let code = response.extensions_mut().remove::<Error>().map(|error| {
        let code = error.code;
        // The cookies a layer set on the error (a browser's ended session) are kept.
        let cookies: Vec<HeaderValue> = response.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
        response = error.to_response(locale);
        for cookie in cookies {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        code
    });
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::CONTENT_LANGUAGE).or_insert(HeaderValue::from_static(locale.tag()));
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let outcome = code.map(|c| c.as_str()).unwrap_or("ok");
    if status >= 500 {
        tracing::warn!(%method, %route, status, outcome, request_id, latency_ms, "request");
    } else {
        tracing::info!(%method, %route, status, outcome, request_id, latency_ms, "request");
    }
    if metrics {
        metrics::record_outcome(function, &format!("{method} {route} {outcome}"), latency_ms);
    }
    response
}

fn is_plain_text(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"))
}

/// A JSON success response with a status.
pub fn json<T: serde::Serialize>(status: http::StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Declares a function's routes once, from one list: `ROUTES`, the table the OpenAPI
/// document, the SAM template and the sample events are checked against, and
/// `routes(services)`, the router built from the same entries, so no route reaches the
/// router without being in the table.
///
/// ```ignore
/// signet_shared::routes! {
///     POST "/signup" => start::start,
///     GET "/account/email" => show,
/// }
/// ```
#[macro_export]
macro_rules! routes {
    (@method GET) => { axum::routing::get };
    (@method POST) => { axum::routing::post };
    (@method PUT) => { axum::routing::put };
    (@method DELETE) => { axum::routing::delete };
    ($($method:ident $path:literal => $handler:path),* $(,)?) => {
        /// Every route of this function (method, path).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The function's router, built from [`ROUTES`]'s entries.
        pub fn routes(services: $crate::domain::services::Services) -> axum::Router {
            axum::Router::new()
                $(.route($path, $crate::routes!(@method $method)($handler)))*
                .layer(axum::middleware::from_fn_with_state(services.clone(), $crate::web::browser::sessions))
                .with_state(services)
        }
    };
}
