//! An ended session allows no further use (OWASP ASVS 5.0 V7.4.1): after a logout, a
//! revocation, a replayed refresh token, a password change or the session's absolute
//! lifetime, its access tokens are refused on every authenticated route at once, not when
//! they expire, and nothing mints a new token for it. On both back ends.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Membership, Role, SpaceKind};
use signet_shared::domain::sessions::session::{self, Session};
use signet_tests::{scenarios, World};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase 2026";

scenarios!(
    a_password_change_marks_every_session_revoked_however_many,
    switching_space_refuses_an_ended_session,
    a_logged_out_token_is_refused_on_plain_routes_and_cannot_revoke_others,
    a_password_change_or_a_revoked_family_refuses_old_tokens_at_once,
    every_authenticated_operation_refuses_an_ended_session,
    a_session_ends_at_its_absolute_lifetime_however_often_refreshed,
);

fn access(signed_in: &Value) -> String {
    signed_in["access_token"].as_str().unwrap().to_owned()
}

/// A signed-up member: (email, phone).
async fn member(w: &World, name: &str) -> (String, String) {
    let email = w.email(name);
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    (email, phone)
}

async fn person_id(w: &World, email: &str) -> String {
    let guard = w
        .services
        .store
        .get(&keys::email_guard(&signet_shared::domain::people::email::EmailAddress::parse(email).unwrap()))
        .await
        .unwrap()
        .unwrap();
    guard.decode::<account::EmailGuard>().unwrap().person_id
}

async fn a_password_change_marks_every_session_revoked_however_many(w: World) {
    let (email, phone) = member(&w, "many").await;
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    let id = person_id(&w, &email).await;
    let person: account::Person = w.services.store.get(&keys::person(&id)).await.unwrap().unwrap().decode().unwrap();
    // 210 sign-ins ended by logout (stored as they were before revoked sessions left the
    // index: revoked, still indexed), then 40 still live: more than a page of the index.
    let mut live = Vec::new();
    for i in 0..250 {
        let issued = w.open_session(&person, &format!("device {i}")).await;
        if i < 210 {
            let item = w.services.store.get(&keys::session(&issued.session.id)).await.unwrap().unwrap();
            let mut ended: Session = item.decode().unwrap();
            ended.revoked = Some("logout".into());
            w.services
                .store
                .write(signet_shared::ports::store::Write::replace(item.next(&ended).unwrap()))
                .await
                .unwrap();
        } else {
            live.push(issued);
        }
    }
    // An access token of the oldest live session, before the change.
    let (status, refreshed) = w.post("/token/refresh", json!({"refresh_token": live[0].refresh_token})).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let old_access = access(&refreshed);
    let token = access(&signed_in);
    w.reauthenticate(&token, &phone, PASSWORD).await;
    let (status, changed) =
        w.call(Method::POST, "/account/password", &token, json!({"new_password": NEW_PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["other_sessions_ended"], 40, "{changed}");
    // Every session but the current one is marked revoked, the refreshed one included.
    for issued in &live {
        let stored: Session =
            w.services.store.get(&keys::session(&issued.session.id)).await.unwrap().unwrap().decode().unwrap();
        assert!(stored.revoked.is_some(), "session {} still live", issued.session.id);
        let (status, _) = w.post("/token/refresh", json!({"refresh_token": issued.refresh_token})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = w.call(Method::GET, "/sessions", &old_access, Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an old token of an old session");
    let (status, list) = w.call(Method::GET, "/sessions", &access(&changed), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [signed_in["session_id"].as_str().unwrap()]);
}

/// Adds a membership of another space to a person: they now have two.
async fn second_space(w: &World, person: &str) -> String {
    let space = w.services.new_id();
    let membership = Membership {
        person_id: person.into(),
        space_id: space.clone(),
        roles: vec![Role::User],
        space_name: "Example Org".into(),
        space_kind: SpaceKind::Organisation,
    };
    w.services.store.write(account::membership_write(&membership).unwrap()).await.unwrap();
    space
}

async fn switching_space_refuses_an_ended_session(w: World) {
    let (email, phone) = member(&w, "switcher").await;
    let kept = w.sign_in(&email, &phone, PASSWORD).await;
    let logged_out = w.sign_in(&email, &phone, PASSWORD).await;
    let other = w.sign_in(&email, &phone, PASSWORD).await;
    let space = second_space(&w, &person_id(&w, &email).await).await;
    // A live session switches.
    let (status, switched) = w.call(Method::POST, "/session/space", &access(&kept), json!({"space_id": space})).await;
    assert_eq!(status, StatusCode::OK, "{switched}");
    // The token of the space it left acts for it no more; the new one does.
    let (status, _) = w.call(Method::GET, "/subscriptions", &access(&kept), Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old space's token");
    let (status, _) = w.call(Method::GET, "/subscriptions", &access(&switched), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    // A logged-out one mints nothing.
    let (status, _) = w.call(Method::POST, "/logout", &access(&logged_out), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) =
        w.call(Method::POST, "/session/space", &access(&logged_out), json!({"space_id": space})).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_invalid")), "{refused}");
    // Nor one of an older epoch: the password changed in another session.
    let token = access(&switched);
    w.reauthenticate(&token, &phone, PASSWORD).await;
    let (status, _) = w.call(Method::POST, "/account/password", &token, json!({"new_password": NEW_PASSWORD})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = w.call(Method::POST, "/session/space", &access(&other), json!({"space_id": space})).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_invalid")), "{refused}");
}

async fn a_logged_out_token_is_refused_on_plain_routes_and_cannot_revoke_others(w: World) {
    let (email, phone) = member(&w, "logout").await;
    let gone = w.sign_in(&email, &phone, PASSWORD).await;
    let staying = w.sign_in(&email, &phone, PASSWORD).await;
    let (status, _) = w.call(Method::POST, "/logout", &access(&gone), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for path in ["/subscriptions", "/sessions", "/account/email"] {
        let (status, body) = w.call(Method::GET, path, &access(&gone), Value::Null).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("token_invalid")),
            "{path}: {body}"
        );
    }
    let target = format!("/sessions/{}", staying["session_id"].as_str().unwrap());
    let (status, _) = w.call(Method::DELETE, &target, &access(&gone), Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, list) = w.call(Method::GET, "/sessions", &access(&staying), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "the other session lives on");
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
}

async fn a_password_change_or_a_revoked_family_refuses_old_tokens_at_once(w: World) {
    let (email, phone) = member(&w, "changer").await;
    let here = w.sign_in(&email, &phone, PASSWORD).await;
    let elsewhere = w.sign_in(&email, &phone, PASSWORD).await;
    let token = access(&here);
    w.reauthenticate(&token, &phone, PASSWORD).await;
    let (status, changed) =
        w.call(Method::POST, "/account/password", &token, json!({"new_password": NEW_PASSWORD})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = w.call(Method::GET, "/subscriptions", &access(&elsewhere), Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "another session's token");
    let (status, _) = w.call(Method::GET, "/subscriptions", &token, Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "this session's token of the old epoch");
    let (status, _) = w.call(Method::GET, "/subscriptions", &access(&changed), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "the new token");
    // A stolen refresh token replayed: the family is revoked, its access token refused.
    let stolen = w.sign_in(&email, &phone, NEW_PASSWORD).await;
    let (status, _) = w.post("/token/refresh", json!({"refresh_token": stolen["refresh_token"]})).await;
    assert_eq!(status, StatusCode::OK);
    w.clock.advance(session::ROTATION_GRACE_SECONDS + 1);
    let (status, _) = w.post("/token/refresh", json!({"refresh_token": stolen["refresh_token"]})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w.call(Method::GET, "/sessions", &access(&stolen), Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn every_authenticated_operation_refuses_an_ended_session(w: World) {
    let (email, phone) = member(&w, "everywhere").await;
    let ended = w.sign_in(&email, &phone, PASSWORD).await;
    let (status, _) = w.call(Method::POST, "/logout", &access(&ended), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let doc: Value = serde_json::from_str(signet_local::OPENAPI).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("security").is_none() {
                continue;
            }
            let path = path.replace("{id}", &w.services.new_id()).replace("{number}", "CA-2026-000001");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = if method == Method::POST { json!({}) } else { Value::Null };
            let (status, refused) = w.call(method.clone(), &path, &access(&ended), body).await;
            assert_eq!(
                (status, refused["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("token_invalid")),
                "{method} {path}: {refused}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} operations");
}

async fn a_session_ends_at_its_absolute_lifetime_however_often_refreshed(w: World) {
    let (email, phone) = member(&w, "longlived").await;
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    let settings = w.services.config.tokens.clone();
    assert_eq!((settings.session_idle_ttl, settings.session_max_lifetime), (30 * 86400, 90 * 86400), "the defaults");
    let stored: Session = w
        .services
        .store
        .get(&keys::session(signed_in["session_id"].as_str().unwrap()))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    let ends_at = stored.created_at + settings.session_max_lifetime;
    let mut refresh_token = signed_in["refresh_token"].as_str().unwrap().to_owned();
    // Used every 20 days: within the idle lifetime each time, until the absolute end.
    for _ in 0..4 {
        w.clock.advance(20 * 86400);
        let (status, refreshed) = w.post("/token/refresh", json!({"refresh_token": refresh_token})).await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        refresh_token = refreshed["refresh_token"].as_str().unwrap().to_owned();
    }
    // A minute before the end, the access token minted ends with the session.
    w.clock.advance(ends_at - 60 - w.services.now());
    let (status, refreshed) = w.post("/token/refresh", json!({"refresh_token": refresh_token})).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(refreshed["expires_in"], 60, "the token's true lifetime: {refreshed}");
    let payload = refreshed["access_token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["exp"], ends_at, "an access token never outlives its session");
    let (status, _) = w.call(Method::GET, "/sessions", &access(&refreshed), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    w.clock.advance(60);
    let (status, _) = w.post("/token/refresh", json!({"refresh_token": refreshed["refresh_token"]})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a new login is needed");
}
