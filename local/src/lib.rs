//! The local server: the browser portal at `/` (see [`portal`]), every function's routes
//! under `/api/` on the same port, on the embedded adapters, plus the developer pages
//! (`/_dev/outbox`, `/_dev/outbox.json`), `/openapi.json` and `/health`.
//! The `/_dev` routes exist only here; no Lambda serves them.
//!
//! Developers run it on their machines, where a web page they visit could reach it: it
//! answers only to its own address and loopback names (a DNS-rebinding page names another
//! host), no page of it can be framed, and slow clients are cut off (see [`serve`]).

pub mod demo;
pub mod demo_organisation;
pub mod payment_page;
pub mod portal;
pub mod serve;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use signet_shared::adapters::embedded::{EmbeddedStore, Outbox, OutboxMessage};
use signet_shared::config::origin_of;
use signet_shared::domain::audit::RequestContext;
use signet_shared::{Error, ErrorCode, Services};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The OpenAPI 3.1 document of the whole API, kept in the repository.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Every function's routes, without fallbacks (the caller finishes the router once).
pub fn api_routes(services: Services) -> Router {
    Router::new()
        .merge(signet_signup::routes(services.clone()))
        .merge(signet_login::routes(services.clone()))
        .merge(signet_email_change::routes(services.clone()))
        .merge(signet_recovery::routes(services.clone()))
        .merge(signet_activation::routes(services.clone()))
        .merge(signet_renewal::routes(services.clone()))
        .merge(signet_organisations::routes(services.clone()))
        .merge(signet_operator::routes(services))
}

/// The whole local application: the API, the developer pages, the OpenAPI document, the
/// health of the store.
pub fn app(services: Services, outbox: Outbox, store: EmbeddedStore) -> Router {
    app_with(services, outbox, store, serve::Timeouts::default())
}

/// [`app`] with the given timeouts (the request body's applies here; the headers' where
/// connections are served, see [`serve::run`]).
pub fn app_with(services: Services, outbox: Outbox, store: EmbeddedStore, timeouts: serve::Timeouts) -> Router {
    app_in(services, outbox, store, timeouts, portal::DEFAULT_DIR.into())
}

/// [`app_with`] serving the portal's files from `portal_dir`.
pub fn app_in(
    services: Services,
    outbox: Outbox,
    store: EmbeddedStore,
    timeouts: serve::Timeouts,
    portal_dir: std::path::PathBuf,
) -> Router {
    let metrics = services.config.metrics;
    let dev = Router::new()
        .route("/_dev/outbox", get(outbox_page))
        .route("/_dev/outbox.json", get(outbox_json))
        .route("/openapi.json", get(openapi))
        .with_state(outbox);
    let health = Router::new().route("/health", get(health)).with_state(store);
    // The hosted payment page delivers its webhook to the API as the provider would.
    let pay = payment_page::routes(
        services.clone(),
        signet_shared::web::finish(api_routes(services.clone()), "local", false),
    );
    let guard = Guard {
        hosts: allowed_hosts(&services.config.portal_url),
        portal: origin_of(&services.config.portal_url).to_owned(),
        portal_host: portal_host(&services.config.portal_url).unwrap_or_default(),
        body_timeout: timeouts.body,
    };
    let guard = Arc::new(guard);
    let routes = Router::new()
        .nest(signet_shared::web::browser::API_PREFIX, api_routes(services))
        .merge(portal::routes(portal_dir))
        .merge(dev)
        .merge(pay)
        .merge(health)
        .layer(axum::middleware::from_fn_with_state(guard.clone(), guarded));
    signet_shared::web::finish(routes, "local", metrics)
        .layer(axum::middleware::from_fn(request_context))
        .layer(axum::middleware::from_fn_with_state(guard, secure_headers))
}

/// What every request to the local server is checked against.
struct Guard {
    /// The host names it answers to (without port).
    hosts: Vec<String>,
    /// The portal's origin, where the payment page's form may lead.
    portal: String,
    /// The portal's host name (without port): a page asked under another name is sent there,
    /// since the session's cookies belong to one name.
    portal_host: String,
    /// How long a request's body may take to arrive.
    body_timeout: std::time::Duration,
}

/// The host names the local server answers to: the configured portal's, and loopback's.
fn allowed_hosts(portal_url: &str) -> Vec<String> {
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "[::1]".to_owned()];
    hosts.extend(portal_host(portal_url));
    hosts
}

/// The host name of the portal's URL, lower case and without port.
fn portal_host(portal_url: &str) -> Option<String> {
    host_name(origin_of(portal_url).split_once("://").map_or("", |(_, h)| h)).map(str::to_ascii_lowercase)
}

/// The host name of a `Host` header value, without its port.
fn host_name(value: &str) -> Option<&str> {
    if value.starts_with('[') {
        return value.find(']').map(|end| &value[..=end]);
    }
    match value.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => Some(host),
        _ => Some(value).filter(|v| !v.is_empty()),
    }
}

/// Refuses other hosts, sends a portal page asked under another loopback name to the
/// portal's own (`localhost` for `127.0.0.1`), and reads the body within its time.
async fn guarded(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    if let Some(value) = req.headers().get(header::HOST) {
        let host = value.to_str().ok().and_then(host_name).map(str::to_ascii_lowercase);
        let Some(host) = host.filter(|h| guard.hosts.contains(h)) else {
            return Error::new(ErrorCode::HostNotAllowed).into_response();
        };
        if host != guard.portal_host && req.method() == axum::http::Method::GET && is_page(req.uri().path()) {
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            return axum::response::Redirect::temporary(&format!("{}{path}", guard.portal)).into_response();
        }
    }
    let (parts, body) = req.into_parts();
    let body =
        match tokio::time::timeout(guard.body_timeout, axum::body::to_bytes(body, signet_shared::web::BODY_LIMIT + 1))
            .await
        {
            Err(_) => return Error::new(ErrorCode::RequestTimeout).into_response(),
            Ok(Err(_)) => return Error::new(ErrorCode::PayloadTooLarge).into_response(),
            Ok(Ok(bytes)) => bytes,
        };
    next.run(Request::from_parts(parts, axum::body::Body::from(body))).await
}

/// A portal page (not the API, the developer pages, the payment page or the health check).
fn is_page(path: &str) -> bool {
    let served_elsewhere = ["/api", "/_dev", "/_pay", "/health", "/openapi.json"];
    !served_elsewhere.iter().any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// No page of the local server may be framed, nor load anything from elsewhere (set on the
/// finished answer, problems included).
async fn secure_headers(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'",
        guard.portal
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// `GET /health`: 200 when the store can write, 503 when it cannot (a full disk; it is
/// reopened as soon as it can be).
async fn health(State(store): State<EmbeddedStore>) -> Response {
    match tokio::task::spawn_blocking(move || store.health()).await {
        Ok(Ok(())) => axum::Json(serde_json::json!({"status": "ok", "store": "ok"})).into_response(),
        Ok(Err(cause)) => {
            tracing::warn!(cause = %cause, "health: the store cannot write");
            Error::new(ErrorCode::ServiceUnavailable).detail("the store cannot write").retry_after(5).into_response()
        }
        Err(e) => Error::internal(e).into_response(),
    }
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

/// Names the request and its source, as API Gateway does in Lambda.
async fn request_context(mut req: Request, next: Next) -> Response {
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let request_id = format!("local-{}", REQUEST_SEQ.fetch_add(1, Ordering::Relaxed));
    req.extensions_mut().insert(RequestContext { source_ip, request_id });
    next.run(req).await
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], OPENAPI).into_response()
}

#[derive(serde::Deserialize)]
struct Limit {
    limit: Option<usize>,
}

async fn outbox_json(State(outbox): State<Outbox>, Query(q): Query<Limit>) -> Response {
    match outbox.list(q.limit.unwrap_or(100).min(1000)) {
        Ok(messages) => axum::Json(messages).into_response(),
        Err(e) => signet_shared::Error::unavailable(e).into_response(),
    }
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn render(messages: &[OutboxMessage]) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">\
         <title>Signet outbox</title><style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}\
         article{border:1px solid #ccc;border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}\
         header{color:#555;font-size:.9rem}pre{white-space:pre-wrap;font-size:.95rem}</style></head><body>\
         <h1>Outbox</h1><p>Mail, text messages and voice calls the local portal would have sent, newest first \
         (<a href=\"/_dev/outbox.json\">JSON</a>). This page refreshes every 5 seconds.</p>",
    );
    if messages.is_empty() {
        html.push_str("<p><em>Nothing sent yet.</em></p>");
    }
    for m in messages {
        html.push_str(&format!(
            "<article><header>#{} · {} · to <strong>{}</strong> · at {}{}</header>{}<pre>{}</pre></article>",
            m.id,
            escape(&m.channel),
            escape(&m.to),
            m.at,
            m.language.as_deref().map(|l| format!(" · {}", escape(l))).unwrap_or_default(),
            m.subject.as_deref().map(|s| format!("<h3>{}</h3>", escape(s))).unwrap_or_default(),
            escape(&m.body),
        ));
    }
    html.push_str("</body></html>");
    html
}

async fn outbox_page(State(outbox): State<Outbox>) -> Response {
    match outbox.list(200) {
        Ok(messages) => (StatusCode::OK, Html(render(&messages))).into_response(),
        Err(e) => signet_shared::Error::unavailable(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn outbox_page_escapes_message_text() {
        let m = signet_shared::adapters::embedded::OutboxMessage {
            id: 1,
            at: 0,
            channel: "email".into(),
            to: "a@example.com".into(),
            subject: Some("<script>".into()),
            body: "x < y & \"z\"".into(),
            language: None,
        };
        let html = super::render(&[m]);
        assert!(html.contains("&lt;script&gt;") && html.contains("x &lt; y &amp; &quot;z&quot;"));
        assert!(!html.contains("<script>"));
    }
}
