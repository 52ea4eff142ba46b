//! The authenticated-request extractor: bearer tokens for apps, a cookie plus an Origin
//! check for the browser; on both back ends.

use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use signet_shared::domain::sessions::access_token::AccessClaims;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::browser::ACCESS_COOKIE;
use signet_tests::{scenarios, World};

scenarios!(
    a_bearer_token_authenticates_and_names_the_space,
    a_missing_expired_or_foreign_token_is_refused,
    a_browser_cookie_needs_the_portal_origin_to_change_state,
);

async fn me(Authenticated(claims, _): Authenticated) -> Json<AccessClaims> {
    Json(claims)
}

fn app(w: &World) -> Router {
    let routes = Router::new().route("/me", get(me).post(me)).with_state(w.services.clone());
    signet_shared::web::finish(routes, "test", false)
}

/// A token of a live session of a new person, with the given audience and lifetime.
async fn token(w: &World, audience: &str, lifetime: i64) -> String {
    // Each token its own person (an address is one account).
    let person = w.person(&format!("me-{}", w.services.new_id().to_lowercase())).await;
    let session = w.open_session(&person, "browser").await.session;
    let now = w.services.now();
    let claims = AccessClaims {
        iss: w.services.config.tokens.issuer.clone(),
        aud: audience.into(),
        sub: person.id.clone(),
        space: session.space_id.clone(),
        amr: vec!["pwd".into(), "otp".into()],
        sid: session.id.clone(),
        epoch: person.session_epoch,
        iat: now,
        exp: now + lifetime,
        jti: w.services.new_id(),
    };
    w.services.tokens.ring(&w.services).await.unwrap().sign(&claims).unwrap()
}

async fn call(
    w: &World,
    method: Method,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder().method(method).uri("/me");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app(w).oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn a_bearer_token_authenticates_and_names_the_space(w: World) {
    let t = token(&w, "signet-api", 600).await;
    let (status, _, body) = call(&w, Method::GET, &[("authorization", &format!("Bearer {t}"))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["space"], format!("space-{}", body["sub"].as_str().unwrap()));
    // Apps are not browsers: no Origin needed to change state with a bearer token.
    let (status, _, _) = call(&w, Method::POST, &[("authorization", &format!("bearer {t}"))]).await;
    assert_eq!(status, StatusCode::OK);
}

async fn a_missing_expired_or_foreign_token_is_refused(w: World) {
    // Garbage is refused before the key ring is read (not cached yet here): no call at all.
    w.faults.calls.take();
    for garbage in ["Bearer not.a.token", "Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer "] {
        let (status, _, _) = call(&w, Method::GET, &[("authorization", garbage)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{garbage}");
    }
    assert_eq!(w.faults.calls.take(), (0, 0, 0, 0));
    let (status, headers, body) = call(&w, Method::GET, &[]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_invalid")));
    assert_eq!(headers["www-authenticate"], "Bearer error=\"invalid_token\"");
    let expired = token(&w, "signet-api", 60).await;
    w.clock.advance(61);
    let (status, _, _) = call(&w, Method::GET, &[("authorization", &format!("Bearer {expired}"))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other_api = token(&w, "another-api", 600).await;
    let (status, _, _) = call(&w, Method::GET, &[("authorization", &format!("Bearer {other_api}"))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = call(&w, Method::GET, &[("authorization", "Bearer not.a.token")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_browser_cookie_needs_the_portal_origin_to_change_state(w: World) {
    let t = token(&w, "signet-api", 600).await;
    let cookie = format!("theme=dark; {ACCESS_COOKIE}={t}");
    let portal = w.services.config.portal_url.clone();
    let (status, _, _) = call(&w, Method::GET, &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::OK, "reading needs no Origin");
    let (status, _, _) = call(&w, Method::POST, &[("cookie", &cookie), ("origin", &portal)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) =
        call(&w, Method::POST, &[("cookie", &cookie), ("origin", "https://evil.example.org")]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("origin_refused")));
    let (status, _, body) = call(&w, Method::POST, &[("cookie", &cookie)]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("origin_refused")));
}
