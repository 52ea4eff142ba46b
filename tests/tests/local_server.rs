//! The local server is not an easy target either (points 15 to 18 of the hardening): no
//! page of it can be framed, it answers only to its own address, slow clients are cut off,
//! and a full disk does not break it for good. The local server runs on the embedded back
//! end only: these scenarios have no AWS twin.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use signet_shared::adapters::embedded::database_file::DiskFaults;
use signet_shared::ports::SystemClock;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

struct Local {
    app: axum::Router,
    faults: Arc<DiskFaults>,
    _dir: tempfile::TempDir,
}

fn local(timeouts: signet_local::serve::Timeouts) -> Local {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(DiskFaults::default());
    let config = signet_tests::test_config(&[("SIGNET_PORTAL_URL", "http://127.0.0.1:3000")]);
    let backend = signet_shared::app::wiring::embedded_with_faults(
        config,
        dir.path(),
        Arc::new(SystemClock),
        Some(faults.clone()),
    )
    .unwrap();
    Local { app: signet_local::app_with(backend.services, backend.outbox, backend.store, timeouts), faults, _dir: dir }
}

async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    host: &str,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn no_page_can_be_framed_and_other_hosts_are_refused() {
    let l = local(Default::default());
    for path in ["/_dev/outbox", "/_dev/outbox.json", "/_pay/cs_local_unknown", "/openapi.json", "/api/sessions"] {
        let (_, headers, _) = send(&l.app, "GET", path, "127.0.0.1:3000", "").await;
        assert_eq!(headers.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"), "{path}: {policy}");
    }
    // A DNS-rebinding page reaches the server under its own name: refused, codes unread.
    for host in ["rebind.example.org", "rebind.example.org:3000", "127.0.0.1.example.org:3000"] {
        let (status, _, body) = send(&l.app, "GET", "/_dev/outbox.json", host, "").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::MISDIRECTED_REQUEST, Some("host_not_allowed")),
            "{host}: {body}"
        );
        let (status, _, _) = send(&l.app, "POST", "/api/signup", host, r#"{"email":"member@example.com"}"#).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    for host in ["127.0.0.1:3000", "localhost:3000", "LOCALHOST", "[::1]:3000"] {
        let (status, _, _) = send(&l.app, "GET", "/_dev/outbox.json", host, "").await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_others_served() {
    let timeouts = signet_local::serve::Timeouts {
        headers: Duration::from_millis(500),
        body: Duration::from_millis(500),
        connections: 8,
    };
    let l = local(timeouts);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(signet_local::serve::run(listener, l.app.clone(), timeouts, std::future::pending()));
    // Half the headers, then nothing: the connection is closed.
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    stalled.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stalled.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "a stalled client still holds its connection");
    // The headers, half the body, then nothing: 408.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /api/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"email\":").await.unwrap();
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut answer)).await.expect("an answer").unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408") && answer.contains("request_timeout"), "{answer}");
    // Meanwhile, and after, others are served.
    let mut fine = tokio::net::TcpStream::connect(addr).await.unwrap();
    fine.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), fine.read_to_end(&mut out)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out));
}

// On the multi-threaded runtime, as the local server runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_full_disk_the_store_recovers_and_the_health_route_says_so() {
    let l = local(Default::default());
    let host = "127.0.0.1:3000";
    let signup = |n: u32| format!(r#"{{"email":"full.disk.{n}@example.com"}}"#);
    assert_eq!(send(&l.app, "POST", "/api/signup", host, &signup(1)).await.0, StatusCode::ACCEPTED);
    let (status, _, body) = send(&l.app, "GET", "/health", host, "").await;
    assert_eq!((status, body["store"].as_str()), (StatusCode::OK, Some("ok")));
    l.faults.full.store(true, Ordering::SeqCst);
    let (status, _, body) = send(&l.app, "POST", "/api/signup", host, &signup(2)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("service_unavailable")),
        "{body}"
    );
    let (status, _, body) = send(&l.app, "GET", "/health", host, "").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("service_unavailable")),
        "the health route tells a broken store: {body}"
    );
    // Space is back: the file is reopened (at most once a second) and writes go through.
    l.faults.full.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, body) = send(&l.app, "GET", "/health", host, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(send(&l.app, "POST", "/api/signup", host, &signup(3)).await.0, StatusCode::ACCEPTED);
    let (_, _, outbox) = send(&l.app, "GET", "/_dev/outbox.json", host, "").await;
    let to: Vec<&str> = outbox.as_array().unwrap().iter().map(|m| m["to"].as_str().unwrap()).collect();
    assert!(to.contains(&"full.disk.3@example.com") && to.contains(&"full.disk.1@example.com"), "{to:?}");
}

#[tokio::test]
async fn the_portal_is_served_at_the_root_and_the_api_under_api() {
    let l = local(Default::default());
    let host = "127.0.0.1:3000";
    // Every page path of the portal (each emailed link among them) is its one page.
    for path in ["/", "/signup/verify?token=abc", "/activation?reference=AB-123", "/terms-of-sale", "/invoices/2026-1"]
    {
        let (status, headers, _) = send(&l.app, "GET", path, host, "").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }
    let (status, headers, _) = send(&l.app, "GET", "/app.js", host, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    // A file that is not there, or outside the folder, is not found.
    for path in ["/missing.js", "/%2e%2e/Cargo.toml", "/.hidden.txt"] {
        let (status, _, body) = send(&l.app, "GET", path, host, "").await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{path}");
    }
    // The API lives under /api/ only; an unknown API path is a problem, not the portal.
    let (status, _, body) = send(&l.app, "GET", "/api/nothing-here", host, "").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _, body) = send(&l.app, "POST", "/signup", host, r#"{"email":"member@example.com"}"#).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")));
    let (status, _, _) = send(&l.app, "POST", "/api/signup", host, r#"{"email":"member@example.com"}"#).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_page_asked_under_another_loopback_name_goes_to_the_portals() {
    let l = local(Default::default());
    // The session's cookies belong to one name: a page under `localhost` goes to 127.0.0.1.
    let (status, headers, _) = send(&l.app, "GET", "/activation?reference=AB-123", "localhost:3000", "").await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(headers["location"], "http://127.0.0.1:3000/activation?reference=AB-123");
    // The API, the developer pages and the health check answer under every loopback name.
    for path in ["/api/sessions", "/_dev/outbox.json", "/health"] {
        let (status, _, _) = send(&l.app, "GET", path, "localhost:3000", "").await;
        assert_ne!(status, StatusCode::TEMPORARY_REDIRECT, "{path}");
    }
    let (status, _, _) = send(&l.app, "GET", "/", "127.0.0.1:3000", "").await;
    assert_eq!(status, StatusCode::OK);
}
