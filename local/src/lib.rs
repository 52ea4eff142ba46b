//! The local server: every function's routes on one port, on the embedded adapters, plus
//! the developer pages (`/_dev/outbox`, `/_dev/outbox.json`) and `/openapi.json`.
//! The `/_dev` routes exist only here; no Lambda serves them.

pub mod demo;
pub mod payment_page;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use signet_shared::adapters::embedded::{Outbox, OutboxMessage};
use signet_shared::http::RequestContext;
use signet_shared::Services;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// The OpenAPI 3.1 document of the whole API, kept in the repository.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Every function's routes, without fallbacks (the caller finishes the router once).
pub fn api_routes(services: Services) -> Router {
    Router::new().merge(signet_signup::routes(services.clone())).merge(signet_login::routes(services.clone())).merge(signet_email_change::routes(services.clone())).merge(signet_recovery::routes(services.clone())).merge(signet_activation::routes(services.clone())).merge(signet_renewal::routes(services))
}

/// The whole local application: the API, the developer pages, the OpenAPI document.
pub fn app(services: Services, outbox: Outbox) -> Router {
    let metrics = services.config.metrics;
    let dev = Router::new()
        .route("/_dev/outbox", get(outbox_page))
        .route("/_dev/outbox.json", get(outbox_json))
        .route("/openapi.json", get(openapi))
        .with_state(outbox);
    // The hosted payment page delivers its webhook to the API as the provider would.
    let pay = payment_page::routes(services.clone(), signet_shared::http::finish(api_routes(services.clone()), "local", false));
    signet_shared::http::finish(api_routes(services).merge(dev).merge(pay), "local", metrics).layer(axum::middleware::from_fn(request_context))
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

/// Names the request and its source, as API Gateway does in Lambda.
async fn request_context(mut req: Request, next: Next) -> Response {
    let source_ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "127.0.0.1".into());
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
