//! Browser sessions (the portal): a step's tokens become HttpOnly, SameSite=Strict cookies
//! when the request comes from the portal's origin, and the page never sees one; the refresh
//! token's cookie goes only to the refresh path; an app keeps its tokens in the body. On
//! both back ends.

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use signet_tests::{scenarios, World};

scenarios!(
    a_browser_session_lives_in_cookies_the_page_never_sees,
    an_app_keeps_its_tokens_in_the_body,
    a_page_on_another_origin_gets_no_token,
    signing_out_everywhere_ends_every_session,
);

const PASSWORD: &str = "correct horse battery staple 7";

/// The `name=value` and attributes of each `Set-Cookie` of an answer, by cookie name.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn value(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1
}

async fn post_from(w: &World, origin: &str, path: &str, cookies: &str, body: Value) -> (StatusCode, HeaderMap, Value) {
    let mut headers = vec![("content-type", "application/json"), ("origin", origin)];
    if !cookies.is_empty() {
        headers.push(("cookie", cookies));
    }
    w.send(Method::POST, path, &headers, body.to_string().into_bytes()).await
}

fn no_token_in(body: &Value) {
    for field in ["access_token", "refresh_token", "device_token"] {
        assert!(body.get(field).is_none(), "{field} shown to the page: {body}");
    }
}

async fn a_browser_session_lives_in_cookies_the_page_never_sees(w: World) {
    let email = w.email("browser");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let portal = signet_shared::config::origin_of(&w.services.config.portal_url).to_owned();
    let login = json!({"email": email, "password": PASSWORD, "device": "browser"});
    let (status, _, started) = post_from(&w, &portal, "/login", "", login).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let code = w.last_to(&phone).await.code();
    let (status, headers, body) =
        post_from(&w, &portal, "/login/code", "", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("signed_in")), "{body}");
    no_token_in(&body);
    assert!(body["session_id"].is_string() && body["space"]["id"].is_string(), "{body}");
    let access = cookie(&headers, "signet_access").expect("access cookie");
    let refresh = cookie(&headers, "signet_refresh").expect("refresh cookie");
    for attribute in ["HttpOnly", "SameSite=Strict"] {
        assert!(access.contains(attribute) && refresh.contains(attribute), "{access} / {refresh}");
    }
    assert!(access.contains("Path=/api;"), "{access}");
    assert!(refresh.contains("Path=/api/token/refresh;"), "{refresh}");
    assert_eq!(access.contains("Secure"), w.services.config.portal_url.starts_with("https://"));
    // The access cookie authenticates reads, and writes from the portal's origin.
    let jar = format!("signet_access={}", value(&access));
    let (status, _, sessions) = w.send(Method::GET, "/sessions", &[("cookie", &jar)], vec![]).await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    // The refresh: `{}` and the refresh cookie, from the portal only.
    let refresh_jar = format!("signet_refresh={}", value(&refresh));
    let (status, _, body) = post_from(&w, "https://evil.example.org", "/token/refresh", &refresh_jar, json!({})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_invalid")), "{body}");
    let (status, headers, body) = post_from(&w, &portal, "/token/refresh", &refresh_jar, json!({})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("refreshed")), "{body}");
    no_token_in(&body);
    let next_access = cookie(&headers, "signet_access").expect("a new access cookie");
    let next_refresh = cookie(&headers, "signet_refresh").expect("a new refresh cookie");
    assert_ne!(value(&next_refresh), value(&refresh));
    // Logout ends both cookies.
    let jar = format!("signet_access={}", value(&next_access));
    let (status, headers, _) = post_from(&w, &portal, "/logout", &jar, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for name in ["signet_access", "signet_refresh"] {
        let ended = cookie(&headers, name).expect("an ended cookie");
        assert!(ended.starts_with(&format!("{name}=;")) && ended.contains("Max-Age=0"), "{ended}");
    }
    let (status, _, _) = w.send(Method::GET, "/sessions", &[("cookie", &jar)], vec![]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A refresh cookie of an ended session is refused, and the browser told to forget it.
    let refresh_jar = format!("signet_refresh={}", value(&next_refresh));
    let (status, headers, _) = post_from(&w, &portal, "/token/refresh", &refresh_jar, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie(&headers, "signet_refresh").is_some_and(|c| c.contains("Max-Age=0")));
}

async fn an_app_keeps_its_tokens_in_the_body(w: World) {
    let email = w.email("app");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    assert!(signed_in["access_token"].is_string() && signed_in["refresh_token"].is_string(), "{signed_in}");
    let (status, body) = w.post("/token/refresh", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_invalid")), "{body}");
    let (status, body) = w.post("/token/refresh", json!({"refresh_token": signed_in["refresh_token"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string() && body["refresh_token"].is_string(), "{body}");
}

async fn a_page_on_another_origin_gets_no_token(w: World) {
    let email = w.email("elsewhere");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let login = json!({"email": email, "password": PASSWORD, "device": "browser"});
    let elsewhere = "http://localhost:3000";
    let (_, _, started) = post_from(&w, elsewhere, "/login", "", login).await;
    let code = w.last_to(&phone).await.code();
    let (status, headers, body) =
        post_from(&w, elsewhere, "/login/code", "", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("signed_in")), "{body}");
    no_token_in(&body);
    assert!(cookie(&headers, "signet_access").is_none() && cookie(&headers, "signet_refresh").is_none());
}

async fn signing_out_everywhere_ends_every_session(w: World) {
    let email = w.email("everywhere");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let here = w.sign_in(&email, &phone, PASSWORD).await;
    let there = w.sign_in(&email, &phone, PASSWORD).await;
    let access = here["access_token"].as_str().unwrap();
    let (status, _) = w.call(Method::POST, "/logout/everywhere", access, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for signed_in in [&here, &there] {
        let (status, _) =
            w.call(Method::GET, "/sessions", signed_in["access_token"].as_str().unwrap(), Value::Null).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = w.post("/token/refresh", json!({"refresh_token": signed_in["refresh_token"]})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
