//! The browser portal's files, served as they are in the repository's `portal/` folder (no
//! build step): a file by its path, and `index.html` for every page path (the portal routes
//! in the browser), as CloudFront's viewer-request function does in AWS.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use signet_shared::{Error, ErrorCode};
use std::path::PathBuf;
use std::sync::Arc;

/// The repository's portal folder (the default of `--portal-dir`).
pub const DEFAULT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../portal");

/// The portal's content security policy: scripts and styles from its own origin only, no
/// inline script, no framing (as the CloudFront response-headers policy sets it).
pub const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// `GET /` and `GET /{*path}` from `dir`.
pub fn routes(dir: PathBuf) -> Router {
    let dir = Arc::new(dir);
    Router::new().route("/", get(index)).route("/{*path}", get(file)).with_state(dir)
}

async fn index(State(dir): State<Arc<PathBuf>>) -> Response {
    serve(&dir, "index.html").await
}

async fn file(State(dir): State<Arc<PathBuf>>, Path(path): Path<String>) -> Response {
    if path == "api" || path.starts_with("api/") {
        // An API path no function serves: a problem, never the portal's page.
        return Error::new(ErrorCode::NotFound).into_response();
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if !last.contains('.') {
        // A page of the portal: its router shows it.
        return serve(&dir, "index.html").await;
    }
    // Plain names only: no `..`, no hidden file, no drive (`C:`) or backslash.
    let safe = path.split('/').all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains(['\\', ':']));
    if !safe {
        return Error::new(ErrorCode::NotFound).into_response();
    }
    serve(&dir, &path).await
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn serve(dir: &std::path::Path, path: &str) -> Response {
    let file = dir.join(path);
    match tokio::task::spawn_blocking(move || std::fs::read(file)).await {
        Ok(Ok(bytes)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
            ],
            bytes,
        )
            .into_response(),
        _ => Error::new(ErrorCode::NotFound).into_response(),
    }
}
